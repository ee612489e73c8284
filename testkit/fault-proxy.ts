/**
 * A fault-injecting HTTP reverse proxy on 127.0.0.1 (random port) in front of a real upstream:
 * moto_server, the GitHub API stand-in or the OIDC token service. Point the action at `url` through
 * AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_<SERVICE>), GITHUB_API_URL or ACTIONS_ID_TOKEN_REQUEST_URL.
 *
 * Each request is matched against the rules in the order they were added (method, path, headers,
 * the AWS operation, a predicate); the first rule that matches, and still has `times` left, decides:
 * - `error`: a status and body (use the builders below for each AWS protocol's real error shape);
 * - `garbage`: 200 with a body that is neither JSON nor XML;
 * - `hang`: the request is read and never answered (the connection stays open until stop());
 * - `drop`: the socket is destroyed once the request is read (the client sees "socket hang up").
 * Anything else passes through unchanged. Every request is recorded with the rule that took it.
 */
import * as http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export type Fault =
  | { kind: 'error'; status: number; body: string; headers?: Record<string, string> }
  | { kind: 'garbage' }
  | { kind: 'hang' }
  | { kind: 'drop' }

export interface ProxiedRequest {
  method: string
  /** Without the query string. */
  path: string
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  body: string
  /** The AWS operation: `X-Amz-Target`'s part after the dot, else the query protocol's `Action=` (form or query). */
  operation?: string
  /** The AWS service signing name from `Authorization: AWS4-HMAC-SHA256 Credential=…/<region>/<service>/aws4_request`. */
  service?: string
}

export interface FaultRule {
  method?: string
  path?: string | RegExp
  /** The AWS operation, e.g. `AssumeRoleWithWebIdentity`, `DescribeStacks`, `DescribeSecret`. */
  operation?: string
  /** AWS signing name, e.g. `cloudformation`, `secretsmanager`, `lambda`. */
  service?: string
  /** Header values (names lower-case) that must match. */
  headers?: Record<string, string | RegExp>
  when?: (request: ProxiedRequest) => boolean
  fault: Fault
  /** How many matching requests get the fault; every one when left out. */
  times?: number
}

export interface RecordedProxyRequest extends Omit<ProxiedRequest, 'query' | 'headers'> {
  /** The fault it got, or `pass`. */
  outcome: Fault['kind'] | 'pass'
}

/** A body that no JSON or XML parser accepts. */
export const GARBAGE_BODY = '<<<\u0000 this is not the answer you are looking for }{ \ufffd'

function matches(expected: string | RegExp | undefined, actual: string | undefined): boolean {
  if (expected === undefined) return true
  if (actual === undefined) return false
  return typeof expected === 'string' ? expected === actual : expected.test(actual)
}

function ruleMatches(rule: FaultRule, request: ProxiedRequest): boolean {
  if (rule.times !== undefined && rule.times <= 0) return false
  if (rule.method && rule.method !== request.method) return false
  if (!matches(rule.path, request.path)) return false
  if (!matches(rule.operation, request.operation)) return false
  if (!matches(rule.service, request.service)) return false
  for (const [name, value] of Object.entries(rule.headers ?? {})) {
    const actual = request.headers[name.toLowerCase()]
    if (!matches(value, Array.isArray(actual) ? actual.join(',') : actual)) return false
  }
  return !rule.when || rule.when(request)
}

function describeRequest(method: string, url: URL, headers: http.IncomingHttpHeaders, body: string): ProxiedRequest {
  const target = headers['x-amz-target']
  let operation = typeof target === 'string' ? target.split('.').pop() : undefined
  if (!operation && /x-www-form-urlencoded/.test(headers['content-type'] ?? '')) {
    operation = new URLSearchParams(body).get('Action') ?? undefined
  }
  operation ??= url.searchParams.get('Action') ?? undefined
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/.exec(headers.authorization ?? '')?.[1]
  return { method, path: url.pathname, query: url.searchParams, headers, body, operation, service }
}

