import { ActionError, errorMessage } from '../errors.js'
import { HttpStatusError, httpStatusOf, isTransientError, isTransientStatus } from '../http.js'
import { maskSecret } from '../masking.js'
import { deadlines, fetchText, type TextResponse } from '../net/deadline.js'
import { describeRoute, networkFailureReason } from '../net/proxy.js'
import { withRetry } from '../retry.js'

export interface ClientCredentialsOptions {
  /** The token endpoint, e.g. `https://<domain>/oauth2/token` (Cognito). */
  tokenUrl: string
  clientId: string
  clientSecret: string
  /** Sent as one space-separated `scope`; left out when empty. */
  scopes?: string[]
  /** Per attempt [input request-timeout]. */
  timeoutMs?: number
}

export interface AccessToken {
  accessToken: string
  tokenType: string
  /** Seconds, when the server says. */
  expiresIn?: number
}

interface TokenResponseBody {
  access_token?: unknown
  token_type?: unknown
  expires_in?: unknown
  error?: unknown
  error_description?: unknown
}

/** RFC 6749 section 2.3.1: id and secret are form-encoded before they are joined for Basic auth. */
function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`
}

function parseBody(text: string): TokenResponseBody {
  try {
    const parsed = JSON.parse(text) as unknown
    return parsed !== null && typeof parsed === 'object' ? parsed : {}
  } catch {
    return {}
  }
}

/** `invalid_client: Client authentication failed`, or the start of a body that is not OAuth JSON. */
function serverReason(body: TokenResponseBody, text: string): string {
  const parts = [body.error, body.error_description].filter((part): part is string => typeof part === 'string' && part !== '')
  if (parts.length > 0) return parts.join(': ')
  const excerpt = text.trim().slice(0, 200)
  return excerpt === '' ? 'no details in the response' : excerpt
}

function rejection(options: ClientCredentialsOptions, status: number, reason: string): ActionError {
  const hint =
    status === 401 || reason.startsWith('invalid_client')
      ? 'Check the client id and secret (and that the secrets are passed to the step).'
      : reason.startsWith('invalid_scope')
        ? 'Check the scopes the app client is allowed to request.'
        : reason.startsWith('unauthorized_client')
          ? 'Enable the client_credentials grant for this app client.'
          : 'Check the client configuration at the identity provider.'
  return new ActionError(
    'OAuth token request rejected',
    `The token endpoint ${options.tokenUrl} rejected the client credentials of client '${options.clientId}' ` +
      `(HTTP ${status}): ${reason}. ${hint}`
  )
}

async function requestToken(options: ClientCredentialsOptions): Promise<AccessToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  if (options.scopes && options.scopes.length > 0) form.set('scope', options.scopes.join(' '))
  let response: TextResponse
  try {
    response = await fetchText(
      options.tokenUrl,
      {
        method: 'POST',
        headers: {
          authorization: basicAuthorization(options.clientId, options.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json'
        },
        body: form.toString(),
        timeoutMs: options.timeoutMs
      },
      `POST ${options.tokenUrl}`
    )
  } catch (error) {
    // No HTTP status: the shared rule takes it for the network, worth another attempt.
    throw new Error(`could not reach ${options.tokenUrl}: ${networkFailureReason(error)}`, { cause: error })
  }
  const text = response.text
  const body = parseBody(text)
  if (isTransientStatus(response.status)) {
    throw new HttpStatusError(
      response.status,
      options.tokenUrl,
      `${options.tokenUrl} answered HTTP ${response.status}: ${serverReason(body, text)}`
    )
  }
  if (!response.ok) throw rejection(options, response.status, serverReason(body, text))
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new ActionError(
      'OAuth token response without a token',
      `The token endpoint ${options.tokenUrl} answered HTTP ${response.status} without an access_token.`
    )
  }
  return {
    accessToken: body.access_token,
    tokenType: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
    expiresIn: typeof body.expires_in === 'number' ? body.expires_in : undefined
  }
}

/**
 * The OAuth 2.0 client-credentials grant (RFC 6749 section 4.4) with client_secret_basic
 * authentication. Network errors, 5xx and 429 are retried; a rejection (400/401) is an ActionError
 * quoting the server's `error` and `error_description`. The token is masked before it is returned.
 */
export async function fetchClientCredentialsToken(options: ClientCredentialsOptions): Promise<AccessToken> {
  maskSecret(options.clientSecret)
  try {
    const token = await withRetry(() => requestToken(options), {
      label: `Token request to ${options.tokenUrl}`,
      isRetryable: isTransientError,
      deadlineMs: deadlines().budgetMs
    })
    maskSecret(token.accessToken)
    return token
  } catch (error) {
    if (isTransientError(error)) {
      throw new ActionError(
        'OAuth token endpoint unavailable',
        `No access token from the token endpoint: ${errorMessage(error)}. Try the run again later.` +
          (httpStatusOf(error) === undefined ? ` ${describeRoute(options.tokenUrl)}` : '')
      )
    }
    throw error
  }
}
