/**
 * Registry authentication as Docker does it: a request without credentials is answered 401 with a
 * `WWW-Authenticate` challenge; `Bearer realm=…,service=…,scope=…` sends the client to the realm
 * (with Basic credentials, or none for a public image) for a short-lived token, which then goes in
 * `Authorization: Bearer`; `Basic realm=…` takes the credentials directly. Google's registries take
 * the user `oauth2accesstoken` with an OAuth access token as the password.
 */
import { ActionError } from '../../../action-error.js'
import { HttpStatusError, isTransientStatus } from '../../../http.js'
import { maskSecret } from '../../../masking.js'
import { fetchText } from '../../../net/deadline.js'
import { excerpt, safeUrl } from '../../../net/faults.js'

/** The user name Google's registries take with an OAuth access token as the password. */
export const GOOGLE_REGISTRY_USER = 'oauth2accesstoken'

export interface RegistryCredentials {
  username: string
  password: string
}

/** Credentials for gcr.io and Artifact Registry from a Google access token (masked here). */
export function googleRegistryCredentials(accessToken: string): RegistryCredentials {
  maskSecret(accessToken)
  return { username: GOOGLE_REGISTRY_USER, password: accessToken }
}

interface ErrorBody {
  errors?: { code?: unknown; message?: unknown; detail?: unknown }[]
}

/** The codes of a registry's error answer and its errors as `CODE (message)`; or, for another body, an excerpt of it. */
export function errorCodes(body: Buffer | string): { codes: string[]; text: string } {
  const raw = typeof body === 'string' ? body : body.toString('utf8')
  try {
    const parsed = JSON.parse(raw) as ErrorBody
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      const codes = parsed.errors.map(error => (typeof error.code === 'string' ? error.code : 'UNKNOWN'))
      const text = parsed.errors
        .map((error, index) => (typeof error.message === 'string' && error.message ? `${codes[index]} (${error.message})` : codes[index]))
        .join('; ')
      return { codes, text }
    }
  } catch {
    // Not the registry's error JSON: quoted as it is.
  }
  return { codes: [], text: excerpt(raw) }
}

export interface Challenge {
  scheme: string
  /** Lower-case parameter names: realm, service, scope, error. */
  params: Record<string, string>
}

/** `Bearer realm="https://…/token",service="…",scope="repository:a/b:pull"`: the scheme and its parameters. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header)
  if (!match) return undefined
  const params: Record<string, string> = {}
  for (const param of match[2].matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[param[1].toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : param[3]
  }
  return { scheme: match[1].toLowerCase(), params }
}

/**
 * Scopes merged per resource: `repository:a:pull` and `repository:a:push` become
 * `repository:a:pull,push`, so one token covers everything asked of one registry.
 */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const actions = new Map<string, Set<string>>()
  for (const scope of scopes) {
    const cut = scope.lastIndexOf(':')
    if (cut <= 0) continue
    const resource = scope.slice(0, cut)
    const set = actions.get(resource) ?? new Set<string>()
    for (const action of scope.slice(cut + 1).split(',')) if (action) set.add(action)
    actions.set(resource, set)
  }
  return [...actions].map(([resource, set]) => `${resource}:${[...set].sort().join(',')}`).sort()
}

function covers(granted: string[], wanted: string[]): boolean {
  return mergeScopes([...granted, ...wanted]).join(' ') === mergeScopes(granted).join(' ')
}

interface Token {
  value: string
  scopes: string[]
  /** When to stop using it (ms since the epoch), with a margin before the registry's expiry. */
  renewAt: number
}

/** Tokens last 60 s when the service does not say (the token spec's default); renew 10 s early. */
const DEFAULT_TOKEN_SECONDS = 60
const RENEW_MARGIN_SECONDS = 10

export interface RegistryAuthOptions {
  /** The registry host, for messages. */
  host: string
  credentials?: RegistryCredentials
  /** What every token is asked for (e.g. `repository:p/r/s:pull,push`). */
  scopes: string[]
  /** What to check when the token service refuses the credentials. */
  refusalAdvice: string
}

/**
 * The `Authorization` header for one registry: unknown until the first challenge, then Basic
 * credentials or a Bearer token that is renewed when it expires or the registry asks for more scope.
 */
export class RegistryAuth {
  private scheme?: 'basic' | 'bearer'
  private token?: Token
  private realm?: { url: string; service?: string }

