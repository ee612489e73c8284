import * as core from '@actions/core'
import { ActionError } from '../../errors.js'
import { pollUntil } from '../../retry.js'
import { DASHBOARD_URL } from './endpoints.js'
import type { OperationStatus, PmcpRunApi } from './graphql.js'

const DONE = ['deleted', 'success', 'completed']
const FAILED = ['failed', 'delete_failed', 'error']

export interface PmcpRunDestroyOptions {
  api: PmcpRunApi
  projectName: string
  /** Give up waiting after this long [15 minutes]. */
  timeoutMs?: number
  /** Between two status reads [5 s]. */
  intervalMs?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

export interface PmcpRunDestroyResult {
  status: 'removed' | 'nothing to remove'
  deploymentId?: string
}

function failure(projectName: string, deploymentId: string, message: string | null | undefined): ActionError {
  return new ActionError(
    'pmcp.run destroy failed',
    `pmcp.run could not remove deployment ${deploymentId} of ${projectName}: ${message?.trim() || 'no reason given'}. ` +
      `Details: ${DASHBOARD_URL}`
  )
}

/**
 * `command: destroy` on pmcp.run: the project's deployment is found by name (`listDeployments`, as
 * cargo-pmcp does; nothing has to be kept between runs), destroyed, and waited for.
 */
export async function destroyPmcpRunDeployment(options: PmcpRunDestroyOptions): Promise<PmcpRunDestroyResult> {
  const { api, projectName } = options
  const deployment = (await api.listDeployments()).find(item => item.projectName === projectName)
  if (!deployment) {
    core.info(`pmcp.run has no deployment of ${projectName}: nothing to remove.`)
    return { status: 'nothing to remove' }
  }
  core.info(`Destroying pmcp.run deployment ${deployment.id} of ${projectName}`)
  const answer = await api.destroyDeployment(deployment.id)
  if (FAILED.includes(answer.status)) throw failure(projectName, deployment.id, answer.message)
  if (!DONE.includes(answer.status)) await waitForRemoval(options, deployment.id)
  core.info(`Removed pmcp.run deployment ${deployment.id} of ${projectName}`)
  return { status: 'removed', deploymentId: deployment.id }
}

async function waitForRemoval(options: PmcpRunDestroyOptions, deploymentId: string): Promise<void> {
  let lastStatus: string | undefined
  const read = async (): Promise<OperationStatus> => {
    const operation = await options.api.getDeploymentOperationStatus(deploymentId)
    if (FAILED.includes(operation.status)) throw failure(options.projectName, deploymentId, operation.message)
    return operation
  }
  await pollUntil(read, {
    intervalMs: options.intervalMs ?? 5000,
    timeoutMs: options.timeoutMs ?? 15 * 60_000,
    // The destroy has only just been asked for: there is nothing new to read yet.
    waitBeforeFirstRead: true,
    isDone: operation => DONE.includes(operation.status),
    onProgress: operation => {
      if (operation.status !== lastStatus)
        core.info(`Destroy of ${deploymentId}: ${operation.status}${operation.message ? ` (${operation.message})` : ''}`)
      lastStatus = operation.status
    },
    timeoutError: (operation, elapsedMs) =>
      new ActionError(
        'pmcp.run destroy timed out',
        `Deployment ${deploymentId} of ${options.projectName} is still '${operation.status}' after ${Math.round(elapsedMs / 1000)}s; ` +
          `the action stopped waiting. See ${DASHBOARD_URL}.`
      ),
    sleep: options.sleep,
    now: options.now
  })
}
