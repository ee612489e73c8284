/**
 * `rollback-on-failure` end to end: `node dist/index.js` deploys a CDK app with alias `live` to
 * moto_server (taught aliases and version numbers by moto-cfn-lambda-alias.py), a later deploy's
 * smoke test fails, and alias `live` goes back to the version before.
 *
 * The stack's McpUrl is an alias router standing in for API Gateway → alias `live`: each request goes
 * to the MCP server of the commit whose version the alias points at *at that moment* (a healthy server
 * for the good commit, a broken one whose `add` is off by one for the bad commit). So the smoke test
 * after the rollback reaches the version the alias was moved back to, as it would on AWS.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { GetAliasCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { describeWithMoto, startMoto, type MotoServer } from '../../testkit/moto.js'
import { runAction, type ActionRun } from '../../testkit/runner.js'
import { startTokenService, type TokenService } from '../../testkit/token-service.js'
import { REPO_ROOT } from '../../testkit/workdir.js'
import { createServerRepository, deployInputs, runnerEnv } from '../../testkit/runner-setup.js'

const GOOD_SHA = '600d600d0123456789abcdef0123456789abcdef'
const BAD_SHA = 'bad0bad00123456789abcdef0123456789abcdef'
const PLUGIN = path.join(REPO_ROOT, 'testkit', 'fixtures', 'moto-cfn-lambda-alias.py')
const aws = { region: 'us-east-1' }

interface AliasRouter {
  url: string
  /** The version alias `live` pointed at for each request, in order. */
  routed: string[]
  close(): Promise<void>
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function liveVersion(lambda: LambdaClient, functionName: string): Promise<{ version: string; commit: string }> {
  const alias = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }))
  const version = alias.FunctionVersion ?? ''
  const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }))
  return { version, commit: (config.Description ?? '').split(' ')[0] }
}