  constructor(private readonly options: RegistryAuthOptions) {
    if (options.credentials) maskSecret(options.credentials.password)
  }

  /** Whether any credentials are sent (false: anonymous, for a public image). */
  get hasCredentials(): boolean {
    return this.options.credentials !== undefined
  }

  /** The header for the next request, renewing an expired token first; undefined before the first challenge. */
  async authorization(): Promise<string | undefined> {
    if (this.scheme === 'basic') return this.basic()
    if (this.scheme !== 'bearer' || !this.token) return undefined
    if (Date.now() >= this.token.renewAt) await this.fetchToken(this.token.scopes)
    return `Bearer ${this.token.value}`
  }

  /**
   * Answers a 401: learns the challenge and gets what it asks for. False when nothing new can be
   * tried (the credentials just sent were refused), so the 401 stands.
   */
  async answer(header: string | null): Promise<boolean> {
    const challenge = parseChallenge(header)
    if (challenge?.scheme === 'basic') {
      if (!this.options.credentials) {
        throw new ActionError(
          `${this.options.host} needs credentials`,
          `${this.options.host} asks for a user name and password (Basic authentication), and none were given. ` +
            this.options.refusalAdvice
        )
      }
      if (this.scheme === 'basic') return false
      this.scheme = 'basic'
      return true
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) return false
    const asked = challenge.params.scope ? challenge.params.scope.split(' ') : []
    const wanted = mergeScopes([...this.options.scopes, ...(this.token?.scopes ?? []), ...asked])
    const stale = challenge.params.error === 'invalid_token'
    if (this.scheme === 'bearer' && this.token && covers(this.token.scopes, wanted) && !stale && Date.now() < this.token.renewAt) {
      // The token was fresh and already covered everything: the registry refuses it for this request.
      return false
    }
    this.scheme = 'bearer'
    this.realm = { url: challenge.params.realm, service: challenge.params.service }
    await this.fetchToken(wanted)
    return true
  }

  private basic(): string {
    const { username, password } = this.options.credentials as RegistryCredentials
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
  }

  /** GET <realm>?service=…&scope=…: the token, masked at once. Errors of the network and 5xx are thrown for a retry. */
  private async fetchToken(scopes: string[]): Promise<void> {
    const realm = this.realm as { url: string; service?: string }
    const url = new URL(realm.url)
    if (realm.service) url.searchParams.set('service', realm.service)
    for (const scope of scopes) url.searchParams.append('scope', scope)
    const credentials = this.options.credentials
    if (credentials) url.searchParams.set('account', credentials.username)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (credentials) headers.authorization = this.basic()
    const where = safeUrl(realm.url) ?? realm.url
    const response = await fetchText(url.toString(), { method: 'GET', headers }, `GET ${where} (registry token for ${this.options.host})`)
    if (isTransientStatus(response.status)) {
      throw new HttpStatusError(
        response.status,
        where,
        `token service ${where} answered HTTP ${response.status}: ${excerpt(response.text)}`
      )
    }
    if (response.status === 401 || response.status === 403) {
      const who = credentials ? `the credentials of user ${credentials.username}` : 'an anonymous request'
      throw new ActionError(
        `${this.options.host} refused the credentials`,
        `The token service of ${this.options.host} (GET ${where}) refused ${who} for ${scopes.join(' ')}: ` +
          `HTTP ${response.status} ${errorCodes(response.text).text}. ${this.options.refusalAdvice}`
      )
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown } | undefined
    try {
      body = JSON.parse(response.text) as typeof body
    } catch {
      body = undefined
    }
    const value = typeof body?.token === 'string' ? body.token : typeof body?.access_token === 'string' ? body.access_token : undefined
    if (!response.ok || !value) {
      throw new ActionError(
        `${this.options.host}: no registry token`,
        `The token service of ${this.options.host} (GET ${where}) answered HTTP ${response.status} without a token: ` +
          `${excerpt(response.text) || '(empty)'}. Check that ${where} is the registry's token service (the realm of its challenge).`
      )
    }
    maskSecret(value)
    const seconds = typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS
    this.token = { value, scopes, renewAt: Date.now() + Math.max(seconds - RENEW_MARGIN_SECONDS, seconds / 2) * 1000 }
  }
}
