/**
 * The one deadline policy of every network request the action makes itself (AWS SDK clients, the
 * OIDC token, the GitHub API, pmcp.run, OAuth tokens, tool downloads):
 *
 * - a connection must be made within `connectMs` (the request timeout, at most 10 s);
 * - one request, its answer read to the end, may take `requestMs` (input `request-timeout`, 30 s);
 * - a request that failed in a way worth repeating is retried (with `withRetry`) only while less
 *   than `budgetMs` (twice the request timeout) has passed since the first attempt.
 *
 * So a call against a server that accepts and never answers ends after at most three request
 * timeouts, with an error naming the call and the URL, instead of at GitHub's 6-hour job limit.
 * The smoke test has its own, longer clock (input `smoke-test-timeout`), and the CDK CLI its own.
 */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30

const MAX_CONNECT_MS = 10_000

let requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_SECONDS * 1000

export interface Deadlines {
  /** Time to establish a connection. */
  connectMs: number
  /** Time for one request, from the connection to the last byte of the answer. */
  requestMs: number
  /** No new attempt starts once this much time has passed since the first one. */
  budgetMs: number
}

/** Sets the request timeout (input `request-timeout`) for every request from now on. */
export function setRequestTimeout(seconds: number): void {
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new RangeError(`request timeout must be a positive number of seconds, not ${seconds}`)
  requestTimeoutMs = Math.round(seconds * 1000)
}

export function deadlines(): Deadlines {
  return { connectMs: Math.min(requestTimeoutMs, MAX_CONNECT_MS), requestMs: requestTimeoutMs, budgetMs: 2 * requestTimeoutMs }
}

/** `1.5 s`, `30 s`: a duration for messages. */
export function formatSeconds(ms: number): string {
  const seconds = ms / 1000
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`
}

/** A request that got no complete answer in time (the server accepted it and then said nothing, or too slowly). */
export class DeadlineError extends Error {
  readonly code = 'ETIMEDOUT'

  constructor(
    /** The call, e.g. `GET https://api.github.com/repos/o/r/pulls/1`, without anything secret. */
    readonly call: string,
    readonly timeoutMs: number
  ) {
    super(`${call}: no complete answer within ${formatSeconds(timeoutMs)} (request-timeout)`)
    this.name = 'DeadlineError'
  }
}

/** The error an AbortSignal.timeout gives fetch and the body read (a DOMException, possibly from another realm). */
function isAbortByTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null | undefined)?.name
  return name === 'TimeoutError' || name === 'AbortError'
}

export interface DeadlineFetchInit extends Omit<RequestInit, 'signal'> {
  /** Instead of the policy's request timeout (an upload of a large file). */
  timeoutMs?: number
}

export interface TextResponse {
  status: number
  ok: boolean
  headers: Headers
  text: string
}

/**
 * fetch whose request and answer (the body read as text) together end within the request timeout;
 * a request that does not is a DeadlineError naming `call`. Other failures are fetch's own
 * (`fetch failed` with its cause), for the caller's retry rule and the fault classifier.
 */
export async function fetchText(url: string, init: DeadlineFetchInit, call: string): Promise<TextResponse> {
  const { timeoutMs = deadlines().requestMs, ...rest } = init
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    const response = await fetch(url, { ...rest, signal })
    const text = await response.text()
    return { status: response.status, ok: response.ok, headers: response.headers, text }
  } catch (error) {
    if (signal.aborted && isAbortByTimeout(error)) throw new DeadlineError(call, timeoutMs)
    throw error
  }
}

/** Whether an error is a deadline that ran out: ours, or the AWS SDK's and AbortSignal.timeout's TimeoutError. */
export function isDeadline(error: unknown): boolean {
  return error instanceof DeadlineError || (error as { name?: unknown } | null | undefined)?.name === 'TimeoutError'
}
