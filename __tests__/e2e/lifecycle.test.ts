/**
 * The preview lifecycle end to end (`node dist/index.js` against moto_server, the OIDC token service,
 * the GitHub API stand-in and a real MCP server): a production deploy only from the production
 * branch, the infrastructure diff against production in the PR comment (and
 * `fail-on-destructive-changes`), the late `synchronize` run after a PR was closed, and
 * `command: cleanup`. One moto and one cargo target dir serve the whole file; the tests run in order
 * and build on each other's stacks (production first, then previews).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FakeGitHubApi, type PullRequestRef } from '../../testkit/github-api.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { describeWithMoto, startMoto, type MotoServer } from '../../testkit/moto.js'
import { runAction, type ActionRun } from '../../testkit/runner.js'
import { createServerRepository, deployInputs, REPOSITORY, runnerEnv } from '../../testkit/runner-setup.js'
import { startTokenService, type TokenService } from '../../testkit/token-service.js'

const MAIN_SHA = 'aaaa000000000000000000000000000000000001'
const PR_SHA = 'bbbb000000000000000000000000000000000002'
const [OWNER, REPO] = REPOSITORY.split('/')
const SERVER = 'lc-mcp'
/**
 * Preview stacks of a CDK project of the user's own carry neither the description the action
 * renders nor its `managed-by` tag unless the project or `cdk-args` adds the tag; cleanup only
 * removes stacks that carry one of them.
 */
const PREVIEW_CDK_ARGS = '--method=direct --tags managed-by=pmcp/deploy-action'

