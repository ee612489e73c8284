import * as core from '@actions/core'
import { errorMessage } from '../../errors.js'
import { withRetry } from '../../retry.js'

/** Production pmcp.run, as cargo-pmcp knows it (used when discovery cannot be read). */
export const PMCP_RUN_DEFAULTS = {
  apiUrl: 'https://api.pmcp.run',
  cognitoDomain: 'auth.pmcp.run'
} as const

export const DASHBOARD_URL = 'https://pmcp.run/dashboard'

export interface PmcpRunEndpoints {
  /** `https://<cognito domain>/oauth2/token` */
  tokenUrl: string
  graphqlUrl: string
  /** Base of MCP endpoints: a server is at `<base>/<deployment id>/mcp` when the service names no URL. */
  mcpBaseUrl: string
}

/** `/.well-known/pmcp-config` of the pmcp.run API: what cargo-pmcp discovers its endpoints from. */
interface DiscoveredConfig {
  cognito_domain?: string
  graphql_url?: string
  mcp_url?: string
}

export interface ResolveEndpointsOptions {
  /** Reads PMCP_RUN_COGNITO_DOMAIN, PMCP_RUN_GRAPHQL_URL, PMCP_API_URL (or PMCP_RUN_API_URL). */
  env?: NodeJS.ProcessEnv
  /** Tests pass a fast one. */
  sleep?: (ms: number) => Promise<void>
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim()
  return trimmed ? trimmed : undefined
}

/** A bare host becomes `https://host`; a value with a scheme (a local test service) is kept. */
function origin(hostOrUrl: string): string {
  const withScheme = /^https?:\/\//i.test(hostOrUrl) ? hostOrUrl : `https://${hostOrUrl}`
  return withScheme.replace(/\/+$/, '')
}

async function discover(apiUrl: string, sleep?: (ms: number) => Promise<void>): Promise<DiscoveredConfig | undefined> {
  const url = `${apiUrl}/.well-known/pmcp-config`
  try {
    return await withRetry(
      async () => {
        const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) })
        if (!response.ok) throw new Error(`HTTP ${response.status}`)
        return (await response.json()) as DiscoveredConfig
      },
      { label: `pmcp.run discovery (${url})`, attempts: 3, sleep }
    )
  } catch (error) {
    core.warning(
      `Could not read the pmcp.run configuration from ${url} (${errorMessage(error)}); using the production defaults. ` +
        'Set PMCP_RUN_COGNITO_DOMAIN and PMCP_RUN_GRAPHQL_URL to choose the endpoints yourself.'
    )
    return undefined
  }
}

/**
 * The endpoints cargo-pmcp uses: PMCP_RUN_COGNITO_DOMAIN and PMCP_RUN_GRAPHQL_URL when set, else the
 * service's discovery document at PMCP_API_URL [https://api.pmcp.run], else the production defaults
 * (`auth.pmcp.run`, `<api>/graphql`).
 * Discovery is only asked when an endpoint is not set.
 */
export async function resolveEndpoints(options: ResolveEndpointsOptions = {}): Promise<PmcpRunEndpoints> {
  const env = options.env ?? process.env
  const apiUrl = origin(nonEmpty(env.PMCP_API_URL) ?? nonEmpty(env.PMCP_RUN_API_URL) ?? PMCP_RUN_DEFAULTS.apiUrl)
  let cognitoDomain = nonEmpty(env.PMCP_RUN_COGNITO_DOMAIN)
  let graphqlUrl = nonEmpty(env.PMCP_RUN_GRAPHQL_URL)
  let mcpBaseUrl: string | undefined
  if (!cognitoDomain || !graphqlUrl) {
    const discovered = await discover(apiUrl, options.sleep)
    cognitoDomain ??= nonEmpty(discovered?.cognito_domain) ?? PMCP_RUN_DEFAULTS.cognitoDomain
    graphqlUrl ??= nonEmpty(discovered?.graphql_url) ?? `${apiUrl}/graphql`
    mcpBaseUrl = nonEmpty(discovered?.mcp_url)
  }
  return {
    tokenUrl: `${origin(cognitoDomain)}/oauth2/token`,
    graphqlUrl,
    mcpBaseUrl: origin(mcpBaseUrl ?? apiUrl)
  }
}
