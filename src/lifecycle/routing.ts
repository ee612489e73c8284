import { pullRequestOf, type RunContext } from '../context.js'
import type { Stage } from '../types.js'

/**
 * Which command an event asks for. The reusable workflow (.github/workflows/deploy.yml) makes the
 * same decision with expressions in its `route` job; __tests__/lifecycle/routing.test.ts evaluates
 * those expressions and holds them to this function.
 */
export type SkipReason =
  /** A pull request from a fork: GitHub gives it no OIDC token, so there are no cloud credentials. */
  | 'fork'
  /** pull_request_target runs with the base repository's credentials: never build PR code there. */
  | 'pull-request-target'
  /** A pull_request activity that changes nothing deployed (labeled, edited, …). */
  | 'pull-request-action'
  /** An event the workflow does not route (schedule, release, …). */
  | 'event'

export type Route =
  { command: 'deploy' | 'rollback' | 'destroy'; stage: Stage; previewId?: string } | { command: 'skip'; reason: SkipReason }

/** The facts of an event that routing looks at. */
export interface RoutingEvent {
  eventName: string
  /** The payload's `action` (pull_request: opened, synchronize, reopened, closed, …). */
  action?: string
  /** `owner/name` of the repository the workflow runs in. */
  repository?: string
  /** `owner/name` of the pull request's head repository; null when that repository was deleted. */
  headRepository?: string | null
  prNumber?: number
  /** The reusable workflow's `rollback-to` input: set on workflow_dispatch, it asks for a rollback. */
  rollbackTo?: string
}

const PREVIEW_DEPLOY_ACTIONS = ['opened', 'synchronize', 'reopened']

export function routingEventOf(context: RunContext, rollbackTo?: string): RoutingEvent {
  const pullRequest = pullRequestOf(context.eventName, context.event)
  return {
    eventName: context.eventName,
    action: typeof context.event.action === 'string' ? context.event.action : undefined,
    repository: context.repository,
    headRepository: pullRequest ? (pullRequest.headRepository ?? null) : undefined,
    prNumber: context.prNumber,
    rollbackTo
  }
}

/**
 * Why an event must not get AWS credentials, or undefined when it may. A pull request counts as
 * coming from a fork when its head repository is not the repository the workflow runs in: the same
 * test the reusable workflow's `route` job writes as an expression.
 */
export function untrustedEventReason(event: RoutingEvent): SkipReason | undefined {
  if (event.eventName === 'pull_request_target') return 'pull-request-target'
  if (event.eventName === 'pull_request' && event.headRepository !== event.repository) return 'fork'
  return undefined
}

export function routeEvent(event: RoutingEvent): Route {
  switch (event.eventName) {
    case 'push':
      return { command: 'deploy', stage: 'production' }
    case 'workflow_dispatch':
      return { command: event.rollbackTo?.trim() ? 'rollback' : 'deploy', stage: 'production' }
    case 'pull_request': {
      const untrusted = untrustedEventReason(event)
      if (untrusted) return { command: 'skip', reason: untrusted }
      const previewId = event.prNumber?.toString()
      if (PREVIEW_DEPLOY_ACTIONS.includes(event.action ?? '')) return { command: 'deploy', stage: 'preview', previewId }
      if (event.action === 'closed') return { command: 'destroy', stage: 'preview', previewId }
      return { command: 'skip', reason: 'pull-request-action' }
    }
    case 'pull_request_target':
      return { command: 'skip', reason: 'pull-request-target' }
    default:
      return { command: 'skip', reason: 'event' }
  }
}

/** What to tell the user when an event is skipped (a notice, not a failure). */
export function skipMessage(reason: SkipReason, event: RoutingEvent): string {
  switch (reason) {
    case 'fork':
      return (
        'This pull request comes from a fork. GitHub gives workflows of fork pull requests no OIDC token, so there are no ' +
        'cloud credentials (AWS or Google Cloud) to deploy a preview with; nothing was deployed. ' +
        'A maintainer can push the branch to this repository to get a preview.'
      )
    case 'pull-request-target':
      return (
        "pull_request_target runs with this repository's credentials, so pull request code is never built there; nothing was deployed. " +
        "Trigger the workflow with 'pull_request' instead: previews then run for branches of this repository, " +
        'and fork pull requests are skipped.'
      )
    case 'pull-request-action':
      return (
        `Nothing to do for pull_request activity '${event.action ?? ''}': ` +
        'previews deploy on opened, synchronize and reopened, and are removed on closed.'
      )
    case 'event':
      return (
        `Nothing to do for event '${event.eventName}': push deploys production, pull_request deploys and removes previews, ` +
        "workflow_dispatch deploys production or, with 'rollback-to', rolls it back."
      )
  }
}

/** Why this run must not deploy or destroy (a fork's pull request, pull_request_target), as a notice; else undefined. */
export function untrustedRunNotice(context: RunContext): string | undefined {
  const event = routingEventOf(context)
  const reason = untrustedEventReason(event)
  return reason ? skipMessage(reason, event) : undefined
}
