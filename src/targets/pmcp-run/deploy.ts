import * as core from '@actions/core'
import * as fs from 'node:fs'
import { ActionError } from '../../errors.js'
import { pollUntil } from '../../retry.js'
import { DASHBOARD_URL } from './endpoints.js'
import type { Deployment, PmcpRunApi } from './graphql.js'
import { uploadToPresignedUrl, zipBootstrap } from './upload.js'

/** pmcp.run runs every server on Lambda's custom runtime, as cargo-pmcp deploys it. */
export const PMCP_RUN_RUNTIME = 'provided.al2023'

const IN_PROGRESS = ['pending', 'validating', 'deploying']

export interface WaitOptions {
  /** Give up after this long [20 minutes]. */
  timeoutMs?: number
  /** Between two status reads [5 s]. */
  intervalMs?: number
  /** A progress line at least this often while the status stays the same [30 s]. */
  progressEveryMs?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

export interface PmcpRunDeployOptions {
  api: PmcpRunApi
  /** The server's project on pmcp.run: the function name (`<name>`, or `<name>-pr<N>` for a preview). */
  projectName: string
  /** The synthesized CloudFormation template, uploaded as it is. */
  templatePath: string
  /** The built `bootstrap`, uploaded as a zip with the file executable. */
  bootstrapPath: string
  memoryMb: number
  timeoutSeconds: number
  /** The crate's version, shown by pmcp.run. */
  serverVersion?: string
  /** Where a server's MCP endpoint is when the service names no URL: `<base>/<deployment id>/mcp`. */
  mcpBaseUrl: string
  wait?: WaitOptions
  /** Told the deployment's id as soon as pmcp.run creates it, so a deployment that then fails can still be named. */
  onCreated?: (deploymentId: string) => void
  /** Waits between upload retries (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>
}

export interface PmcpRunDeployment {
  deploymentId: string
  projectName: string
  /** The server's MCP endpoint. */
  mcpUrl: string
  createdAt?: string
  completedAt?: string
}

function formatElapsed(ms: number): string {
  const seconds = Math.round(ms / 1000)
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`
}

/** The URL the service reports, else `<base>/<id>/mcp` (cargo-pmcp's fallback). */
export function mcpUrlOf(deployment: Pick<Deployment, 'id' | 'url'>, mcpBaseUrl: string): string {
  return deployment.url?.trim() || `${mcpBaseUrl.replace(/\/+$/, '')}/${deployment.id}/mcp`
}

/** Reads `getDeployment` until it succeeds (returned), fails or the time is up (ActionError). */
export async function waitForDeployment(api: PmcpRunApi, deploymentId: string, options: WaitOptions = {}): Promise<Deployment> {
  const timeoutMs = options.timeoutMs ?? 20 * 60_000
  const progressEveryMs = options.progressEveryMs ?? 30_000
  let lastStatus: string | undefined
  let lastLineAt = 0
  const read = async (): Promise<Deployment> => {
    const deployment = await api.getDeployment(deploymentId)
    if (deployment.status === 'failed') {
      throw new ActionError(
        'pmcp.run deployment failed',
        `pmcp.run deployment ${deploymentId} of ${deployment.projectName ?? 'the server'} failed: ` +
          `${deployment.errorMessage?.trim() || 'no reason given'}. ` +
          `Details: ${DASHBOARD_URL}`
      )
    }
    return deployment
  }
  const succeeded = await pollUntil(read, {
    intervalMs: options.intervalMs ?? 5000,
    timeoutMs,
    isDone: deployment => deployment.status === 'success',
    onProgress: (deployment, elapsed) => {
      if (deployment.status === lastStatus && elapsed - lastLineAt < progressEveryMs) return
      const known = IN_PROGRESS.includes(deployment.status) ? '' : ' (a status this action does not know; still waiting)'
      core.info(`Deployment ${deploymentId}: ${deployment.status}${known} (${formatElapsed(elapsed)})`)
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

/**
 * The pmcp.run deploy of cargo-pmcp: presigned upload URLs, the template and the zipped bootstrap
 * PUT to them, `createDeploymentFromS3`, then `getDeployment` until it succeeds or fails.
 */
export async function deployToPmcpRun(options: PmcpRunDeployOptions): Promise<PmcpRunDeployment> {
  const { api, projectName } = options
  const template = fs.readFileSync(options.templatePath)
  const bootstrapZip = zipBootstrap(fs.readFileSync(options.bootstrapPath))
  core.info(
    `Uploading to pmcp.run project ${projectName}: template ${(template.length / 1024).toFixed(1)} KiB, ` +
      `bootstrap.zip ${(bootstrapZip.length / 1048576).toFixed(2)} MiB`
  )
  const urls = await api.getUploadUrls(projectName, template.length, bootstrapZip.length)
  await Promise.all([
    uploadToPresignedUrl({
      label: 'template',
      url: urls.templateUploadUrl,
      body: template,
      contentType: 'application/json',
      sleep: options.sleep
    }),
    uploadToPresignedUrl({
      label: 'bootstrap',
      url: urls.bootstrapUploadUrl,
      body: bootstrapZip,
      contentType: 'application/zip',
      sleep: options.sleep
    })
  ])
  const created = await api.createDeploymentFromS3({
    templateS3Key: urls.templateS3Key,
    bootstrapS3Key: urls.bootstrapS3Key,
    projectName,
    runtime: PMCP_RUN_RUNTIME,
    memorySize: options.memoryMb,
    timeout: options.timeoutSeconds,
    serverVersion: options.serverVersion
  })
  core.info(
    `Deployment ${created.deploymentId} created (${created.status})` +
      `${options.serverVersion ? `, server version ${options.serverVersion}` : ''}`
  )
  options.onCreated?.(created.deploymentId)
  const deployment = await waitForDeployment(api, created.deploymentId, options.wait)
  return {
    deploymentId: created.deploymentId,
    projectName: deployment.projectName ?? projectName,
    mcpUrl: mcpUrlOf(deployment, options.mcpBaseUrl),
    createdAt: deployment.createdAt ?? created.createdAt,
    completedAt: deployment.completedAt ?? undefined
  }
}
