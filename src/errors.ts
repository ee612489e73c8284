/**
 * The error model of the action: ActionError (src/action-error.ts) is what a user can act on; a
 * fault of the network or of another service is made one by src/net/faults.ts; anything else is a
 * bug of ours. `reportError` turns each into annotations.
 */
import * as core from '@actions/core'
import { ActionError, ActionErrors, annotationProperties } from './action-error.js'
import { classifyFault } from './net/faults.js'

export { ActionError, ActionErrors, annotationProperties, errorMessage, type SourceLocation } from './action-error.js'

/**
 * Reports any thrown value as annotations; a stack goes to the debug log only. A fault that was not
 * explained where it happened (a dropped connection, AccessDenied, a deadline) is explained here, as
 * a last resort; only what no rule knows is reported as a bug.
 */
export function reportError(error: unknown): void {
  if (error instanceof ActionErrors) {
    error.errors.forEach(reportError)
    return
  }
  const explained = classifyFault(error)
  if (explained) {
    if (!(error instanceof ActionError) && error instanceof Error && error.stack) core.debug(error.stack)
    core.error(explained.message, annotationProperties(explained.title, explained.location))
    return
  }
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof Error && error.stack) core.debug(error.stack)
  core.error(`${message}\nThis is unexpected; please report it at https://github.com/pmcp/deploy-action/issues`, {
    title: 'pmcp-deploy: unexpected error'
  })
}
