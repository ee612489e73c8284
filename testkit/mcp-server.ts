/**
 * A real MCP server (@modelcontextprotocol/sdk, Streamable HTTP, stateless like a Lambda function)
 * on 127.0.0.1 with a random port, for smoke-test, e2e and lifecycle tests.
 *
 * Tools: `add` {a, b} → text `{"sum": a + b}`; `echo` {message} → the message.
 * Resource: `info://server` (text). Prompt: `greet` {name}.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type CallToolResult,
  type ServerCapabilities
} from '@modelcontextprotocol/sdk/types.js'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface TestMcpServerOptions {
  /**
   * Requests without `Authorization: Bearer <token>` get 401; a function accepts any token it
   * returns true for (e.g. the tokens a local OAuth token endpoint issued).
   */
  token?: string | ((token: string) => boolean)
  /** The first N requests get 503, as API Gateway answers while a function cold-starts. */
  failFirst?: number
  /** `add` returns a wrong sum (a + b + 1): a deploy that runs but is wrong. */
  broken?: boolean
  /** Capabilities the server does not advertise (their list calls are then unsupported). */
  without?: Array<'resources' | 'prompts'>
  /** Path the MCP endpoint answers on. */
  path?: string
  serverName?: string
  serverVersion?: string
  /**
   * Every request is answered with this HTTP status and a body that lists the request's headers,
   * `Authorization` included, as a server being debugged does: what a report must not repeat.
   */
  echoHeadersWith?: number
}

export interface RecordedRequest {
  method: string
  authorization?: string
  /** The HTTP status the helper answered with itself (503/401/404/405); undefined when MCP handled it. */
  rejectedWith?: number
}

export interface TestMcpServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:41234/mcp */
  url: string
  /** Every HTTP request received, in order. */
  requests: RecordedRequest[]
  close(): Promise<void>
}

export const SERVER_NAME = 'test-mcp-server'
export const SERVER_VERSION = '1.2.3'

function addResult(a: number, b: number, broken: boolean): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify({ sum: a + b + (broken ? 1 : 0) }) }] }
}

function buildMcpServer(options: TestMcpServerOptions): Server {
  const without = new Set(options.without ?? [])
  const capabilities: ServerCapabilities = { tools: {} }
  if (!without.has('resources')) capabilities.resources = {}
  if (!without.has('prompts')) capabilities.prompts = {}
  const server = new Server({ name: options.serverName ?? SERVER_NAME, version: options.serverVersion ?? SERVER_VERSION }, { capabilities })

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      {
        name: 'add',
        description: 'Adds two numbers',
        inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] }
      },
      {
        name: 'echo',
        description: 'Echoes a message',
        inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] }
      }
    ]
  }))
  server.setRequestHandler(CallToolRequestSchema, async request => {
    const args = request.params.arguments ?? {}
    switch (request.params.name) {
      case 'add':
        return addResult(Number(args.a), Number(args.b), options.broken ?? false)
      case 'echo':
        return { content: [{ type: 'text', text: String(args.message) }] }
      default:
        return { content: [{ type: 'text', text: `Error: unknown tool ${request.params.name}` }], isError: true }
    }
  })
  if (capabilities.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, async () => ({
      resources: [{ uri: 'info://server', name: 'server-info', mimeType: 'text/plain' }]
    }))
    server.setRequestHandler(ReadResourceRequestSchema, async request => ({
      contents: [{ uri: request.params.uri, mimeType: 'text/plain', text: `${SERVER_NAME} is running` }]
    }))
  }
  if (capabilities.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, async () => ({
      prompts: [{ name: 'greet', description: 'Greets someone', arguments: [{ name: 'name', required: true }] }]
    }))
    server.setRequestHandler(GetPromptRequestSchema, async request => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${request.params.arguments?.name ?? 'world'}!` } }]
    }))
  }
  return server
}

function reject(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message }))
}

/** Starts the server; each test file closes what it started (afterAll). */
function bearerAccepted(expected: NonNullable<TestMcpServerOptions['token']>, authorization: string | undefined): boolean {
  const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1]
  if (token === undefined) return false
  return typeof expected === 'string' ? token === expected : expected(token)
}

export async function startMcpServer(options: TestMcpServerOptions = {}): Promise<TestMcpServer> {
  const path = options.path ?? '/mcp'
  const requests: RecordedRequest[] = []
  let failuresLeft = options.failFirst ?? 0

  const httpServer = http.createServer((req, res) => {
    const recorded: RecordedRequest = { method: req.method ?? '', authorization: req.headers.authorization }
    requests.push(recorded)
    const refuse = (status: number, message: string): void => {
      recorded.rejectedWith = status
      reject(res, status, message)
    }
    if (options.echoHeadersWith !== undefined) {
      const headers = Object.entries(req.headers).map(([name, value]) => `${name}: ${String(value)}`)
      recorded.rejectedWith = options.echoHeadersWith
      res.writeHead(options.echoHeadersWith, { 'content-type': 'text/plain' }).end(`Rejected. Request headers:\n${headers.join('\n')}`)
      return
    }
    if (failuresLeft > 0) {
      failuresLeft--
      return refuse(503, 'Service Unavailable')
    }
    if (options.token && !bearerAccepted(options.token, req.headers.authorization)) return refuse(401, 'Unauthorized')
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) return refuse(404, 'Not Found')
    // Stateless: no standalone SSE stream and no sessions to delete.
    if (req.method !== 'POST') return refuse(405, 'Method Not Allowed')

    const server = buildMcpServer(options)
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(error => {
        if (!res.headersSent) reject(res, 500, String(error))
      })
  })

  await new Promise<void>(resolve => httpServer.listen(0, '127.0.0.1', resolve))
  const { port } = httpServer.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    close: () =>
      new Promise<void>(resolve => {
        httpServer.closeAllConnections()
        httpServer.close(() => resolve())
      })
  }
}
