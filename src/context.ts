import * as fs from 'node:fs'
import { ActionError, errorMessage } from './action-error.js'

/** What the action needs to know about the run that started it, read from the runner's environment. */
export interface RunContext {
  eventName: string
  /** The event payload (GITHUB_EVENT_PATH), or {} outside a runner. */
  event: EventPayload
  repository?: string
  /** The commit being deployed: the PR head on pull_request events, else GITHUB_SHA. */
  commitSha: string
  runId: string
  /** GITHUB_RUN_ATTEMPT: a re-run of a run is its next attempt [1]. */
  runAttempt?: number
  /** The workflow run (where the job summary is), when the repository is known. */
  runUrl?: string
  /** The commit being deployed, when the repository is known. */
  commitUrl?: string
  workspace: string
  /** The pull request this run belongs to, if any. */
  prNumber?: number
}

/** The part of an event payload that describes its pull request. */
export interface PullRequestPayload {
  pull_request?: {
    number?: number
    head?: { sha?: string; repo?: { full_name?: string } | null }
    base?: { repo?: { full_name?: string } }
  }
}

/** An event payload: its pull request typed, the rest (action, repository, …) read with checks where used. */
export type EventPayload = PullRequestPayload & { [key: string]: unknown }

/** What the action needs to know of a run's pull request. */
export interface PullRequestFacts {
  number?: number
  /** `owner/name` of the head repository; null when that repository was deleted. */
  headRepository?: string | null
  /**
   * The head lives in another repository than the base (or was deleted): GitHub gives such runs no
   * OIDC token and no secrets, so the action neither deploys nor destroys for them.
   */
  fromFork: boolean
}

/** The events that belong to a pull request: they deploy, comment on and remove previews. */
export const PULL_REQUEST_EVENTS: readonly string[] = ['pull_request', 'pull_request_target']

/** The pull request of a `pull_request` or `pull_request_target` event; undefined for other events. */
export function pullRequestOf(eventName: string | undefined, payload: PullRequestPayload): PullRequestFacts | undefined {
  const pullRequest = payload.pull_request
  if (!pullRequest || !PULL_REQUEST_EVENTS.includes(eventName ?? '')) return undefined
  const headRepository = pullRequest.head?.repo === null ? null : pullRequest.head?.repo?.full_name
  return {
    number: typeof pullRequest.number === 'number' ? pullRequest.number : undefined,
    headRepository,
    fromFork: headRepository === null || headRepository !== pullRequest.base?.repo?.full_name
  }
}

function unreadablePayload(eventPath: string, why: string): ActionError {
  return new ActionError(
    'Event payload unreadable',
    `GITHUB_EVENT_PATH names ${eventPath}, which ${why}. The runner writes the payload of the event that started the run ` +
      'there; a step before this one may have overwritten it, or GITHUB_EVENT_PATH was set by hand in the job env: ' +
      'leave it to the runner.'
  )
}

/**
 * The payload of the event that started the run (GITHUB_EVENT_PATH), or {} outside a runner (the
 * variable unset). A file that is missing, empty, `null` or not a JSON object is an ActionError:
 * every decision that depends on the event (pull request, fork, closed) would be wrong.
 */
export function readEventPayload(env: NodeJS.ProcessEnv = process.env): EventPayload {
  const eventPath = env.GITHUB_EVENT_PATH
  if (!eventPath) return {}
  const unreadable = (why: string): ActionError => unreadablePayload(eventPath, why)
  if (!fs.existsSync(eventPath)) throw unreadable('does not exist')
  let text: string
  try {
    text = fs.readFileSync(eventPath, 'utf8')
  } catch (error) {
    throw unreadable(`cannot be read (${errorMessage(error)})`)
  }
  if (text.trim() === '') throw unreadable('is empty')
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch (error) {
    throw unreadable(`is not JSON (${errorMessage(error)})`)
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw unreadable(`holds ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : `a ${typeof payload}`}, not a JSON object`)
  }
  return payload as EventPayload
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * A pull request event's payload must describe its pull request as GitHub does: without it (or with
 * the wrong types) the run would be taken for a fork's, or name its preview after nothing.
 */
function checkPullRequestPayload(eventName: string, event: EventPayload, eventPath: string | undefined): void {
  // Outside a runner there is no payload to check: the pr-number input names the pull request.
  if (!eventPath || !PULL_REQUEST_EVENTS.includes(eventName)) return
  const wrong = (why: string): ActionError => unreadablePayload(eventPath, `is the payload of a ${eventName} event whose ${why}`)
  const pullRequest: unknown = event.pull_request
  if (!isObject(pullRequest))
    throw wrong(`pull_request is ${pullRequest === undefined ? 'missing' : `${JSON.stringify(pullRequest)}, not an object`}`)
  const number = pullRequest.number
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
    throw wrong(`pull_request.number is ${JSON.stringify(number) ?? 'missing'}, not a positive whole number`)
  }
  for (const side of ['head', 'base'] as const) {
    const value = pullRequest[side]
    if (value !== undefined && !isObject(value)) throw wrong(`pull_request.${side} is ${JSON.stringify(value)}, not an object`)
  }
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const event = readEventPayload(env)
  checkPullRequestPayload(env.GITHUB_EVENT_NAME ?? '', event, env.GITHUB_EVENT_PATH)
  const repository = env.GITHUB_REPOSITORY
  const runId = env.GITHUB_RUN_ID ?? 'local'
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com'
  const commitSha = event.pull_request?.head?.sha ?? env.GITHUB_SHA ?? 'local'
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    event,
    repository,
    commitSha,
    runId,
    runAttempt: /^[1-9]\d{0,5}$/.test(env.GITHUB_RUN_ATTEMPT ?? '') ? Number(env.GITHUB_RUN_ATTEMPT) : 1,
    runUrl: repository && env.GITHUB_RUN_ID ? `${server}/${repository}/actions/runs/${runId}` : undefined,
    commitUrl: repository ? `${server}/${repository}/commit/${commitSha}` : undefined,
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    prNumber: pullRequestOf(env.GITHUB_EVENT_NAME, event)?.number
  }
}
