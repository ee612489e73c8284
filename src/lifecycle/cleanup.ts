import * as core from '@actions/core'
import { errorMessage } from '../errors.js'
import { explainGitHubFailure, githubClient, readPullRequest, type GitHubClient, type PullRequestInfo } from '../github/client.js'
import { httpStatusOf } from '../http.js'

/**
 * `command: cleanup`, shared by the targets: which previews go, from the state of their pull request
 * and their age. A target lists its previews and destroys them; this decides and reports.
 */

/** One preview a target found: `<name>-pr<N>` (plus `-stack` on aws-lambda). */
export interface PreviewCandidate {
  /** The stack (aws-lambda) or pmcp.run project name. */
  name: string
  prNumber: number
  /** When the preview was created; unknown on pmcp.run, whose list does not say. */
  createdAt?: Date
  /** False for a resource whose name matches but that carries none of the action's marks: it is never touched. */
  ours: boolean
}

/** A pull request as cleanup reads it: the GitHub client's reader's answer. */
export type { PullRequestInfo }

/** Reads pull request N; throws when it cannot be read. */
export type PullRequestReader = (prNumber: number) => Promise<PullRequestInfo>

export type CleanupAction = 'removed' | 'kept' | 'nothing to remove' | 'failed'

/** One line of the cleanup table in the job summary. */
export interface CleanupRow {
  /** Stack or pmcp.run project. */
  name: string
  prNumber: number
  /** `open`, `closed`, `merged`, `unknown`; with the age in days when known. */
  state: string
  ageDays?: number
  action: CleanupAction
  reason: string
}

export interface CleanupOptions {
  candidates: PreviewCandidate[]
  readPullRequest: PullRequestReader
  /** Input `max-preview-age`: open previews older than this many days go too. */
  maxAgeDays?: number
  /** Destroys one preview through the target's own destroy code. */
  destroy: (name: string) => Promise<'removed' | 'nothing to remove'>
  now?: () => Date
}

const DAY_MS = 24 * 60 * 60 * 1000

/** `<server>-pr<N><suffix>` → N; anything else (production, another server, a branch-named preview) → undefined. */
export function previewPrNumber(serverName: string, name: string, suffix = ''): number | undefined {
  if (!name.startsWith(`${serverName}-pr`) || !name.endsWith(suffix)) return undefined
  const middle = name.slice(`${serverName}-pr`.length, name.length - suffix.length)
  return /^[1-9]\d*$/.test(middle) ? Number(middle) : undefined
}

function stateOf(pr: PullRequestInfo): string {
  return pr.merged ? 'merged' : pr.state
}

/** Why a pull request could not be read, in words a maintainer acts on. */
export function unreadableReason(prNumber: number, error: unknown): string {
  const status = httpStatusOf(error)
  if (status === 404)
    return `PR #${prNumber} could not be read (HTTP 404: no such pull request in this repository, or the token may not see it)`
  if (status === 401) return `PR #${prNumber} could not be read (HTTP 401: 'github-token' was rejected)`
  return `PR #${prNumber} could not be read (${explainGitHubFailure(error, { permission: 'pull-requests: read' })})`
}

/**
 * Decides and destroys, one preview after the other: a closed or merged pull request's preview goes,
 * an open one goes when older than `maxAgeDays`; one whose pull request cannot be read stays, with a
 * warning. A failed destroy is a row of its own; the others still run.
 */
export async function cleanupPreviews(options: CleanupOptions): Promise<CleanupRow[]> {
  const now = (options.now ?? (() => new Date()))()
  const rows: CleanupRow[] = []
  const sorted = [...options.candidates].sort((a, b) => a.prNumber - b.prNumber || a.name.localeCompare(b.name))
  for (const candidate of sorted) {
    const ageDays = candidate.createdAt ? Math.floor((now.getTime() - candidate.createdAt.getTime()) / DAY_MS) : undefined
    const base = { name: candidate.name, prNumber: candidate.prNumber, ageDays }
    if (!candidate.ours) {
      rows.push({
        ...base,
        state: 'not checked',
        action: 'kept',
        reason:
          'not ours: the name matches but it carries none of the marks of pmcp/deploy-action ' +
          '(its tags on AWS, its revision label on Cloud Run)'
      })
      continue
    }
    let pr: PullRequestInfo
    try {
      pr = await options.readPullRequest(candidate.prNumber)
    } catch (error) {
      const reason = unreadableReason(candidate.prNumber, error)
      core.warning(`Kept ${candidate.name}: ${reason}.`, { title: 'pmcp-deploy: preview kept' })
      rows.push({ ...base, state: 'unknown', action: 'kept', reason })
      continue
    }
    const state = stateOf(pr)
    let reason: string | undefined
    if (pr.state === 'closed') reason = `PR #${candidate.prNumber} is ${state}`
    else if (options.maxAgeDays !== undefined && ageDays !== undefined && ageDays > options.maxAgeDays)
      reason = `PR #${candidate.prNumber} is open, but the preview is ${ageDays} days old (max-preview-age ${options.maxAgeDays})`
    if (!reason) {
      const young =
        options.maxAgeDays !== undefined && ageDays !== undefined ? `, ${ageDays} of at most ${options.maxAgeDays} days old` : ''
      rows.push({ ...base, state, action: 'kept', reason: `PR #${candidate.prNumber} is open${young}` })
      continue
    }
    try {
      const action = await options.destroy(candidate.name)
      core.info(`${action === 'removed' ? 'Removed' : 'Nothing to remove for'} ${candidate.name}: ${reason}`)
      rows.push({ ...base, state, action, reason })
    } catch (error) {
      core.error(`Could not remove ${candidate.name}: ${errorMessage(error)}`)
      rows.push({ ...base, state, action: 'failed', reason: `${reason}; the destroy failed: ${errorMessage(error)}` })
    }
  }
  return rows
}

export interface GitHubPullRequestOptions {
  /** The `github-token` input. */
  token?: string
  /** `owner/repo` [GITHUB_REPOSITORY]. */
  repository?: string
  /** REST API base URL [GITHUB_API_URL, else https://api.github.com]. */
  apiUrl?: string
}

/**
 * `GET /repos/{owner}/{repo}/pulls/{n}` with the action's GitHub client; without a token or repository
 * every read fails, and the previews stay.
 */
export function githubPullRequestReader(options: GitHubPullRequestOptions): PullRequestReader {
  const repository = options.repository ?? process.env.GITHUB_REPOSITORY ?? ''
  const [owner, repo] = repository.split('/')
  let client: Promise<GitHubClient> | undefined
  return async prNumber => {
    if (!options.token) throw new Error("'github-token' is empty")
    if (!owner || !repo) throw new Error('the repository is unknown (GITHUB_REPOSITORY is not set)')
    client ??= githubClient({ token: options.token, apiUrl: options.apiUrl })
    return readPullRequest(await client, repository, prNumber)
  }
}

/** One line for the log: how many went, how many stayed. */
export function cleanupSummaryLine(rows: CleanupRow[]): string {
  const count = (action: CleanupAction): number => rows.filter(row => row.action === action).length
  return `${count('removed')} removed, ${count('kept')} kept${count('failed') > 0 ? `, ${count('failed')} failed` : ''}`
}
