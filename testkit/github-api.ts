/**
 * A local stand-in for the GitHub REST API's issue comments (what PR comments are), on 127.0.0.1 at a
 * random port. Point `GITHUB_API_URL` (or an `apiUrl` option) at `api.url`.
 *
 * Who a request is comes from its token (`Authorization: token X` or `bearer X`): `identify(token,
 * login)` names one (`my-app[bot]` for a GitHub App installation token, a user for a PAT); any other
 * token is `authenticatedUser`, or `github-actions[bot]` (the Actions `GITHUB_TOKEN`) when that is null.
 *
 * - `POST /graphql`: `query { viewer { login } }` answers the token's login; other queries get a
 *   GraphQL error.
 * - `GET /user`: the token's user; 403 for a bot (the Actions token, App installation tokens).
 * - `GET /repos/{owner}/{repo}/issues/{n}/comments?per_page&page`: pages (default 30, at most 100) with
 *   a GitHub-style `Link` header (first/prev/next/last).
 * - `POST /repos/{owner}/{repo}/issues/{n}/comments`, `PATCH /repos/{owner}/{repo}/issues/comments/{id}`:
 *   create (written by the token's login) and update; bodies over 65,536 characters get GitHub's 422.
 * - `GET /repos/{owner}/{repo}/pulls/{n}`: a pull request `setPullRequest(...)` made (state, merged, created
 *   and closed times); 404 for any other number.
 * - `GET /repos/{owner}/{repo}`: the repository `setRepository(...)` gave (default_branch), else 404.
 * - `failWith(...)`: canned failures (403, 404, 5xx) for matching requests, optionally only `times` times.
 * - `secondaryRateLimit(...)`, `primaryRateLimit(...)`: GitHub's rate-limit 403s (`retry-after` and "You
 *   have exceeded a secondary rate limit"; `x-ratelimit-remaining: 0` and `x-ratelimit-reset`), `times` times.
 * Every request is recorded in `requests`.
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export const ACTIONS_BOT = 'github-actions[bot]'
export const MAX_COMMENT_CHARS = 65_536

export interface RecordedRequest {
  method: string
  /** Path without the query string, e.g. `/repos/o/r/issues/1/comments`. */
  path: string
  query: Record<string, string>
  /** Parsed JSON body, when there was one. */
  body?: unknown
  authorization?: string
}

export interface ApiComment {
  id: number
  body: string
  user: { login: string; type: 'User' | 'Bot' }
  created_at: string
  updated_at: string
  html_url: string
}

export interface CannedFailure {
  /** Matches any method when left out. */
  method?: string
  /** Exact path or a pattern; matches any path when left out. */
  path?: string | RegExp
  status: number
  message?: string
  /** Response headers (rate-limit answers). */
  headers?: Record<string, string>
  /** How many matching requests fail; every one when left out. */
  times?: number
}

export interface RateLimitOptions {
  method?: string
  path?: string | RegExp
  /** How many matching requests are refused [1]. */
  times?: number
  /** Seconds: the `retry-after` of a secondary limit, the time to `x-ratelimit-reset` of a primary one [1]. */
  retryAfter?: number
}

export const SECONDARY_RATE_LIMIT_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
  'If you reach out to GitHub Support for help, please include the request ID.'

export interface PullRequestRef {
  owner: string
  repo: string
  number: number
}

/** A pull request `GET /repos/{owner}/{repo}/pulls/{n}` answers; every field has a default. */
export interface PullRequestOptions {
  /** [open] */
  state?: 'open' | 'closed'
  /** Merged (then `state` defaults to closed) [false]. */
  merged?: boolean
  /** ISO 8601 [now]. */
  createdAt?: string
  /** ISO 8601 [now, when closed]. */
  closedAt?: string
}

export interface ApiPullRequest {
  number: number
  state: 'open' | 'closed'
  merged: boolean
  merged_at: string | null
  created_at: string
  updated_at: string
  closed_at: string | null
  html_url: string
}

export interface FakeGitHubApiOptions {
  /** Login `GET /user` returns; null behaves like the Actions GITHUB_TOKEN (403). Default 'deploy-bot'. */
  authenticatedUser?: string | null
}

export interface RepositoryOptions {
  /** [main] */
  default_branch?: string
}

interface JsonResponse {
  status: number
  body: unknown
  headers?: Record<string, string>
}

const COMMENTS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/
const COMMENT_PATH = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/
const REPOSITORY_PATH = /^\/repos\/([^/]+)\/([^/]+)$/
const PULL_PATH = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/

function userOf(login: string): ApiComment['user'] {
  return { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' }
}

function notFound(): JsonResponse {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } }
}

