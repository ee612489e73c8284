/**
 * Issue 8 end to end through `node dist/index.js`: a server with `[auth]` and `[secrets]` deploys,
 * its secrets go from the `secrets` input into Secrets Manager without touching a file, the smoke
 * test gets its own token with the stack's Cognito machine client, and a failed smoke test shows
 * the function's logs in the job summary.
 *
 * moto's CloudFormation cannot create Cognito pools or an HTTP API, so the pool and its machine
 * client are created in moto by the test and the repository's CDK app outputs their ids (as the
 * rendered stack does, see __tests__/synth); the pool's hosted token endpoint is a local one that
 * knows the client secret Cognito generated, and the MCP server accepts only the tokens it issued.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand
} from '@aws-sdk/client-cognito-identity-provider'
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { describeWithMoto, startMoto, type MotoServer } from '../../testkit/moto.js'
import { startOAuthTokenEndpoint, type OAuthTokenEndpoint } from '../../testkit/oauth-token-endpoint.js'
import { runAction, type ActionRun } from '../../testkit/runner.js'
import { startTokenService, type TokenService } from '../../testkit/token-service.js'
import { createServerRepository, deployInputs, runnerEnv } from '../../testkit/runner-setup.js'

const HEAD_SHA = '5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2'
const DEPLOY_TOML = `[server]
name = "secure-mcp"
mcp_path = "/mcp"

[secrets]
API_KEY = "key of the upstream weather API"

[auth]
enabled = true
provider = "cognito"
callback_urls = ["https://app.example.com/callback"]
`

/** Every file under `dir` (node_modules aside) that contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap(entry => {
    const full = path.join(entry.parentPath, entry.name)
    if (!entry.isFile() || full.includes(`${path.sep}node_modules${path.sep}`) || fs.statSync(full).size > 20_000_000) return []
    return fs.readFileSync(full).includes(needle) ? [full] : []
  })
}

describeWithMoto('auth, secrets and function logs, end to end', () => {
  let moto: MotoServer
  let tokens: TokenService
  let oauth: OAuthTokenEndpoint
  let mcp: TestMcpServer
  let repo: { dir: string; remove: () => void }
  let scratch: string
  let extraOutputs: Record<string, string>
  const secretValue = `sk-${randomBytes(12).toString('hex')}`
  const aws = { region: 'us-east-1' }

  beforeAll(async () => {
    ;[moto, tokens] = await Promise.all([startMoto(), startTokenService()])
    Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' })
    const cognito = new CognitoIdentityProviderClient(aws)
    const userPoolId = (await cognito.send(new CreateUserPoolCommand({ PoolName: 'secure-mcp' }))).UserPool!.Id!
    const machine = (
      await cognito.send(
        new CreateUserPoolClientCommand({
          UserPoolId: userPoolId,
          ClientName: 'machine',
          GenerateSecret: true,
          AllowedOAuthFlows: ['client_credentials']
        })
      )
    ).UserPoolClient!
    oauth = await startOAuthTokenEndpoint({ clientId: machine.ClientId!, clientSecret: machine.ClientSecret! })
    mcp = await startMcpServer({ path: '/mcp', token: token => oauth.issued.includes(token) })
    extraOutputs = { UserPoolId: userPoolId, MachineClientId: machine.ClientId!, OAuthTokenUrl: oauth.tokenUrl }
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-auth-'))
    repo = createServerRepository('e2e-auth', 'moto-cdk-app')
    fs.writeFileSync(path.join(repo.dir, '.pmcp', 'deploy.toml'), DEPLOY_TOML)
  }, 120_000)

  afterAll(async () => {
    await Promise.all([moto?.stop(), tokens?.stop(), oauth?.stop(), mcp?.close()])
    repo?.remove()
    fs.rmSync(scratch, { recursive: true, force: true })
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[name]
  })

  function run(inputs: Record<string, string>): Promise<ActionRun> {
    return runAction(
      { ...deployInputs(repo.dir, scratch), comment: 'false', ...inputs },
      {
        ...runnerEnv(scratch, moto, tokens, {
          name: 'push',
          payload: { ref: 'refs/heads/main', after: HEAD_SHA },
          sha: HEAD_SHA,
          runId: '808'
        }),
        FIXTURE_MCP_URL: mcp.url,
        FIXTURE_EXTRA_OUTPUTS: JSON.stringify(extraOutputs)
      }
    )
  }

  function expectSecretNowhere(result: ActionRun): void {
    expect(result.stdout).toContain(`::add-mask::${secretValue}`)
    const elsewhere = [result.stdout.replace(/^::add-mask::.+$/gm, ''), result.stderr, result.summary, JSON.stringify(result.outputs)].join(
      '\n'
    )
    expect(elsewhere).not.toContain(secretValue)
    expect([...filesContaining(repo.dir, secretValue), ...filesContaining(scratch, secretValue)]).toEqual([])
  }

  it('writes the secret, deploys, and passes the smoke test with a machine-client token', async () => {
    const result = await run({ secrets: `API_KEY=${secretValue}` })
    expect(result.stdout).not.toMatch(/::error/)
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('Secret secure-mcp/API_KEY: created')
    const stored = await new SecretsManagerClient(aws).send(new GetSecretValueCommand({ SecretId: 'secure-mcp/API_KEY' }))
    expect(stored.SecretString).toBe(secretValue)

    expect(result.outputs['smoke-test']).toBe('passed')
    expect(oauth.requests.filter(request => request.answeredWith === 200)).toHaveLength(1)
    const authorizations = new Set(mcp.requests.map(request => request.authorization))
    expect([...authorizations]).toEqual([`Bearer ${oauth.issued[0]}`])
    expect(result.stdout).toContain(`::add-mask::${oauth.issued[0]}`)
    expectSecretNowhere(result)
  }, 300_000)

  it('a failed smoke test shows what the function logged, with the secret redacted', async () => {
    // What the function will log while the smoke test calls it (timestamps just after this deploy begins).
    const logs = new CloudWatchLogsClient(aws)
    const logGroupName = '/aws/lambda/secure-mcp'
    await logs.send(new CreateLogGroupCommand({ logGroupName }))
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: '2026/11/21/[$LATEST]e2e' }))
    const soon = Date.now() + 30_000
    await logs.send(
      new PutLogEventsCommand({
        logGroupName,
        logStreamName: '2026/11/21/[$LATEST]e2e',
        logEvents: [
          { timestamp: soon, message: `ERROR upstream rejected API_KEY=${secretValue}` },
          { timestamp: soon + 1, message: "thread 'main' panicked at src/tools/weather.rs:31:9" }
        ]
      })
    )
    const result = await run({ secrets: `API_KEY=${secretValue}`, 'smoke-test-token': 'not-a-token-the-pool-issued' })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toContain('Secret secure-mcp/API_KEY: updated')
    expect(result.outputs['smoke-test']).toBe('failed')
    expect(result.summary).toContain('### Function logs')
    expect(result.summary).toContain(`ERROR upstream rejected API_KEY=***`)
    expect(result.summary).toContain('panicked at src/tools/weather.rs:31:9')
    expectSecretNowhere(result)
  }, 300_000)
})
