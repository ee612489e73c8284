import * as core from '@actions/core'
import type { AwsContext } from '../aws/clients.js'
import { deleteStack, type DeleteStackOptions } from '../aws/stack.js'
import { ActionError } from '../errors.js'
import type { Stage } from '../types.js'

export interface DestroyOptions {
  stackName: string
  stage: Stage
  /** Input `confirm-destroy`: must equal the stack name to destroy a production stack. */
  confirmDestroy?: string
  aws: AwsContext
  /** Polling of the delete (tests pass a short poll interval). */
  wait?: DeleteStackOptions
}

export interface DestroyResult {
  status: 'removed' | 'nothing to remove'
  stackName: string
}

/** Production stacks are only destroyed when `confirm-destroy` names them exactly. */
export function checkDestroyAllowed(options: Pick<DestroyOptions, 'stackName' | 'stage' | 'confirmDestroy'>): void {
  if (options.stage !== 'production' || options.confirmDestroy?.trim() === options.stackName) return
  const given = options.confirmDestroy?.trim() ? ` (it is '${options.confirmDestroy.trim()}')` : ''
  throw new ActionError(
    'Destroying production needs confirmation',
    `Stack ${options.stackName} is a production stack; nothing was touched. To delete it, set the input ` +
      `'confirm-destroy: ${options.stackName}'${given}.`
  )
}

/**
 * `command: destroy`: deletes the stack and waits until it is gone. A stack that does not exist is
 * success ('nothing to remove'); a failed delete throws an ActionError listing the resources that
 * could not be deleted.
 */
export async function destroy(options: DestroyOptions): Promise<DestroyResult> {
  checkDestroyAllowed(options)
  core.info(`Deleting stack ${options.stackName} (${options.stage})`)
  const deleted = await deleteStack(options.stackName, options.aws, options.wait)
  if (!deleted) {
    core.info(`Stack ${options.stackName} does not exist: nothing to remove.`)
    return { status: 'nothing to remove', stackName: options.stackName }
  }
  core.info(`Deleted stack ${options.stackName}`)
  return { status: 'removed', stackName: options.stackName }
}