export class FakeGitHubApi {
  readonly requests: RecordedRequest[] = []
  authenticatedUser: string | null
  private readonly threads = new Map<string, ApiComment[]>()
  private readonly pulls = new Map<string, ApiPullRequest>()
  private readonly failures: CannedFailure[] = []
  private readonly identities = new Map<string, string>()
  private readonly repositories = new Map<string, Required<RepositoryOptions>>()
  private nextId = 1000

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    options: FakeGitHubApiOptions
  ) {
    this.authenticatedUser = options.authenticatedUser === undefined ? 'deploy-bot' : options.authenticatedUser
  }

  static async start(options: FakeGitHubApiOptions = {}): Promise<FakeGitHubApi> {
    const server = http.createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const api = new FakeGitHubApi(server, `http://127.0.0.1:${port}`, options)
    server.on('request', (request, response) => void api.handle(request, response))
    return api
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve, reject) => this.server.close(error => (error ? reject(error) : resolve())))
  }

  /** Forgets comments, recorded requests, canned failures, token identities, pull requests and repositories. */
  reset(): void {
    this.threads.clear()
    this.repositories.clear()
    this.pulls.clear()
    this.requests.length = 0
    this.failures.length = 0
    this.identities.clear()
  }

  /** Requests with `token` act as `login` (`my-app[bot]` for a GitHub App installation token, a user for a PAT). */
  identify(token: string, login: string): void {
    this.identities.set(token, login)
  }

  /** 403s as GitHub answers when a secondary rate limit is hit: `retry-after` and the message plugin-throttling looks for. */
  secondaryRateLimit(options: RateLimitOptions = {}): void {
    this.failWith({
      method: options.method,
      path: options.path,
      status: 403,
      message: SECONDARY_RATE_LIMIT_MESSAGE,
      headers: { 'retry-after': String(options.retryAfter ?? 1) },
      times: options.times ?? 1
    })
  }

  /** 403s as GitHub answers when the primary rate limit is used up: no requests left until `x-ratelimit-reset`. */
  primaryRateLimit(options: RateLimitOptions = {}): void {
    const reset = Math.ceil(Date.now() / 1000) + (options.retryAfter ?? 1)
    this.failWith({
      method: options.method,
      path: options.path,
      status: 403,
      message: 'API rate limit exceeded for installation ID 1.',
      headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      times: options.times ?? 1
    })
  }

  /** What `GET /repos/{owner}/{repo}` answers for this repository. */
  setRepository(owner: string, repo: string, options: RepositoryOptions = {}): void {
    this.repositories.set(`${owner}/${repo}`, { default_branch: options.default_branch ?? 'main' })
  }

  /** Adds a comment as if `user` had written it (default: the authenticated user, or the Actions bot). */
  addComment(pr: PullRequestRef, body: string, user = this.commentAuthor()): ApiComment {
    const now = new Date().toISOString()
    const id = this.nextId++
    const comment: ApiComment = {
      id,
      body,
      user: userOf(user),
      created_at: now,
      updated_at: now,
      html_url: `https://github.com/${pr.owner}/${pr.repo}/pull/${pr.number}#issuecomment-${id}`
    }
    this.thread(pr).push(comment)
    return comment
  }

  /** The comments of a pull request, oldest first. */
  comments(pr: PullRequestRef): ApiComment[] {
    return [...this.thread(pr)]
  }

  /** Makes pull request `pr` readable through `GET /repos/{owner}/{repo}/pulls/{n}`. */
  setPullRequest(pr: PullRequestRef, options: PullRequestOptions = {}): ApiPullRequest {
    const now = new Date().toISOString()
    const merged = options.merged ?? false
    const state = options.state ?? (merged ? 'closed' : 'open')
    const closedAt = state === 'closed' ? (options.closedAt ?? now) : null
    const pull: ApiPullRequest = {
      number: pr.number,
      state,
      merged,
      merged_at: merged ? closedAt : null,
      created_at: options.createdAt ?? now,
      updated_at: closedAt ?? options.createdAt ?? now,
      closed_at: closedAt,
      html_url: `https://github.com/${pr.owner}/${pr.repo}/pull/${pr.number}`
    }
    this.pulls.set(`${pr.owner}/${pr.repo}#${pr.number}`, pull)
    return pull
  }

  failWith(failure: CannedFailure): void {
    this.failures.push({ ...failure })
  }

  /** Recorded requests of one method, optionally only those whose path matches. */
  requestsOf(method: string, path?: RegExp): RecordedRequest[] {
    return this.requests.filter(request => request.method === method && (!path || path.test(request.path)))
  }

  private commentAuthor(): string {
    return this.authenticatedUser ?? ACTIONS_BOT
  }

  /** The login of a request's token. */
  private loginOf(request: RecordedRequest): string {
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(request.authorization ?? '')?.[1]
    return (token && this.identities.get(token)) || this.commentAuthor()
  }

  private thread(pr: PullRequestRef): ApiComment[] {
    const key = `${pr.owner}/${pr.repo}#${pr.number}`
    let thread = this.threads.get(key)
    if (!thread) {
      thread = []
      this.threads.set(key, thread)
    }
    return thread
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url)
    const text = await readBody(request)
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: request.headers.authorization
    }
    this.requests.push(recorded)
    let result: JsonResponse
    try {
      if (text !== '') recorded.body = JSON.parse(text)
      result = this.cannedFailure(recorded) ?? this.route(recorded)
    } catch {
      result = { status: 400, body: { message: 'Problems parsing JSON' } }
    }
    response.writeHead(result.status, { 'content-type': 'application/json; charset=utf-8', ...result.headers })
    response.end(JSON.stringify(result.body))
  }

  private cannedFailure(request: RecordedRequest): JsonResponse | undefined {
    const failure = this.failures.find(
      candidate =>
        (candidate.times === undefined || candidate.times > 0) &&
        (!candidate.method || candidate.method === request.method) &&
        (!candidate.path || (typeof candidate.path === 'string' ? candidate.path === request.path : candidate.path.test(request.path)))
    )
    if (!failure) return undefined
    if (failure.times !== undefined) failure.times--
    return {
      status: failure.status,
      body: { message: failure.message ?? http.STATUS_CODES[failure.status] ?? 'Error' },
      headers: failure.headers
    }
  }

  private route(request: RecordedRequest): JsonResponse {
    if (request.path === '/user' && request.method === 'GET') return this.getUser(request)
    if (request.path === '/graphql' && request.method === 'POST') return this.graphql(request)
    const comments = COMMENTS_PATH.exec(request.path)
    if (comments) {
      const pr = { owner: comments[1], repo: comments[2], number: Number(comments[3]) }
      if (request.method === 'GET') return this.listComments(pr, request)
      if (request.method === 'POST') return this.createComment(pr, request.body, this.loginOf(request))
    }
    const pull = PULL_PATH.exec(request.path)
    if (pull && request.method === 'GET') {
      const found = this.pulls.get(`${pull[1]}/${pull[2]}#${Number(pull[3])}`)
      return found ? { status: 200, body: found } : notFound()
    }
    const single = COMMENT_PATH.exec(request.path)
    if (single && request.method === 'PATCH') return this.updateComment(Number(single[3]), request.body)
    const repository = REPOSITORY_PATH.exec(request.path)
    if (repository && request.method === 'GET') return this.getRepository(repository[1], repository[2])
    return notFound()
  }

  private getRepository(owner: string, repo: string): JsonResponse {
    const found = this.repositories.get(`${owner}/${repo}`)
    if (!found) return notFound()
    return {
      status: 200,
      body: { full_name: `${owner}/${repo}`, name: repo, owner: { login: owner }, default_branch: found.default_branch }
    }
  }

  private graphql(request: RecordedRequest): JsonResponse {
    const query = (request.body as { query?: unknown } | undefined)?.query
    if (typeof query === 'string' && /^\s*(query\s*)?\{\s*viewer\s*\{\s*login\s*\}\s*\}\s*$/.test(query)) {
      return { status: 200, body: { data: { viewer: { login: this.loginOf(request) } } } }
    }
    return { status: 200, body: { errors: [{ message: 'This stand-in answers only query { viewer { login } }' }] } }
  }

  private getUser(request: RecordedRequest): JsonResponse {
    const login = this.loginOf(request)
    if (login.endsWith('[bot]')) {
      return {
        status: 403,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user'
        }
      }
    }
    return { status: 200, body: { login, id: 1, type: 'User' } }
  }

  private listComments(pr: PullRequestRef, request: RecordedRequest): JsonResponse {
    const perPage = Math.min(100, Number(request.query.per_page ?? 30) || 30)
    const page = Math.max(1, Number(request.query.page ?? 1) || 1)
    const thread = this.thread(pr)
    const lastPage = Math.max(1, Math.ceil(thread.length / perPage))
    const pageUrl = (n: number): string => `${this.url}${request.path}?per_page=${perPage}&page=${n}`
    const links: string[] = []
    if (page > 1) links.push(`<${pageUrl(page - 1)}>; rel="prev"`)
    if (page < lastPage) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(lastPage)}>; rel="last"`)
    if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`)
    return {
      status: 200,
      body: thread.slice((page - 1) * perPage, page * perPage),
      headers: links.length > 0 ? { link: links.join(', ') } : {}
    }
  }

  private createComment(pr: PullRequestRef, body: unknown, author: string): JsonResponse {
    const text = commentBody(body)
    if (typeof text !== 'string') return text
    return { status: 201, body: this.addComment(pr, text, author) }
  }

  private updateComment(id: number, body: unknown): JsonResponse {
    const text = commentBody(body)
    if (typeof text !== 'string') return text
    for (const thread of this.threads.values()) {
      const comment = thread.find(candidate => candidate.id === id)
      if (comment) {
        comment.body = text
        comment.updated_at = new Date().toISOString()
        return { status: 200, body: comment }
      }
    }
    return notFound()
  }
}

/** The `body` of a create/update request, or GitHub's 422 answer. */
function commentBody(body: unknown): string | JsonResponse {
  const text = (body as { body?: unknown } | undefined)?.body
  if (typeof text !== 'string' || text === '') {
    return { status: 422, body: { message: 'Validation Failed', errors: [{ field: 'body', code: 'missing_field' }] } }
  }
  if ([...text].length > MAX_COMMENT_CHARS) {
    return {
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [{ field: 'body', message: `Body is too long (maximum is ${MAX_COMMENT_CHARS} characters)` }]
      }
    }
  }
  return text
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
