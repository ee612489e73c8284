/**
 * The one place that turns a failed call to another service into an ActionError a user can act on:
 * which service and call, which URL (never a secret), what happened, and what to check. It knows
 * AWS SDK errors (a refused permission, expired or rejected credentials, throttling, 5xx, an answer
 * that is not the API's), HTTP answers (GitHub's rate limit, 401/403/404, 5xx, an answer that is not
 * JSON) and network failures (refused, dropped, DNS, TLS, the deadline of src/net/deadline.ts).
 *
 * Callers classify where they know the call (`awsCall`, the GitHub client, pmcp.run, downloads);
 * `reportError` classifies what slipped through as a last resort, so a fault of the network or of
 * another service never reads as a bug of the action.
 */
import { awsOperation, permissionAdvice } from '../aws/permissions.js'
import { ActionError, errorMessage } from '../action-error.js'
import { HttpStatusError, httpStatusOf } from '../http.js'
import { deadlines, formatSeconds, isDeadline } from './deadline.js'
import { describeRoute, networkFailureReason } from './proxy.js'

/** What was being called, for the message. Everything is optional: an error often says part of it itself. */
export interface CallSite {
  /** `GitHub API`, `pmcp.run`, `AWS Lambda` */
  service?: string
  /** `GET /repos/o/r/pulls/1`, `GetAlias` */
  call?: string
  /** Without query string or credentials. */
  url?: string
  /** What the action was doing: `Reading alias live of my-server`. */
  doing?: string
  /** The permission the call needs, when a refusal means it is missing (GitHub: `pull-requests: write`). */
  permission?: string
}

/** A classified fault: an ActionError that keeps the error it explains (callers still read its AWS name or status). */
export class FaultError extends ActionError {
  constructor(
    title: string,
    message: string,
    readonly kind: FaultKind,
    readonly cause: unknown
  ) {
    super(title, message)
  }
}

export type FaultKind =
  | 'deadline'
  | 'network'
  | 'access-denied'
  | 'credentials-expired'
  | 'credentials-rejected'
  | 'credentials-missing'
  | 'throttled'
  | 'rate-limited'
  | 'unavailable'
  | 'not-json'
  | 'not-found'
  | 'rejected'

/** An HTTP answer whose body should have been JSON and is not (an HTML error page, a proxy's text, garbage). */
export class NotJsonAnswerError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly contentType: string | undefined,
    readonly excerpt: string
  ) {
    super(`HTTP ${status} answer of ${url} is not JSON (content-type ${contentType ?? 'none'}): ${excerpt || '(empty)'}`)
    this.name = 'NotJsonAnswerError'
  }
}

/** The start of a body, on one line, for a message. */
export function excerpt(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max)}…` : line
}

/** A URL fit for a message: no user, password, query or fragment (presigned URLs carry signatures there). */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`
  } catch {
    return url.split('?')[0]
  }
}

// ---------------------------------------------------------------------------------------------------
// Network

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNRESET: 'the connection was dropped (ECONNRESET)',
  EPIPE: 'the connection was dropped (EPIPE)',
  ECONNABORTED: 'the connection was aborted (ECONNABORTED)',
  UND_ERR_SOCKET: 'the connection was dropped before the answer was complete',
  UND_ERR_CLOSED: 'the connection was closed before the answer was complete',
  ECONNREFUSED: 'the connection was refused (ECONNREFUSED): nothing listens at that address',
  ENOTFOUND: 'the host name does not resolve (ENOTFOUND)',
  EAI_AGAIN: 'DNS did not answer (EAI_AGAIN)',
  ETIMEDOUT: 'the connection timed out (ETIMEDOUT)',
  UND_ERR_CONNECT_TIMEOUT: 'no connection could be made in time',
  UND_ERR_HEADERS_TIMEOUT: 'the server sent no answer in time',
  UND_ERR_BODY_TIMEOUT: 'the server stopped sending its answer',
  EHOSTUNREACH: 'the host is unreachable (EHOSTUNREACH)',
  ENETUNREACH: 'the network is unreachable (ENETUNREACH)'
}

const TLS_CODE = /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/

/** An error's message, duck-typed: fetch's errors can come from another realm, where `instanceof Error` is false. */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message
  return typeof message === 'string' ? message : ''
}

/** The errors of a chain: the error, its cause, the cause's cause (fetch's `fetch failed` hides the reason there). */
function chain(error: unknown): unknown[] {
  const found: unknown[] = []
  let current = error
  while (current !== undefined && current !== null && found.length < 6 && !found.includes(current)) {
    found.push(current)
    current = (current as { cause?: unknown }).cause
  }
  return found
}

