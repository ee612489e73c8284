/**
 * `target: pmcp-run` end to end: `node dist/index.js` builds the crate, synthesizes the rendered CDK
 * project and deploys through a local pmcp.run (Cognito token endpoint, GraphQL API, presigned
 * uploads), smoke-tests the URL the service returns (a real MCP server), writes outputs, summary and
 * the sticky PR comment (local GitHub API), and destroys the deployment.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { CDK_OUT, findTemplate } from '../../src/cdk/synth.js'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { PmcpRunService } from '../../testkit/pmcp-run-service.js'
import { runAction, type ActionRun } from '../../testkit/runner.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'
import { realShapedPayload, REPOSITORY } from '../../testkit/runner-setup.js'

const HEAD_SHA = 'feedface0123456789abcdef0123456789abcdef'

describe('node dist/index.js with target pmcp-run (local pmcp.run, GitHub API, MCP server)', () => {
  let service: PmcpRunService
  let github: FakeGitHubApi
  let mcp: TestMcpServer
  let repo: { dir: string; remove: () => void }
  let scratch: string
  const binaryPath = (): string => path.join(scratch, 'target', 'release', 'hello-crate')

  beforeAll(async () => {
    ;[github, mcp] = await Promise.all([FakeGitHubApi.start(), startMcpServer({ path: '/mcp' })])
    service = await PmcpRunService.start({ deploymentUrl: mcp.url })
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-pmcprun-'))
    // The user's repository: the server crate and deploy.toml, no CDK project of its own (rendered).
    repo = makeWorkDir('e2e-pmcprun')
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'hello-crate'), repo.dir, { recursive: true })
    fs.mkdirSync(path.join(repo.dir, '.pmcp'))
    fs.writeFileSync(path.join(repo.dir, '.pmcp', 'deploy.toml'), '[server]\nname = "e2e-pmcp"\nmemory_mb = 256\ntimeout_seconds = 20\n')
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
        'working-directory': path.relative(REPO_ROOT, repo.dir),
        target: 'pmcp-run',
        'pmcp-client-id': service.clientId,
        'pmcp-client-secret': service.clientSecret,
        // The host builds x86_64; the template then declares x86_64 too (the action warns about it).
        architecture: 'x86_64',
        'build-command': `cargo build --release --offline --locked --target-dir "${path.join(scratch, 'target')}"`,
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

  function synthesizedTemplate(stackName: string): unknown {
    const file = findTemplate(path.join(repo.dir, '.pmcp', 'cdk', CDK_OUT), stackName)
    if (!file) throw new Error(`no synthesized template for ${stackName}`)
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  }

  /** The uploaded template is cargo pmcp's pmcp.run stack: the function alone, no HTTP API, alias or Cognito. */
  function expectPmcpRunStack(functionName: string): void {
    const uploaded = service.uploadedTemplate() as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>
      Outputs: Record<string, { Export?: unknown }>
    }
    const resources = Object.values(uploaded.Resources)
    expect(resources.map(resource => resource.Type).sort()).toEqual([
      'AWS::IAM::Policy',
      'AWS::IAM::Role',
      'AWS::Lambda::Function',
      'AWS::Logs::LogGroup'
    ])
    expect(Object.keys(uploaded.Outputs).sort()).toEqual(['ApiUrl', 'DashboardUrl', 'LambdaArn', 'LambdaName', 'McpRoleArn'])
    expect(uploaded.Outputs.McpRoleArn.Export).toEqual({ Name: `pmcp-${functionName}-McpRoleArn` })
    expect(resources.find(resource => resource.Type === 'AWS::Lambda::Function')?.Properties).toMatchObject({
      FunctionName: functionName,
      MemorySize: 256,
      Timeout: 20,
      Architectures: ['x86_64'],
      Code: { S3Bucket: 'pmcp-run-pending-upload', S3Key: `${functionName}/bootstrap.zip` },
      Environment: { Variables: { PMCP_SERVER_ID: functionName, RUST_LOG: 'info' } }
    })
  }

  it('push: deploys production with client credentials, smoke-tests the URL pmcp.run returns, reports it', async () => {
    const result = await run('push', { ref: 'refs/heads/main', after: HEAD_SHA }, {})
    expect(result.stdout).not.toMatch(/::error/)
    expect(result.exitCode).toBe(0)
    expect(result.outputs['mcp-url']).toBe(mcp.url)
    expect(result.outputs['deployment-id']).toBe('dep-1')
    expect(result.outputs['stack-name']).toBe('e2e-pmcp-stack')
    expect(result.outputs['smoke-test']).toBe('passed')
    expect(JSON.parse(result.outputs['outputs-json'])).toEqual({
      McpUrl: mcp.url,
      DeploymentId: 'dep-1',
      ProjectName: 'e2e-pmcp',
      DashboardUrl: 'https://pmcp.run/dashboard'
    })

    // What pmcp.run received: the synthesized template as it is, the built binary as an executable bootstrap.
    expect(service.uploadedTemplate()).toEqual(synthesizedTemplate('e2e-pmcp-stack'))
    expectPmcpRunStack('e2e-pmcp')
    const [bootstrap, ...others] = service.uploadedBootstrap()
    expect(others).toEqual([])
    expect(bootstrap.name).toBe('bootstrap')
    expect(bootstrap.mode & 0o777).toBe(0o755)
    expect(Buffer.from(bootstrap.data).equals(fs.readFileSync(binaryPath()))).toBe(true)
    expect(service.calls('createDeploymentFromS3')[0].variables).toMatchObject({
      projectName: 'e2e-pmcp',
      memorySize: 256,
      timeout: 20,
      runtime: 'provided.al2023',
      serverVersion: '0.1.0'
    })
    expect(service.tokens.requests.map(r => r.answeredWith)).toEqual([200])
    expect(service.graphqlCalls.every(call => call.authorization === service.tokens.issued[0])).toBe(true)

    expect(result.summary).toContain('e2e-pmcp-stack')
    expect(result.summary).toContain(mcp.url)
    expect(result.summary).toMatch(/Smoke test passed/)
    expect(result.summary).not.toMatch(/AWS console/)
    expect(result.stdout).toMatch(/::warning::pmcp\.run servers run on arm64/)
    expect(github.requests).toHaveLength(0)
    // The client secret and the issued token are masked and appear nowhere else.
    const masked = [...result.stdout.matchAll(/^::add-mask::(.+)$/gm)].map(match => match[1])
    expect(masked).toEqual(expect.arrayContaining([service.clientSecret, service.tokens.issued[0]]))
    const elsewhere = [result.stdout.replace(/^::add-mask::.+$/gm, ''), result.stderr, result.summary, JSON.stringify(result.outputs)].join(
      '\n'
    )
    for (const secret of masked) expect(elsewhere).not.toContain(secret)
  }, 400_000)

  it('pull_request: a preview project with one sticky comment, removed again on close', async () => {
    const pullRequest = { number: 5, head: { sha: HEAD_SHA, repo: { full_name: REPOSITORY } }, base: { repo: { full_name: REPOSITORY } } }
    const pr = { owner: 'octo-org', repo: 'octo-repo', number: 5 }
    const opened = await run('pull_request', { action: 'opened', number: 5, pull_request: pullRequest }, {})
    expect(opened.stdout).not.toMatch(/::error/)
    expect(opened.exitCode).toBe(0)
    expect(opened.outputs['stack-name']).toBe('e2e-pmcp-pr5-stack')
    expect(service.calls('createDeploymentFromS3').at(-1)?.variables.projectName).toBe('e2e-pmcp-pr5')
    expectPmcpRunStack('e2e-pmcp-pr5')
    const [comment] = github.comments(pr)
    expect(github.comments(pr)).toHaveLength(1)
    expect(comment.body).toContain('<!-- pmcp-deploy:e2e-pmcp-pr5-stack -->')
    expect(comment.body).toContain(mcp.url)
    expect(comment.body).toMatch(/Smoke test passed/)

    const closed = await run('pull_request', { action: 'closed', number: 5, pull_request: pullRequest }, { command: 'destroy' })
    expect(closed.stdout).not.toMatch(/::error/)
    expect(closed.exitCode).toBe(0)
    const removedId = service.calls('destroyDeployment').at(-1)?.variables.id as string
    expect(service.deployments.get(removedId)).toMatchObject({ projectName: 'e2e-pmcp-pr5', removed: true })
    expect(service.deployments.get('dep-1')?.removed).toBe(false)
    expect(github.comments(pr)).toHaveLength(1)
    expect(github.comments(pr)[0].id).toBe(comment.id)
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
    expect(destroy.stdout).toMatch(/::error title=Destroying production needs confirmation::.*confirm-destroy: e2e-pmcp-stack/)
    expect(service.deployments.get('dep-1')?.removed).toBe(false)

    const confirmed = await run('workflow_dispatch', {}, { command: 'destroy', 'confirm-destroy': 'e2e-pmcp-stack' })
    expect(confirmed.stdout).not.toMatch(/::error/)
    expect(confirmed.exitCode).toBe(0)
    expect(service.deployments.get('dep-1')?.removed).toBe(true)
  }, 120_000)
})
