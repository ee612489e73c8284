/**
 * The runner's OIDC token, pmcp.run, OAuth tokens and tool downloads against servers that accept and
 * never answer, drop the connection, or answer garbage: each call ends within the deadline budget of
 * src/net/deadline.ts as one ActionError naming the call and the URL.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fetchIdToken } from '../../src/aws/id-token.js'
import { ActionError } from '../../src/errors.js'
import { DEFAULT_REQUEST_TIMEOUT_SECONDS, setRequestTimeout } from '../../src/net/deadline.js'
import { fetchClientCredentialsToken } from '../../src/oauth/client-credentials.js'
import { resolveEndpoints } from '../../src/targets/pmcp-run/endpoints.js'
import { PmcpRunApi } from '../../src/targets/pmcp-run/graphql.js'
import { installCargoLambda } from '../../src/toolchain/tools.js'
import { captureStdout } from '../../testkit/annotations.js'
import { startTokenService } from '../../testkit/token-service.js'
import { failureOf, startAnsweringServer, startDroppingServer, startHangingServer, type FaultServer } from './fault-servers.js'

const TIMEOUT_S = 0.5
const WITHIN_BUDGET_MS = 3 * TIMEOUT_S * 1000 + 1000
const fast = { baseDelayMs: 1, maxDelayMs: 5 }

let server: FaultServer | undefined

beforeAll(() => setRequestTimeout(TIMEOUT_S))
afterAll(() => setRequestTimeout(DEFAULT_REQUEST_TIMEOUT_SECONDS))
afterEach(async () => {
  await server?.stop()
  server = undefined
})

async function use(started: Promise<FaultServer>): Promise<FaultServer> {
  server = await started
  return server
}

function asActionError(error: unknown): ActionError {
  expect(error).toBeInstanceOf(ActionError)
  return error as ActionError
}

describe("the runner's OIDC token", () => {
  const tokenEnv = (url: string): NodeJS.ProcessEnv => ({
    ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/_apis/distributedtask/token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token'
  })

  it('is asked for as core.getIDToken asks (URL, audience, bearer) and masked', async () => {
    const service = await startTokenService()
    try {
      const { result, output } = await captureStdout(() => fetchIdToken('sts.example.internal', service.env(), fast))
      expect(result).toBe(service.token)
      expect(service.requests).toEqual([
        { audience: 'sts.example.internal', authorization: `Bearer ${service.requestToken}`, answeredWith: 200 }
      ])
      expect(output).toContain(`::add-mask::${service.token}`)
    } finally {
      await service.stop()
    }
  })

  it('from a token service that accepts and never answers: an error within the budget, not a 6-hour hang', async () => {
    const hanging = await use(startHangingServer())
    const { error, ms } = await failureOf(() => fetchIdToken('sts.amazonaws.com', tokenEnv(hanging.url), fast))
    const fault = asActionError(error)
    expect(fault.title).toBe('Could not get an OIDC token')
    expect(fault.message).toContain(`GET ${hanging.url}/_apis/distributedtask/token`)
    expect(fault.message).toContain('no complete answer within 0.5 s (request-timeout)')
    expect(fault.message).not.toContain('request-token')
    expect(ms).toBeLessThan(WITHIN_BUDGET_MS)
  })

  it('from a token service that answers garbage: says it is not JSON', async () => {
    const garbage = await use(
      startAnsweringServer({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>proxy login</html>' })
    )
    const fault = asActionError((await failureOf(() => fetchIdToken('sts.amazonaws.com', tokenEnv(garbage.url), fast))).error)
    expect(fault.title).toBe('Could not get an OIDC token')
    expect(fault.message).toContain('instead of JSON: <html>proxy login</html>')
  })
})

describe('pmcp.run and OAuth', () => {
  const tokens = { token: async () => 'pmcp-token', refresh: async () => undefined, description: 'the test token' }

  it('a GraphQL endpoint that never answers', async () => {
    const hanging = await use(startHangingServer())
    const api = new PmcpRunApi({ graphqlUrl: `${hanging.url}/graphql`, tokens, sleep: async () => undefined })
    const { error, ms } = await failureOf(() => api.listDeployments())
    const fault = asActionError(error)
    expect(fault.title).toBe('pmcp.run API unavailable')
    expect(fault.message).toContain(`pmcp.run listDeployments at ${hanging.url}/graphql failed`)
    expect(fault.message).toContain('no complete answer within 0.5 s')
    expect(ms).toBeLessThan(WITHIN_BUDGET_MS)
  })

  it('a discovery endpoint that drops the connection', async () => {
    const dropping = await use(startDroppingServer())
    const { error } = await failureOf(() => resolveEndpoints({ env: { PMCP_API_URL: dropping.url }, sleep: async () => undefined }))
    const fault = asActionError(error)
    expect(fault.title).toBe('pmcp.run discovery failed')
    expect(fault.message).toMatch(/ECONNRESET|other side closed|socket/)
  })

  it('an OAuth token endpoint that never answers', async () => {
    const hanging = await use(startHangingServer())
    const request = (): Promise<unknown> =>
      fetchClientCredentialsToken({ tokenUrl: `${hanging.url}/oauth2/token`, clientId: 'id', clientSecret: 'secret-value' })

    const { error, ms } = await failureOf(request)
    const fault = asActionError(error)
    expect(fault.title).toBe('OAuth token endpoint unavailable')
    expect(fault.message).toContain('no complete answer within 0.5 s')
    expect(fault.message).not.toContain('secret-value')
    expect(ms).toBeLessThan(WITHIN_BUDGET_MS)
  })
})

describe('tool downloads', () => {
  let runner: string
  const context = { host: { os: 'linux', arch: 'x86_64' } as const, run: async () => ({ exitCode: 1, stdout: '', stderr: '' }) }
  const install = (base: string): Promise<unknown> =>
    installCargoLambda({ version: '1.8.5', urlTemplate: `${base}/cargo-lambda-v{version}.{arch}.tar.gz` }, context)

  beforeEach(() => {
    runner = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-deadlines-'))
    process.env.RUNNER_TOOL_CACHE = path.join(runner, 'tool-cache')
    process.env.RUNNER_TEMP = path.join(runner, 'temp')
    fs.mkdirSync(process.env.RUNNER_TEMP, { recursive: true })
  })
  afterEach(() => fs.rmSync(runner, { recursive: true, force: true }))

  it('from a server that accepts and never answers: an annotation naming the URL within the budget', async () => {
    const hanging = await use(startHangingServer())
    const { error, ms } = await failureOf(() => install(hanging.url))
    const fault = asActionError(error)
    expect(fault.title).toBe('Could not download cargo-lambda')
    expect(fault.message).toContain(`${hanging.url}/cargo-lambda-v1.8.5.x86_64.tar.gz`)
    expect(fault.message).toContain('no complete answer within 0.5 s')
    expect(fault.message).not.toMatch(/\n\s+at /)
    expect(ms).toBeLessThan(WITHIN_BUDGET_MS)
  })

  it('from a server that drops the connection: the cause, not a stack trace', async () => {
    const dropping = await use(startDroppingServer())
    const fault = asActionError((await failureOf(() => install(dropping.url))).error)
    expect(fault.title).toBe('Could not download cargo-lambda')
    expect(fault.message).toMatch(/ECONNRESET|socket hang up/)
    expect(fault.message).not.toMatch(/\n\s+at /)
    expect(dropping.requests()).toBeGreaterThanOrEqual(2)
  })
})
