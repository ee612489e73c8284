/**
 * A local stand-in for the GitHub REST API's issue comments (what PR comments are), on 127.0.0.1 at a
 * random port. Point `GITHUB_API_URL` (or an `apiUrl` option) at `api.url`.
 *
 * - `GET /user`: the authenticated user; with `authenticatedUser: null` it answers 403 as it does for
 *   the Actions `GITHUB_TOKEN`, and comments are then written by `github-actions[bot]`.
 * - `GET /repos/{owner}/{repo}/issues/{n}/comments?per_page&page`: pages (default 30, at most 100) with
 *   a GitHub-style `Link` header (first/prev/next/last).
 * - `POST /repos/{owner}/{repo}/issues/{n}/comments`, `PATCH /repos/{owner}/{repo}/issues/comments/{id}`:
 *   create and update; bodies over 65,536 characters get GitHub's 422.
 * - `failWith(...)`: canned failures (403, 404, 5xx) for matching requests, optionally only `times` times.
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
  /** How many matching requests fail; every one when left out. */
  times?: number
}

export interface PullRequestRef {
  owner: string
  repo: string
  number: number
}

export interface FakeGitHubApiOptions {
  /** Login `GET /user` returns; null behaves like the Actions GITHUB_TOKEN (403). Default 'deploy-bot'. */
  authenticatedUser?: string | null
}

interface JsonResponse {
  status: number
  body: unknown
  headers?: Record<string, string>
}

const COMMENTS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/
const COMMENT_PATH = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/

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
  private readonly failures: CannedFailure[] = []
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

  /** Forgets comments, recorded requests and canned failures. */
  reset(): void {
    this.threads.clear()
    this.requests.length = 0
    this.failures.length = 0
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
    return { status: failure.status, body: { message: failure.message ?? http.STATUS_CODES[failure.status] ?? 'Error' } }
  }

  private route(request: RecordedRequest): JsonResponse {
    if (request.path === '/user' && request.method === 'GET') return this.getUser()
    const comments = COMMENTS_PATH.exec(request.path)
    if (comments) {
      const pr = { owner: comments[1], repo: comments[2], number: Number(comments[3]) }
      if (request.method === 'GET') return this.listComments(pr, request)
      if (request.method === 'POST') return this.createComment(pr, request.body)
    }
    const single = COMMENT_PATH.exec(request.path)
    if (single && request.method === 'PATCH') return this.updateComment(Number(single[3]), request.body)
    return notFound()
  }

  private getUser(): JsonResponse {
    if (this.authenticatedUser === null) {
      return {
        status: 403,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user'
        }
      }
    }
    return { status: 200, body: { login: this.authenticatedUser, id: 1, type: 'User' } }
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

  private createComment(pr: PullRequestRef, body: unknown): JsonResponse {
    const text = commentBody(body)
    if (typeof text !== 'string') return text
    return { status: 201, body: this.addComment(pr, text) }
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
