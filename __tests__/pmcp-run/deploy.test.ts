/**
 * The pmcp.run client against a local pmcp.run (token endpoint, discovery, GraphQL, presigned
 * uploads): what reaches the service byte for byte, token refresh, failures and time-outs.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../../src/errors.js'
import {
  connectPmcpRun,
  deployToPmcpRun,
  destroyPmcpRunDeployment,
  PMCP_RUN_RUNTIME,
  uploadToPresignedUrl,
  type PmcpRunDeployOptions,
  type PmcpRunSession
} from '../../src/targets/pmcp-run/index.js'
import { PmcpRunService, type PmcpRunServiceOptions } from '../../testkit/pmcp-run-service.js'

const fast = async (): Promise<void> => {}

let scratch: string
let templatePath: string
let bootstrapPath: string
const template = {
  Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256 } } },
  Outputs: { McpUrl: { Value: 'x' } }
}
// An ELF-looking binary with every byte value, so any mangling in zip or upload shows.
const binary = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256))])

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-pmcprun-'))
  templatePath = path.join(scratch, 'template.json')
  // Written with an indentation the client must not change.
  fs.writeFileSync(templatePath, JSON.stringify(template, null, 1))
  bootstrapPath = path.join(scratch, 'bootstrap')
  fs.writeFileSync(bootstrapPath, binary, { mode: 0o755 })
})

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

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

function clientCredentials(s: PmcpRunService): { clientId: string; clientSecret: string } {
  return { clientId: s.clientId, clientSecret: s.clientSecret }
}

function deployOptions(session: PmcpRunSession, extra: Partial<PmcpRunDeployOptions> = {}): PmcpRunDeployOptions {
  return {
    api: session.api,
    projectName: 'hello-mcp',
    templatePath,
    bootstrapPath,
    memoryMb: 1024,
    timeoutSeconds: 60,
    serverVersion: '0.3.1',
    mcpBaseUrl: session.endpoints.mcpBaseUrl,
    wait: { intervalMs: 1, sleep: fast },
    sleep: fast,
    ...extra
  }
}

describe('deployToPmcpRun', () => {
  it('uploads the template unchanged and the bootstrap as an executable in a zip, then waits for success', async () => {
    const s = await startService({ deploymentUrl: 'https://hello-mcp.us-west-2.pmcp.run/mcp' })
    const session = await connectPmcpRun(clientCredentials(s), s.discoveryEnv())
    const created: string[] = []
    const deployment = await deployToPmcpRun(deployOptions(session, { onCreated: id => created.push(id) }))

    expect(deployment).toMatchObject({
      deploymentId: 'dep-1',
      projectName: 'hello-mcp',
      mcpUrl: 'https://hello-mcp.us-west-2.pmcp.run/mcp'
    })
    expect(s.uploadedTemplate()).toEqual(template)
    const upload = [...s.uploads.values()]
    expect(upload.find(u => u.key.endsWith('template.json'))?.body.equals(fs.readFileSync(templatePath))).toBe(true)
    expect(upload.map(u => u.contentType).sort()).toEqual(['application/json', 'application/zip'])
    const entries = s.uploadedBootstrap()
    expect(entries.map(e => e.name)).toEqual(['bootstrap'])
    expect(entries[0].os).toBe(3)
    expect(entries[0].mode).toBe(0o100755)
    expect(Buffer.from(entries[0].data).equals(binary)).toBe(true)

    expect(s.graphqlCalls.map(c => c.operation)).toEqual([
      'getUploadUrls',
      'createDeploymentFromS3',
      'getDeployment',
      'getDeployment',
      'getDeployment'
    ])
    // The raw token, as pmcp.run's AppSync expects it (no `Bearer `), on every call.
    expect(new Set(s.graphqlCalls.map(c => c.authorization))).toEqual(new Set([s.tokens.issued[0]]))
    expect(s.calls('createDeploymentFromS3')[0].variables).toEqual({
      templateS3Key: 'uploads/hello-mcp/1/template.json',
      bootstrapS3Key: 'uploads/hello-mcp/1/bootstrap.zip',
      projectName: 'hello-mcp',
      runtime: PMCP_RUN_RUNTIME,
      memorySize: 1024,
      timeout: 60,
      serverVersion: '0.3.1'
    })
    const log = logged.join('')
    expect(log).toContain(`::add-mask::${s.tokens.issued[0]}`)
    expect(log).toMatch(/Deployment dep-1: validating/)
    expect(log).toMatch(/Deployment dep-1: deploying/)
    expect(log).toMatch(/Deployment dep-1: success/)
    // The id is known as soon as the deployment exists; the pipeline's report turns it into output deployment-id.
    expect(created).toEqual(['dep-1'])
    expect(log).not.toContain('X-Amz-Signature')
  })

  it('without a URL from the service, the MCP endpoint is <mcp base>/<id>/mcp', async () => {
    const s = await startService({ statuses: ['success'] })
    const session = await connectPmcpRun(clientCredentials(s), s.discoveryEnv())
    const deployment = await deployToPmcpRun(deployOptions(session))
    expect(deployment.mcpUrl).toBe(`${s.url}/servers/dep-1/mcp`)
  })

  it('reports a GraphQL error with the server message', async () => {
    const s = await startService({ graphqlErrors: { getUploadUrls: 'Project name hello-mcp is owned by another organization' } })
    const session = await connectPmcpRun(clientCredentials(s), s.env())
    const attempt = deployToPmcpRun(deployOptions(session))
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(
      'pmcp.run answered getUploadUrls with an error: Project name hello-mcp is owned by another organization'
    )
    expect(s.uploads.size).toBe(0)
  })

  it('an expired token is replaced once and the call repeated', async () => {
    const s = await startService({ expireIssued: 1, statuses: ['success'] })
    const session = await connectPmcpRun(clientCredentials(s), s.env())
    const deployment = await deployToPmcpRun(deployOptions(session))
    expect(deployment.deploymentId).toBe('dep-1')
    expect(s.tokens.issued).toHaveLength(2)
    expect(s.graphqlCalls.map(c => [c.operation, c.answeredWith])).toEqual([
      ['getUploadUrls', 401],
      ['getUploadUrls', 200],
      ['createDeploymentFromS3', 200],
      ['getDeployment', 200]
    ])
    expect(s.graphqlCalls.slice(1).every(c => c.authorization === s.tokens.issued[1])).toBe(true)
    expect(logged.join('')).toContain(
      'pmcp.run rejected the access token (Token has expired.); retrying getUploadUrls once with a new token'
    )
  })

  it('a fresh token that is rejected too ends in a clear error', async () => {
    const s = await startService({ expireIssued: 2 })
    const session = await connectPmcpRun(clientCredentials(s), s.env())
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

  it('a failed deployment reports the service errorMessage', async () => {
    const s = await startService({
      statuses: ['validating', 'failed'],
      errorMessage: 'CloudFormation: Resource handler returned message: "Invalid runtime"'
    })
    const session = await connectPmcpRun(clientCredentials(s), s.env())
    await expect(deployToPmcpRun(deployOptions(session))).rejects.toThrow(
      'pmcp.run deployment dep-1 of hello-mcp failed: CloudFormation: Resource handler returned message: "Invalid runtime". ' +
        'Details: https://pmcp.run/dashboard'
    )
  })

  it('a deployment that never finishes times out with progress lines on the way', async () => {
    const s = await startService({ statuses: ['pending', 'deploying'] })
    const session = await connectPmcpRun(clientCredentials(s), s.env())
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
    const progress = logged.join('').match(/Deployment dep-1: \w+ \([\dms]+\)/g)
    expect(progress).toEqual([
      'Deployment dep-1: pending (0s)',
      'Deployment dep-1: deploying (5s)',
      'Deployment dep-1: deploying (35s)',
      'Deployment dep-1: deploying (1m05s)',
      'Deployment dep-1: deploying (1m35s)'
    ])
  })
})

describe('connectPmcpRun', () => {
  it('without credentials fails before any request', async () => {
    const s = await startService()
    await expect(connectPmcpRun({}, s.env())).rejects.toThrow(/needs credentials: set 'pmcp-client-id' and 'pmcp-client-secret'/)
    await expect(connectPmcpRun({ clientId: 'only-id' }, s.env())).rejects.toThrow("Input 'pmcp-client-secret' is empty")
    expect(s.tokens.requests).toHaveLength(0)
  })

  it('wrong client credentials name the token endpoint answer', async () => {
    const s = await startService()
    await expect(connectPmcpRun({ clientId: s.clientId, clientSecret: 'nope' }, s.env())).rejects.toThrow(
      /invalid_client: Client authentication failed/
    )
  })

  it('falls back to the production endpoints when discovery cannot be read', async () => {
    const s = await startService()
    const session = await connectPmcpRun({ accessToken: 'tok' }, { PMCP_API_URL: `${s.url}/nothing-here` })
    expect(session.endpoints).toEqual({
      tokenUrl: 'https://auth.pmcp.run/oauth2/token',
      graphqlUrl: `${s.url}/nothing-here/graphql`,
      mcpBaseUrl: `${s.url}/nothing-here`
    })
    expect(logged.join('')).toMatch(
      /::warning::Could not read the pmcp\.run configuration from .*HTTP 404.*Set PMCP_RUN_COGNITO_DOMAIN and PMCP_RUN_GRAPHQL_URL/
    )
  }, 30_000)

  it('explicit endpoints need no discovery', async () => {
    const s = await startService()
    const session = await connectPmcpRun(
      { accessToken: 'tok' },
      { PMCP_RUN_COGNITO_DOMAIN: 'login.example.com', PMCP_RUN_GRAPHQL_URL: `${s.url}/graphql` }
    )
    expect(session.endpoints).toEqual({
      tokenUrl: 'https://login.example.com/oauth2/token',
      graphqlUrl: `${s.url}/graphql`,
      mcpBaseUrl: 'https://api.pmcp.run'
    })
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
    const session = await connectPmcpRun(clientCredentials(s), s.env())
    const result = await destroyPmcpRunDeployment({ api: session.api, projectName: 'hello-mcp-pr4', intervalMs: 1, sleep: fast })
    expect(result).toEqual({ status: 'removed', deploymentId: 'dep-9' })
    expect(s.graphqlCalls.map(c => c.operation)).toEqual([
      'listDeployments',
      'destroyDeployment',
      'getDeploymentOperationStatus',
      'getDeploymentOperationStatus'
    ])
    expect(s.calls('destroyDeployment')[0].variables).toEqual({ id: 'dep-9' })
    expect(s.deployments.get('dep-7')?.removed).toBe(false)
    expect(logged.join('')).toContain('Destroy of dep-9: deleting')
  })

  it('nothing to remove when the project has no deployment', async () => {
    const s = await startService({ existing: [{ id: 'dep-7', projectName: 'other' }] })
    const session = await connectPmcpRun(clientCredentials(s), s.env())
    expect(await destroyPmcpRunDeployment({ api: session.api, projectName: 'hello-mcp', sleep: fast })).toEqual({
      status: 'nothing to remove'
    })
    expect(s.calls('destroyDeployment')).toHaveLength(0)
  })

  it('a failed destroy reports the service message', async () => {
    const s = await startService({ existing: [{ id: 'dep-9', projectName: 'hello-mcp' }], destroyStatuses: ['initiated', 'delete_failed'] })
    const session = await connectPmcpRun(clientCredentials(s), s.env())
    await expect(destroyPmcpRunDeployment({ api: session.api, projectName: 'hello-mcp', intervalMs: 1, sleep: fast })).rejects.toThrow(
      'pmcp.run could not remove deployment dep-9 of hello-mcp: Stack deletion.'
    )
  })
})
