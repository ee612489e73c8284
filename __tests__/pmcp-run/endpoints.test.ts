/**
 * Where the pmcp.run client finds its endpoints (discovery at PMCP_API_URL, or the environment) and
 * the one retry at a re-discovered GraphQL URL when the endpoint does not know an operation, against
 * a local pmcp.run over real HTTP.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { ActionError } from '../../src/errors.js'
import { connectPmcpRun, deployToPmcpRun, looksLikeUnknownSchema, type PmcpRunSession } from '../../src/targets/pmcp-run/index.js'
import { PmcpRunService, type PmcpRunServiceOptions } from '../../testkit/pmcp-run-service.js'

const fast = async (): Promise<void> => {}

let service: PmcpRunService | undefined
let logged: string[]
let stdout: ReturnType<typeof jest.spyOn>

beforeEach(() => {
  logged = []
  stdout = jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    logged.push(String(chunk))
    return true
  })
})

afterEach(async () => {
  stdout.mockRestore()
  await service?.stop()
  service = undefined
})

async function startService(options: PmcpRunServiceOptions = {}): Promise<PmcpRunService> {
  service = await PmcpRunService.start(options)
  return service
}

function connect(s: PmcpRunService, env: NodeJS.ProcessEnv, sleep: (ms: number) => Promise<void> = fast): Promise<PmcpRunSession> {
  return connectPmcpRun({ clientId: s.clientId, clientSecret: s.clientSecret }, env, { sleep })
}

function deploy(session: PmcpRunSession): ReturnType<typeof deployToPmcpRun> {
  return deployToPmcpRun({
    api: session.api,
    projectName: 'hello-mcp',
    template: '{"Resources":{}}',
    serverPackage: { body: Buffer.from('\x7fELF binary'), contentType: 'application/octet-stream', label: 'bootstrap' },
    mcpBaseUrl: session.endpoints.mcpBaseUrl,
    wait: { sleep: fast },
    sleep: fast
  })
}

const log = (): string => logged.join('')

describe('discovery', () => {
  it('PMCP_API_URL: token endpoint, GraphQL URL and MCP base come from /.well-known/pmcp-config', async () => {
    const s = await startService({ discovery: { graphqlUrl: 'http://127.0.0.1:9/elsewhere/graphql' } })
    const session = await connect(s, { PMCP_API_URL: `${s.url}/`, PMCP_RUN_API_URL: 'http://127.0.0.1:9' })
    expect(session.endpoints).toEqual({
      tokenUrl: `${s.url}/oauth2/token`,
      graphqlUrl: 'http://127.0.0.1:9/elsewhere/graphql',
      mcpBaseUrl: `${s.url}/servers`,
      discoveryUrl: `${s.url}/.well-known/pmcp-config`
    })
    expect(s.discoveryRequests).toHaveLength(1)
    expect(s.tokens.requests).toHaveLength(1)
  })

  it('PMCP_RUN_API_URL, the legacy name, is read when PMCP_API_URL is not set', async () => {
    const s = await startService()
    const session = await connect(s, { PMCP_API_URL: ' ', PMCP_RUN_API_URL: s.url })
    expect(session.endpoints.graphqlUrl).toBe(`${s.url}/graphql`)
    expect(s.discoveryRequests).toHaveLength(1)
  })

  it('both endpoints in the environment: no discovery request at all', async () => {
    const s = await startService()
    const session = await connect(s, { ...s.env(), PMCP_API_URL: s.url })
    expect(session.endpoints).toEqual({ tokenUrl: `${s.url}/oauth2/token`, graphqlUrl: `${s.url}/graphql`, mcpBaseUrl: s.url })
    expect(s.discoveryRequests).toHaveLength(0)
  })

  it('one endpoint in the environment: discovery gives the other, the environment wins for its own', async () => {
    const s = await startService({ discovery: { graphqlUrl: 'http://127.0.0.1:9/graphql' } })
    const session = await connect(s, { PMCP_API_URL: s.url, PMCP_RUN_GRAPHQL_URL: `${s.url}/graphql` })
    expect(session.endpoints.graphqlUrl).toBe(`${s.url}/graphql`)
    expect(session.endpoints.tokenUrl).toBe(`${s.url}/oauth2/token`)
    expect(s.discoveryRequests).toHaveLength(1)
  })

  it('a document without api_type is accepted', async () => {
    const s = await startService({ discovery: { api_type: null } })
    await expect(connect(s, s.discoveryEnv())).resolves.toBeDefined()
  })

  it('api_type other than "graphql" is an ActionError, before any token is asked for', async () => {
    const s = await startService({ discovery: { api_type: 'rest' } })
    const attempt = connect(s, s.discoveryEnv())
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(
      `pmcp.run at ${s.url} serves API type "rest"; this action, like cargo pmcp 0.28, speaks only graphql`
    )
    expect(s.tokens.requests).toHaveLength(0)
  })

  it('api_type compares exactly: "GraphQL" is not "graphql"', async () => {
    const s = await startService({ discovery: { api_type: 'GraphQL' } })
    await expect(connect(s, s.discoveryEnv())).rejects.toThrow('serves API type "GraphQL"')
  })

  it('a 404 is an ActionError at once, naming the URL and what to check; no fallback to production', async () => {
    const s = await startService({ discovery: { status: 404 } })
    const attempt = connect(s, s.discoveryEnv())
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `pmcp\\.run's configuration at ${s.url}/\\.well-known/pmcp-config answered HTTP 404.*` +
          'Check PMCP_API_URL .*or set PMCP_RUN_COGNITO_DOMAIN and PMCP_RUN_GRAPHQL_URL'
      )
    )
    expect(s.discoveryRequests).toHaveLength(1)
    expect(s.tokens.requests).toHaveLength(0)
  })

  it('a 5xx is asked twice, 1 s apart, then an ActionError', async () => {
    const s = await startService({ discovery: { status: 503 } })
    const sleeps: number[] = []
    const attempt = connect(s, s.discoveryEnv(), async ms => void sleeps.push(ms))
    await expect(attempt).rejects.toThrow(
      new RegExp(`Could not read pmcp\\.run's configuration at ${s.url}/\\.well-known/pmcp-config \\(2 attempts\\): HTTP 503`)
    )
    expect(s.discoveryRequests).toHaveLength(2)
    expect(sleeps).toEqual([1000])
  })

  it('an unreachable API is an ActionError naming the URL', async () => {
    const s = await startService()
    const gone = s.url
    await s.stop()
    service = undefined
    const attempt = connectPmcpRun({ accessToken: 'tok' }, { PMCP_API_URL: gone }, { sleep: fast })
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(
      new RegExp(`Could not read pmcp\\.run's configuration at ${gone}/\\.well-known/pmcp-config \\(2 attempts\\): could not reach it`)
    )
  })
})

describe('a GraphQL URL that does not know the operations', () => {
  it('discovery, asked again, advertises another URL: the call is repeated there once, and it is kept', async () => {
    const s = await startService({ staleGraphql: 'moved', statuses: ['success'] })
    const session = await connect(s, s.discoveryEnv())
    const deployment = await deploy(session)
    expect(deployment.deploymentId).toBe('dep-1')
    expect(s.graphqlCalls.map(c => [c.operation, c.path, c.answeredWith])).toEqual([
      ['getUploadUrls', '/graphql', 400],
      ['getUploadUrls', '/merged/graphql', 200],
      ['createDeploymentFromS3', '/merged/graphql', 200],
      ['getDeployment', '/merged/graphql', 200],
      ['fetchServerOAuthEndpoints', '/merged/graphql', 200]
    ])
    expect(s.discoveryRequests).toHaveLength(2)
    expect(session.api.graphqlUrl).toBe(`${s.url}/merged/graphql`)
    expect(log()).toContain(
      `pmcp.run at ${s.url}/graphql does not know getUploadUrls (HTTP 400: Validation error of type FieldUndefined: ` +
        `Field 'getUploadUrls' in type 'Mutation' is undefined @ 'getUploadUrls'); discovery now advertises ${s.url}/merged/graphql: ` +
        'retrying getUploadUrls there once'
    )
  })

  it('discovery advertises the same URL: the first error stands, nothing is repeated', async () => {
    const s = await startService({ staleGraphql: 'same' })
    const session = await connect(s, s.discoveryEnv())
    const attempt = deploy(session)
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(
      'pmcp.run answered getUploadUrls with an error: HTTP 400: ' +
        "Validation error of type FieldUndefined: Field 'getUploadUrls' in type 'Mutation' is undefined"
    )
    expect(s.calls('getUploadUrls')).toHaveLength(1)
    expect(s.discoveryRequests).toHaveLength(2)
  })

  it('the URL given by PMCP_RUN_GRAPHQL_URL is not second-guessed: no discovery, the error stands', async () => {
    const s = await startService({ staleGraphql: 'moved' })
    const session = await connect(s, { ...s.env(), PMCP_API_URL: s.url })
    await expect(deploy(session)).rejects.toThrow('FieldUndefined')
    expect(s.calls('getUploadUrls')).toHaveLength(1)
    expect(s.discoveryRequests).toHaveLength(0)
  })

  it('is recognised by the words cargo pmcp looks for, case-sensitive', () => {
    expect(looksLikeUnknownSchema("Validation error of type FieldUndefined: Field 'x' in type 'Mutation' is undefined")).toBe(true)
    expect(looksLikeUnknownSchema('Validation error of type UnknownType: Unknown type UploadTestScenarioFormat')).toBe(true)
    expect(looksLikeUnknownSchema('HTTP 400: UnknownType')).toBe(true)
    expect(looksLikeUnknownSchema('Not Authorized to access uploadTestScenario on type Mutation')).toBe(false)
    expect(looksLikeUnknownSchema('GraphQL request failed: 502 Bad Gateway')).toBe(false)
    expect(looksLikeUnknownSchema('validation error: fieldundefined')).toBe(false)
  })
})
