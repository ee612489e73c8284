/**
 * The deploy → PR comment (with the infrastructure diff against production) → rollback flow of the
 * demo, as the end-to-end tests run it: `node dist/index.js` with a runner's environment against
 * moto_server (AWS), a local OIDC token service, a local GitHub API and a real MCP server, all on
 * 127.0.0.1.
 */
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createServerRepository, deployInputs, REPOSITORY, runnerEnv, type RunnerEvent } from '../testkit/runner-setup.js'
import { FakeGitHubApi } from '../testkit/github-api.js'
import { startMcpServer, type TestMcpServer } from '../testkit/mcp-server.js'
import { startMoto, type MotoServer } from '../testkit/moto.js'
import { runAction, type ActionRun } from '../testkit/runner.js'
import { startTokenService, type TokenService } from '../testkit/token-service.js'
import { REPO_ROOT } from '../testkit/workdir.js'
import { annotations, requireSuccess } from './action-run.js'
import { detail, type Cleanup, type Progress } from './progress.js'

export const DEPLOY_FLOW_PHASES = 5

const MOTO_PLUGIN = path.join(REPO_ROOT, 'testkit', 'fixtures', 'moto-cfn-lambda-alias.py')
const PR_NUMBER = 7
const FIRST_COMMIT = { sha: 'a11ce0000000000000000000000000000000a11c', runId: '1001' }
const SECOND_COMMIT = { sha: 'b0b0000000000000000000000000000000000b0b', runId: '1002' }
const PR_COMMIT = { sha: 'c0de000000000000000000000000000000000c0d', runId: '1003' }

interface LocalServices {
  moto: MotoServer
  tokens: TokenService
  github: FakeGitHubApi
  mcp: TestMcpServer
  /** The user's repository: the server crate, examples/hello's .pmcp/deploy.toml, deploy/ CDK project. */
  repoDir: string
  /** Cargo's target dir, event payloads, tool caches. */
  scratch: string
}

const HONEST_NOTE = [
  'What is local in the next phases:',
  '  AWS        moto_server on 127.0.0.1, taught Lambda aliases and versions by testkit/fixtures/moto-cfn-lambda-alias.py.',
  '             moto’s CloudFormation cannot create API Gateway v2 routes, so the stack deployed is not the one above:',
  '             it is the repository’s own CDK project in deploy/ (testkit/fixtures/moto-alias-cdk-app: the Lambda',
  '             function, a version per deploy, alias live; no HTTP API), which the action uses instead of rendering one.',
  '  server     a dependency-free crate built with `cargo build --offline` (build-command); nothing runs it on moto.',
  '  MCP URL    the stack’s McpUrl output points at a real MCP server (@modelcontextprotocol/sdk) on 127.0.0.1.',
  '  GitHub     a local token service (OIDC) and a local REST API that stores the PR comment.'
]

/** Starts one service and registers its stop at once, so a failure of another still stops it. */
async function started<T>(cleanup: Cleanup, start: Promise<T>, stop: (service: T) => unknown): Promise<T> {
  const service = await start
  cleanup.add(() => stop(service))
  return service
}

async function startLocalServices(cleanup: Cleanup): Promise<LocalServices> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-demo-'))
  cleanup.add(() => fs.rmSync(scratch, { recursive: true, force: true }))
  const repo = createServerRepository('demo-repo', 'moto-alias-cdk-app')
  cleanup.add(repo.remove)
  fs.copyFileSync(path.join(REPO_ROOT, 'examples', 'hello', '.pmcp', 'deploy.toml'), path.join(repo.dir, '.pmcp', 'deploy.toml'))
  const [moto, tokens, github, mcp] = await Promise.all([
    started(cleanup, startMoto({ plugin: MOTO_PLUGIN }), service => service.stop()),
    started(cleanup, startTokenService(), service => service.stop()),
    started(cleanup, FakeGitHubApi.start(), service => service.stop()),
    started(cleanup, startMcpServer({ path: '/mcp' }), service => service.close())
  ])
  detail(
    `moto_server (AWS)        ${moto.endpoint}`,
    `OIDC token service       ${tokens.url.split('/_apis')[0]}`,
    `GitHub REST API          ${github.url}`,
    `MCP server (McpUrl)      ${mcp.url}`,
    `repository               ${path.relative(REPO_ROOT, repo.dir)}/ (Cargo.toml, src/, .pmcp/deploy.toml, deploy/)`
  )
  return { moto, tokens, github, mcp, repoDir: repo.dir, scratch }
}

/** One run of the action as the runner starts it for `event`; AWS credentials only come from OIDC. */
function runOnRunner(services: LocalServices, event: RunnerEvent, inputs: Record<string, string>, signal: AbortSignal): Promise<ActionRun> {
  return runAction(
    { ...deployInputs(services.repoDir, services.scratch), 'github-token': 'ghs_demo-token', ...inputs },
    {
      ...runnerEnv(services.scratch, services.moto, services.tokens, event),
      GITHUB_API_URL: services.github.url,
      FIXTURE_MCP_URL: services.mcp.url
    },
    { signal }
  )
}

function printOutputs(run: ActionRun, names: string[], indent = ''): void {
  for (const name of names) if (run.outputs[name] !== undefined) detail(`${indent}${`${name}:`.padEnd(18)} ${run.outputs[name]}`)
}