/** What happened on the network, in words, when the error is a network failure; undefined otherwise. */
export function networkFault(error: unknown): string | undefined {
  for (const link of chain(error)) {
    const code = (link as { code?: unknown }).code
    if (typeof code === 'string') {
      if (NETWORK_CODES[code]) return NETWORK_CODES[code]
      if (TLS_CODE.test(code)) return `the TLS handshake failed (${code}): check the certificate of the server or of the proxy`
    }
    const message = messageOf(link)
    // The AWS SDK wraps a reset connection as `AWS SDK error wrapper for TimeoutError: read ECONNRESET`, without its code.
    const named = /\b(E[A-Z_]{4,}|UND_ERR_[A-Z_]+)\b/.exec(message)?.[1]
    if (named && NETWORK_CODES[named]) return NETWORK_CODES[named]
    if (/socket hang up/i.test(message)) return 'the connection was dropped (socket hang up)'
    if (/other side closed|premature close/i.test(message)) return `the connection was dropped (${message})`
  }
  const first = chain(error)[0]
  if (messageOf(first) === 'fetch failed') return 'the request failed on the network'
  return undefined
}

// ---------------------------------------------------------------------------------------------------
// AWS

/** What `awsClient` attaches to every error of a call: which client and command, and the endpoint. */
export interface AwsCallSite {
  clientName: string
  commandName: string
  endpoint?: string
}

interface AwsErrorShape {
  name?: string
  message?: string
  $fault?: string
  $metadata?: { httpStatusCode?: number; requestId?: string }
  $response?: { statusCode?: number; body?: unknown }
  $responseBodyText?: string
  pmcpCall?: AwsCallSite
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'Forbidden'])
const CREDENTIALS_EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired'])
const CREDENTIALS_REJECTED = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidAccessKeyId'
])
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'RequestThrottled',
  'PriorRequestNotComplete'
])

/** An error of the AWS SDK: its shape (a service answer, or a failure the SDK wrapped), or one `awsClient` marked. */
export function isAwsSdkError(error: unknown): boolean {
  const shape = (error ?? {}) as AwsErrorShape
  return shape.pmcpCall !== undefined || shape.$metadata !== undefined || shape.$fault !== undefined
}

function awsSite(error: unknown, doing: string | undefined): { site: CallSite; permission?: string } {
  const call = ((error ?? {}) as AwsErrorShape).pmcpCall
  if (!call) return { site: { service: 'AWS', doing } }
  const operation = awsOperation(call.clientName, call.commandName)
  return {
    site: { service: operation.service, call: operation.operation, url: safeUrl(call.endpoint), doing },
    permission: operation.permission
  }
}

const DEADLINE_ADVICE = (): string =>
  `Each request may take ${formatSeconds(deadlines().requestMs)} (input request-timeout), and it was retried; ` +
  'raise request-timeout if the service is only slow.'