/** API Gateway → alias `live` → the version's code, played by the MCP server of the version's commit. */
async function startAliasRouter(functionName: string, serverOfCommit: Record<string, string>): Promise<AliasRouter> {
  const lambda = new LambdaClient(aws)
  const routed: string[] = []
  const server = http.createServer((req, res) => {
    void (async () => {
      const { version, commit } = await liveVersion(lambda, functionName)
      routed.push(version)
      const upstream = serverOfCommit[commit]
      if (!upstream) return void res.writeHead(502).end(`no server for commit ${commit} (version ${version})`)
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string' && !['host', 'connection', 'content-length'].includes(entry[0])
        )
      )
      const answer = await fetch(upstream, { method: req.method, headers, body: req.method === 'POST' ? await readBody(req) : undefined })
      res
        .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
        .end(Buffer.from(await answer.arrayBuffer()))
    })().catch(error => {
      if (!res.headersSent) res.writeHead(500).end(String(error))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    routed,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

describeWithMoto('rollback-on-failure end to end (node dist/index.js, moto with Lambda aliases)', () => {
  let moto: MotoServer
  let tokens: TokenService
  let healthy: TestMcpServer
  let broken: TestMcpServer
  const routers: AliasRouter[] = []
  let repo: { dir: string; remove: () => void }
  let scratch: string

  beforeAll(async () => {
    ;[moto, tokens, healthy, broken] = await Promise.all([
      startMoto({ plugin: PLUGIN }),
      startTokenService(),
      startMcpServer({ path: '/mcp' }),
      startMcpServer({ path: '/mcp', broken: true })
    ])
    process.env.AWS_ENDPOINT_URL = moto.endpoint
    process.env.AWS_ACCESS_KEY_ID = 'testing'
    process.env.AWS_SECRET_ACCESS_KEY = 'testing'
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-rollback-'))
    repo = createServerRepository('e2e-rollback-repo', 'moto-alias-cdk-app')
    // Adds 2 and 3 and expects 5: the broken server answers 6.
    fs.copyFileSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'scenarios', 'calculator.yaml'), path.join(repo.dir, '.pmcp', 'smoke.yaml'))
  }, 120_000)

  afterAll(async () => {
    await Promise.all([moto?.stop(), tokens?.stop(), healthy?.close(), broken?.close(), ...routers.map(router => router.close())])
    repo?.remove()
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[name]
  })

  /** A server of its own (stack, function, alias) and the router in front of its alias. */
  async function server(name: string): Promise<{ config: string; functionName: string; router: AliasRouter }> {
    const config = `.pmcp/${name}.toml`
    fs.writeFileSync(path.join(repo.dir, config), `[target]\ntype = "aws-lambda"\n\n[server]\nname = "${name}"\nmcp_path = "/mcp"\n`)
    const functionName = name // production functions are named after the server
    const router = await startAliasRouter(functionName, { [GOOD_SHA]: healthy.url, [BAD_SHA]: broken.url })
    routers.push(router)
    return { config, functionName, router }
  }

  /** A push of `sha` to main, as the runner starts it; AWS credentials only come from OIDC. */
  function push(
    sha: string,
    runId: string,
    target: { config: string; router: AliasRouter },
    inputs: Record<string, string> = {}
  ): Promise<ActionRun> {
    return runAction(
      { ...deployInputs(repo.dir, scratch), config: target.config, 'smoke-test-scenario': '.pmcp/smoke.yaml', ...inputs },
      {
        ...runnerEnv(scratch, moto, tokens, { name: 'push', payload: { ref: 'refs/heads/main', after: sha }, sha, runId }),
        FIXTURE_MCP_URL: target.router.url
      }
    )
  }

  async function aliasVersion(functionName: string): Promise<string | undefined> {
    return (await new LambdaClient(aws).send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }))).FunctionVersion
  }

  /** The first deploy of a server from the good commit: version 1, alias `live` on it, smoke test passed. */
  async function deployGoodCommit(target: { config: string; functionName: string; router: AliasRouter }): Promise<void> {
    const first = await push(GOOD_SHA, '100', target)
    expect(first.stdout).not.toMatch(/::error/)
    expect(first.exitCode).toBe(0)
    expect(first.outputs['function-version']).toBe('1')
    expect(first.outputs['previous-version']).toBeUndefined()
    expect(first.outputs['smoke-test']).toBe('passed')
    expect(JSON.parse(first.outputs['outputs-json']).AliasArn).toBe(
      `arn:aws:lambda:us-east-1:123456789012:function:${target.functionName}:live`
    )
    expect(await aliasVersion(target.functionName)).toBe('1')
  }

  it('a failed smoke test moves alias live back to the version before, smoke-tests it and fails the job', async () => {
    const target = await server('rollback-mcp')
    await deployGoodCommit(target)
    const healthyBefore = healthy.requests.length
    const brokenBefore = broken.requests.length
    target.router.routed.length = 0

    const second = await push(BAD_SHA, '101', target)
    expect(second.exitCode).toBe(1)
    expect(await aliasVersion(target.functionName)).toBe('1')
    expect(second.outputs['function-version']).toBe('2')
    expect(second.outputs['previous-version']).toBe('1')
    expect(second.outputs['smoke-test']).toBe('failed')
    // The new version was smoke-tested through the alias first, then the one it was moved back to.
    expect(target.router.routed.join(' ')).toMatch(/^(2 )+(1 )*1$/)
    expect(broken.requests.length).toBeGreaterThan(brokenBefore)
    expect(healthy.requests.length).toBeGreaterThan(healthyBefore)
    expect(second.stdout).toMatch(/^::warning::Smoke test of version 2 failed: alias live of rollback-mcp moved back to version 1$/m)
    expect(second.stdout).toMatch(
      new RegExp(
        /^::error title=Smoke test failed::The smoke test of version 2 failed: Add two numbers .*/.source +
          /Alias live was moved back to version 1; its smoke test passed\.$/.source,
        'm'
      )
    )
    expect(second.summary).toContain('the smoke test failed, rolled back to version 1')
    expect(second.summary).toMatch(/Previous version \| 1/)
    expect(second.summary).toMatch(/Add two numbers.*Failed/)
    // The versions table marks where alias live points now (1) and the version that failed (2).
    expect(second.summary).toMatch(/^\| 1 \|[^\n]*\| live \|$/m)
    expect(second.summary).toMatch(/^\| 2 \|[^\n]*\| previous \|$/m)
  }, 600_000)

  it('with rollback-on-failure false, alias live stays on the new version and the job fails', async () => {
    const target = await server('keep-mcp')
    await deployGoodCommit(target)

    const second = await push(BAD_SHA, '201', target, { 'rollback-on-failure': 'false' })
    expect(second.exitCode).toBe(1)
    expect(await aliasVersion(target.functionName)).toBe('2')
    expect(second.outputs['function-version']).toBe('2')
    expect(second.outputs['previous-version']).toBe('1')
    expect(second.outputs['smoke-test']).toBe('failed')
    expect(target.router.routed.at(-1)).toBe('2')
    expect(second.stdout).not.toMatch(/moved back/)
    expect(second.stdout).toMatch(
      /^::error title=Smoke test failed::The smoke test of version 2 failed: Add two numbers .*Alias live still points at version 2\.$/m
    )
    expect(second.summary).not.toContain('rolled back')
  }, 600_000)
})
