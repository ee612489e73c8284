import { createHash } from 'node:crypto'
import { PULL_REQUEST_EVENTS } from './context.js'
import { ActionError } from './errors.js'
import type { Stage } from './types.js'

const FUNCTION_NAME_MAX = 64

/** Input `environment`, else preview on pull_request events, else production. */
export function resolveStage(environment: Stage | undefined, eventName: string): Stage {
  return environment ?? (PULL_REQUEST_EVENTS.includes(eventName) ? 'preview' : 'production')
}

/** Input `preview-id`, else input `pr-number`, else the event's pull request number. */
export function resolvePreviewId(given: { previewId?: string; prNumber?: number }, eventPrNumber: number | undefined): string | undefined {
  return given.previewId ?? (given.prNumber ?? eventPrNumber)?.toString()
}

export interface ResourceNames {
  stage: Stage
  stackName: string
  functionName: string
}

/** `42` → `pr42`; a branch-like id → lower-case letters, digits and single hyphens. */
export function previewSuffix(previewId: string): string {
  const trimmed = previewId.trim()
  if (/^\d+$/.test(trimmed)) return `pr${trimmed}`
  const cleaned = trimmed
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  if (cleaned === '') {
    throw new ActionError("Invalid input 'preview-id'", `preview-id '${previewId}' has no letters or digits to name a preview stack with.`)
  }
  return cleaned
}

/** A preview needs an id (a PR number or `preview-id`) to be named after. */
export function noPreviewId(): ActionError {
  return new ActionError(
    'No preview id',
    "A preview deployment needs an id to name its stack: set input 'preview-id' (or 'pr-number'), or run on a pull_request event."
  )
}

/**
 * Stack and function names: `<name>-stack` in production, `<name>-<suffix>-stack`
 * for a preview. A suffix that would push the function name past Lambda's 64 characters is cut
 * and given a short hash of the whole id, so two long branch names never collide.
 */
export function resourceNames(serverName: string, stage: Stage, previewId?: string): ResourceNames {
  if (stage === 'production') return { stage, stackName: `${serverName}-stack`, functionName: serverName }
  if (!previewId) throw noPreviewId()
  let functionName = `${serverName}-${previewSuffix(previewId)}`
  if (functionName.length > FUNCTION_NAME_MAX) {
    // The hash is of the id alone, so the same preview keeps its name from run to run.
    const hash = createHash('sha256').update(previewId).digest('hex').slice(0, 6)
    functionName = `${functionName.slice(0, FUNCTION_NAME_MAX - hash.length - 1).replace(/-+$/, '')}-${hash}`
  }
  return { stage, stackName: `${functionName}-stack`, functionName }
}