/** An AWS SDK error as an ActionError; undefined for an answer of the service that the caller is to interpret (ValidationError, …). */
export function classifyAwsFault(error: unknown, doing?: string, options: { all?: boolean } = {}): FaultError | undefined {
  if (error instanceof FaultError) return error
  const shape = (error ?? {}) as AwsErrorShape
  const name = shape.name ?? ''
  const { site, permission } = awsSite(error, doing)
  const what = describeCall(site)
  const reason = errorMessage(error)
  if (name === 'CredentialsProviderError') {
    return new FaultError(
      'No AWS credentials',
      `${what} needs AWS credentials, and none were found (${reason}). ` +
        "Set the 'role-to-assume' input (with 'permissions: id-token: write' " +
        'on the job), or configure credentials in an earlier step (e.g. aws-actions/configure-aws-credentials).',
      'credentials-missing',
      error
    )
  }
  if (ACCESS_DENIED.has(name)) {
    return new FaultError(
      `AWS denied ${permission ?? `${site.service} ${site.call ?? 'call'}`}`,
      `${what} was refused: ${reason}\n` +
        (permission ? permissionAdvice(permission) : "The deploy role lacks the permission for this call: add it to the role's policy."),
      'access-denied',
      error
    )
  }
  if (CREDENTIALS_EXPIRED.has(name)) {
    return new FaultError(
      'AWS credentials expired',
      `${what} was refused because the AWS credentials expired during the run (${name}: ${reason}). Raise the input ` +
        "'role-duration-seconds' (and the role's MaxSessionDuration, the setup template's MaxSessionDuration parameter) above " +
        'the time a run takes, or refresh the credentials of the earlier step that set them.',
      'credentials-expired',
      error
    )
  }
  if (CREDENTIALS_REJECTED.has(name)) {
    return new FaultError(
      'AWS credentials rejected',
      `${what} was refused: the AWS credentials are not valid (${name}: ${reason}). Check the credentials the job uses ` +
        "(the 'role-to-assume' input, or the step that configures them) and that they belong to this partition and region.",
      'credentials-rejected',
      error
    )
  }
  if (THROTTLED.has(name)) {
    return new FaultError(
      `AWS throttled ${site.call ?? 'a call'}`,
      `${what} was still throttled after the retries (${name}: ${reason}). Another deploy or process in this account ` +
        'may be calling the same API heavily; run the job again in a few minutes.',
      'throttled',
      error
    )
  }
  if (isDeadline(error)) {
    return new FaultError(
      `${site.service} did not answer`,
      `${what} got no answer in time (${reason}). ${DEADLINE_ADVICE()} ${awsEndpointAdvice(site.url)}`,
      'deadline',
      error
    )
  }
  const status = shape.$metadata?.httpStatusCode ?? shape.$response?.statusCode
  const network = status === undefined ? networkFault(error) : undefined
  if (network) {
    return new FaultError(
      `${site.service} unreachable`,
      `${what} failed: ${network} (${networkFailureReason(error)}). It was retried for up to ${formatSeconds(deadlines().budgetMs)}. ` +
        awsEndpointAdvice(site.url),
      'network',
      error
    )
  }
  if (status !== undefined && status >= 500) {
    return new FaultError(
      `${site.service} unavailable`,
      `${what} failed with HTTP ${status} after the retries (${name || 'error'}: ${excerpt(shape.$responseBodyText ?? reason)}). ` +
        'Check https://health.aws.amazon.com for an outage, and run the job again later.',
      'unavailable',
      error
    )
  }
  if (isUnparsableAnswer(error)) {
    const body = shape.$responseBodyText ?? ''
    return new FaultError(
      `${site.service} answered something else`,
      `${what} got an answer that is not ${site.service}'s API${status ? ` (HTTP ${status})` : ''}: ` +
        `${excerpt(body) || reason}. ${awsEndpointAdvice(site.url)}`,
      'not-json',
      error
    )
  }
  if (!options.all) return undefined
  return new FaultError(
    `${site.service} ${site.call ?? 'call'} failed`,
    `${what} failed: ${name ? `${name}: ` : ''}${reason}`,
    'rejected',
    error
  )
}

const UNPARSABLE =
  /Deserialization error|Unexpected token|is not valid JSON|Unexpected end of JSON|non-whitespace before first tag|Invalid character/i

/** The SDK could not read the answer: it was not the API's XML or JSON (a proxy's page, another server). */
function isUnparsableAnswer(error: unknown): boolean {
  const shape = (error ?? {}) as AwsErrorShape
  if (shape.$responseBodyText !== undefined) return true
  const message = errorMessage(error)
  return UNPARSABLE.test(message)
}

function awsEndpointAdvice(url: string | undefined): string {
  const custom = process.env.AWS_ENDPOINT_URL
  const endpoint = custom ? ` AWS_ENDPOINT_URL is set (${safeUrl(custom)}): check that it points at a working endpoint.` : ''
  const route = url ? ` ${describeRoute(url)}` : ''
  return `Check https://health.aws.amazon.com and the runner's network, then run the job again.${endpoint}${route}`
}

// ---------------------------------------------------------------------------------------------------
// HTTP (GitHub API and the other HTTP services)

interface HttpErrorShape {
  status?: number
  request?: { method?: string; url?: string }
  response?: { url?: string; headers?: Record<string, string | number | undefined>; data?: unknown }
}

function headerOf(error: unknown, name: string): string | undefined {
  const value = ((error ?? {}) as HttpErrorShape).response?.headers?.[name]
  return value === undefined ? undefined : String(value)
}

/** A rate-limit answer: 429, or a 403 that says so (no requests left, `retry-after`, or its message). */
export function isRateLimited(error: unknown): boolean {
  const status = httpStatusOf(error)
  if (status === 429) return true
  if (status !== 403) return false
  return (
    headerOf(error, 'x-ratelimit-remaining') === '0' ||
    headerOf(error, 'retry-after') !== undefined ||
    /rate limit/i.test(errorMessage(error))
  )
}

function httpSite(error: unknown, site: CallSite): CallSite {
  const shape = (error ?? {}) as HttpErrorShape
  const url = site.url ?? safeUrl(shape.request?.url ?? shape.response?.url ?? (error instanceof HttpStatusError ? error.url : undefined))
  const method = shape.request?.method
  const call = site.call ?? (method && url ? `${method} ${new URL(url).pathname}` : undefined)
  return { ...site, url, call }
}

