/**
 * The pmcp.run deploy against a local pmcp.run (token endpoint, discovery, GraphQL held to cargo
 * pmcp 0.28's contract, presigned uploads): what reaches the service byte for byte, the variables of
 * createDeploymentFromS3, polling, OAuth after success, token refresh, failures and time-outs.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { zipSync } from 'fflate'
import { ActionError } from '../../src/errors.js'
import {
  connectPmcpRun,
  deployToPmcpRun,
  destroyPmcpRunDeployment,
  healthUrlOf,
  uploadToPresignedUrl,
  waitForDeployment,
  type PmcpRunDeployOptions,
  type PmcpRunSession,
  type ServerPackage
} from '../../src/targets/pmcp-run/index.js'
import { PmcpRunService, type PmcpRunServiceOptions } from '../../testkit/pmcp-run-service.js'

const fast = async (): Promise<void> => {}

// Non-ASCII text: the announced template size must be its byte length, not its length in characters.
const templateText = JSON.stringify(
  {
    Description: 'Grüße — a server for café menus',
    Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256, Timeout: 20 } } },
    Outputs: { McpUrl: { Value: 'x' } }
  },
  null,
  1
)
// An ELF-looking binary with every byte value, so any mangling in the upload shows.
const binary = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256))])
const rawPackage: ServerPackage = { body: binary, contentType: 'application/octet-stream', label: 'bootstrap' }
const ZIP_UNIX = 3
const zipPackage: ServerPackage = {
  body: zipSync({
    bootstrap: [binary, { os: ZIP_UNIX, attrs: ((0o100000 | 0o755) << 16) >>> 0 }],
    'assets/schema.sql': [Buffer.from('create table t (id int);\n'), { os: ZIP_UNIX, attrs: ((0o100000 | 0o644) << 16) >>> 0 }]
  }),
  contentType: 'application/zip',
  label: 'deployment package'
}

let service: PmcpRunService | undefined
let logged: string[]
let stdout: ReturnType<typeof jest.spyOn>
let sleeps: number[]

beforeEach(() => {
  logged = []
  sleeps = []
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

function clientCredentials(s: PmcpRunService): { clientId: string; clientSecret: string } {
  return { clientId: s.clientId, clientSecret: s.clientSecret }
}

async function connect(s: PmcpRunService, env = s.discoveryEnv()): Promise<PmcpRunSession> {
  return connectPmcpRun(clientCredentials(s), env, { sleep: fast })
}

function deployOptions(session: PmcpRunSession, extra: Partial<PmcpRunDeployOptions> = {}): PmcpRunDeployOptions {
  return {
    api: session.api,
    projectName: 'hello-mcp',
    template: templateText,
    serverPackage: rawPackage,
    mcpBaseUrl: session.endpoints.mcpBaseUrl,
    wait: { sleep: async ms => void sleeps.push(ms) },
    sleep: fast,
    ...extra
  }
}

const log = (): string => logged.join('')

describe('deployToPmcpRun: uploads', () => {
  it('a raw bootstrap goes up as application/octet-stream, byte for byte, the template as it is', async () => {
    const s = await startService({ deploymentUrl: 'https://hello-mcp.us-west-2.pmcp.run/mcp' })
    const session = await connect(s)
    const created: string[] = []
    const deployment = await deployToPmcpRun(deployOptions(session, { onCreated: id => created.push(id) }))

    expect(deployment).toEqual({
      deploymentId: 'dep-1',
      projectName: 'hello-mcp',
      mcpUrl: 'https://hello-mcp.us-west-2.pmcp.run/mcp',
      healthUrl: 'https://hello-mcp.us-west-2.pmcp.run/health',
      createdAt: '2025-01-01T00:00:00Z',
      completedAt: '2025-01-01T00:02:00Z'
    })
    const uploaded = s.uploadedPackage()
    expect(uploaded.contentType).toBe('application/octet-stream')
    expect(uploaded.body.equals(binary)).toBe(true)
    expect(uploaded.entries).toBeUndefined()
    const template = [...s.uploads.values()].find(u => u.key.endsWith('template.json'))
    expect(template?.contentType).toBe('application/json')
    expect(template?.body.toString('utf8')).toBe(templateText)
    expect(s.calls('getUploadUrls')[0].variables).toStrictEqual({
      projectName: 'hello-mcp',
      templateSize: Buffer.byteLength(templateText),
      bootstrapSize: binary.length
    })
    expect(Buffer.byteLength(templateText)).toBeGreaterThan(templateText.length)

    expect(s.graphqlCalls.map(c => c.operation)).toEqual([
      'getUploadUrls',
      'createDeploymentFromS3',
      'getDeployment',
      'getDeployment',
      'getDeployment',
      'fetchServerOAuthEndpoints'
    ])
    expect(s.graphqlCalls.every(c => c.answeredWith === 200)).toBe(true)
    // The raw token, as pmcp.run's AppSync expects it (no `Bearer `), on every call.
    expect(new Set(s.graphqlCalls.map(c => c.authorization))).toEqual(new Set([s.tokens.issued[0]]))
    expect(log()).toContain(`::add-mask::${s.tokens.issued[0]}`)
    expect(log()).toMatch(/bootstrap 68\.4 KiB \(application\/octet-stream\)/)
    expect(created).toEqual(['dep-1'])
    expect(log()).not.toContain('X-Amz-Signature')
  })

  it('a deployment package goes up as application/zip with its entries and modes', async () => {
    const s = await startService({ statuses: ['success'] })
    const session = await connect(s)
    await deployToPmcpRun(deployOptions(session, { serverPackage: zipPackage }))

    const uploaded = s.uploadedPackage()
    expect(uploaded.contentType).toBe('application/zip')
    expect(uploaded.body.equals(Buffer.from(zipPackage.body))).toBe(true)
    expect(uploaded.entries?.map(e => [e.name, e.mode & 0o777])).toEqual([
      ['bootstrap', 0o755],
      ['assets/schema.sql', 0o644]
    ])
    expect(Buffer.from(uploaded.entries?.[0].data ?? []).equals(binary)).toBe(true)
    expect(s.calls('getUploadUrls')[0].variables.bootstrapSize).toBe(zipPackage.body.length)
    expect(log()).toMatch(/deployment package [\d.]+ KiB \(application\/zip\)/)
  })

  it('a package whose content type does not match its bytes is refused, and nothing is deployed', async () => {
    const s = await startService()
    const session = await connect(s)
    const mislabelled: ServerPackage = { ...zipPackage, contentType: 'application/octet-stream' }
    await expect(deployToPmcpRun(deployOptions(session, { serverPackage: mislabelled }))).rejects.toThrow(
      'upload of the deployment package to its presigned URL was refused: ' +
        'HTTP 400 (ContractViolation: a zip uploaded as application/octet-stream'
    )
    expect(s.calls('createDeploymentFromS3')).toHaveLength(0)
  })
})

describe('deployToPmcpRun: createDeploymentFromS3', () => {
  it('sends all eleven variables: the literals, composition defaults, and null for what is unknown', async () => {
    const s = await startService({ statuses: ['success'] })
    const session = await connect(s)
    await deployToPmcpRun(deployOptions(session))
    expect(s.calls('createDeploymentFromS3')[0].variables).toStrictEqual({
      templateS3Key: 'uploads/hello-mcp/1/template.json',
      bootstrapS3Key: 'uploads/hello-mcp/1/bootstrap.zip',
      projectName: 'hello-mcp',
      runtime: 'provided.al2023',
      memorySize: 512,
      timeout: 30,
      serverVersion: null,
      tier: 'foundation',
      allowComposition: true,
      internalOnly: false,
      compositionDescription: null
    })
  })

  it('sends the composition and version given, for the project name given (a preview)', async () => {
    const s = await startService({ statuses: ['success'] })
    const session = await connect(s)
    await deployToPmcpRun(
      deployOptions(session, {
        projectName: 'hello-mcp-pr4',
        serverVersion: '0.3.1',
        composition: { tier: 'domain', allowComposition: false, internalOnly: true, description: 'Sales figures' }
      })
    )
    expect(s.calls('createDeploymentFromS3')[0].variables).toMatchObject({
      projectName: 'hello-mcp-pr4',
      runtime: 'provided.al2023',
      memorySize: 512,
      timeout: 30,
      serverVersion: '0.3.1',
      tier: 'domain',
      allowComposition: false,
      internalOnly: true,
      compositionDescription: 'Sales figures'
    })
    // A partial [composition]: the rest gets the defaults.
    await deployToPmcpRun(deployOptions(session, { composition: { internalOnly: true } }))
    expect(s.calls('createDeploymentFromS3')[1].variables).toMatchObject({
      tier: 'foundation',
      allowComposition: true,
      internalOnly: true,
      compositionDescription: null
    })
  })

  it('is never repeated after a transient failure (a second attempt could start a second deployment)', async () => {
    const s = await startService({ httpErrors: { createDeploymentFromS3: { status: 503 }, getUploadUrls: { status: 503, times: 1 } } })
    const session = await connect(s)
    await expect(deployToPmcpRun(deployOptions(session))).rejects.toThrow(
      /pmcp\.run createDeploymentFromS3 at .* failed: HTTP 503: .*It was not repeated \(it could start a second deployment\)/
    )
    // getUploadUrls, which only hands out URLs, was retried after its 503.
    expect(s.calls('getUploadUrls').map(c => c.answeredWith)).toEqual([503, 200])
    expect(s.calls('createDeploymentFromS3')).toHaveLength(1)
  })
})

describe('deployToPmcpRun: waiting for the deployment', () => {
  it('reads the status at once, then every 2 s, until success', async () => {
    const s = await startService({ statuses: ['pending', 'validating', 'deploying', 'success'] })
    const session = await connect(s)
    await deployToPmcpRun(deployOptions(session))
    expect(s.calls('getDeployment')).toHaveLength(4)
    expect(sleeps).toEqual([2000, 2000, 2000])
    expect(log()).toMatch(/Deployment dep-1: validating/)
    expect(log()).toMatch(/Deployment dep-1: deploying/)
    expect(log()).toMatch(/Deployment dep-1: success/)
  })

  it('a status cargo pmcp does not know ends the wait at once', async () => {
    const s = await startService({ statuses: ['validating', 'rolling_back', 'success'] })
    const session = await connect(s)
    const attempt = deployToPmcpRun(deployOptions(session))
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(
      "pmcp.run reported status 'rolling_back' for deployment dep-1, which cargo pmcp 0.28 does not know either"
    )
    expect(s.calls('getDeployment')).toHaveLength(2)
    expect(sleeps).toEqual([2000])
    expect(s.calls('fetchServerOAuthEndpoints')).toHaveLength(0)
  })

  it('a failed deployment reports the service errorMessage', async () => {
    const s = await startService({
      statuses: ['validating', 'failed'],
      errorMessage: 'CloudFormation: Resource handler returned message: "Invalid runtime"'
    })
    const session = await connect(s)
    await expect(deployToPmcpRun(deployOptions(session))).rejects.toThrow(
      'pmcp.run deployment dep-1 of hello-mcp failed: CloudFormation: Resource handler returned message: "Invalid runtime". ' +
        'Details: https://pmcp.run/dashboard'
    )
    expect(s.calls('configureServerOAuth')).toHaveLength(0)
    expect(s.calls('fetchServerOAuthEndpoints')).toHaveLength(0)
  })

  it('a deployment pmcp.run does not know is "deployment not found"', async () => {
    const s = await startService()
    const session = await connect(s)
    await expect(waitForDeployment(session.api, 'dep-404', { sleep: fast })).rejects.toThrow(
      'pmcp.run answered getDeployment for dep-404 with nothing: deployment not found'
    )
  })

  it('a deployment that never finishes times out with progress lines on the way', async () => {
    const s = await startService({ statuses: ['pending', 'deploying'] })
    const session = await connect(s)
    let clock = 0
    const wait = {
      timeoutMs: 120_000,
      intervalMs: 5_000,
      progressEveryMs: 30_000,
      now: () => clock,
      sleep: async (ms: number) => void (clock += ms)
    }
    await expect(deployToPmcpRun(deployOptions(session, { wait }))).rejects.toThrow(
      /pmcp\.run deployment dep-1 is still 'deploying' after 2m00s; the action stopped waiting \(limit 2m00s\)/
    )
    expect(s.calls('getDeployment')).toHaveLength(25)
    expect(log().match(/Deployment dep-1: \w+ \([\dms]+\)/g)).toEqual([
      'Deployment dep-1: pending (0s)',
      'Deployment dep-1: deploying (5s)',
      'Deployment dep-1: deploying (35s)',
      'Deployment dep-1: deploying (1m05s)',
      'Deployment dep-1: deploying (1m35s)'
    ])
  })

  it('without a URL from the service, the MCP endpoint is <mcp base>/<id>/mcp and health is beside it', async () => {
    const s = await startService({ statuses: ['success'] })
    const session = await connect(s)
    const deployment = await deployToPmcpRun(deployOptions(session))
    expect(deployment.mcpUrl).toBe(`${s.url}/servers/dep-1/mcp`)
    expect(deployment.healthUrl).toBe(`${s.url}/servers/dep-1/health`)
  })
})

describe('healthUrlOf', () => {
  it('replaces a trailing /mcp, else the first /mcp, as cargo pmcp', () => {
    expect(healthUrlOf('https://a.pmcp.run/mcp')).toBe('https://a.pmcp.run/health')
    expect(healthUrlOf('https://a.pmcp.run/mcp-srv/mcp')).toBe('https://a.pmcp.run/mcp-srv/health')
    expect(healthUrlOf('https://a.pmcp.run/mcp/v1')).toBe('https://a.pmcp.run/health/v1')
    expect(healthUrlOf('https://a.pmcp.run/sse')).toBe('https://a.pmcp.run/sse')
  })
})

describe('deployToPmcpRun: OAuth after success', () => {
  it('[auth] enabled: configureServerOAuth with the deployment id and the DCR settings; the endpoints come back', async () => {
    const s = await startService({ statuses: ['success'] })
    const session = await connect(s)
    const deployment = await deployToPmcpRun(
      deployOptions(session, {
        oauth: { enabled: true, dcrEnabled: false, defaultScopes: ['openid', 'mcp/read'], publicClientPatterns: [] }
      })
    )
    expect(s.calls('configureServerOAuth').map(c => c.variables)).toStrictEqual([
      {
        serverId: 'dep-1',
        enabled: true,
        scopes: ['openid', 'mcp/read'],
        dcrEnabled: false,
        publicClientPatterns: null,
        sharedPoolName: null
      }
    ])
    expect(s.calls('fetchServerOAuthEndpoints')).toHaveLength(0)
    expect(deployment.oauth).toEqual({
      discoveryUrl: `${s.url}/oauth/dep-1/.well-known/oauth-authorization-server`,
      registrationEndpoint: `${s.url}/oauth/dep-1/register`,
      authorizationEndpoint: `${s.url}/oauth/dep-1/authorize`,
      tokenEndpoint: `${s.url}/oauth/dep-1/token`,
      userPoolId: 'us-west-2_dep1',
      userPoolRegion: 'us-west-2'
    })
    expect(log()).toContain(`OAuth configured for deployment dep-1: ${s.url}/oauth/dep-1/.well-known/oauth-authorization-server`)
  })

  it('[auth] enabled with DCR on and no default scopes: scopes null, the client patterns sent', async () => {
    const s = await startService({ statuses: ['success'] })
    const session = await connect(s)
    await deployToPmcpRun(
      deployOptions(session, { oauth: { enabled: true, dcrEnabled: true, defaultScopes: [], publicClientPatterns: ['claude', 'cursor'] } })
    )
    expect(s.calls('configureServerOAuth')[0].variables).toStrictEqual({
      serverId: 'dep-1',
      enabled: true,
      scopes: null,
      dcrEnabled: true,
      publicClientPatterns: ['claude', 'cursor'],
      sharedPoolName: null
    })
  })

  it('a configureServerOAuth failure fails the deploy: live without OAuth, and how to enable it', async () => {
    const s = await startService({ statuses: ['success'], graphqlErrors: { configureServerOAuth: 'Cognito quota exceeded' } })
    const session = await connect(s)
    const created: string[] = []
    const attempt = deployToPmcpRun(
      deployOptions(session, {
        onCreated: id => created.push(id),
        oauth: { enabled: true, dcrEnabled: true, defaultScopes: ['openid'], publicClientPatterns: [] }
      })
    )
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(
      `Deployment dep-1 is live at ${s.url}/servers/dep-1/mcp without OAuth: configureServerOAuth failed: ` +
        'pmcp.run answered configureServerOAuth with an error: Cognito quota exceeded.'
    )
    await expect(attempt).rejects.toThrow("'cargo pmcp deploy oauth enable --server dep-1', or run the deploy again")
    expect(created).toEqual(['dep-1'])
  })

  it('[auth] not enabled: the OAuth pmcp.run has for the project name is reported', async () => {
    const s = await startService({ statuses: ['success'], oauthEnabledServers: ['hello-mcp-pr4'] })
    const session = await connect(s)
    const deployment = await deployToPmcpRun(
      deployOptions(session, {
        projectName: 'hello-mcp-pr4',
        oauth: { enabled: false, dcrEnabled: true, defaultScopes: ['openid'], publicClientPatterns: [] }
      })
    )
    expect(s.calls('fetchServerOAuthEndpoints').map(c => c.variables)).toStrictEqual([{ serverId: 'hello-mcp-pr4' }])
    expect(s.calls('configureServerOAuth')).toHaveLength(0)
    expect(deployment.oauth).toMatchObject({
      discoveryUrl: `${s.url}/oauth/hello-mcp-pr4/.well-known/oauth-authorization-server`,
      tokenEndpoint: `${s.url}/oauth/hello-mcp-pr4/token`
    })
  })

  it('[auth] not enabled and OAuth off on pmcp.run: no endpoints, an info line', async () => {
    const s = await startService({ statuses: ['success'], oauthEnabledServers: ['someone-else'] })
    const session = await connect(s)
    const deployment = await deployToPmcpRun(deployOptions(session))
    expect(deployment.oauth).toBeUndefined()
    expect('oauth' in deployment).toBe(false)
    expect(log()).toContain('(OAuth query returned oauthEnabled=false for hello-mcp)')
  })

  it('[auth] not enabled and the OAuth query fails: no endpoints, the deploy still succeeds', async () => {
    const s = await startService({ statuses: ['success'], graphqlErrors: { fetchServerOAuthEndpoints: 'OAuth service down' } })
    const session = await connect(s)
    const deployment = await deployToPmcpRun(deployOptions(session))
    expect(deployment.deploymentId).toBe('dep-1')
    expect(deployment.oauth).toBeUndefined()
    expect(log()).toContain(
      '(OAuth status check failed for hello-mcp: pmcp.run answered fetchServerOAuthEndpoints with an error: OAuth service down)'
    )
    expect(log()).not.toMatch(/::(warning|error)/)
  })
})

describe('deployToPmcpRun: errors and tokens', () => {
  it('reports a GraphQL error with the server message, without asking discovery again', async () => {
    const s = await startService({ graphqlErrors: { getUploadUrls: 'Project name hello-mcp is owned by another organization' } })
    const session = await connect(s)
    const attempt = deployToPmcpRun(deployOptions(session))
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(
      'pmcp.run answered getUploadUrls with an error: Project name hello-mcp is owned by another organization'
    )
    expect(s.uploads.size).toBe(0)
    expect(s.discoveryRequests).toHaveLength(1)
  })

  it('an expired token is replaced once and the call repeated', async () => {
    const s = await startService({ expireIssued: 1, statuses: ['success'] })
    const session = await connect(s, s.env())
    const deployment = await deployToPmcpRun(deployOptions(session))
    expect(deployment.deploymentId).toBe('dep-1')
    expect(s.tokens.issued).toHaveLength(2)
    expect(s.graphqlCalls.map(c => [c.operation, c.answeredWith])).toEqual([
      ['getUploadUrls', 401],
      ['getUploadUrls', 200],
      ['createDeploymentFromS3', 200],
      ['getDeployment', 200],
      ['fetchServerOAuthEndpoints', 200]
    ])
    expect(s.graphqlCalls.slice(1).every(c => c.authorization === s.tokens.issued[1])).toBe(true)
    expect(log()).toContain('pmcp.run rejected the access token (Token has expired.); retrying getUploadUrls once with a new token')
  })

  it('a fresh token that is rejected too ends in a clear error', async () => {
    const s = await startService({ expireIssued: 2 })
    const session = await connect(s, s.env())
    await expect(deployToPmcpRun(deployOptions(session))).rejects.toThrow(
      new RegExp(
        /pmcp\.run rejected a freshly issued token for getUploadUrls too: /.source +
          /Token has expired\.. Check that client credentials of 'pmcp-ci-client'/.source
      )
    )
    expect(s.tokens.issued).toHaveLength(2)
    expect(s.calls('getUploadUrls')).toHaveLength(2)
  })

  it('an expired pmcp-access-token cannot be refreshed: the error says what to do', async () => {
    const s = await startService({ staticTokens: ['given-token'], expiredTokens: ['given-token'] })
    const session = await connectPmcpRun({ accessToken: 'given-token' }, s.env())
    await expect(deployToPmcpRun(deployOptions(session))).rejects.toThrow(
      new RegExp(
        /rejected the token of input 'pmcp-access-token' \(getUploadUrls\): Token has expired\.\. /.source +
          /The token has probably expired: pass a fresh one, or set 'pmcp-client-id'/.source
      )
    )
    expect(s.tokens.requests).toHaveLength(0)
  })
})

describe('uploadToPresignedUrl', () => {
  it('a refused upload is an ActionError with the S3 code, never the presigned URL', async () => {
    const s = await startService()
    const url = `${s.url}/upload/uploads/x/1/template.json?X-Amz-Signature=secret-signature`
    const attempt = uploadToPresignedUrl({ label: 'template', url, body: Buffer.from('{}'), contentType: 'application/json', sleep: fast })
    await expect(attempt).rejects.toThrow(
      /upload of the template to its presigned URL was refused: HTTP 403 \(SignatureDoesNotMatch: No such presigned URL\)/
    )
    await attempt.catch((error: Error) => expect(error.message).not.toContain('secret-signature'))
  })
})

describe('destroyPmcpRunDeployment', () => {
  it('finds the deployment by project name, destroys it and waits until it is deleted', async () => {
    const s = await startService({
      existing: [
        { id: 'dep-7', projectName: 'other' },
        { id: 'dep-9', projectName: 'hello-mcp-pr4' }
      ]
    })
    const session = await connect(s, s.env())
    const result = await destroyPmcpRunDeployment({ api: session.api, projectName: 'hello-mcp-pr4', intervalMs: 1, sleep: fast })
    expect(result).toEqual({ status: 'removed', deploymentId: 'dep-9' })
    expect(s.graphqlCalls.map(c => [c.operation, c.answeredWith])).toEqual([
      ['listDeployments', 200],
      ['destroyDeployment', 200],
      ['getDeploymentOperationStatus', 200],
      ['getDeploymentOperationStatus', 200]
    ])
    expect(s.calls('destroyDeployment')[0].variables).toEqual({ id: 'dep-9' })
    expect(s.deployments.get('dep-7')?.removed).toBe(false)
    expect(log()).toContain('Destroy of dep-9: deleting')
  })

  it('nothing to remove when the project has no deployment', async () => {
    const s = await startService({ existing: [{ id: 'dep-7', projectName: 'other' }] })
    const session = await connect(s, s.env())
    expect(await destroyPmcpRunDeployment({ api: session.api, projectName: 'hello-mcp', sleep: fast })).toEqual({
      status: 'nothing to remove'
    })
    expect(s.calls('destroyDeployment')).toHaveLength(0)
  })

  it('a failed destroy reports the service message', async () => {
    const s = await startService({ existing: [{ id: 'dep-9', projectName: 'hello-mcp' }], destroyStatuses: ['initiated', 'delete_failed'] })
    const session = await connect(s, s.env())
    await expect(destroyPmcpRunDeployment({ api: session.api, projectName: 'hello-mcp', intervalMs: 1, sleep: fast })).rejects.toThrow(
      'pmcp.run could not remove deployment dep-9 of hello-mcp: Stack deletion.'
    )
  })
})
