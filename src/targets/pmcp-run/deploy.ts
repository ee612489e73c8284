import * as core from '@actions/core'
import { ActionError, errorMessage } from '../../errors.js'
import { pollUntil } from '../../retry.js'
import { DASHBOARD_URL } from './endpoints.js'
import type { CompositionSettings, Deployment, PmcpRunApi, ServerOAuthConfig } from './graphql.js'
import { uploadToPresignedUrl } from './upload.js'

export { PMCP_RUN_RUNTIME } from './graphql.js'

/** What cargo pmcp 0.28 waits through; `success` ends the wait, `failed` fails it, anything else is unknown to it. */
const IN_PROGRESS = ['pending', 'validating', 'deploying']

export interface WaitOptions {
  /** Give up after this long [20 minutes]. */
  timeoutMs?: number
  /** Between two status reads [2 s, as cargo pmcp]. */
  intervalMs?: number
  /** A progress line at least this often while the status stays the same [30 s]. */
  progressEveryMs?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

/** The server as pmcp.run runs it: uploaded to the presigned bootstrap URL. */
export interface ServerPackage {
  body: Uint8Array
  /** A zip of bootstrap and assets, or the raw bootstrap when there is nothing to package (as cargo pmcp). */
  contentType: 'application/zip' | 'application/octet-stream'
  /** What it is, for messages (e.g. "deployment package", "bootstrap"). */
  label: string
}

/** `[auth]` of deploy.toml, as pmcp.run's `configureServerOAuth` takes it. */
export interface PmcpRunOAuthSettings {
  enabled: boolean
  dcrEnabled: boolean
  /** Sent as `scopes` (null when empty: the service's default). */
  defaultScopes: string[]
  /** Null when empty: the service's default. */
  publicClientPatterns: string[]
}

export interface PmcpRunDeployOptions {
  api: PmcpRunApi
  /** The server's project on pmcp.run: the server name, or `<name>-pr<N>` for a preview. */
  projectName: string
  /** The final CloudFormation template (JSON text), uploaded as it is. */
  template: string
  serverPackage: ServerPackage
  /** The crate's version, shown by pmcp.run [null]. */
  serverVersion?: string
  /** `[composition]`; what is absent gets cargo pmcp's default. */
  composition?: CompositionSettings
  /** `[auth]`: when enabled, pmcp.run is asked to protect the server once it is deployed. */
  oauth?: PmcpRunOAuthSettings
  /** Where a server's MCP endpoint is when the service names no URL: `<base>/<deployment id>/mcp`. */
  mcpBaseUrl: string
  wait?: WaitOptions
  /** Told the deployment's id as soon as pmcp.run creates it, so a deployment that then fails can still be named. */
  onCreated?: (deploymentId: string) => void
  /** Waits between upload retries (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>
}

/** The server's OAuth endpoints on pmcp.run. */
export interface PmcpRunOAuthEndpoints {
  discoveryUrl?: string
  registrationEndpoint?: string
  authorizationEndpoint?: string
  tokenEndpoint?: string
  userPoolId?: string
  userPoolRegion?: string
}

export interface PmcpRunDeployment {
  deploymentId: string
  projectName: string
  /** The server's MCP endpoint. */
  mcpUrl: string
  /** The MCP URL with its `/mcp` replaced by `/health`, as cargo pmcp reports it. */
  healthUrl: string
  /** Only when OAuth is on for the server. */
  oauth?: PmcpRunOAuthEndpoints
  createdAt?: string
  completedAt?: string
}

function formatElapsed(ms: number): string {
  const seconds = Math.round(ms / 1000)
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`
}

function sizeOf(bytes: number): string {
  return bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(2)} MiB`
}

/** The URL the service reports, else `<base>/<id>/mcp` (cargo-pmcp's fallback). */
export function mcpUrlOf(deployment: Pick<Deployment, 'id' | 'url'>, mcpBaseUrl: string): string {
  return deployment.url?.trim() || `${mcpBaseUrl.replace(/\/+$/, '')}/${deployment.id}/mcp`
}

/** cargo pmcp's health URL: a trailing `/mcp` becomes `/health`, else the first `/mcp` does. */
export function healthUrlOf(mcpUrl: string): string {
  return mcpUrl.endsWith('/mcp') ? `${mcpUrl.slice(0, -'/mcp'.length)}/health` : mcpUrl.replace('/mcp', '/health')
}

/**
 * Reads `getDeployment` (at once, then every 2 s) until it succeeds (returned), fails, reports a
 * status cargo pmcp does not know, or the time is up (each an ActionError).
 */
export async function waitForDeployment(api: PmcpRunApi, deploymentId: string, options: WaitOptions = {}): Promise<Deployment> {
  const timeoutMs = options.timeoutMs ?? 20 * 60_000
  const progressEveryMs = options.progressEveryMs ?? 30_000
  let lastStatus: string | undefined
  let lastLineAt = 0
  const read = async (): Promise<Deployment> => {
    const deployment = await api.getDeployment(deploymentId)
    if (!deployment) {
      throw new ActionError(
        'pmcp.run deployment not found',
        `pmcp.run answered getDeployment for ${deploymentId} with nothing: deployment not found. See ${DASHBOARD_URL}.`
      )
    }
    if (deployment.status === 'failed') {
      throw new ActionError(
        'pmcp.run deployment failed',
        `pmcp.run deployment ${deploymentId} of ${deployment.projectName ?? 'the server'} failed: ` +
          `${deployment.errorMessage?.trim() || 'no reason given'}. ` +
          `Details: ${DASHBOARD_URL}`
      )
    }
    if (deployment.status !== 'success' && !IN_PROGRESS.includes(deployment.status)) {
      throw new ActionError(
        'pmcp.run deployment status unknown',
        `pmcp.run reported status '${deployment.status}' for deployment ${deploymentId}, which cargo pmcp 0.28 does not know either ` +
          `(it waits through ${IN_PROGRESS.join(', ')} and ends at success or failed); the action stopped waiting. ` +
          `The deployment may still change: see the dashboard, ${DASHBOARD_URL}.`
      )
    }
    return deployment
  }
  const succeeded = await pollUntil(read, {
    intervalMs: options.intervalMs ?? 2000,
    timeoutMs,
    isDone: deployment => deployment.status === 'success',
    onProgress: (deployment, elapsed) => {
      if (deployment.status === lastStatus && elapsed - lastLineAt < progressEveryMs) return
      core.info(`Deployment ${deploymentId}: ${deployment.status} (${formatElapsed(elapsed)})`)
      lastStatus = deployment.status
      lastLineAt = elapsed
    },
    timeoutError: (deployment, elapsed) =>
      new ActionError(
        'pmcp.run deployment timed out',
        `pmcp.run deployment ${deploymentId} is still '${deployment.status}' after ${formatElapsed(elapsed)}; the action stopped waiting ` +
          `(limit ${formatElapsed(timeoutMs)}). It may still finish: see ${DASHBOARD_URL}.`
      ),
    sleep: options.sleep,
    now: options.now
  })
  core.info(`Deployment ${deploymentId}: success after ${formatElapsed(succeeded.elapsedMs)}`)
  return succeeded.state
}

function endpointsOf(config: ServerOAuthConfig): PmcpRunOAuthEndpoints {
  const endpoints: PmcpRunOAuthEndpoints = {}
  for (const key of [
    'discoveryUrl',
    'registrationEndpoint',
    'authorizationEndpoint',
    'tokenEndpoint',
    'userPoolId',
    'userPoolRegion'
  ] as const) {
    const value = config[key]
    if (typeof value === 'string' && value) endpoints[key] = value
  }
  return endpoints
}

const nullWhenEmpty = (list: string[]): string[] | null => (list.length > 0 ? list : null)

/**
 * `[auth]` enabled: `configureServerOAuth` for the new deployment (keyed by the deployment id, as
 * cargo pmcp does). cargo pmcp only warns when this fails; here it is an ActionError, so a server
 * the file asks to protect never passes for deployed while it is open.
 */
async function configureOAuth(
  api: PmcpRunApi,
  deploymentId: string,
  mcpUrl: string,
  oauth: PmcpRunOAuthSettings
): Promise<PmcpRunOAuthEndpoints> {
  const unprotected = (reason: string): ActionError =>
    new ActionError(
      'pmcp.run OAuth not configured',
      `Deployment ${deploymentId} is live at ${mcpUrl} without OAuth: ${reason}. [auth] asks for OAuth, so the deploy counts as failed. ` +
        `Enable it with 'cargo pmcp deploy oauth enable --server ${deploymentId}', or run the deploy again.`
    )
  let answer: ServerOAuthConfig
  try {
    answer = await api.configureServerOAuth({
      serverId: deploymentId,
      enabled: true,
      scopes: nullWhenEmpty(oauth.defaultScopes),
      dcrEnabled: oauth.dcrEnabled,
      publicClientPatterns: nullWhenEmpty(oauth.publicClientPatterns),
      // cargo pmcp: "not supported in local config yet"
      sharedPoolName: null
    })
  } catch (error) {
    throw unprotected(`configureServerOAuth failed: ${errorMessage(error)}`)
  }
  if (!answer.oauthEnabled) throw unprotected('pmcp.run answered configureServerOAuth with oauthEnabled false')
  const endpoints = endpointsOf(answer)
  core.info(`OAuth configured for deployment ${deploymentId}${endpoints.discoveryUrl ? `: ${endpoints.discoveryUrl}` : ''}`)
  return endpoints
}

/** `[auth]` not enabled here: OAuth the server may have on pmcp.run already (keyed by project name). Never a failure. */
async function existingOAuth(api: PmcpRunApi, projectName: string): Promise<PmcpRunOAuthEndpoints | undefined> {
  try {
    const found = await api.fetchServerOAuthEndpoints(projectName)
    if (!found) {
      core.info(`(OAuth not configured for ${projectName})`)
      return undefined
    }
    if (!found.oauthEnabled) {
      core.info(`(OAuth query returned oauthEnabled=false for ${projectName})`)
      return undefined
    }
    const endpoints = endpointsOf(found)
    core.info(`OAuth is on for ${projectName} on pmcp.run${endpoints.discoveryUrl ? `: ${endpoints.discoveryUrl}` : ''}`)
    return endpoints
  } catch (error) {
    core.info(`(OAuth status check failed for ${projectName}: ${errorMessage(error)})`)
    return undefined
  }
}

/**
 * The pmcp.run deploy of cargo pmcp 0.28: presigned upload URLs, the template and the server package
 * PUT to them, `createDeploymentFromS3`, `getDeployment` until it succeeds or fails, then OAuth.
 */
export async function deployToPmcpRun(options: PmcpRunDeployOptions): Promise<PmcpRunDeployment> {
  const { api, projectName, serverPackage } = options
  const template = Buffer.from(options.template, 'utf8')
  core.info(
    `Uploading to pmcp.run project ${projectName}: template ${sizeOf(template.length)}, ` +
      `${serverPackage.label} ${sizeOf(serverPackage.body.length)} (${serverPackage.contentType})`
  )
  const urls = await api.getUploadUrls(projectName, template.length, serverPackage.body.length)
  await Promise.all([
    uploadToPresignedUrl({
      label: 'template',
      url: urls.templateUploadUrl,
      body: template,
      contentType: 'application/json',
      sleep: options.sleep
    }),
    uploadToPresignedUrl({
      label: serverPackage.label,
      url: urls.bootstrapUploadUrl,
      body: serverPackage.body,
      contentType: serverPackage.contentType,
      sleep: options.sleep
    })
  ])
  const created = await api.createDeploymentFromS3({
    templateS3Key: urls.templateS3Key,
    bootstrapS3Key: urls.bootstrapS3Key,
    projectName,
    serverVersion: options.serverVersion,
    composition: options.composition
  })
  core.info(
    `Deployment ${created.deploymentId} created (${created.status})` +
      `${options.serverVersion ? `, server version ${options.serverVersion}` : ''}`
  )
  options.onCreated?.(created.deploymentId)
  const deployment = await waitForDeployment(api, created.deploymentId, options.wait)
  const mcpUrl = mcpUrlOf(deployment, options.mcpBaseUrl)
  const oauth = options.oauth?.enabled
    ? await configureOAuth(api, created.deploymentId, mcpUrl, options.oauth)
    : await existingOAuth(api, projectName)
  return {
    deploymentId: created.deploymentId,
    projectName: deployment.projectName ?? projectName,
    mcpUrl,
    healthUrl: healthUrlOf(mcpUrl),
    ...(oauth ? { oauth } : {}),
    createdAt: deployment.createdAt ?? created.createdAt,
    completedAt: deployment.completedAt ?? undefined
  }
}