function rateLimitReset(error: unknown): string {
  const reset = Number(headerOf(error, 'x-ratelimit-reset'))
  if (Number.isFinite(reset) && reset > 0) return ` The limit resets at ${new Date(reset * 1000).toISOString()}.`
  const retryAfter = headerOf(error, 'retry-after')
  return retryAfter ? ` The service asked to wait ${retryAfter} s.` : ''
}

/** An HTTP error answer (Octokit's RequestError, HttpStatusError) or a body that is not JSON, as an ActionError. */
export function classifyHttpFault(error: unknown, site: CallSite = {}): FaultError | undefined {
  if (error instanceof FaultError) return error
  const where = httpSite(error, site)
  const service = where.service ?? 'The server'
  const what = describeCall(where)
  if (error instanceof NotJsonAnswerError) {
    return new FaultError(
      `${service} answered something that is not JSON`,
      `${what} answered HTTP ${error.status} with ${error.contentType ?? 'no content-type'} instead of JSON: ` +
        `${error.excerpt || '(empty)'}. ` +
        'A proxy, a captive portal or a wrong API URL answers like this' +
        (where.url?.includes('github') || service.startsWith('GitHub') ? ' (check GITHUB_API_URL on GitHub Enterprise Server).' : '.') +
        (where.url ? ` ${describeRoute(where.url)}` : ''),
      'not-json',
      error
    )
  }
  const status = httpStatusOf(error)
  if (status === undefined) return undefined
  const reason = errorMessage(error)
  if (isRateLimited(error)) {
    return new FaultError(
      `${service} rate limit exceeded`,
      `${what} was refused by the rate limit (HTTP ${status}, ` +
        `x-ratelimit-remaining ${headerOf(error, 'x-ratelimit-remaining') ?? 'not given'}: ` +
        `${reason}), after waiting it out as long as the action does.${rateLimitReset(error)} This is not a missing permission: ` +
        'run the job again later, or use a token with its own limit (a GitHub App installation token).',
      'rate-limited',
      error
    )
  }
  if (status === 401) {
    return new FaultError(
      `${service} rejected the token`,
      `${what} answered HTTP 401: the token was not accepted (${reason}).`,
      'credentials-rejected',
      error
    )
  }
  if (status === 403) {
    return new FaultError(
      `${service} refused the call`,
      `${what} answered HTTP 403 (${reason}).` +
        (where.permission ? ` The token needs the permission '${where.permission}': add it to the job's permissions block.` : ''),
      'access-denied',
      error
    )
  }
  if (status === 404) {
    return new FaultError(
      `${service}: not found`,
      `${what} answered HTTP 404: it does not exist, or the token may not see it (${reason}).`,
      'not-found',
      error
    )
  }
  if (status >= 500) {
    return new FaultError(
      `${service} unavailable`,
      `${what} kept failing with HTTP ${status} after the retries (${reason}). Run the job again later.`,
      'unavailable',
      error
    )
  }
  return new FaultError(`${service} refused the call`, `${what} answered HTTP ${status}: ${reason}`, 'rejected', error)
}

// ---------------------------------------------------------------------------------------------------
// All of it

function describeCall(site: CallSite): string {
  const parts = [site.service, site.call].filter(Boolean).join(' ') || 'A request'
  const url = site.url && !(site.call ?? '').includes(site.url) ? ` (${site.url})` : ''
  const doing = site.doing ? `, while ${lowerFirst(site.doing)},` : ''
  return `${parts}${url}${doing}`
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text
}

/** A network failure or a deadline without a service answer, as an ActionError naming the call and URL. */
export function classifyNetworkFault(error: unknown, site: CallSite = {}): FaultError | undefined {
  if (error instanceof FaultError) return error
  const service = site.service ?? 'A server'
  const what = describeCall(site)
  const route = site.url ? ` ${describeRoute(site.url)}` : ''
  if (isDeadline(error)) {
    return new FaultError(
      `${service} did not answer`,
      `${what} got no answer in time: ${errorMessage(error)}. ${DEADLINE_ADVICE()}${route}`,
      'deadline',
      error
    )
  }
  const network = networkFault(error)
  if (!network) return undefined
  return new FaultError(
    `${service} unreachable`,
    `${what} failed: ${network} (${networkFailureReason(error)}). It was retried for up to ${formatSeconds(deadlines().budgetMs)}; ` +
      `check the URL and the runner's network, then run the job again.${route}`,
    'network',
    error
  )
}

/**
 * Any fault this module knows, as an ActionError; undefined for anything else (a bug of ours).
 * `site` fills in what the error does not say about the call.
 */
export function classifyFault(error: unknown, site: CallSite = {}): ActionError | undefined {
  if (error instanceof ActionError) return error
  if (isAwsSdkError(error)) return classifyAwsFault(error, site.doing, { all: true })
  return classifyHttpFault(error, site) ?? classifyNetworkFault(error, site)
}
