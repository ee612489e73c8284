/**
 * The smoke-test token through `node dist/index.js`: a rollback of a pull request's preview whose
 * MCP server (real, on loopback) answers with a debug page echoing its request headers. The smoke
 * test fails quoting that page, so the token reaches the report; it must not reach the job summary,
 * the action outputs, the PR comment (local GitHub API) or any file under the working directory.
 * The log itself is masked by the runner, which the `::add-mask::` line asks it to do.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { bootstrapZip, createDeployedFunction, createExecutionRole, sha } from '../../testkit/lambda-fixture.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { describeWithMoto, startMoto, type MotoServer } from '../../testkit/moto.js'
import { runAction } from '../../testkit/runner.js'
import { REPOSITORY, ROLE, runnerEnv } from '../../testkit/runner-setup.js'
import { startTokenService, type TokenService } from '../../testkit/token-service.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

const HEAD_SHA = '7e57ab1e7e57ab1e7e57ab1e7e57ab1e7e57ab1e'
const PR_NUMBER = 31

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap(entry => {
    const full = path.join(entry.parentPath, entry.name)
    return entry.isFile() && fs.readFileSync(full).includes(needle) ? [full] : []
  })
}

describeWithMoto('a smoke-test token the MCP server echoes, through node dist/index.js', () => {
  let moto: MotoServer
  let tokens: TokenService
  let github: FakeGitHubApi
  let mcp: TestMcpServer
  let repo: { dir: string; remove: () => void }
  let scratch: string
  const aws = { region: 'us-east-1' }
  const token = `smk-${randomBytes(16).toString('hex')}`

  beforeAll(async () => {
    ;[moto, tokens, github, mcp] = await Promise.all([
      startMoto(),
      startTokenService(),
      FakeGitHubApi.start(),
      startMcpServer({ echoHeadersWith: 400 })
    ])
    process.env.AWS_ENDPOINT_URL = moto.endpoint
    process.env.AWS_ACCESS_KEY_ID = 'testing'
    process.env.AWS_SECRET_ACCESS_KEY = 'testing'
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-redaction-'))
    repo = makeWorkDir('redaction')
    writeConfig(repo.dir, '[server]\nname = "leaky"\n')
    const roleArn = await createExecutionRole(aws)
    const deploys = ['a', 'b'].map((seed, i) => ({ commit: sha(seed), runId: String(i + 1), zip: bootstrapZip(seed) }))
    await createDeployedFunction(aws, { functionName: `leaky-pr${PR_NUMBER}`, roleArn, deploys })
  }, 120_000)

  afterAll(async () => {
    await Promise.all([moto?.stop(), tokens?.stop(), github?.stop(), mcp?.close()])
    repo?.remove()
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[name]
  })

  it('keeps the token out of the summary, the outputs, the PR comment and the files', async () => {
    const pullRequest = { number: PR_NUMBER, head: { sha: HEAD_SHA, repo: { full_name: REPOSITORY } } }
    const result = await runAction(
      {
        command: 'rollback',
        'working-directory': path.relative(REPO_ROOT, repo.dir),
        'aws-region': 'us-east-1',
        'role-to-assume': ROLE,
        'smoke-test': 'builtin',
        'smoke-test-url': mcp.url,
        'smoke-test-token': token,
        'github-token': 'ghs_redactiontest'
      },
      {
        ...runnerEnv(scratch, moto, tokens, {
          name: 'pull_request',
          payload: { action: 'synchronize', number: PR_NUMBER, pull_request: pullRequest },
          sha: HEAD_SHA,
          runId: '3131'
        }),
        GITHUB_API_URL: github.url
      }
    )

    // The run: the alias moved back, the server saw the token and answered with it, the smoke test failed.
    expect(result.stdout).toMatch(/^::error title=Smoke test failed after the rollback::/m)
    expect(result.exitCode).toBe(1)
    expect(result.outputs['function-version']).toBe('1')
    expect(result.outputs['smoke-test']).toBe('failed')
    expect(mcp.requests.map(request => request.authorization)).toContain(`Bearer ${token}`)
    expect(result.stdout).toContain(`::add-mask::${token}`)

    // What the action wrote: the server's page is reported, the token in it is not.
    expect(result.summary).toContain('Request headers:<br>')
    expect(result.summary).toContain('authorization: Bearer \\*\\*\\*')
    const [comment, ...more] = github.comments({ owner: 'octo-org', repo: 'octo-repo', number: PR_NUMBER })
    expect(more).toEqual([])
    expect(comment.body).toContain('authorization: Bearer \\*\\*\\*')
    for (const [where, text] of [
      ['summary', result.summary],
      ['outputs', JSON.stringify(result.outputs)],
      ['comment', comment.body]
    ]) {
      expect({ where, leaked: text.includes(token) }).toEqual({ where, leaked: false })
    }
    expect(filesContaining(repo.dir, token)).toEqual([])
  }, 120_000)
})
