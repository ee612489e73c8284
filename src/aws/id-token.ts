import { ActionError, errorMessage } from '../action-error.js'
import { HttpStatusError, isTransientError } from '../http.js'
import { maskSecret } from '../masking.js'
import { deadlines, fetchText } from '../net/deadline.js'
import { classifyFault, excerpt, NotJsonAnswerError, safeUrl } from '../net/faults.js'
import { withRetry } from '../retry.js'
import type { RetryTuning } from './clients.js'

/**
 * The job's OIDC token from the runner's token service, as `core.getIDToken` asks for it (GET
 * `$ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with `Authorization: Bearer
 * $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answer `{"value": "<jwt>"}`), but within the deadlines of
 * src/net/deadline.ts: `core.getIDToken` has none, so a token service that never answers held the
 * job until GitHub's 6-hour limit. The token is masked before it is returned.
 */
export async function fetchIdToken(audience: string, env: NodeJS.ProcessEnv = process.env, retry: RetryTuning = {}): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL ?? ''
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? ''
  // The request URL carries no secret in its path; its query (and so the audience) stays out of messages.
  const shownUrl = safeUrl(requestUrl) ?? 'ACTIONS_ID_TOKEN_REQUEST_URL'
  const url = `${requestUrl}&audience=${encodeURIComponent(audience)}`
  const requestOnce = async (): Promise<string> => {
    const answer = await fetchText(
      url,
      { headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json', 'user-agent': 'actions/oidc-client' } },
      `GET ${shownUrl}`
    )
    if (!answer.ok) throw new HttpStatusError(answer.status, shownUrl, `HTTP ${answer.status}: ${excerpt(answer.text) || 'no body'}`)
    let value: unknown
    try {
      value = (JSON.parse(answer.text) as { value?: unknown } | null)?.value
    } catch {
      throw new NotJsonAnswerError(shownUrl, answer.status, answer.headers.get('content-type') ?? undefined, excerpt(answer.text))
    }
    if (typeof value !== 'string' || value === '') {
      throw new ActionError(
        'Could not get an OIDC token',
        `GitHub's token service (${shownUrl}) answered without a token for the audience '${audience}' (${excerpt(answer.text)}).`
      )
    }
    return value
  }
  let token: string
  try {
    token = await withRetry(requestOnce, {
      label: 'Requesting the GitHub OIDC token',
      isRetryable: isTransientError,
      deadlineMs: deadlines().budgetMs,
      ...retry
    })
  } catch (error) {
    if (error instanceof ActionError) throw error
    const explained = classifyFault(error, { service: "GitHub's OIDC token service", call: `GET ${shownUrl}`, url: shownUrl })
    throw new ActionError(
      'Could not get an OIDC token',
      `GitHub's token service did not issue an OIDC token for the audience '${audience}': ${explained?.message ?? errorMessage(error)}`
    )
  }
  maskSecret(token)
  return token
}
