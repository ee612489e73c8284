import * as core from '@actions/core'
import type { getOctokit } from '@actions/github'
import { pullRequestOf, type PullRequestPayload } from '../context.js'
import { errorMessage } from '../errors.js'
import { httpStatusOf, isTransientError } from '../http.js'
import { withRetry } from '../retry.js'
import { type Block, code, codeBlock, detailsStart, link, renderBlocks, urlLink } from './markdown.js'
import { type RunReport, serverKey } from './model.js'
import {
  type Detail,
  commitCell,
  failureBlocks,
  functionLogBlocks,
  outputsTable,
  smokeLine,
  smokeTable,
  statusLine,
  versionsTable
} from './sections.js'

/** GitHub rejects comment bodies over 65,536 characters; keep a margin. */
export const COMMENT_LIMIT = 65_000

/** The author of comments written with the Actions `GITHUB_TOKEN`, which cannot call `GET /user`. */
export const ACTIONS_BOT_LOGIN = 'github-actions[bot]'

const PAGE_SIZE = 100

/** The hidden marker that identifies the comment of one stack. */
export function commentMarker(stackName: string): string {
  return `<!-- pmcp-deploy:${stackName} -->`
}

function connectBlocks(report: RunReport): Block[] {
  const mcpUrl = report.outputs.McpUrl
  if (!mcpUrl || report.status === 'removed' || report.status === 'nothing to remove') return []
  const key = serverKey(report.stackName)
  const config = JSON.stringify({ mcpServers: { [key]: { type: 'http', url: mcpUrl } } }, null, 2)
  const blocks: Block[] = [
    `**MCP URL:** ${urlLink(mcpUrl).text}`,
    detailsStart('Connect an MCP client'),
    'Add the server to the MCP client configuration (for example `.mcp.json`, `.cursor/mcp.json`):',
    codeBlock(config, 'json'),
    `or with Claude Code: ${code(`claude mcp add --transport http ${key} ${mcpUrl}`).text}`
  ]
  if (report.outputs.OAuthDiscoveryUrl) {
    blocks.push(`The server requires OAuth; clients discover it at ${urlLink(report.outputs.OAuthDiscoveryUrl).text}.`)
  }
  blocks.push('</details>')
  return blocks
}

function smokeBlocks(report: RunReport, detail: Detail): Block[] {
  if (!report.smoke) return []
  const table = smokeTable(report.smoke, detail)
  if (table === '') return [smokeLine(report.smoke)]
  // A passing run folds its table away; a failing one shows it.
  const open = report.smoke.outcome === 'failed'
  return [smokeLine(report.smoke), detailsStart('Smoke-test results', open), table, '</details>']
}

function foldedFunctionLogs(report: RunReport, detail: Detail): Block[] {
  const blocks = functionLogBlocks(report, detail)
  return blocks.length === 0 ? [] : [detailsStart('Function logs', true), ...blocks, '</details>']
}

function footer(report: RunReport): string {
  const parts = [`Commit ${commitCell(report).text}`]
  if (report.runUrl) parts.push(link('workflow run and job summary', report.runUrl).text)
  return parts.join(' · ')
}

/** The comment body: marker, status, MCP URL and how to connect, failure, smoke test, outputs, commit. */
export function renderComment(report: RunReport, limit = COMMENT_LIMIT): string {
  const detail: Detail = {
    maxCellChars: 300,
    maxMessageChars: 3000,
    maxLogLines: 30,
    elsewhere: report.runUrl ? `see the ${link('job summary', report.runUrl).text}` : 'see the job summary of this run'
  }
  const outputs = outputsTable(report, detail)
  const versions = versionsTable(report, detail)
  const blocks: Block[] = [
    commentMarker(report.stackName),
    `### ${statusLine(report)}`,
    ...connectBlocks(report),
    ...failureBlocks(report, detail),
    ...smokeBlocks(report, detail),
    ...foldedFunctionLogs(report, detail),
    ...(outputs === '' ? [] : [detailsStart('Stack outputs'), outputs, '</details>']),
    ...(versions === '' ? [] : ['**Lambda versions**', versions]),
    footer(report)
  ]
  return renderBlocks(blocks, limit)
}

/** Where the comment goes; everything a runner would supply can be given instead (tests, GHES, PATs). */
export interface CommentOptions {
  /** The `comment` input; false turns comments off. */
  comment: boolean
  /** The `github-token` input. */
  githubToken?: string
  /** The `pr-number` input; without it the pull request of a `pull_request` event. */
  prNumber?: number
  /** REST API base URL [GITHUB_API_URL, else https://api.github.com]. */
  apiUrl?: string
  /** `owner/repo` [GITHUB_REPOSITORY]. */
  repository?: string
  /** The triggering event (the runner's, from GITHUB_EVENT_NAME and GITHUB_EVENT_PATH). */
  event: { name?: string; payload?: PullRequestPayload }
  /** Backoff sleep of retries (tests make it instant). */
  sleep?: (ms: number) => Promise<void>
}

export type CommentResult = { action: 'created' | 'updated'; id: number; url?: string } | { action: 'skipped' | 'failed'; reason: string }

interface Target {
  owner: string
  repo: string
  prNumber: number
  fromFork: boolean
}

