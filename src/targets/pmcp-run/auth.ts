import { ActionError } from '../../errors.js'
import { fetchClientCredentialsToken } from '../../oauth/client-credentials.js'
import { maskSecret } from '../../masking.js'

export interface PmcpRunCredentials {
  /** Input `pmcp-client-id` */
  clientId?: string
  /** Input `pmcp-client-secret` */
  clientSecret?: string
  /** Input `pmcp-access-token`: used as it is; it cannot be refreshed. */
  accessToken?: string
}

/** Where the GraphQL client gets its token, and a fresh one once the service calls it expired. */
export interface TokenSource {
  token(): Promise<string>
  /** A new token, or undefined when this source cannot make one (a given access token). */
  refresh(): Promise<string | undefined>
  /** What to tell the user when the service keeps rejecting the token. */
  readonly description: string
}

type CredentialKind = 'client credentials' | 'access token'

/** Which credentials the inputs give; an ActionError when they are missing or half given. */
export function credentialKind(credentials: PmcpRunCredentials): CredentialKind {
  const { clientId, clientSecret, accessToken } = credentials
  if (clientId && clientSecret) return 'client credentials'
  if (clientId || clientSecret) {
    const missing = clientId ? 'pmcp-client-secret' : 'pmcp-client-id'
    throw new ActionError(
      'pmcp.run credentials incomplete',
      `Input '${missing}' is empty: client credentials need both 'pmcp-client-id' and 'pmcp-client-secret'.`
    )
  }
  if (accessToken) return 'access token'
  throw new ActionError(
    'pmcp.run credentials missing',
    "The pmcp-run target needs credentials: set 'pmcp-client-id' and 'pmcp-client-secret' (a pmcp.run app client with the " +
      "client_credentials grant, usually from repository secrets), or 'pmcp-access-token'."
  )
}

/** Client credentials (refreshable) win over a given access token, as in cargo-pmcp. */
export function tokenSource(credentials: PmcpRunCredentials, tokenUrl: string): TokenSource {
  const { clientId, clientSecret, accessToken } = credentials
  if (credentialKind(credentials) === 'client credentials' && clientId && clientSecret) {
    let current: Promise<string> | undefined
    const fetchToken = async (): Promise<string> => (await fetchClientCredentialsToken({ tokenUrl, clientId, clientSecret })).accessToken
    return {
      description: `client credentials of '${clientId}'`,
      token: () => (current ??= fetchToken()),
      refresh: () => (current = fetchToken())
    }
  }
  const token = accessToken as string
  maskSecret(token)
  return {
    description: "the token of input 'pmcp-access-token'",
    token: () => Promise.resolve(token),
    refresh: () => Promise.resolve(undefined)
  }
}
