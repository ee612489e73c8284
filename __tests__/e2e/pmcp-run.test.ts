/**
 * `target: pmcp-run` end to end, on a repository shaped like the real ones (testkit/fixtures/pmcp-run-ranker:
 * a server crate and its `-lambda` wrapper, a model file shipped as an asset, `[composition]`, `[auth]` with
 * `[auth.dcr]`, `[metadata]`, a pmcp.toml the metadata is read from): `node dist/index.js` builds the
 * wrapper, synthesizes the rendered stack and merges deploy.toml into it, uploads template and zip to a
 * local pmcp.run that checks every document against upstream's operations, creates the deployment with
 * the composition settings, configures OAuth, smoke-tests the URL the service returns (a real MCP
 * server), writes outputs, summary and the sticky PR comment (local GitHub API), and destroys.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { PmcpRunService } from '../../testkit/pmcp-run-service.js'
import { runAction, type ActionRun } from '../../testkit/runner.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'
import { realShapedPayload, REPOSITORY } from '../../testkit/runner-setup.js'

const HEAD_SHA = 'feedface0123456789abcdef0123456789abcdef'

type Template = {
  Metadata?: Record<string, unknown>
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>
  Outputs: Record<string, { Export?: unknown }>
}

describe('node dist/index.js with target pmcp-run (local pmcp.run, GitHub API, MCP server)', () => {
  let service: PmcpRunService
  let github: FakeGitHubApi
  let mcp: TestMcpServer
  let repo: { dir: string; remove: () => void }
  let scratch: string
  const binaryPath = (): string => path.join(scratch, 'target', 'release', 'bootstrap')

  beforeAll(async () => {
    ;[github, mcp] = await Promise.all([FakeGitHubApi.start(), startMcpServer({ path: '/mcp' })])
    service = await PmcpRunService.start({ deploymentUrl: mcp.url })
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-pmcprun-'))
    // The user's repository as it is committed: no CDK project of its own (the stack is rendered).
    repo = makeWorkDir('e2e-pmcprun')
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'pmcp-run-ranker'), repo.dir, { recursive: true })
  }, 60_000)

  afterAll(async () => {
    await Promise.all([service?.stop(), github?.stop(), mcp?.close()])
    repo?.remove()
    fs.rmSync(scratch, { recursive: true, force: true })
  })

  function run(eventName: string, payload: object, inputs: Record<string, string>): Promise<ActionRun> {
    const eventPath = path.join(scratch, `event-${Math.random().toString(36).slice(2)}.json`)
    fs.writeFileSync(eventPath, JSON.stringify(realShapedPayload({ name: eventName, payload, sha: HEAD_SHA, runId: '5151' })))
    return runAction(
      {
        // No target input: [target] type = "pmcp-run" in deploy.toml decides.
        'working-directory': path.relative(REPO_ROOT, repo.dir),
        'pmcp-client-id': service.clientId,
        'pmcp-client-secret': service.clientSecret,
        // The host builds x86_64; the template then declares x86_64 too (the action warns about it).
        architecture: 'x86_64',
        // cargo-lambda cannot be installed here: cargo builds the wrapper's bootstrap binary for the host.
        'build-command': `cargo build --release --offline --locked -p ranker-lambda --target-dir "${path.join(scratch, 'target')}"`,
        'binary-path': binaryPath(),
        'smoke-test': 'builtin',
        'github-token': 'ghs_e2etoken',
        ...inputs
      },
      {
        ...service.env(),
        GITHUB_EVENT_NAME: eventName,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REPOSITORY: REPOSITORY,
        GITHUB_SHA: HEAD_SHA,
        GITHUB_RUN_ID: '5151',
        GITHUB_API_URL: github.url,
        RUNNER_TOOL_CACHE: fs.mkdtempSync(path.join(scratch, 'tool-cache-'))
      }
    )
  }

  /** The final template the action wrote beside the synthesized one (what pmcp.run must have received). */
  function finalTemplate(stackName: string): unknown {
    return JSON.parse(fs.readFileSync(path.join(repo.dir, '.pmcp', 'cdk', 'cdk.out', `${stackName}.pmcp-run.template.json`), 'utf8'))
  }

  /**
   * The uploaded template is cargo pmcp's pmcp.run stack with deploy.toml merged in: the function alone
   * (no HTTP API, alias or Cognito), [server] sizing and [environment] on it, logs kept 7 days, the
   * mcp:* metadata from pmcp.toml with [metadata] over it.
   */
  function expectPmcpRunStack(functionName: string): void {
    const uploaded = service.uploadedTemplate() as Template
    const resources = Object.values(uploaded.Resources)
    expect(resources.map(resource => resource.Type).sort()).toEqual([
      'AWS::IAM::Policy',
      'AWS::IAM::Role',
      'AWS::Lambda::Function',
      'AWS::Logs::LogGroup'
    ])
    expect(Object.keys(uploaded.Outputs).sort()).toEqual(['ApiUrl', 'DashboardUrl', 'LambdaArn', 'LambdaName', 'McpRoleArn'])
    expect(uploaded.Outputs.McpRoleArn.Export).toEqual({ Name: `pmcp-${functionName}-McpRoleArn` })
    const fn = resources.find(resource => resource.Type === 'AWS::Lambda::Function')?.Properties
    expect(fn).toMatchObject({
      FunctionName: functionName,
      MemorySize: 1024,
      Timeout: 60,
      Architectures: ['x86_64'],
      Code: { S3Bucket: 'pmcp-run-pending-upload', S3Key: `${functionName}/bootstrap.zip` }
    })
    expect((fn?.Environment as { Variables: Record<string, string> }).Variables).toEqual({
      RUST_LOG: 'info,ranker=debug',
      RANKER_INDEX: 'https://index.example.com',
      PMCP_SERVER_ID: functionName,
      PMCP_ORGANIZATION_ID: 'default-org',
      MCP_SERVERS_TABLE: 'McpServer'
    })
    expect(resources.find(resource => resource.Type === 'AWS::Logs::LogGroup')?.Properties.RetentionInDays).toBe(7)
    expect(uploaded.Metadata).toEqual({
      'mcp:capabilities': { tools: ['rank', 'explain'], resources: false, composition: false },
      'mcp:resources': {
        secrets: [{ name: 'RANKER_API_KEY', description: 'Key of the upstream index', required: true, env_var: 'RANKER_API_KEY' }]
      },
      'mcp:serverId': 'ranker',
      'mcp:serverType': 'ranking',
      'mcp:version': '1.0'
    })
  }

  it('push: deploys production as cargo pmcp would (zip with the model, composition, OAuth), smoke-tests and reports it', async () => {
    const result = await run('push', { ref: 'refs/heads/main', after: HEAD_SHA }, {})
    expect(result.stdout).not.toMatch(/::error/)
    expect(result.exitCode).toBe(0)
    expect(result.outputs['mcp-url']).toBe(mcp.url)
    expect(result.outputs['deployment-id']).toBe('dep-1')
    expect(result.outputs['stack-name']).toBe('ranker-stack')
    expect(result.outputs['smoke-test']).toBe('passed')
    const oauthBase = `${service.url}/oauth/dep-1`
    expect(JSON.parse(result.outputs['outputs-json'])).toEqual({
      McpUrl: mcp.url,
      HealthUrl: mcp.url.replace(/\/mcp$/, '/health'),
      DeploymentId: 'dep-1',
      ProjectName: 'ranker',
      DashboardUrl: 'https://pmcp.run/dashboard',
      OAuthDiscoveryUrl: `${oauthBase}/.well-known/oauth-authorization-server`,
      OAuthRegistrationUrl: `${oauthBase}/register`,
      OAuthAuthorizationUrl: `${oauthBase}/authorize`,
      OAuthTokenUrl: `${oauthBase}/token`,
      UserPoolId: 'us-west-2_dep1'
    })

    // The template: what the action wrote as final, merged and with metadata.
    expect(service.uploadedTemplate()).toEqual(finalTemplate('ranker-stack'))
    expectPmcpRunStack('ranker')
    // The server: a zip of bootstrap and the assets (the model; the .tmp files excluded), as cargo pmcp zips it.
    const uploaded = service.uploadedPackage()
    expect(uploaded.contentType).toBe('application/zip')
    expect(uploaded.entries?.map(entry => [entry.name, (entry.mode & 0o777).toString(8)])).toEqual([
      ['assets/models/ranker.onnx', '644'],
      ['assets/resources/prompts/rank.md', '644'],
      ['bootstrap', '755']
    ])
    expect(Buffer.from(uploaded.entries?.[2].data ?? []).equals(fs.readFileSync(binaryPath()))).toBe(true)
    expect(Buffer.from(uploaded.entries?.[0].data ?? []).toString('latin1')).toBe('ONNX\x00\x01model-weights')
    expect(service.calls('createDeploymentFromS3')[0].variables).toEqual({
      templateS3Key: expect.any(String),
      bootstrapS3Key: expect.any(String),
      projectName: 'ranker',
      runtime: 'provided.al2023',
      memorySize: 512,
      timeout: 30,
      serverVersion: '0.3.1',
      tier: 'domain',
      allowComposition: true,
      internalOnly: true,
      compositionDescription: 'Ranks search results for the research agents'
    })
    expect(service.calls('configureServerOAuth').map(call => call.variables)).toEqual([
      {
        serverId: 'dep-1',
        enabled: true,
        scopes: ['openid', 'mcp/read'],
        dcrEnabled: true,
        publicClientPatterns: ['claude', 'cursor'],
        sharedPoolName: null
      }
    ])
    expect(service.graphqlCalls.filter(call => call.rejected)).toEqual([])
    expect(service.tokens.requests.map(r => r.answeredWith)).toEqual([200])
    expect(service.graphqlCalls.every(call => call.authorization === service.tokens.issued[0])).toBe(true)

    expect(result.summary).toContain('ranker-stack')
    expect(result.summary).toContain(mcp.url)
    expect(result.summary).toContain(`${oauthBase}/.well-known/oauth-authorization-server`)
    expect(result.summary).toMatch(/Smoke test passed/)
    expect(result.summary).not.toMatch(/AWS console/)
    expect(result.stdout).toMatch(/::warning::pmcp\.run servers run on arm64/)
    const notApplied = /::warning title=[^:]*\[observability\] ignored,[^:]*::\[observability\] is not applied on target pmcp-run/
    expect(result.stdout).toMatch(notApplied)
    expect(github.requests).toHaveLength(0)
    // The client secret and the issued token are masked and appear nowhere else.
    const masked = [...result.stdout.matchAll(/^::add-mask::(.+)$/gm)].map(match => match[1])
    expect(masked).toEqual(expect.arrayContaining([service.clientSecret, service.tokens.issued[0]]))
    const elsewhere = [result.stdout.replace(/^::add-mask::.+$/gm, ''), result.stderr, result.summary, JSON.stringify(result.outputs)].join(
      '\n'
    )
    for (const secret of masked) expect(elsewhere).not.toContain(secret)
  }, 400_000)

  it('pull_request: a preview project with one sticky comment (a GitHub App token), removed again on close', async () => {
    // A GitHub App installation token comments as <app>[bot]: its comment is found again by who the token is.
    github.identify('ghs_apptoken', 'pmcp-deployer[bot]')
    const asApp = { 'github-token': 'ghs_apptoken' }
    const pullRequest = { number: 5, head: { sha: HEAD_SHA, repo: { full_name: REPOSITORY } }, base: { repo: { full_name: REPOSITORY } } }
    const pr = { owner: 'octo-org', repo: 'octo-repo', number: 5 }
    // The deploy reads the PR's state first: open, so the preview is deployed.
    github.setPullRequest(pr)
    const opened = await run('pull_request', { action: 'opened', number: 5, pull_request: pullRequest }, asApp)
    expect(opened.stdout).not.toMatch(/::error/)
    expect(opened.stdout).not.toContain('Pull request state unknown')
    expect(opened.exitCode).toBe(0)
    expect(opened.outputs['stack-name']).toBe('ranker-pr5-stack')
    expect(service.calls('createDeploymentFromS3').at(-1)?.variables.projectName).toBe('ranker-pr5')
    // The preview's function gets the sizing and the environment as production's does.
    expectPmcpRunStack('ranker-pr5')
    const previewId = opened.outputs['deployment-id']
    expect(service.calls('configureServerOAuth').at(-1)?.variables.serverId).toBe(previewId)
    const [comment] = github.comments(pr)
    expect(github.comments(pr)).toHaveLength(1)
    expect(comment.body).toContain('<!-- pmcp-deploy:ranker-pr5-stack -->')
    expect(comment.body).toContain(mcp.url)
    expect(comment.body).toContain(`${service.url}/oauth/${previewId}/.well-known/oauth-authorization-server`)
    expect(comment.body).toMatch(/Smoke test passed/)

    const closed = await run('pull_request', { action: 'closed', number: 5, pull_request: pullRequest }, { ...asApp, command: 'destroy' })
    expect(closed.stdout).not.toMatch(/::error/)
    expect(closed.exitCode).toBe(0)
    const removedId = service.calls('destroyDeployment').at(-1)?.variables.id as string
    expect(service.deployments.get(removedId)).toMatchObject({ projectName: 'ranker-pr5', removed: true })
    expect(service.deployments.get('dep-1')?.removed).toBe(false)
    expect(github.comments(pr)).toHaveLength(1)
    expect(github.comments(pr)[0].id).toBe(comment.id)
    expect(github.comments(pr)[0].user.login).toBe('pmcp-deployer[bot]')
    expect(github.comments(pr)[0].body).toMatch(/removed/i)
  }, 600_000)

  it('refuses the secrets input (AWS Secrets Manager) before building or uploading anything', async () => {
    const uploads = service.uploads.size
    const result = await run('push', { ref: 'refs/heads/main', after: HEAD_SHA }, { secrets: 'API_KEY=not-for-pmcp-run' })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/::error title=secrets input not used by pmcp-run::.*applies to target aws-lambda only/)
    expect(result.stdout).not.toMatch(/cargo build|Compiling/)
    expect(service.uploads.size).toBe(uploads)
  }, 60_000)

  it('rollback is refused for pmcp-run, and destroying production needs confirm-destroy', async () => {
    const rollback = await run('workflow_dispatch', {}, { command: 'rollback' })
    expect(rollback.exitCode).toBe(1)
    expect(rollback.stdout).toMatch(/::error title=Rollback is not supported for pmcp-run::/)

    const destroy = await run('workflow_dispatch', {}, { command: 'destroy' })
    expect(destroy.exitCode).toBe(1)
    expect(destroy.stdout).toMatch(/::error title=Destroying production needs confirmation::.*confirm-destroy: ranker-stack/)
    expect(service.deployments.get('dep-1')?.removed).toBe(false)

    const confirmed = await run('workflow_dispatch', {}, { command: 'destroy', 'confirm-destroy': 'ranker-stack' })
    expect(confirmed.stdout).not.toMatch(/::error/)
    expect(confirmed.exitCode).toBe(0)
    expect(service.deployments.get('dep-1')?.removed).toBe(true)
  }, 120_000)
})
