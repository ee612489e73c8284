/**
 * A local OAuth 2.0 token endpoint (client-credentials grant, client_secret_basic) on 127.0.0.1 at a
 * random port, shaped like Cognito's `/oauth2/token`. It issues opaque tokens for one configured
 * client, checks the requested scopes, can fail its first N requests, and records every request.
 *
 * `createTokenHandler` is the same endpoint without a server of its own, for fakes that serve the
 * token endpoint beside other routes (see pmcp-run-service.ts).
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export const TOKEN_PATH = '/oauth2/token'

export interface TokenEndpointOptions {
  clientId: string
  clientSecret: string
  /** Scopes the client may request; any other scope is `invalid_scope`. Default: any. */
  allowedScopes?: string[]
  /** Answer the first N requests with `failStatus`. */
  failFirst?: number
  /** Default 503. */
  failStatus?: number
  /** `expires_in` of issued tokens [3600]. */
  expiresIn?: number
}

export interface RecordedTokenRequest {
  authorization?: string
  contentType?: string
  /** The form fields. */
  form: Record<string, string>
  answeredWith: number
}

export interface TokenHandler {
  /** Every access token issued, oldest first. */
  issued: string[]
  requests: RecordedTokenRequest[]
  /** Answers one request to the token path (its body already read). */
  handle(request: http.IncomingMessage, body: string, response: http.ServerResponse): void
}

export interface OAuthTokenEndpoint extends TokenHandler {
  /** `http://127.0.0.1:<port>/oauth2/token` */
  tokenUrl: string
  stop(): Promise<void>
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  response.end(JSON.stringify(body))
}

/** The client id and secret of a Basic header, form-decoded (RFC 6749 section 2.3.1). */
export function decodeBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '')
  if (!match) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  const decode = (value: string): string => decodeURIComponent(value.replace(/\+/g, ' '))
  return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) }
}

export function createTokenHandler(options: TokenEndpointOptions): TokenHandler {
  const issued: string[] = []
  const requests: RecordedTokenRequest[] = []
  return {
    issued,
    requests,
    handle(request, body, response) {
      const form = Object.fromEntries(new URLSearchParams(body))
      const answer = (status: number, payload: unknown): void => {
        requests.push({
          authorization: request.headers.authorization,
          contentType: request.headers['content-type'],
          form,
          answeredWith: status
        })
        send(response, status, payload)
      }
      if (request.method !== 'POST') return answer(405, { error: 'invalid_request', error_description: 'POST only' })
      if (requests.length < (options.failFirst ?? 0))
        return answer(options.failStatus ?? 503, { error: 'server_error', error_description: 'token service hiccup' })
      if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
        return answer(400, { error: 'invalid_request', error_description: 'form-encoded body expected' })
      }
      const client = decodeBasic(request.headers.authorization)
      if (!client || client.id !== options.clientId || client.secret !== options.clientSecret) {
        return answer(401, { error: 'invalid_client', error_description: 'Client authentication failed' })
      }
      if (form.grant_type !== 'client_credentials') return answer(400, { error: 'unsupported_grant_type' })
      const scopes = form.scope ? form.scope.split(' ') : []
      const unknown = scopes.filter(scope => options.allowedScopes && !options.allowedScopes.includes(scope))
      if (unknown.length > 0) return answer(400, { error: 'invalid_scope', error_description: `Invalid scope: ${unknown.join(' ')}` })
      const token = `at-${issued.length + 1}-${Math.random().toString(36).slice(2)}`
      issued.push(token)
      answer(200, { access_token: token, token_type: 'Bearer', expires_in: options.expiresIn ?? 3600 })
    }
  }
}

export async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export async function startOAuthTokenEndpoint(options: TokenEndpointOptions): Promise<OAuthTokenEndpoint> {
  const handler = createTokenHandler(options)
  const server = http.createServer((request, response) => {
    void readBody(request).then(body => {
      if (new URL(request.url ?? '/', 'http://localhost').pathname !== TOKEN_PATH) return send(response, 404, { error: 'not found' })
      handler.handle(request, body.toString('utf8'), response)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    ...handler,
    tokenUrl: `http://127.0.0.1:${port}${TOKEN_PATH}`,
    stop: () => new Promise<void>(resolve => server.close(() => resolve()))
  }
}
