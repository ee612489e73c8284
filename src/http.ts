import { ActionError } from './action-error.js'

/** An HTTP answer that is an error: the status decides whether asking again can help. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    /** The URL asked, without anything secret in it (callers strip signatures). */
    readonly url: string,
    message: string
  ) {
    super(message)
    this.name = 'HttpStatusError'
  }
}

/**
 * 408 Request Timeout: the server gave up waiting for the request. Not transient by the shared
 * rule (most APIs answer it to a client that is too slow, which a retry does not fix); callers
 * for whom it is a passing state (a cold start, a download) add it themselves.
 */
export const REQUEST_TIMEOUT = 408

/** A rate limit (429) or a server error (5xx): the same request may well succeed later. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500
}

/** The status of an HTTP error: an HttpStatusError's, or any error's numeric `status` (Octokit's RequestError). */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null | undefined)?.status
  return typeof status === 'number' ? status : undefined
}

/**
 * Whether another attempt may succeed: an HTTP error with a transient status, or an error without
 * any status, which is taken for a failure of the network (refused, reset, DNS, TLS, timed out).
 * An ActionError is a verdict already explained to the user, never transient.
 */
export function isTransientError(error: unknown): boolean {
  if (error instanceof ActionError) return false
  const status = httpStatusOf(error)
  return status === undefined || isTransientStatus(status)
}
