/**
 * The one GitHub REST/GraphQL client of the action (PR comment, run guards, cleanup): Octokit from
 * @actions/github with
 *
 * - the deadline of src/net/deadline.ts on every request, the answer read to its end;
 * - @octokit/plugin-retry for 5xx and network errors (2 retries, 1 s then 4 s);
 * - @octokit/plugin-throttling for primary and secondary rate limits, waited out a bounded number
 *   of times with a log line each;
 * - an answer that should be JSON and is not (an HTML error page of a proxy) refused at once.
 *
 * `explainGitHubFailure` turns what it throws into one sentence through src/net/faults.ts, so a rate
 * limit never reads as a missing permission and a hang never as a bug. It loads only when needed:
 * a push deploy that comments nowhere never pays for it.
 */
import * as core from '@actions/core'
import type { getOctokit } from '@actions/github'
import { errorMessage } from '../action-error.js'
import { httpStatusOf } from '../http.js'
import { DeadlineError, deadlines } from '../net/deadline.js'
import { classifyHttpFault, classifyNetworkFault, excerpt, NotJsonAnswerError, safeUrl, type CallSite } from '../net/faults.js'

export type GitHubClient = ReturnType<typeof getOctokit>

/** How the client waits: tests make the waits short. */
export interface GitHubApiLimits {
  /** Milliseconds in one second of GitHub's `retry-after` and of the retry backoff (1 s, 4 s) [1000]; tests use 1. */
  msPerSecond?: number
  /** How many times one request waits out a rate limit (primary or secondary) before giving up [3]. */
  maxRateLimitWaits?: number
  /** A rate limit that asks for a longer wait (in seconds) is not waited out [300]. */
  maxWaitSeconds?: number
  /** Space writes (and GraphQL queries) 1 s apart as GitHub asks of integrations [true]; tests turn it off. */
  spaceWrites?: boolean
}

export interface GitHubClientOptions {
  token: string
  /** REST API base URL [GITHUB_API_URL, else https://api.github.com]; GHES: `https://HOST/api/v3`. */
  apiUrl?: string
  limits?: GitHubApiLimits
}

/** 5xx and network errors are retried this many times (plugin-retry); a create opts out per request. */
export const GITHUB_RETRIES = 2

/**
 * Statuses @octokit/plugin-retry leaves alone: client errors, and 429, which (like a rate-limit 403)
 * plugin-throttling waits out by its `retry-after` instead.
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451]

/** A Bottleneck group that schedules at once: what `spaceWrites: false` puts in place of plugin-throttling's write group. */
const UNSPACED = {
  key: () => ({
    schedule: (...args: unknown[]) => {
      const [first, ...rest] = args
      const [fn, ...fnArgs] = typeof first === 'function' ? [first, ...rest] : rest
      return (fn as (...a: unknown[]) => Promise<unknown>)(...fnArgs)
    }
  })
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304])

/**
 * fetch for Octokit: the request and its whole answer within the request deadline (Octokit reads
 * the body after fetch returns, and would take a body cut off by the deadline for an empty one), and
 * a body announced as JSON that is not JSON refused as such.
 */
async function deadlineFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = input instanceof Request ? input.url : String(input)
  const { requestMs } = deadlines()
  const timeout = AbortSignal.timeout(requestMs)
  const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout
  const call = `${init?.method ?? 'GET'} ${safeUrl(url)}`
  let response: Response
  let body: ArrayBuffer
  try {
    response = await fetch(input, { ...init, signal })
    body = await response.arrayBuffer()
  } catch (error) {
    if (timeout.aborted) throw new DeadlineError(call, requestMs)
    throw error
  }
  // GitHub's API answers JSON; a success that is not (a captive portal, a proxy's page) is no answer of it.
  const contentType = response.headers.get('content-type') ?? undefined
  const announcedJson = contentType !== undefined && /^application\/(.+\+)?json/i.test(contentType)
  if (body.byteLength > 0 && (announcedJson || response.ok)) {
    const text = new TextDecoder().decode(body)
    try {
      JSON.parse(text)
    } catch {
      throw new NotJsonAnswerError(safeUrl(url) ?? url, response.status, contentType, excerpt(text))
    }
  }
  const buffered = new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers
  })
  Object.defineProperty(buffered, 'url', { value: response.url })
  return buffered
}