describeWithMoto('preview lifecycle end to end (node dist/index.js, moto, GitHub API stand-in)', () => {
  let moto: MotoServer
  let tokens: TokenService
  let github: FakeGitHubApi
  let mcp: TestMcpServer
  let repo: { dir: string; remove: () => void }
  let scratch: string
  let runs = 0
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
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-lifecycle-'))
    repo = createServerRepository('e2e-lifecycle-repo', 'moto-cdk-app')
    fs.writeFileSync(
      path.join(repo.dir, '.pmcp', 'deploy.toml'),
      `[target]\ntype = "aws-lambda"\nversion = "1.0.0"\n\n[server]\nname = "${SERVER}"\nmcp_path = "/mcp"\n`
    )
  }, 120_000)

  afterAll(async () => {
    await Promise.all([moto?.stop(), tokens?.stop(), github?.stop(), mcp?.close()])
    repo?.remove()
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[name]
  })

  /** A run as the runner starts it for `eventName`; `env` overrides the runner's variables (GITHUB_REF). */
  function run(eventName: string, payload: object, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
    const sha = eventName.startsWith('pull_request') ? PR_SHA : MAIN_SHA
    return runAction(
      { ...deployInputs(repo.dir, scratch), 'github-token': 'ghs_lifecycle', cache: 'false', ...inputs },
      {
        ...runnerEnv(scratch, moto, tokens, { name: eventName, payload, sha, runId: String(7000 + ++runs) }),
        GITHUB_API_URL: github.url,
        FIXTURE_MCP_URL: mcp.url,
        ...env
      }
    )
  }

  /**
   * The run's warning annotations, but the one this machine gives every run: rustup cannot reach
   * static.rust-lang.org offline, and the installed toolchain is used.
   */
  function warnings(result: ActionRun): string[] {
    return result.stdout.split('\n').filter(line => line.startsWith('::warning') && !line.includes('rustup could not install or update'))
  }

  const pr = (number: number): PullRequestRef => ({ owner: OWNER, repo: REPO, number })

  /** A pull_request run for PR `number` (the payload as GitHub wrote it when the run was queued). */
  function pullRequestRun(action: string, number: number, inputs: Record<string, string> = {}): Promise<ActionRun> {
    const pullRequest = { number, head: { sha: PR_SHA, repo: { full_name: REPOSITORY } }, base: { repo: { full_name: REPOSITORY } } }
    // Every preview here is a new stack, which hotswap cannot create: no hotswap attempt first.
    const previewInputs = { 'cdk-args': PREVIEW_CDK_ARGS, hotswap: 'false', ...inputs }
    return run('pull_request', { action, number, pull_request: pullRequest }, previewInputs)
  }

  /** Deploys the preview of open PR `number`. */
  async function deployPreview(number: number): Promise<ActionRun> {
    github.setPullRequest(pr(number))
    const opened = await pullRequestRun('opened', number)
    expect(opened.stdout).not.toMatch(/::error/)
    expect(warnings(opened)).toEqual([])
    expect(opened.exitCode).toBe(0)
    expect(await stackStatus(`${SERVER}-pr${number}-stack`)).toBe('CREATE_COMPLETE')
    return opened
  }

  async function stackStatus(stackName: string): Promise<string | undefined> {
    try {
      return (await new CloudFormationClient(aws).send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0]?.StackStatus
    } catch {
      return undefined
    }
  }

  /** The server's source, changed as a pull request would: a new binary, so new Lambda code. */
  function changeServerSource(greeting: string): void {
    fs.writeFileSync(path.join(repo.dir, 'src', 'main.rs'), `fn main() {\n    println!("${greeting}");\n}\n`)
  }

  it('a production deploy from a branch that is not the production branch is refused: nothing built, nothing deployed', async () => {
    const tokenRequests = tokens.requests.length
    const result = await run('push', { ref: 'refs/heads/feature', after: MAIN_SHA }, {}, { GITHUB_REF: 'refs/heads/feature' })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toContain(
      '::error title=Production deploy refused%3A refs/heads/feature is not the production branch::' +
        "A production deploy runs only from the production branch main (the repository's default branch); " +
        'this run is on refs/heads/feature, so nothing was built or deployed. ' +
        "To deploy production from this ref, set the input 'production-branch: feature'"
    )
    expect(result.stdout).not.toMatch(/cargo build|cdk deploy/)
    expect(tokens.requests).toHaveLength(tokenRequests)
    expect(await stackStatus(`${SERVER}-stack`)).toBeUndefined()
    expect(result.summary).toContain(`${SERVER}-stack`)
    expect(result.summary).toMatch(/deploy failed/)
    expect(result.summary).toContain('runs only from the production branch main')
  }, 60_000)

  it('a preview deploy: the PR comment shows the infrastructure diff against the deployed production stack', async () => {
    const production = await run('push', { ref: 'refs/heads/main', after: MAIN_SHA }, {})
    expect(production.stdout).not.toMatch(/::error/)
    expect(production.exitCode).toBe(0)
    expect(await stackStatus(`${SERVER}-stack`)).toBe('CREATE_COMPLETE')

    changeServerSource('hello from the pull request')
    github.setPullRequest(pr(21))
    const preview = await pullRequestRun('opened', 21)
    expect(preview.stdout).not.toMatch(/::error/)
    expect(warnings(preview)).toEqual([])
    expect(preview.exitCode).toBe(0)
    expect(await stackStatus(`${SERVER}-pr21-stack`)).toBe('CREATE_COMPLETE')
    expect(github.requestsOf('GET', /^\/repos\/octo-org\/octo-repo\/pulls\/21$/)).toHaveLength(1)

    // The new binary changes production's function code and publishes a new version in its place.
    const [comment] = github.comments(pr(21))
    expect(github.comments(pr(21))).toHaveLength(1)
    expect(comment.body).toContain('#### Infrastructure diff against production')
    expect(comment.body).toMatch(/^Against production <code>lc-mcp-stack<\/code>: [^\n]*1 changed/m)
    expect(comment.body).toMatch(/^\| <code>Server[0-9A-F]{8}<\/code> \| AWS::Lambda::Function \| ✏️ changed \| [^|]*Code[^|]* \|$/m)
    expect(comment.body).toMatch(/^\| <code>ServerCurrentVersion[0-9A-Fa-f]+<\/code> \| AWS::Lambda::Version \| (➖ removed|🔁 replaced)/m)
    expect(comment.body).not.toContain('Destructive changes')
    expect(preview.summary).toContain('Infrastructure diff against production')
    expect(preview.summary).toMatch(/^\| <code>Server[0-9A-F]{8}<\/code> \| AWS::Lambda::Function \| ✏️ changed \|/m)
    expect(preview.stdout).toMatch(/Infrastructure diff against production lc-mcp-stack: \d+ resources change/)
  }, 600_000)

  it('fail-on-destructive-changes: a change that removes production’s log group fails before the preview is deployed', async () => {
    // No deploy.toml change makes one in the rendered stack (production's user pool and log group are
    // retained: dropping them orphans them), and moto cannot deploy that stack anyway. A CDK project of the
    // user's own can: here production (another server) holds a log group, not retained, that its app no
    // longer declares.
    const server = 'lc-logs-mcp'
    fs.writeFileSync(
      path.join(repo.dir, '.pmcp', 'logs.toml'),
      `[target]\ntype = "aws-lambda"\nversion = "1.0.0"\n\n[server]\nname = "${server}"\nmcp_path = "/mcp"\n`
    )
    const productionTemplate = {
      Resources: { ServerLogs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: `/aws/lambda/${server}`, RetentionInDays: 30 } } }
    }
    const cloudFormation = new CloudFormationClient(aws)
    await cloudFormation.send(new CreateStackCommand({ StackName: `${server}-stack`, TemplateBody: JSON.stringify(productionTemplate) }))
    github.setPullRequest(pr(22))

    const result = await pullRequestRun('opened', 22, { config: '.pmcp/logs.toml', 'fail-on-destructive-changes': 'true' })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toContain(
      '::error title=Destructive changes to production::This change would replace or remove resources of production stack ' +
        'lc-logs-mcp-stack that hold data: ServerLogs (AWS::Logs::LogGroup) removed. ' +
        'The preview was not deployed (fail-on-destructive-changes: true).\n'
    )
    expect(result.stdout).not.toMatch(/cdk deploy lc-logs-mcp-pr22-stack/)
    expect(await stackStatus(`${server}-pr22-stack`)).toBeUndefined()
    const template = await cloudFormation.send(new GetTemplateCommand({ StackName: `${server}-stack` }))
    expect(JSON.parse(template.TemplateBody ?? '{}')).toEqual(productionTemplate)
    const [comment] = github.comments(pr(22))
    expect(comment.body).toContain(
      '🛑 **Destructive changes to production** <code>lc-logs-mcp-stack</code>: resources that hold data would be replaced or removed\n\n' +
        '- <code>ServerLogs</code> (AWS::Logs::LogGroup) removed'
    )
    expect(result.summary).toContain('Destructive changes to production')
  }, 300_000)

  it('a synchronize run that starts after the PR was closed deploys nothing and removes the preview', async () => {
    await deployPreview(23)
    github.setPullRequest(pr(23), { state: 'closed', merged: true })

    const late = await pullRequestRun('synchronize', 23)
    expect(late.stdout).not.toMatch(/::error/)
    expect(warnings(late)).toEqual([])
    expect(late.exitCode).toBe(0)
    expect(late.stdout).toContain(
      '::notice title=Deploy skipped::Pull request #23 is merged: its preview is not deployed, ' +
        'and lc-mcp-pr23-stack is removed if it exists.\n'
    )
    expect(late.stdout).not.toMatch(/cargo build|cdk deploy/)
    expect(await stackStatus(`${SERVER}-pr23-stack`)).toBeUndefined()
    expect(github.comments(pr(23))).toHaveLength(1)
    expect(github.comments(pr(23))[0].body).toMatch(/removed/i)
  }, 600_000)

  it('command: cleanup removes the preview of a closed PR and keeps the open PR’s', async () => {
    expect(await stackStatus(`${SERVER}-pr21-stack`)).toBe('CREATE_COMPLETE')
    // PR 24 was closed and its destroy never ran: its preview stack is still there, with the action's tag.
    await new CloudFormationClient(aws).send(
      new CreateStackCommand({
        StackName: `${SERVER}-pr24-stack`,
        TemplateBody: JSON.stringify({ Resources: { Logs: { Type: 'AWS::Logs::LogGroup' } } }),
        Tags: [{ Key: 'managed-by', Value: 'pmcp/deploy-action' }]
      })
    )
    github.setPullRequest(pr(24), { state: 'closed' })

    const requestsBefore = github.requests.length
    const cleanup = await run('schedule', { schedule: '0 3 * * *' }, { command: 'cleanup' })
    expect(cleanup.stdout).not.toMatch(/::error/)
    expect(warnings(cleanup)).toEqual([])
    expect(cleanup.exitCode).toBe(0)
    expect(await stackStatus(`${SERVER}-pr24-stack`)).toBeUndefined()
    expect(await stackStatus(`${SERVER}-pr21-stack`)).toBe('CREATE_COMPLETE')
    expect(await stackStatus(`${SERVER}-stack`)).toBe('CREATE_COMPLETE')
    expect(cleanup.summary).toContain(`## 🧹 Previews of <code>${SERVER}</code> cleaned up: 1 removed, 1 kept`)
    expect(cleanup.summary).toContain(
      [
        '### Previews',
        '',
        '| Preview | PR | State | Age | Action | Reason |',
        '| --- | --- | --- | --- | --- | --- |',
        '| <code>lc-mcp-pr24-stack</code> | #24 | closed | 0 d | 🗑️ removed | PR #24 is closed |',
        '| <code>lc-mcp-pr21-stack</code> | #21 | open | 0 d | kept | PR #21 is open |'
      ].join('\n')
    )
    expect(github.requests.slice(requestsBefore).map(request => `${request.method} ${request.path}`)).toEqual([
      'GET /repos/octo-org/octo-repo/pulls/21',
      'GET /repos/octo-org/octo-repo/pulls/24'
    ])
    expect(github.comments(pr(24))).toHaveLength(0)
  }, 120_000)
})
