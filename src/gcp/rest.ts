/**
 * One JSON request to a Google API, the way every module of src/gcp makes it: a Bearer token, the
 * deadlines of src/net/deadline.ts, `withRetry` for what asking again can fix (429, 5xx, the
 * network), and every failure left as an ActionError that names the call (method and URL, never a
 * token), the HTTP status, Google's own status and message, and what to do about it.
 */
import { ActionError, errorMessage } from '../action-error.js'
import { HttpStatusError, isTransientError } from '../http.js'
import { deadlines, fetchText } from '../net/deadline.js'
import { classifyHttpFault, classifyNetworkFault, excerpt, NotJsonAnswerError, safeUrl } from '../net/faults.js'
import { withRetry, type RetryOptions } from '../retry.js'
import { DEFAULT_GCP_ENDPOINTS, GCP_ENDPOINT_VARIABLES, type GcpEndpoints } from './endpoints.js'
import { GCP_PERMISSIONS, permissionAdvice, type GcpCall, type GrantContext } from './permissions.js'

/** Retry tuning a caller may override (tests inject a fast sleep). */
export type RetryTuning = Partial<Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'>>

/** Where an access token comes from: `GcpCredentials`, or a test's fixed token. */
export interface AccessTokenSource {
  /** A valid access token of the deploy service account (refreshed when it nears its expiry). */
  accessToken(): Promise<string>
  /** The service account the token belongs to, for messages that say whom to grant a role. */
  readonly serviceAccount?: string
}

/** Google's error body: `{"error": {code, message, status, details}}`, or STS's OAuth form `{error, error_description}`. */
export interface GoogleError {
  /** `PERMISSION_DENIED`, `NOT_FOUND`, … or STS's `invalid_grant`, `unauthorized_client`, … */
  status?: string
  message: string
  details: unknown[]
}

/** A Google API answered with an error status. Kept until the retries are over, then explained as a GcpApiError. */
export class GoogleHttpError extends HttpStatusError {
  constructor(
    status: number,
    url: string,
    readonly google: GoogleError
  ) {
    super(status, url, `HTTP ${status}${google.status ? ` ${google.status}` : ''}: ${google.message}`)
    this.name = 'GoogleHttpError'
  }
}

/** What a refusal means, in the terms callers decide on. */
export type GcpErrorKind =
  'service-disabled' | 'permission-denied' | 'unauthenticated' | 'not-found' | 'conflict' | 'quota' | 'unavailable' | 'rejected'

/** A call a Google API refused, explained; callers read `kind`, `status` and `googleStatus` to decide what it means for them. */
export class GcpApiError extends ActionError {
  constructor(
    title: string,
    message: string,
    readonly kind: GcpErrorKind,
    /** The HTTP status. */
    readonly status: number,
    /** Google's status name (`PERMISSION_DENIED`, `ABORTED`, …) or STS's OAuth error code. */
    readonly googleStatus: string | undefined,
    /** Google's message, as it gave it. */
    readonly apiMessage: string,
    /** `GET https://run.googleapis.com/v2/projects/…` */
    readonly call: string,
    readonly details: unknown[] = []
  ) {
    super(title, message)
  }
}

/** A Google error body read from `text`; undefined when it is not one. */
export function parseGoogleError(text: string): GoogleError | undefined {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  if (body === null || typeof body !== 'object') return undefined
  const error = (body as { error?: unknown }).error
  if (typeof error === 'string') {
    const description = (body as { error_description?: unknown }).error_description
    return { status: error, message: typeof description === 'string' ? description : error, details: [] }
  }
  if (error === null || typeof error !== 'object') return undefined
  const { message, status, details } = error as { message?: unknown; status?: unknown; details?: unknown }
  return {
    status: typeof status === 'string' ? status : undefined,
    message: typeof message === 'string' ? message : '(no message)',
    details: Array.isArray(details) ? (details as unknown[]) : []
  }
}

