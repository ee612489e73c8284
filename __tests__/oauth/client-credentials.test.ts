import { afterEach, describe, expect, it, jest } from '@jest/globals'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ActionError } from '../../src/errors.js'
import { fetchClientCredentialsToken } from '../../src/oauth/client-credentials.js'
import { decodeBasic, startOAuthTokenEndpoint, type OAuthTokenEndpoint } from '../../testkit/oauth-token-endpoint.js'

const CLIENT = { clientId: 'ci-client', clientSecret: 's3cret:with spaces&symbols' }

describe('fetchClientCredentialsToken', () => {
  let endpoint: OAuthTokenEndpoint | undefined
  let stdout: ReturnType<typeof jest.spyOn>

  function captureStdout(): string[] {
    const lines: string[] = []
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      lines.push(String(chunk))
      return true
    })
    return lines
  }

  afterEach(async () => {
    stdout?.mockRestore()
    await endpoint?.stop()
    endpoint = undefined
  })

  it('posts the form-encoded grant with client_secret_basic and masks the token', async () => {
    endpoint = await startOAuthTokenEndpoint({ ...CLIENT, allowedScopes: ['pmcp/deploy', 'pmcp/read'] })
    const written = captureStdout()
    const token = await fetchClientCredentialsToken({ tokenUrl: endpoint.tokenUrl, ...CLIENT, scopes: ['pmcp/deploy', 'pmcp/read'] })
    expect(token).toEqual({ accessToken: endpoint.issued[0], tokenType: 'Bearer', expiresIn: 3600 })
    const [request] = endpoint.requests
    expect(request.contentType).toBe('application/x-www-form-urlencoded')
    expect(request.form).toEqual({ grant_type: 'client_credentials', scope: 'pmcp/deploy pmcp/read' })
    expect(decodeBasic(request.authorization)).toEqual({ id: CLIENT.clientId, secret: CLIENT.clientSecret })
    expect(written.join('')).toContain(`::add-mask::${token.accessToken}`)
  })

  it('sends no scope when none is asked for', async () => {
    endpoint = await startOAuthTokenEndpoint(CLIENT)
    captureStdout()
    await fetchClientCredentialsToken({ tokenUrl: endpoint.tokenUrl, ...CLIENT })
    expect(endpoint.requests[0].form).toEqual({ grant_type: 'client_credentials' })
  })

  it('retries 5xx answers and then succeeds', async () => {
    endpoint = await startOAuthTokenEndpoint({ ...CLIENT, failFirst: 2, failStatus: 502 })
    captureStdout()
    const token = await fetchClientCredentialsToken({ tokenUrl: endpoint.tokenUrl, ...CLIENT })
    expect(endpoint.requests.map(r => r.answeredWith)).toEqual([502, 502, 200])
    expect(token.accessToken).toBe(endpoint.issued[0])
  })

  it('a wrong secret is an ActionError quoting the server, not retried', async () => {
    endpoint = await startOAuthTokenEndpoint(CLIENT)
    captureStdout()
    const attempt = fetchClientCredentialsToken({ tokenUrl: endpoint.tokenUrl, clientId: CLIENT.clientId, clientSecret: 'wrong' })
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(/HTTP 401\): invalid_client: Client authentication failed\. Check the client id and secret/)
    expect(endpoint.requests).toHaveLength(1)
  })

  it('a scope the client may not request is a 400 with the server description', async () => {
    endpoint = await startOAuthTokenEndpoint({ ...CLIENT, allowedScopes: ['pmcp/read'] })
    captureStdout()
    await expect(fetchClientCredentialsToken({ tokenUrl: endpoint.tokenUrl, ...CLIENT, scopes: ['pmcp/admin'] })).rejects.toThrow(
      /HTTP 400\): invalid_scope: Invalid scope: pmcp\/admin\. Check the scopes/
    )
  })

  it('an endpoint that never answers well ends in a clear error after the retries', async () => {
    endpoint = await startOAuthTokenEndpoint({ ...CLIENT, failFirst: 10 })
    captureStdout()
    await expect(fetchClientCredentialsToken({ tokenUrl: endpoint.tokenUrl, ...CLIENT })).rejects.toThrow(
      /No access token from the token endpoint: .*HTTP 503: server_error: token service hiccup/
    )
    expect(endpoint.requests).toHaveLength(4)
  }, 30_000)

  it('a request that hangs times out and is retried', async () => {
    let calls = 0
    const server = http.createServer((_request, response) => {
      calls++
      if (calls === 1) return // never answers
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ access_token: 'late-token', token_type: 'Bearer' }))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    captureStdout()
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`
      const token = await fetchClientCredentialsToken({ tokenUrl: url, ...CLIENT, timeoutMs: 300 })
      expect(token).toEqual({ accessToken: 'late-token', tokenType: 'Bearer', expiresIn: undefined })
      expect(calls).toBe(2)
    } finally {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  })
})
