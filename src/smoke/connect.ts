import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { errorMessage } from '../errors.js'
import { isTransientStatus, REQUEST_TIMEOUT } from '../http.js'
import { describeRoute } from '../net/proxy.js'
import { withRetry } from '../retry.js'
import type { SmokeTestResult } from '../types.js'
import { elapsedSince } from './report.js'

export interface ConnectOptions {
  url: string
  token?: string
  /** Timeout of each request, in seconds; the cold-start retries stop after half of it. */
  timeoutSeconds: number
  /** Waits between cold-start attempts (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>
}

export type Connection =
  | { ok: true; client: Client; attempts: number; duration: SmokeTestResult['duration'] }
  | {
      ok: false
      error: unknown
      /** No answer at all (connection refused, DNS, TLS, timeout), as opposed to an answer that was an error. */
      unreachable: boolean
      attempts: number
      duration: SmokeTestResult['duration']
    }

const CLIENT_INFO = { name: 'pmcp-deploy-action', version: '1.0.0' }
const COLD_START_ATTEMPTS = 6
const COLD_START_BASE_DELAY_MS = 1000
const COLD_START_MAX_DELAY_MS = 8000

/** The HTTP status of a failed Streamable HTTP request, when the server answered at all. */
function httpStatusOf(error: unknown): number | undefined {
  return error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0 ? error.code : undefined
}

function isTimeout(error: unknown): boolean {
  return error instanceof McpError && (error.code === Number(ErrorCode.RequestTimeout) || error.code === Number(ErrorCode.ConnectionClosed))
}

/** No answer at all: connection refused or reset, DNS or TLS failure, or a request that timed out. */
function isUnreachable(error: unknown): boolean {
  if (error instanceof StreamableHTTPError) return false
  if (error instanceof McpError) return isTimeout(error)
  return true
}

/**
 * What a cold start looks like: no answer yet, or the gateway's 5xx/429 while the function starts,
 * or its 408 when the function took too long to take the request.
 */
function isColdStartError(error: unknown): boolean {
  const status = httpStatusOf(error)
  if (status !== undefined) return status === REQUEST_TIMEOUT || isTransientStatus(status)
  return isUnreachable(error)
}

/**
 * `fetch failed` alone says little; its cause (ECONNREFUSED, ENOTFOUND, …) says what happened.
 * Duck-typed: fetch's errors can come from another realm, where `instanceof Error` is false.
 */
export function describeFailure(error: unknown): string {
  const { message, cause } = (typeof error === 'object' && error !== null ? error : {}) as {
    message?: unknown
    cause?: { code?: string; message?: string }
  }
  const text = typeof message === 'string' ? message : errorMessage(error)
  const status = httpStatusOf(error)
  if (status === 401 || status === 403) {
    return `HTTP ${status}: ${text} (the endpoint requires authentication: set or check the smoke-test-token input)`
  }
  const detail = cause?.code ?? cause?.message
  return detail && !text.includes(detail) ? `${text} (${detail})` : text
}

function newClient(url: string, token: string | undefined): { client: Client; transport: StreamableHTTPClientTransport } {
  const requestInit: RequestInit | undefined = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined
  return { client: new Client(CLIENT_INFO), transport: new StreamableHTTPClientTransport(new URL(url), { requestInit }) }
}

/**
 * Connects and initializes, retrying what a cold start looks like with bounded backoff. An endpoint
 * that never answers, or answers with an error, is returned as a failed connection, for the caller
 * to report as a failed test (a new version nobody can reach is a failing version).
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const startedAt = performance.now()
  const timeoutMs = options.timeoutSeconds * 1000
  let attempts = 0
  try {
    const client = await withRetry(
      async () => {
        attempts++
        const { client, transport } = newClient(options.url, options.token)
        await client.connect(transport, { timeout: timeoutMs })
        return client
      },
      {
        label: `MCP initialize at ${options.url}`,
        attempts: COLD_START_ATTEMPTS,
        baseDelayMs: COLD_START_BASE_DELAY_MS,
        maxDelayMs: COLD_START_MAX_DELAY_MS,
        deadlineMs: timeoutMs / 2,
        isRetryable: isColdStartError,
        sleep: options.sleep
      }
    )
    return { ok: true, client, attempts, duration: elapsedSince(startedAt) }
  } catch (error) {
    return { ok: false, error, unreachable: isUnreachable(error), attempts, duration: elapsedSince(startedAt) }
  }
}

/** What a failed connection says: for an unreachable endpoint, what to check. */
export function connectionFailure(url: string, connection: Extract<Connection, { ok: false }>): string {
  if (!connection.unreachable) return describeFailure(connection.error)
  return (
    `MCP endpoint unreachable: no answer from ${url} after ${connection.attempts} attempt(s): ${describeFailure(connection.error)}. ` +
    "Check the URL (the smoke-test-url input, else the stack's McpUrl output) and that the function deployed; " +
    `raise smoke-test-timeout if the server needs longer to start. ${describeRoute(url)}`
  )
}

/** The failed `Initialize` test of a connection that did not succeed (mcp-tester's name and category). */
export function failedInitialize(url: string, connection: Extract<Connection, { ok: false }>): SmokeTestResult {
  return {
    name: 'Initialize',
    category: 'Core',
    status: 'Failed',
    duration: connection.duration,
    error: connectionFailure(url, connection),
    details: null
  }
}