/** The `reason` of a `google.rpc.ErrorInfo` detail (`SERVICE_DISABLED`, `IAM_PERMISSION_DENIED`, …). */
export function errorReason(details: unknown[]): string | undefined {
  for (const detail of details) {
    const reason = (detail as { reason?: unknown } | null)?.reason
    if (typeof reason === 'string') return reason
  }
  return undefined
}

export interface GoogleRequest {
  /** Which API root the URL is under (for the message when it was overridden). */
  api: keyof GcpEndpoints
  /** Which call of the permission table this is (what a PERMISSION_DENIED asks to grant); unset for STS, which needs none. */
  call?: GcpCall
  /** The API's name in messages when `call` does not give it. */
  apiName?: string
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  url: string
  /** The Bearer token (unset: no Authorization header, as STS takes none). */
  token?: string | (() => Promise<string>)
  /** Sent as JSON. */
  body?: unknown
  /** Whom to name in a permission message. */
  grant?: GrantContext
  /** Per request, instead of the request-timeout policy (a `:wait` that may take its whole timeout). */
  timeoutMs?: number
  retry?: RetryTuning
}

const USER_AGENT = 'pmcp-deploy-action'

function apiNameOf(request: GoogleRequest): string {
  return request.call ? GCP_PERMISSIONS[request.call].api : (request.apiName ?? 'Google API')
}

async function sendOnce(request: GoogleRequest, shown: string): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT }
  if (request.token !== undefined) {
    headers.authorization = `Bearer ${typeof request.token === 'string' ? request.token : await request.token()}`
  }
  if (request.body !== undefined) headers['content-type'] = 'application/json'
  const answer = await fetchText(
    request.url,
    {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      timeoutMs: request.timeoutMs
    },
    `${request.method} ${shown}`
  )
  if (!answer.ok) {
    const google = parseGoogleError(answer.text)
    if (google) throw new GoogleHttpError(answer.status, shown, google)
    throw new NotJsonAnswerError(shown, answer.status, answer.headers.get('content-type') ?? undefined, excerpt(answer.text))
  }
  if (answer.text.trim() === '') return {}
  try {
    return JSON.parse(answer.text) as unknown
  } catch {
    throw new NotJsonAnswerError(shown, answer.status, answer.headers.get('content-type') ?? undefined, excerpt(answer.text))
  }
}

/**
 * Sends `request` and returns its JSON answer (`{}` for an empty one). Transient failures are
 * retried within the deadline budget; whatever is left is an ActionError: a GcpApiError for an
 * answer of the API, a FaultError for the network, a deadline or an answer that is not JSON.
 */
export async function googleJson<T>(request: GoogleRequest): Promise<T> {
  const shown = safeUrl(request.url) ?? request.url
  const call = `${request.method} ${shown}`
  try {
    return (await withRetry(() => sendOnce(request, shown), {
      label: `${apiNameOf(request)} ${call}`,
      isRetryable: isTransientError,
      deadlineMs: deadlines().budgetMs,
      ...request.retry
    })) as T
  } catch (error) {
    throw explainFailure(error, request, call, shown)
  }
}

/** Where a call went somewhere else than Google, the variable that sent it there. */
function overrideHint(request: GoogleRequest): string {
  const origin = new URL(request.url).origin
  if (origin === DEFAULT_GCP_ENDPOINTS[request.api]) return ''
  return ` ${GCP_ENDPOINT_VARIABLES[request.api]} is set (${origin}): check that it points at the API.`
}

function explainFailure(error: unknown, request: GoogleRequest, call: string, url: string): ActionError {
  if (error instanceof GoogleHttpError) return explainGoogleError(error, request, call)
  if (error instanceof ActionError) return error
  const site = { service: apiNameOf(request), call, url }
  const fault = error instanceof NotJsonAnswerError ? classifyHttpFault(error, site) : classifyNetworkFault(error, site)
  if (fault) return new ActionError(fault.title, `${fault.message}${overrideHint(request)}`)
  return new ActionError(`${site.service} call failed`, `${call} failed: ${errorMessage(error)}${overrideHint(request)}`)
}

