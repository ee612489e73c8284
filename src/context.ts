import * as fs from 'node:fs'

/** What the action needs to know about the run that started it, read from the runner's environment. */
export interface RunContext {
  eventName: string
  /** The event payload (GITHUB_EVENT_PATH), or {} outside a runner. */
  event: EventPayload
  repository?: string
  /** The commit being deployed: the PR head on pull_request events, else GITHUB_SHA. */
  commitSha: string
  runId: string
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

/** The payload of the event that started the run (GITHUB_EVENT_PATH), or {} outside a runner or when it cannot be read. */
export function readEventPayload(env: NodeJS.ProcessEnv = process.env): EventPayload {
  const eventPath = env.GITHUB_EVENT_PATH
  if (!eventPath || !fs.existsSync(eventPath)) return {}
  try {
    return JSON.parse(fs.readFileSync(eventPath, 'utf8')) as EventPayload
  } catch {
    return {}
  }
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const event = readEventPayload(env)
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
    runUrl: repository && env.GITHUB_RUN_ID ? `${server}/${repository}/actions/runs/${runId}` : undefined,
    commitUrl: repository ? `${server}/${repository}/commit/${commitSha}` : undefined,
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    prNumber: pullRequestOf(env.GITHUB_EVENT_NAME, event)?.number
  }
}