export class FaultProxy {
  readonly requests: RecordedProxyRequest[] = []
  private readonly rules: FaultRule[] = []
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly server: http.Server,
    /** http://127.0.0.1:<port> (or `localhost`, see `start`). */
    readonly url: string,
    private readonly upstream: URL
  ) {}

  /**
   * Starts a proxy in front of `upstream` (its origin: scheme, host, port). `host` names the proxy in
   * `url`: `localhost` in front of moto (whose CloudFormation recognises template URLs only on such a
   * host), else 127.0.0.1. It listens on 127.0.0.1 either way.
   */
  static async start(upstream: string, options: { host?: 'localhost' | '127.0.0.1' } = {}): Promise<FaultProxy> {
    const server = http.createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const proxy = new FaultProxy(server, `http://${options.host ?? '127.0.0.1'}:${port}`, new URL(upstream))
    server.on('connection', socket => {
      proxy.sockets.add(socket)
      socket.once('close', () => proxy.sockets.delete(socket))
    })
    server.on('request', (request, response) => void proxy.handle(request, response))
    return proxy
  }

  /** Adds a rule after the existing ones; returns the proxy. */
  inject(rule: FaultRule): this {
    this.rules.push({ ...rule })
    return this
  }

  /** Forgets the rules and the recorded requests. */
  reset(): void {
    this.rules.length = 0
    this.requests.length = 0
  }

  /** Requests that got a fault (not passed through). */
  faulted(): RecordedProxyRequest[] {
    return this.requests.filter(request => request.outcome !== 'pass')
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    try {
      for await (const chunk of request) chunks.push(chunk as Buffer)
    } catch {
      return // The client went away while sending.
    }
    const body = Buffer.concat(chunks)
    const method = request.method ?? 'GET'
    const url = new URL(request.url ?? '/', this.upstream)
    const described = describeRequest(method, url, request.headers, body.toString('utf8'))
    const rule = this.rules.find(candidate => ruleMatches(candidate, described))
    if (rule?.times !== undefined) rule.times--
    const { method: recordedMethod, path, body: text, operation, service } = described
    this.requests.push({ method: recordedMethod, path, body: text, operation, service, outcome: rule?.fault.kind ?? 'pass' })
    if (!rule) return this.forward(request, response, url, body)
    const fault = rule.fault
    switch (fault.kind) {
      case 'error':
        response.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
        response.end(fault.body)
        return
      case 'garbage':
        response.writeHead(200, { 'content-type': 'text/plain' })
        response.end(GARBAGE_BODY)
        return
      case 'hang':
        return // Never answered; stop() destroys the socket.
      case 'drop':
        request.socket.destroy()
        return
    }
  }

  private forward(request: http.IncomingMessage, response: http.ServerResponse, url: URL, body: Buffer): void {
    // The body was read whole: it goes on with its length, without the hop-by-hop headers of the first leg.
    const headers: http.OutgoingHttpHeaders = { ...request.headers, 'content-length': String(body.length) }
    for (const hopByHop of ['connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade', 'proxy-connection'])
      delete headers[hopByHop]
    const upstream = http.request(url, { method: request.method, headers }, answer => {
      response.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(response)
    })
    upstream.on('error', error => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' })
      response.end(`fault proxy: upstream ${this.upstream.origin} failed: ${error.message}`)
    })
    upstream.end(body)
  }
}

// ---------------------------------------------------------------------------------------------------
// Error answers in each AWS protocol's real shape, and GitHub's

const REQUEST_ID = 'c0ffee00-0000-4000-8000-000000000000'

/** awsQuery services (STS, CloudFormation): an `<ErrorResponse>` XML document. */
export function awsQueryError(status: number, code: string, message: string, namespace: string): Fault {
  const body =
    `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type><Code>${code}</Code>` +
    `<Message>${message}</Message></Error><RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`
  return { kind: 'error', status, body, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': REQUEST_ID } }
}

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/'
export const CLOUDFORMATION_NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/'

/** awsJson1.1 services (Secrets Manager, CloudWatch Logs): `{"__type": …, "Message": …}`. */
export function awsJsonError(status: number, type: string, message: string): Fault {
  return {
    kind: 'error',
    status,
    body: JSON.stringify({ __type: type, Message: message }),
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': REQUEST_ID }
  }
}

/** restJson services (Lambda): the error type in `x-amzn-ErrorType`, `{"Type": "User", "Message": …}`. */
export function awsRestJsonError(status: number, type: string, message: string): Fault {
  return {
    kind: 'error',
    status,
    body: JSON.stringify({ Type: 'User', Message: message }),
    headers: {
      'content-type': 'application/json',
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/`,
      'x-amzn-requestid': REQUEST_ID
    }
  }
}

/** A GitHub REST error: `{"message", "documentation_url"}` and any headers (rate limits). */
export function gitHubError(status: number, message: string, headers: Record<string, string> = {}): Fault {
  return {
    kind: 'error',
    status,
    body: JSON.stringify({ message, documentation_url: 'https://docs.github.com/rest' }),
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers }
  }
}