function resolveTarget(options: CommentOptions): Target | string {
  const pullRequest = pullRequestOf(options.event.name, options.event.payload ?? {})
  const prNumber = options.prNumber ?? pullRequest?.number
  if (prNumber === undefined) return 'not a pull_request event and no pr-number given'
  const repository = options.repository ?? process.env.GITHUB_REPOSITORY ?? ''
  const [owner, repo] = repository.split('/')
  if (!owner || !repo) return 'the repository is unknown (GITHUB_REPOSITORY is not set)'
  return { owner, repo, prNumber, fromFork: pullRequest?.fromFork ?? false }
}

type Octokit = ReturnType<typeof getOctokit>

interface Api {
  octokit: Octokit
  /** Runs a request with retries of transient failures; `attempts: 1` for requests that are not idempotent. */
  call: <T>(label: string, fn: () => Promise<T>, attempts?: number) => Promise<T>
}

/** Octokit loads only when there is a comment to write: a push deploy never pays for it. */
async function createApi(options: CommentOptions, token: string): Promise<Api> {
  const { getOctokit } = await import('@actions/github')
  const octokit = getOctokit(token, { baseUrl: options.apiUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com' })
  return {
    octokit,
    call: (label, fn, attempts = 3) => withRetry(fn, { label, attempts, isRetryable: isTransientError, sleep: options.sleep })
  }
}

/** The login comments by this token carry; the Actions token may not read `/user` (403). */
async function authenticatedLogin(api: Api): Promise<string> {
  try {
    const { data } = await api.call('GET /user', () => api.octokit.rest.users.getAuthenticated())
    return data.login
  } catch (error) {
    if (httpStatusOf(error) === 403) return ACTIONS_BOT_LOGIN
    throw error
  }
}

/** Pages through all comments of the pull request (100 a page) for ours with the stack's marker. */
async function findComment(api: Api, target: Target, login: string, marker: string): Promise<number | undefined> {
  for (let page = 1; ; page++) {
    const response = await api.call(`list comments of PR #${target.prNumber} (page ${page})`, () =>
      api.octokit.rest.issues.listComments({
        owner: target.owner,
        repo: target.repo,
        issue_number: target.prNumber,
        per_page: PAGE_SIZE,
        page
      })
    )
    const ours = response.data.find(comment => comment.user?.login === login && (comment.body ?? '').includes(marker))
    if (ours) return ours.id
    if (!/rel="next"/.test(response.headers.link ?? '')) return undefined
  }
}

/** Updates the stack's comment in place, or creates it. */
async function upsertComment(
  api: Api,
  target: Target,
  marker: string,
  body: string
): Promise<{ action: 'created' | 'updated'; id: number; url?: string }> {
  const login = await authenticatedLogin(api)
  const existing = await findComment(api, target, login, marker)
  const { owner, repo } = target
  if (existing !== undefined) {
    const { data } = await api.call('update the PR comment', () =>
      api.octokit.rest.issues.updateComment({ owner, repo, comment_id: existing, body })
    )
    return { action: 'updated', id: data.id, url: data.html_url }
  }
  // Not retried: a create that timed out may still have landed, and a duplicate is worse than a warning.
  const { data } = await api.call(
    'create the PR comment',
    () => api.octokit.rest.issues.createComment({ owner, repo, issue_number: target.prNumber, body }),
    1
  )
  return { action: 'created', id: data.id, url: data.html_url }
}

/** Why a comment could not be written, in words that say what to change. */
function explainFailure(error: unknown, target: Target): string {
  const status = httpStatusOf(error)
  const where = `${target.owner}/${target.repo}#${target.prNumber}`
  const detail = errorMessage(error)
  if (status === 403 && target.fromFork) {
    return (
      `The PR comment on ${where} was not written: pull requests from forks get a read-only token (HTTP 403: ${detail}). ` +
      'The report is in the job summary.'
    )
  }
  if (status === 403) {
    return (
      `The PR comment on ${where} was not written: the token lacks the permission 'pull-requests: write' (HTTP 403: ${detail}). ` +
      "Add 'permissions: { pull-requests: write }' to the job, or set 'comment: false'."
    )
  }
  if (status === 404) {
    return (
      `The PR comment on ${where} was not written: the pull request was not found or the token cannot see it (HTTP 404). ` +
      "Check 'pr-number' and that the token has 'pull-requests: write' on this repository."
    )
  }
  if (status === 401) return `The PR comment on ${where} was not written: 'github-token' was rejected (HTTP 401).`
  return `The PR comment on ${where} was not written: ${detail}`
}

/** Posts or updates the stack's PR comment; problems become a warning, never a failure. */
export async function publishComment(report: RunReport, options: CommentOptions): Promise<CommentResult> {
  if (!options.comment) return { action: 'skipped', reason: "'comment' is false" }
  if (report.command === 'synth') return { action: 'skipped', reason: 'synth deploys nothing to comment on' }
  const target = resolveTarget(options)
  if (typeof target === 'string') {
    core.info(`No PR comment: ${target}.`)
    return { action: 'skipped', reason: target }
  }
  if (!options.githubToken) {
    const reason = `No PR comment on #${target.prNumber}: 'github-token' is empty.`
    core.warning(reason)
    return { action: 'skipped', reason }
  }
  try {
    const result = await upsertComment(
      await createApi(options, options.githubToken),
      target,
      commentMarker(report.stackName),
      renderComment(report)
    )
    core.info(`PR comment ${result.action}: ${result.url ?? `#${result.id}`}`)
    return result
  } catch (error) {
    const reason = explainFailure(error, target)
    core.warning(reason, { title: 'pmcp-deploy: PR comment not written' })
    return { action: 'failed', reason }
  }
}