let clientCount = 0

/** The GitHub client of the action; see the top of this file. */
export async function githubClient(options: GitHubClientOptions): Promise<GitHubClient> {
  const [{ getOctokit }, { retry }, { throttling }] = await Promise.all([
    import('@actions/github'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling')
  ])
  const limits = options.limits ?? {}
  const msPerSecond = limits.msPerSecond ?? 1000
  const maxWaits = limits.maxRateLimitWaits ?? 3
  const maxWaitSeconds = limits.maxWaitSeconds ?? 300
  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const what = `GitHub API ${kind} rate limit on ${request.method} ${request.url}`
      if (retryCount >= maxWaits || retryAfter > maxWaitSeconds) {
        core.info(`${what}: not waiting again (${retryCount} waits so far, ${retryAfter} s asked).`)
        return false
      }
      core.info(`${what}: waiting ${retryAfter} s (wait ${retryCount + 1} of at most ${maxWaits}).`)
      return true
    }
  const octokit = getOctokit(
    options.token,
    {
      // @actions/github reads GITHUB_API_URL when it is first imported; read it at call time instead.
      baseUrl: (options.apiUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
      request: { fetch: deadlineFetch },
      retry: { retries: GITHUB_RETRIES, doNotRetry: DO_NOT_RETRY, retryAfterBaseValue: msPerSecond },
      throttle: {
        // One key per client: runs in one process (tests) do not space each other's writes.
        id: `pmcp-deploy-${++clientCount}`,
        retryAfterBaseValue: msPerSecond,
        onRateLimit: onLimit('primary'),
        onSecondaryRateLimit: onLimit('secondary'),
        ...(limits.spaceWrites === false ? { write: UNSPACED as never, notifications: UNSPACED as never } : {})
      }
    },
    retry,
    throttling
  )
  return octokit
}

/** A pull request's state, as the guards and cleanup read it. */
export interface PullRequestInfo {
  state: 'open' | 'closed'
  merged: boolean
}

/** `GET /repos/{owner}/{repo}/pulls/{n}`: the one reader of a pull request's state. */
export async function readPullRequest(client: GitHubClient, repository: string, prNumber: number): Promise<PullRequestInfo> {
  const [owner, repo] = repository.split('/')
  const { data } = await client.rest.pulls.get({ owner, repo, pull_number: prNumber })
  if (typeof data !== 'object' || data === null || typeof data.state !== 'string') {
    throw new NotJsonAnswerError(`/repos/${repository}/pulls/${prNumber}`, 200, undefined, excerpt(JSON.stringify(data) ?? ''))
  }
  return { state: data.state === 'open' ? 'open' : 'closed', merged: Boolean(data.merged || data.merged_at) }
}

/** Octokit wraps a failure of fetch as an HTTP 500 without a response; its cause says what happened. */
function networkCause(error: unknown): unknown {
  const shape = error as { name?: string; response?: unknown; cause?: unknown }
  return shape?.name === 'HttpError' && shape.response === undefined && shape.cause !== undefined ? shape.cause : undefined
}

/**
 * Why a GitHub API call failed, in one sentence: the rate limit (not a permission), a refused
 * permission (`permission` names the one the call needs), a hang, a dropped connection, an answer
 * that is not JSON, or a 5xx after the retries.
 */
export function explainGitHubFailure(error: unknown, site: CallSite = {}): string {
  const where: CallSite = { service: 'GitHub API', ...site }
  const cause = networkCause(error)
  const request = (error as { request?: { method?: string; url?: string } } | undefined)?.request
  const url = where.url ?? safeUrl(request?.url)
  const call = where.call ?? (request?.method && url ? `${request.method} ${new URL(url).pathname}` : undefined)
  const explained =
    cause === undefined
      ? (classifyHttpFault(error, where) ?? classifyNetworkFault(error, where))
      : (classifyNetworkFault(cause, { ...where, url, call }) ?? classifyHttpFault(cause, where))
  if (explained) return explained.message
  const status = httpStatusOf(error)
  return status === undefined ? errorMessage(error) : `HTTP ${status}: ${errorMessage(error)}`
}
