import * as core from '@actions/core'
import { ActionError, errorMessage } from '../../errors.js'
import { HttpStatusError, isTransientError } from '../../http.js'
import { deadlines, fetchText, type TextResponse } from '../../net/deadline.js'
import { describeRoute, networkFailureReason } from '../../net/proxy.js'
import { withRetry } from '../../retry.js'

/** Production pmcp.run, as cargo-pmcp knows it: where discovery is read when PMCP_API_URL is not set. */
export const PMCP_RUN_DEFAULTS = {
  apiUrl: 'https://api.pmcp.run'
} as const

export const DASHBOARD_URL = 'https://pmcp.run/dashboard'

export interface PmcpRunEndpoints {
  /** `https://<cognito domain>/oauth2/token` */
  tokenUrl: string
  graphqlUrl: string
  /** Base of MCP endpoints: a server is at `<base>/<deployment id>/mcp` when the service names no URL. */
  mcpBaseUrl: string
  /** The discovery document read, when one was (not when PMCP_RUN_COGNITO_DOMAIN and PMCP_RUN_GRAPHQL_URL are both set). */
  discoveryUrl?: string
}

/** `/.well-known/pmcp-config` of the pmcp.run API: what cargo-pmcp discovers its endpoints from. */
interface DiscoveredConfig {
  cognito_domain?: unknown
  cognito_client_id?: unknown
  graphql_url?: unknown
  mcp_url?: unknown
  api_type?: unknown
}

/** What this action takes from the discovery document. */
export interface Discovery {
  cognitoDomain: string
  /** `graphql_url`, else `<api>/graphql`. */
  graphqlUrl: string
  mcpUrl?: string
}

export interface ResolveEndpointsOptions {
  /** Reads PMCP_RUN_COGNITO_DOMAIN, PMCP_RUN_GRAPHQL_URL, PMCP_API_URL (or PMCP_RUN_API_URL). */
  env?: NodeJS.ProcessEnv
  /** Waits between discovery attempts (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>
  /** Per discovery attempt [10 s, as cargo pmcp; less when request-timeout is less]. */
  timeoutMs?: number
}

const CHECK_SETTINGS =
  'Check PMCP_API_URL (the pmcp.run API that serves /.well-known/pmcp-config), ' +
  'or set PMCP_RUN_COGNITO_DOMAIN and PMCP_RUN_GRAPHQL_URL to give the endpoints without discovery.'

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim()
  return trimmed ? trimmed : undefined
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' ? nonEmpty(value) : undefined
}

/** A bare host becomes `https://host`; a value with a scheme (a local test service) is kept. */
function origin(hostOrUrl: string): string {
  const withScheme = /^https?:\/\//i.test(hostOrUrl) ? hostOrUrl : `https://${hostOrUrl}`
  return withScheme.replace(/\/+$/, '')
}

/** PMCP_API_URL, then the legacy PMCP_RUN_API_URL, then production. */
export function apiUrlOf(env: NodeJS.ProcessEnv): string {
  return origin(nonEmpty(env.PMCP_API_URL) ?? nonEmpty(env.PMCP_RUN_API_URL) ?? PMCP_RUN_DEFAULTS.apiUrl)
}

export function discoveryUrlOf(apiUrl: string): string {
  return `${apiUrl}/.well-known/pmcp-config`
}

async function readDiscoveryOnce(url: string, timeoutMs: number): Promise<DiscoveredConfig> {
  let response: TextResponse
  try {
    response = await fetchText(url, { headers: { accept: 'application/json' }, timeoutMs }, `GET ${url}`)
  } catch (error) {
    // No HTTP status: the shared rule takes it for the network, worth another attempt.
    throw new Error(`could not reach it: ${networkFailureReason(error)}`, { cause: error })
  }
  const text = response.text
  if (!response.ok) {
    const detail = text.trim().slice(0, 200)
    throw new HttpStatusError(response.status, url, `HTTP ${response.status}${detail ? ` (${detail})` : ''}`)
  }
  try {
    const parsed = JSON.parse(text) as unknown
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed
  } catch {
    // reported below
  }
  throw new ActionError(
    'pmcp.run discovery failed',
    `pmcp.run's configuration at ${url} is not a JSON object (${text.trim().slice(0, 100) || 'empty'}). ${CHECK_SETTINGS}`
  )
}

/**
 * `GET <api>/.well-known/pmcp-config`, as cargo pmcp 0.28 reads it: two attempts (10 s each, 1 s
 * apart) when the network or a 5xx fails, none more after a 4xx; then an ActionError, as cargo pmcp
 * aborts when it cannot discover its sign-in endpoint (no silent fallback to production).
 */
