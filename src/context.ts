import * as fs from 'node:fs'

/** What the action needs to know about the run that started it, read from the runner's environment. */
export interface RunContext {
  eventName: string
  /** The event payload (GITHUB_EVENT_PATH), or {} outside a runner. */
  event: Record<string, any>
  repository?: string
  /** The commit being deployed: the PR head on pull_request events, else GITHUB_SHA. */
  commitSha: string
  runId: string
  runUrl?: string
  workspace: string
  /** The pull request this run belongs to, if any. */
  prNumber?: number
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const eventPath = env.GITHUB_EVENT_PATH
  const event = eventPath && fs.existsSync(eventPath) ? (JSON.parse(fs.readFileSync(eventPath, 'utf8')) as Record<string, any>) : {}
  const repository = env.GITHUB_REPOSITORY
  const runId = env.GITHUB_RUN_ID ?? 'local'
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com'
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    event,
    repository,
    commitSha: event.pull_request?.head?.sha ?? env.GITHUB_SHA ?? 'local',
    runId,
    runUrl: repository && env.GITHUB_RUN_ID ? `${server}/${repository}/actions/runs/${runId}` : undefined,
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    prNumber: typeof event.pull_request?.number === 'number' ? event.pull_request.number : undefined
  }
}

// Until the renderer imports it from its own module.
export { versionDescription } from './lifecycle/version-description.js'