/** Warning annotations of a run, each one only the first time (they differ at most in a temp path). */
function warningPrinter(): (run: ActionRun) => void {
  const shown = new Set<string>()
  return run => {
    const fresh = annotations(run, ['warning']).filter(line => {
      const key = line.replace(/'\/[^']*'/g, "'…'")
      if (shown.has(key)) return false
      shown.add(key)
      return true
    })
    if (fresh.length > 0) detail('annotations (each shown once):', ...fresh.map(line => `  ${line}`))
  }
}

/**
 * The job summary's key lines: headings, table rows and text, without blank lines, HTML, console
 * links or the outputs table (the outputs are printed above it).
 */
function summaryKeyLines(summary: string): string[] {
  let section = ''
  return summary
    .split('\n')
    .map(line => line.trimEnd())
    .filter(line => {
      if (line.startsWith('#')) section = line.replace(/^#+\s*/, '')
      if (section === 'Outputs') return false
      return (
        line !== '' &&
        !/^\|[\s|:-]+\|$/.test(line) &&
        !/^<\/?\w[^>]*>$/.test(line) &&
        !line.startsWith('<!--') &&
        !line.startsWith('AWS console:')
      )
    })
}

const push = (commit: { sha: string; runId: string }): RunnerEvent => ({
  name: 'push',
  payload: { ref: 'refs/heads/main', after: commit.sha },
  ...commit
})

/** Phases 3–7 of the demo. */
export async function runDeployFlow(progress: Progress, cleanup: Cleanup, signal: AbortSignal): Promise<void> {
  for (const line of HONEST_NOTE) console.log(line)
  console.log('')
  const services = await progress.phase('start the local stand-ins', () => startLocalServices(cleanup))
  const printWarnings = warningPrinter()

  await progress.phase('push to main → deploy production   (toolchain, cargo build, OIDC, cdk deploy, smoke test)', async () => {
    const run = requireSuccess(await runOnRunner(services, push(FIRST_COMMIT), {}, signal))
    printOutputs(run, ['stack-name', 'function-version', 'smoke-test', 'mcp-url', 'aws-account-id', 'rustc-version'])
    printWarnings(run)
  })

  await progress.phase('push to main again → deploy a new version', async () => {
    const run = requireSuccess(await runOnRunner(services, push(SECOND_COMMIT), {}, signal))
    printOutputs(run, ['stack-name', 'function-version', 'previous-version', 'smoke-test'])
    printWarnings(run)
  })

  await progress.phase(`pull_request #${PR_NUMBER} opened → preview stack + PR comment with the infrastructure diff`, async () => {
    // The pull request changes the server: a new binary, so production's function would get new code.
    fs.writeFileSync(
      path.join(services.repoDir, 'src', 'main.rs'),
      `fn main() {\n    println!("hello from pull request #${PR_NUMBER}");\n}\n`
    )
    const [owner, repo] = REPOSITORY.split('/')
    // The action reads the PR's state before deploying its preview (a closed PR gets none): it is open.
    services.github.setPullRequest({ owner, repo, number: PR_NUMBER })
    const pullRequest = {
      number: PR_NUMBER,
      head: { sha: PR_COMMIT.sha, repo: { full_name: REPOSITORY } },
      base: { repo: { full_name: REPOSITORY } }
    }
    const event = {
      name: 'pull_request',
      payload: { action: 'opened', number: PR_NUMBER, pull_request: pullRequest },
      ...PR_COMMIT
    }
    const run = requireSuccess(await runOnRunner(services, event, {}, signal))
    printOutputs(run, ['stack-name', 'function-version', 'smoke-test'])
    printWarnings(run)
    const comments = services.github.comments({ owner, repo, number: PR_NUMBER })
    if (comments.length !== 1) throw new Error(`expected one comment on PR #${PR_NUMBER}, the local GitHub API has ${comments.length}`)
    if (!comments[0].body.includes('#### Infrastructure diff against production'))
      throw new Error(`the comment on PR #${PR_NUMBER} has no infrastructure diff against production`)
    detail(
      '',
      `the comment on ${REPOSITORY}#${PR_NUMBER}, by ${comments[0].user.login} (markdown):`,
      '',
      ...comments[0].body.split('\n').map(line => `│ ${line}`),
      ''
    )
  })

  await progress.phase('workflow_dispatch rollback-to: previous → alias live moves back   (no build, no CloudFormation)', async () => {
    const event = { name: 'workflow_dispatch', payload: { inputs: { 'rollback-to': 'previous' } }, sha: SECOND_COMMIT.sha, runId: '1004' }
    const run = requireSuccess(await runOnRunner(services, event, { command: 'rollback', 'rollback-to': 'previous' }, signal))
    detail('action outputs (GITHUB_OUTPUT):')
    printOutputs(run, Object.keys(run.outputs).sort(), '  ')
    printWarnings(run)
    detail('', 'job summary (GITHUB_STEP_SUMMARY):', ...summaryKeyLines(run.summary).map(line => `│ ${line}`), '')
    // The demo's own check of moto; the SDK's notice about Node 20 support is not about the action.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
    const lambda = new LambdaClient({
      region: 'us-east-1',
      endpoint: services.moto.endpoint,
      credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' }
    })
    const functionName = (JSON.parse(run.outputs['outputs-json']) as { FunctionName: string }).FunctionName
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }))
    lambda.destroy()
    detail(`moto now says: alias live of ${functionName} → version ${alias.FunctionVersion}`)
    if (alias.FunctionVersion !== run.outputs['function-version'])
      throw new Error(`alias live is on version ${alias.FunctionVersion}, the action reported ${run.outputs['function-version']}`)
  })
}
