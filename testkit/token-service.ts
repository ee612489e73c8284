import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request the token service received. */
export interface TokenRequest {
  audience: string | null
  authorization: string | undefined
  answeredWith: number
}

export interface TokenService {
  /** Value for ACTIONS_ID_TOKEN_REQUEST_URL (already has a query, as GitHub's does). */
  url: string
  /** Value for ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string
  /** The JWT it answers with. */
  token: string
  requests: TokenRequest[]
  /** ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN for this service. */
  env(): Record<string, string>
  stop(): Promise<void>
}

export interface TokenServiceOptions {
  /** Answer the first N requests with `failStatus`. */
  failFirst?: number
  /** Default 500 (which @actions/http-client does not retry by itself). */
  failStatus?: number
  /** Claims of the issued token; `sub` defaults to a push to main of octo-org/octo-repo. */
  claims?: Record<string, unknown>
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** An unsigned JWT shaped like GitHub's (moto does not verify signatures). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000)
  const payload = {
    iss: 'https://token.actions.githubusercontent.com',
    sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
    aud: 'sts.amazonaws.com',
    iat: now,
    exp: now + 300,
    ...claims
  }
  return `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url(payload)}.${Buffer.from('not-a-signature').toString('base64url')}`
}

/** Plays GitHub's OIDC token service on 127.0.0.1 (what `core.getIDToken` calls). */
export async function startTokenService(options: TokenServiceOptions = {}): Promise<TokenService> {
  const requestToken = `request-token-${Math.random().toString(36).slice(2)}`
  const token = fakeJwt(options.claims ?? {})
  const requests: TokenRequest[] = []
  const server = http.createServer((request, response) => {
    const audience = new URL(request.url ?? '/', 'http://localhost').searchParams.get('audience')
    const answer = (status: number, body: unknown): void => {
      requests.push({ audience, authorization: request.headers.authorization, answeredWith: status })
      response.writeHead(status, { 'content-type': 'application/json' })
      response.end(JSON.stringify(body))
    }
    if (request.headers.authorization !== `Bearer ${requestToken}`) return answer(401, { message: 'bad request token' })
    if (requests.length < (options.failFirst ?? 0)) return answer(options.failStatus ?? 500, { message: 'token service hiccup' })
    answer(200, { value: token })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}/_apis/distributedtask/token?api-version=2.0`
  return {
    url,
    requestToken,
    token,
    requests,
    env: () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken }),
    stop: () => new Promise<void>(resolve => server.close(() => resolve()))
  }
}
