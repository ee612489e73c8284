import * as core from '@actions/core'
import { pullRequestOf, type PullRequestPayload } from '../context.js'
import { errorMessage } from '../errors.js'
import { explainGitHubFailure, githubClient, type GitHubApiLimits, type GitHubClient } from '../github/client.js'
import { httpStatusOf } from '../http.js'
import { isRateLimited } from '../net/faults.js'
import { type Block, code, codeBlock, detailsStart, link, renderBlocks, urlLink } from './markdown.js'
import { type RunReport, serverKey } from './model.js'
import {
  type Detail,
  commitCell,
  failureBlocks,
  functionLogBlocks,
  infraDiffBlocks,
  outputsTable,
  smokeLine,
  smokeTable,
  statusLine,
  versionsHeading,
  versionsTable
} from './sections.js'

/** GitHub rejects comment bodies over 65,536 characters; keep a margin. */
export const COMMENT_LIMIT = 65_000

/** The author of comments written with the Actions `GITHUB_TOKEN` (GraphQL `viewer.login` of that token). */
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

/** The preview's infrastructure diff against production, under its own heading, in this stack's comment only. */
function infraDiffComment(report: RunReport, detail: Detail): Block[] {
  const blocks = infraDiffBlocks(report.infraDiff, detail)
  return blocks.length === 0 ? [] : ['#### Infrastructure diff against production', ...blocks]
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
    ...infraDiffComment(report, detail),
    ...smokeBlocks(report, detail),
    ...foldedFunctionLogs(report, detail),
    ...(outputs === '' ? [] : [detailsStart('Stack outputs'), outputs, '</details>']),
    ...(versions === '' ? [] : [`**${versionsHeading(report)}**`, versions]),
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
  /** REST API base URL [GITHUB_API_URL, else https://api.github.com]; GHES: `https://HOST/api/v3` (GraphQL then goes to `/api/graphql`). */
  apiUrl?: string
  /** `owner/repo` [GITHUB_REPOSITORY]. */
  repository?: string
  /** The triggering event (the runner's, from GITHUB_EVENT_NAME and GITHUB_EVENT_PATH). */
  event: { name?: string; payload?: PullRequestPayload }
  /** Rate-limit waits and retries of the GitHub API (tests make them short). */
  limits?: GitHubApiLimits
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

/**
 * The login comments by this token carry, from GraphQL `viewer`: `github-actions[bot]` for the
 * Actions token, `<app>[bot]` for a GitHub App installation token, the user for a PAT. Undefined
 * when the token may not ask (said once): the comment is then found by its marker alone.
 */
async function viewerLogin(octokit: GitHubClient): Promise<string | undefined> {
  try {
    const { viewer } = await octokit.graphql<{ viewer: { login: string } }>('query { viewer { login } }')
    return viewer.login
  } catch (error) {
    core.info(
      `Could not read who this token is with GraphQL (query { viewer { login } }: ${errorMessage(error)}); ` +
        'finding the PR comment by its marker alone.'
    )
    return undefined
  }
}

interface ListedComment {
  id: number
  body?: string
  user?: { login: string; type?: string } | null
}

/** Ours: the marker, and the token's login when it is known; else a bot's comment with the marker before anyone's. */
function pickComment(comments: ListedComment[], login: string | undefined, marker: string): ListedComment | undefined {
  const marked = comments.filter(comment => (comment.body ?? '').includes(marker))
  if (login !== undefined) return marked.find(comment => comment.user?.login === login)
  return marked.find(comment => comment.user?.type === 'Bot' || comment.user?.login.endsWith('[bot]')) ?? marked[0]
}

/** Pages through the comments of the pull request (100 a page, `octokit.paginate`) until ours turns up. */
async function findComment(octokit: GitHubClient, target: Target, login: string | undefined, marker: string): Promise<number | undefined> {
  let found: ListedComment | undefined
  await octokit.paginate(
    octokit.rest.issues.listComments,
    { owner: target.owner, repo: target.repo, issue_number: target.prNumber, per_page: PAGE_SIZE },
    (response, done) => {
      found ??= pickComment(response.data, login, marker)
      if (found) done()
      return []
    }
  )
  return found?.id
}

/** Updates the stack's comment in place, or creates it. */
async function upsertComment(
  octokit: GitHubClient,
  target: Target,
  marker: string,
  body: string
): Promise<{ action: 'created' | 'updated'; id: number; url?: string }> {
  const login = await viewerLogin(octokit)
  const existing = await findComment(octokit, target, login, marker)
  const { owner, repo } = target
  if (existing !== undefined) {
    // A PATCH of the same body is idempotent: retried like a read.
    const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing, body })
    return { action: 'updated', id: data.id, url: data.html_url }
  }
  // Not retried on 5xx: a create that timed out may still have landed, and a duplicate is worse than
  // a warning. A rate-limit answer is still waited out: GitHub did not take that request.
  const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: target.prNumber, body, request: { retries: 0 } })
  return { action: 'created', id: data.id, url: data.html_url }
}

/** Why a comment could not be written, in words that say what to change. */
function explainFailure(error: unknown, target: Target): string {
  const status = httpStatusOf(error)
  const where = `${target.owner}/${target.repo}#${target.prNumber}`
  const notWritten = `The PR comment on ${where} was not written`
  if (status === 403 && target.fromFork && !isRateLimited(error)) {
    return (
      `${notWritten}: pull requests from forks get a read-only token (HTTP 403: ${errorMessage(error)}). ` +
      'The report is in the job summary.'
    )
  }
  if (status === 404) {
    return (
      `${notWritten}: the pull request was not found or the token cannot see it (HTTP 404). ` +
      "Check 'pr-number' and that the token has 'pull-requests: write' on this repository."
    )
  }
  if (status === 401) return `${notWritten}: 'github-token' was rejected (HTTP 401).`
  const refused = status === 403 && !isRateLimited(error) ? " Or set 'comment: false'." : ''
  return `${notWritten}: ${explainGitHubFailure(error, { permission: 'pull-requests: write' })}${refused} The report is in the job summary.`
}

/** Posts or updates the stack's PR comment; problems become a warning, never a failure. */
export async function publishComment(report: RunReport, options: CommentOptions): Promise<CommentResult> {
  if (!options.comment) return { action: 'skipped', reason: "'comment' is false" }
  if (report.command === 'synth') return { action: 'skipped', reason: 'synth deploys nothing to comment on' }
  if (report.command === 'cleanup')
    return { action: 'skipped', reason: 'cleanup belongs to no pull request (its job summary lists what it did)' }
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
      await githubClient({ token: options.githubToken, apiUrl: options.apiUrl, limits: options.limits }),
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
