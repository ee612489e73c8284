/**
 * The action end to end, as GitHub runs it: `node dist/index.js` with INPUT_* variables, an event
 * payload, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, against moto_server (AWS), a local OIDC
 * token service, a local GitHub REST API and a real MCP server on loopback.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { describeWithMoto, startMoto, type MotoServer } from '../../testkit/moto.js'
import { runAction, type ActionRun } from '../../testkit/runner.js'
import { startTokenService, type TokenService } from '../../testkit/token-service.js'
import { createServerRepository, deployInputs, REPOSITORY, runnerEnv } from '../../testkit/runner-setup.js'
import { createDeployedFunction, createExecutionRole, bootstrapZip, sha } from '../../testkit/lambda-fixture.js'

const HEAD_SHA = 'c0ffee0123456789abcdef0123456789abcdef01'

describeWithMoto('node dist/index.js end to end (moto, token service, GitHub API, MCP server)', () => {
  let moto: MotoServer
  let tokens: TokenService
  let github: FakeGitHubApi
  let mcp: TestMcpServer
  let repo: { dir: string; remove: () => void }
  let scratch: string
  const aws = { region: 'us-east-1' }

  beforeAll(async () => {
    ;[moto, tokens, github, mcp] = await Promise.all([
      startMoto(),
      startTokenService(),
      FakeGitHubApi.start(),
      startMcpServer({ path: '/mcp' })
    ])
    process.env.AWS_ENDPOINT_URL = moto.endpoint
    process.env.AWS_ACCESS_KEY_ID = 'testing'
    process.env.AWS_SECRET_ACCESS_KEY = 'testing'
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-'))
    repo = createServerRepository('e2e-repo', 'moto-cdk-app')
    fs.writeFileSync(
      path.join(repo.dir, '.pmcp', 'deploy.toml'),
      '[target]\ntype = "aws-lambda"\n\n[server]\nname = "e2e-mcp"\nmcp_path = "/mcp"\n'
    )
  }, 120_000)

  afterAll(async () => {
    await Promise.all([moto?.stop(), tokens?.stop(), github?.stop(), mcp?.close()])
    repo?.remove()
    fs.rmSync(scratch, { recursive: true, force: true })
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[name]
  })

  /** A run as the runner starts it for `eventName` with `payload`; AWS credentials only come from OIDC. */
  function run(eventName: string, payload: object, inputs: Record<string, string>): Promise<ActionRun> {
    return runAction(
      { ...deployInputs(repo.dir, scratch), 'github-token': 'ghs_e2etoken', ...inputs },
      {
        ...runnerEnv(scratch, moto, tokens, { name: eventName, payload, sha: HEAD_SHA, runId: '4242' }),
        GITHUB_API_URL: github.url,
        FIXTURE_MCP_URL: mcp.url
      }
    )
  }

  /** Values the action masked must not appear anywhere else it wrote. */
  function expectNoLeak(result: ActionRun): void {
    const masked = [...result.stdout.matchAll(/^::add-mask::(.+)$/gm)].map(match => match[1])
    expect(masked.length).toBeGreaterThanOrEqual(3)
    const elsewhere = [result.stdout.replace(/^::add-mask::.+$/gm, ''), result.stderr, result.summary, JSON.stringify(result.outputs)].join(
      '\n'
    )
    for (const secret of masked) expect(elsewhere).not.toContain(secret)
  }

  async function stackStatus(stackName: string): Promise<string | undefined> {
    const cloudFormation = new CloudFormationClient(aws)
    try {
      return (await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0]?.StackStatus
    } catch {
      return undefined
    }
  }

  it('push: builds, assumes the role through OIDC, deploys production, smoke-tests the MCP endpoint', async () => {
    const result = await run('push', { ref: 'refs/heads/main', after: HEAD_SHA }, {})
    expect(result.stdout).not.toMatch(/::error/)
    expect(result.exitCode).toBe(0)
    expect(await stackStatus('e2e-mcp-stack')).toBe('CREATE_COMPLETE')
    expect(result.outputs['stack-name']).toBe('e2e-mcp-stack')
    expect(result.outputs['aws-account-id']).toBe('123456789012')
    expect(result.outputs['mcp-url']).toBe(mcp.url)
    expect(result.outputs['api-url']).toBe('https://e2e-mcp-stack.example.invalid')
    expect(result.outputs['smoke-test']).toBe('passed')
    expect(result.outputs['rustc-version']).toMatch(/^rustc \d+\.\d+/)
    const outputs = JSON.parse(result.outputs['outputs-json']) as Record<string, string>
    expect(Object.keys(outputs).sort()).toEqual(['ApiUrl', 'FunctionName', 'FunctionVersionArn', 'McpUrl'])
    expect(result.summary).toContain('e2e-mcp-stack')
    expect(result.summary).toMatch(/Initialize/)
    expect(github.requests).toHaveLength(0)
    expect(tokens.requests.some(request => request.audience === 'sts.amazonaws.com')).toBe(true)
    expectNoLeak(result)
  }, 300_000)

  it('pull_request: deploys a preview and keeps one comment up to date, then removes the preview on close', async () => {
    const pullRequest = { number: 7, head: { sha: HEAD_SHA, repo: { full_name: REPOSITORY } }, base: { repo: { full_name: REPOSITORY } } }
    const pr = { owner: 'octo-org', repo: 'octo-repo', number: 7 }
    // The deploy reads the PR's state first: open, so the preview is deployed.
    github.setPullRequest(pr)
    const opened = await run('pull_request', { action: 'opened', number: 7, pull_request: pullRequest }, {})
    expect(opened.stdout).not.toMatch(/::error/)
    expect(opened.exitCode).toBe(0)
    expect(opened.outputs['stack-name']).toBe('e2e-mcp-pr7-stack')
    expect(await stackStatus('e2e-mcp-pr7-stack')).toBe('CREATE_COMPLETE')
    expect(opened.stdout).not.toContain('Pull request state unknown')
    expect(github.comments(pr)).toHaveLength(1)
    const [first] = github.comments(pr)
    expect(first.body).toContain('<!-- pmcp-deploy:e2e-mcp-pr7-stack -->')
    expect(first.body).toContain(mcp.url)

    const pushed = await run('pull_request', { action: 'synchronize', number: 7, pull_request: pullRequest }, { 'smoke-test': 'none' })
    expect(pushed.exitCode).toBe(0)
    expect(pushed.outputs['smoke-test']).toBe('skipped')
    expect(github.comments(pr)).toHaveLength(1)
    expect(github.comments(pr)[0].id).toBe(first.id)

    const closed = await run('pull_request', { action: 'closed', number: 7, pull_request: pullRequest }, { command: 'destroy' })
    expect(closed.stdout).not.toMatch(/::error/)
    expect(closed.exitCode).toBe(0)
    expect(await stackStatus('e2e-mcp-pr7-stack')).toBeUndefined()
    expect(github.comments(pr)).toHaveLength(1)
    expect(github.comments(pr)[0].body).toMatch(/removed/i)
  }, 600_000)

  it('a fork pull request gets a notice, and neither deploy nor destroy asks for credentials', async () => {
    const pullRequest = {
      number: 9,
      head: { sha: HEAD_SHA, repo: { full_name: 'someone/octo-repo' } },
      base: { repo: { full_name: REPOSITORY } }
    }
    const tokenRequests = tokens.requests.length
    for (const [action, command] of [
      ['opened', 'deploy'],
      ['closed', 'destroy']
    ]) {
      const result = await run('pull_request', { action, number: 9, pull_request: pullRequest }, { command })
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toMatch(
        new RegExp(`::notice title=${command === 'deploy' ? 'Deploy' : 'Destroy'} skipped::This pull request comes from a fork`)
      )
      expect(result.stdout).not.toMatch(/::error/)
    }
    expect(tokens.requests).toHaveLength(tokenRequests)
    expect(await stackStatus('e2e-mcp-pr9-stack')).toBeUndefined()
  }, 120_000)

  it('destroy of production without confirm-destroy touches nothing', async () => {
    const result = await run('workflow_dispatch', {}, { command: 'destroy' })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/::error title=Destroying production needs confirmation::.*confirm-destroy: e2e-mcp-stack/)
    expect(await stackStatus('e2e-mcp-stack')).toBe('CREATE_COMPLETE')
  }, 120_000)

  it('workflow_dispatch rollback: moves alias live to the previous version and smoke-tests it', async () => {
    const roleArn = await createExecutionRole(aws)
    const deploys = ['a', 'b', 'c'].map((seed, i) => ({ commit: sha(seed), runId: String(i + 1), zip: bootstrapZip(seed) }))
    await createDeployedFunction(aws, { functionName: 'rollme', roleArn, deploys })
    fs.writeFileSync(path.join(repo.dir, '.pmcp', 'rollme.toml'), '[server]\nname = "rollme"\n')
    const result = await run(
      'workflow_dispatch',
      { inputs: { 'rollback-to': 'previous' } },
      { command: 'rollback', config: '.pmcp/rollme.toml', 'smoke-test-url': mcp.url }
    )
    expect(result.stdout).not.toMatch(/::error/)
    expect(result.exitCode).toBe(0)
    expect(result.outputs['previous-version']).toBe('3')
    expect(result.outputs['function-version']).toBe('2')
    expect(result.outputs['smoke-test']).toBe('passed')
    const alias = await new LambdaClient(aws).send(new GetAliasCommand({ FunctionName: 'rollme', Name: 'live' }))
    expect(alias.FunctionVersion).toBe('2')
    expect(result.summary).toContain(sha('b').slice(0, 7))
  }, 120_000)
})