export async function discover(apiUrl: string, options: Omit<ResolveEndpointsOptions, 'env'> = {}): Promise<Discovery> {
  const url = discoveryUrlOf(apiUrl)
  let document: DiscoveredConfig
  try {
    document = await withRetry(() => readDiscoveryOnce(url, options.timeoutMs ?? Math.min(10_000, deadlines().requestMs)), {
      label: `pmcp.run discovery (${url})`,
      attempts: 2,
      baseDelayMs: 1000,
      random: () => 1,
      isRetryable: isTransientError,
      sleep: options.sleep
    })
  } catch (error) {
    if (error instanceof ActionError) throw error
    if (error instanceof HttpStatusError && !isTransientError(error)) {
      throw new ActionError('pmcp.run discovery failed', `pmcp.run's configuration at ${url} answered ${error.message}. ${CHECK_SETTINGS}`)
    }
    throw new ActionError(
      'pmcp.run discovery failed',
      `Could not read pmcp.run's configuration at ${url} (2 attempts): ${errorMessage(error)}. ` +
        `Without it the sign-in endpoint is unknown, and cargo pmcp 0.28 stops here too. ${CHECK_SETTINGS} ${describeRoute(url)}`
    )
  }
  const apiType = document.api_type
  if (apiType !== undefined && apiType !== null && apiType !== 'graphql') {
    throw new ActionError(
      'pmcp.run API type not supported',
      `pmcp.run at ${apiUrl} serves API type ${JSON.stringify(apiType)}; this action, like cargo pmcp 0.28, speaks only graphql. ` +
        'Point PMCP_API_URL at a pmcp.run API that serves graphql, or use a release of this action that supports the new API.'
    )
  }
  // cargo pmcp also requires cognito_client_id (its interactive sign-in needs it); client
  // credentials and a given token do not, so only the domain (the token endpoint) is required here.
  const cognitoDomain = nonEmptyString(document.cognito_domain)
  if (!cognitoDomain) {
    throw new ActionError(
      'pmcp.run discovery failed',
      `pmcp.run's configuration at ${url} names no cognito_domain, so the token endpoint is unknown. ${CHECK_SETTINGS}`
    )
  }
  return {
    cognitoDomain,
    graphqlUrl: nonEmptyString(document.graphql_url) ?? `${apiUrl}/graphql`,
    mcpUrl: nonEmptyString(document.mcp_url)
  }
}

/**
 * The endpoints cargo-pmcp uses: PMCP_RUN_COGNITO_DOMAIN and PMCP_RUN_GRAPHQL_URL when both are set
 * (no request), else the service's discovery document at PMCP_API_URL [https://api.pmcp.run], each
 * overridden by whichever of the two variables is set. Discovery that cannot be read is an ActionError.
 */
export async function resolveEndpoints(options: ResolveEndpointsOptions = {}): Promise<PmcpRunEndpoints> {
  const env = options.env ?? process.env
  const apiUrl = apiUrlOf(env)
  const cognitoDomain = nonEmpty(env.PMCP_RUN_COGNITO_DOMAIN)
  const graphqlUrl = nonEmpty(env.PMCP_RUN_GRAPHQL_URL)
  if (cognitoDomain && graphqlUrl) return { tokenUrl: `${origin(cognitoDomain)}/oauth2/token`, graphqlUrl, mcpBaseUrl: apiUrl }
  const discovered = await discover(apiUrl, options)
  return {
    tokenUrl: `${origin(cognitoDomain ?? discovered.cognitoDomain)}/oauth2/token`,
    graphqlUrl: graphqlUrl ?? discovered.graphqlUrl,
    mcpBaseUrl: origin(discovered.mcpUrl ?? apiUrl),
    discoveryUrl: discoveryUrlOf(apiUrl)
  }
}

/**
 * The GraphQL URL discovery advertises now (read afresh), for the retry after a schema error;
 * undefined when PMCP_RUN_GRAPHQL_URL fixes the URL or discovery cannot be read (the first error then stands).
 */
export async function rediscoverGraphqlUrl(options: ResolveEndpointsOptions = {}): Promise<string | undefined> {
  const env = options.env ?? process.env
  if (nonEmpty(env.PMCP_RUN_GRAPHQL_URL)) return undefined
  try {
    return (await discover(apiUrlOf(env), options)).graphqlUrl
  } catch (error) {
    core.info(`Could not read pmcp.run's configuration again: ${errorMessage(error)}`)
    return undefined
  }
}