/** `run.googleapis.com`: the service name `gcloud services enable` takes for the API of `api`. */
const SERVICE_NAMES: Readonly<Record<keyof GcpEndpoints, string>> = {
  sts: 'sts.googleapis.com',
  iamCredentials: 'iamcredentials.googleapis.com',
  run: 'run.googleapis.com',
  artifactRegistry: 'artifactregistry.googleapis.com'
}

/**
 * The call of the table whose permission Google says was denied, when that is another call's (an
 * update refused for `iam.serviceaccounts.actAs` on the runtime account, not for run.services.update).
 * Google names it in an ErrorInfo's metadata or in the message, in varying case.
 */
function callOfDeniedPermission(google: GoogleError): GcpCall | undefined {
  const fromDetails = google.details
    .map(detail => (detail as { metadata?: { permission?: unknown } } | null)?.metadata?.permission)
    .find((permission): permission is string => typeof permission === 'string')
  const named = fromDetails ?? /Permission '([\w.]+)' denied/i.exec(google.message)?.[1]
  if (!named) return undefined
  return (Object.keys(GCP_PERMISSIONS) as GcpCall[]).find(call => GCP_PERMISSIONS[call].permission.toLowerCase() === named.toLowerCase())
}

function isServiceDisabled(google: GoogleError): boolean {
  return errorReason(google.details) === 'SERVICE_DISABLED' || /has not been used in project|it is disabled/i.test(google.message)
}

/** An error answer of a Google API, after the retries, as a GcpApiError that says what to do. */
export function explainGoogleError(error: GoogleHttpError, request: GoogleRequest, call: string): GcpApiError {
  const { google, status } = error
  const api = apiNameOf(request)
  const head = `${api}: ${call} answered HTTP ${status}${google.status ? ` ${google.status}` : ''}: ${google.message}`
  const make = (kind: GcpErrorKind, title: string, advice: string): GcpApiError =>
    new GcpApiError(title, advice ? `${head}\n${advice}` : head, kind, status, google.status, google.message, call, google.details)
  if (status === 403 && isServiceDisabled(google)) {
    const project = request.grant?.project ?? '<project>'
    return make(
      'service-disabled',
      `${api} is not enabled`,
      `The ${api} is not enabled in the project: gcloud services enable ${SERVICE_NAMES[request.api]} --project=${project} ` +
        '(it takes a minute to take effect), then run the job again.'
    )
  }
  const denied = status === 403 || google.status === 'PERMISSION_DENIED' ? (callOfDeniedPermission(google) ?? request.call) : undefined
  if (denied) {
    return make('permission-denied', `Google denied ${GCP_PERMISSIONS[denied].permission}`, permissionAdvice(denied, request.grant))
  }
  if (status === 401 || google.status === 'UNAUTHENTICATED') {
    return make(
      'unauthenticated',
      `${api} rejected the access token`,
      'Google did not accept the access token (it expired or was revoked). The action gets a fresh one before it expires; ' +
        'if this repeats, check that nothing else in the job replaces it.' +
        overrideHint(request)
    )
  }
  if (status === 429 || google.status === 'RESOURCE_EXHAUSTED') {
    return make(
      'quota',
      `${api} quota exceeded`,
      'It was retried with backoff and still refused: a quota or rate limit of the project. Run the job again later.'
    )
  }
  if (status >= 500) {
    return make(
      'unavailable',
      `${api} unavailable`,
      'It was retried and kept failing. Check https://status.cloud.google.com and run the job again later.'
    )
  }
  if (status === 404 || google.status === 'NOT_FOUND') return make('not-found', `${api}: not found`, '')
  if (status === 409 || google.status === 'ABORTED' || google.status === 'ALREADY_EXISTS') {
    return make('conflict', `${api} refused ${request.call ?? call}`, '')
  }
  return make('rejected', `${api} refused ${request.call ?? call}`, '')
}
