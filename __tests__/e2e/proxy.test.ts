/**
 * The proxy variables end to end: `node dist/index.js` deploys testkit/fixtures/pmcp-run-ranker to a local
 * pmcp.run (as __tests__/e2e/pmcp-run.test.ts does) with HTTPS_PROXY / HTTP_PROXY pointing at a real
 * forwarding proxy (tinyproxy, testkit/forward-proxy.ts), and the proxy's log shows which of the action's
 * network calls went through it.
 *
 * The action never proxies loopback (see __tests__/net/proxy.test.ts), so every stand-in is reached at this
 * machine's network address through a TCP relay of its own: pmcp.run (discovery, token endpoint, GraphQL),
 * its presigned upload URLs (another relay to the same server, as S3 is another host than the API), the MCP
 * server the smoke test warms up before mcp-tester runs, the GitHub API (the sticky PR comment) and the
 * release server mcp-tester is downloaded from. Each relay has its own port, so each stand-in is one
 * `host:port` in the proxy's request lines (`CONNECT host:port`, or `METHOD http://host:port/...`).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describeWithTinyproxy, exposeOnNetwork, startForwardProxy, type Exposed, type ForwardProxy } from '../../testkit/forward-proxy.js'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { PmcpRunService } from '../../testkit/pmcp-run-service.js'
import { sha256File, startReleaseServer, type ReleaseServer } from '../../testkit/release-server.js'
import { runAction, type ActionRun } from '../../testkit/runner.js'
import { realShapedPayload, REPOSITORY } from '../../testkit/runner-setup.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'

const HEAD_SHA = 'decade0123456789abcdef0123456789abcdef01'
const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64'
/** mcp-tester as the smoke test runs it (`test <url> --format json …`): a passing report. */
const MCP_TESTER =
  '#!/bin/sh\necho \'{"tests":[{"name":"Initialize","category":"Core","status":"Passed","duration":{"secs":0,"nanos":1000000}}]}\'\n'
const PR = { owner: 'octo-org', repo: 'octo-repo', number: 9 }
const PULL_REQUEST = { number: 9, head: { sha: HEAD_SHA, repo: { full_name: REPOSITORY } }, base: { repo: { full_name: REPOSITORY } } }

type StandIn = 'pmcp.run' | 'upload' | 'MCP server' | 'GitHub API' | 'release server'

describeWithTinyproxy(
  'node dist/index.js through a forwarding proxy (tinyproxy): pmcp.run, uploads, MCP server, GitHub API, releases',
  () => {
    let proxy: ForwardProxy
    let service: PmcpRunService
    let github: FakeGitHubApi
    let mcp: TestMcpServer
    let releases: ReleaseServer
    const relays = {} as Record<StandIn, Exposed>
    let repo: { dir: string; remove: () => void }
    let scratch: string
    const binaryPath = (): string => path.join(scratch, 'target', 'release', 'bootstrap')

    beforeAll(async () => {
      const tester = Buffer.from(MCP_TESTER)
      ;[proxy, github, mcp, releases] = await Promise.all([
        startForwardProxy(),
        FakeGitHubApi.start(),
        startMcpServer({ path: '/mcp' }),
        startReleaseServer({
          [`/sdk/v2.22.4/mcp-tester-${ARCH}-unknown-linux-gnu`]: tester,
          [`/sdk/v2.22.4/mcp-tester-${ARCH}-unknown-linux-gnu.sha256`]: sha256File(tester, 'mcp-tester')
        })
      ])
      relays['MCP server'] = await exposeOnNetwork(Number(new URL(mcp.url).port))
      relays['GitHub API'] = await exposeOnNetwork(Number(new URL(github.url).port))
      relays['release server'] = await exposeOnNetwork(Number(new URL(releases.url).port))
      // pmcp.run answers with the relay's URLs: the deployment's, discovery's endpoints, the presigned uploads.
      service = await PmcpRunService.start({ deploymentUrl: `${relays['MCP server'].url}/mcp` })
      const servicePort = Number(new URL(service.url).port)
      relays['pmcp.run'] = await exposeOnNetwork(servicePort)
      relays.upload = await exposeOnNetwork(servicePort)
      service.url = relays['pmcp.run'].url
      service.uploadUrl = relays.upload.url
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-proxy-'))
      repo = makeWorkDir('e2e-proxy')
      fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'pmcp-run-ranker'), repo.dir, { recursive: true })
      // Each deploy reads the PR's state first: open, so the preview is deployed.
      github.setPullRequest(PR)
    }, 60_000)

    afterAll(async () => {
      await Promise.all(Object.values(relays).map(relay => relay.close()))
      await Promise.all([service?.stop(), github?.stop(), mcp?.close(), releases?.close(), proxy?.stop()])
      repo?.remove()
      if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
    })

    /** A pull_request run with the proxy variables (the lower-case ones emptied so the runner's own cannot count). */
    function run(action: 'opened' | 'synchronize', noProxy = ''): Promise<ActionRun> {
      const eventPath = path.join(scratch, `event-${action}.json`)
      const payload = { action, number: PR.number, pull_request: PULL_REQUEST }
      fs.writeFileSync(eventPath, JSON.stringify(realShapedPayload({ name: 'pull_request', payload, sha: HEAD_SHA, runId: '6161' })))
      return runAction(
        {
          'working-directory': path.relative(REPO_ROOT, repo.dir),
          'pmcp-client-id': service.clientId,
          'pmcp-client-secret': service.clientSecret,
          architecture: 'x86_64',
          // As in pmcp-run.test.ts: cargo builds the wrapper's bootstrap for the host, offline (no cargo-lambda download).
          'build-command': `cargo build --release --offline --locked -p ranker-lambda --target-dir "${path.join(scratch, 'target')}"`,
          'binary-path': binaryPath(),
          // mcp-tester is downloaded (a fresh tool cache each run); the smoke test warms the MCP server up with the built-in client first.
          'smoke-test': 'mcp-tester',
          'mcp-tester-version': '2.22.4',
          'mcp-tester-url': `${relays['release server'].url}/sdk/v{version}/mcp-tester-{arch}-unknown-linux-gnu`,
          'github-token': 'ghs_e2etoken'
        },
        {
          // Discovery: /.well-known/pmcp-config names the token endpoint and GraphQL URL (the relay's).
          ...service.discoveryEnv(),
          HTTPS_PROXY: proxy.url,
          HTTP_PROXY: proxy.url,
          https_proxy: '',
          http_proxy: '',
          NO_PROXY: noProxy,
          no_proxy: '',
          GITHUB_EVENT_NAME: 'pull_request',
          GITHUB_EVENT_PATH: eventPath,
          GITHUB_REPOSITORY: REPOSITORY,
          GITHUB_SHA: HEAD_SHA,
          GITHUB_RUN_ID: '6161',
          GITHUB_API_URL: relays['GitHub API'].url,
          RUNNER_TOOL_CACHE: fs.mkdtempSync(path.join(scratch, 'tool-cache-'))
        }
      )
    }

    /** The stand-ins the proxy's request lines (from index `from` on) name, by their relay's host:port. */
    function proxied(from: number): StandIn[] {
      const lines = proxy.requests().slice(from)
      const through = (relay: Exposed): boolean => {
        const hostPort = `${relay.host}:${relay.port}`
        return lines.some(line => line === `CONNECT ${hostPort}` || line.includes(` http://${hostPort}/`))
      }
      return (Object.keys(relays) as StandIn[]).filter(name => through(relays[name])).sort()
    }

    /** Every request line names one of the relays: nothing else went through the proxy (or was refused by it). */
    function expectOnlyRelays(from: number): void {
      const known = Object.values(relays).map(relay => `${relay.host}:${relay.port}`)
      for (const line of proxy.requests().slice(from)) expect(known.some(hostPort => line.includes(hostPort))).toBe(true)
    }

    /** What each stand-in received, for the run that starts now. */
    function counts(): Record<StandIn, number> {
      return {
        'pmcp.run': service.discoveryRequests.length + service.tokens.requests.length + service.graphqlCalls.length,
        upload: service.uploads.size,
        'MCP server': mcp.requests.length,
        'GitHub API': github.requests.length,
        'release server': releases.requests.length
      }
    }

    it('goes through HTTP_PROXY to every stand-in: the proxy log names pmcp.run, uploads, MCP server, GitHub API, releases', async () => {
      const before = proxy.requests().length
      const result = await run('opened')
      expect(result.stdout).not.toMatch(/::error/)
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toContain(`Proxy: HTTPS_PROXY=${proxy.url}, HTTP_PROXY=${proxy.url}`)
      expect(result.stdout).not.toContain('Pull request state unknown')

      // The deploy happened, as the stand-ins recorded it.
      expect(service.discoveryRequests.length).toBeGreaterThanOrEqual(1)
      expect(service.tokens.requests.map(r => r.answeredWith)).toEqual([200])
      expect(service.graphqlCalls.filter(call => call.rejected)).toEqual([])
      expect(service.calls('createDeploymentFromS3').map(call => call.variables.projectName)).toEqual(['ranker-pr9'])
      expect([...service.uploads.keys()].map(key => path.basename(key)).sort()).toEqual(['bootstrap.zip', 'template.json'])
      expect(service.deployments.get(result.outputs['deployment-id'])).toMatchObject({ projectName: 'ranker-pr9', removed: false })
      expect(result.outputs['mcp-url']).toBe(`${relays['MCP server'].url}/mcp`)
      expect(result.outputs['smoke-test']).toBe('passed')
      expect(result.stdout).toMatch(/mcp-tester 2\.22\.4: .* \(download\)/)
      expect(releases.requests).toContain(`/sdk/v2.22.4/mcp-tester-${ARCH}-unknown-linux-gnu`)
      expect(mcp.requests.length).toBeGreaterThan(0)
      expect(github.comments(PR)).toHaveLength(1)
      expect(github.comments(PR)[0].body).toContain(`${relays['MCP server'].url}/mcp`)

      // ... and every one of those requests went through the proxy.
      expect(proxied(before)).toEqual((['pmcp.run', 'upload', 'MCP server', 'GitHub API', 'release server'] as StandIn[]).sort())
      expectOnlyRelays(before)
    }, 400_000)

    it("goes directly to a host:port NO_PROXY names (the GitHub API's relay), through the proxy to the others", async () => {
      const githubRelay = relays['GitHub API']
      const before = proxy.requests().length
      const received = counts()
      const result = await run('synchronize', `internal.corp,${githubRelay.host}:${githubRelay.port}`)
      expect(result.stdout).not.toMatch(/::error/)
      expect(result.exitCode).toBe(0)
      expect(result.outputs['smoke-test']).toBe('passed')

      // Every stand-in was used again, the GitHub API too (the sticky comment updated, not a second one).
      const after = counts()
      expect((Object.keys(after) as StandIn[]).filter(name => after[name] <= received[name])).toEqual([])
      expect(service.calls('createDeploymentFromS3')).toHaveLength(2)
      expect(github.comments(PR)).toHaveLength(1)

      // Only the GitHub API's requests are missing from the proxy's log.
      expect(proxied(before)).toEqual((['pmcp.run', 'upload', 'MCP server', 'release server'] as StandIn[]).sort())
      expect(
        proxy
          .requests()
          .slice(before)
          .some(line => line.includes(`${githubRelay.host}:${githubRelay.port}`))
      ).toBe(false)
      expectOnlyRelays(before)
    }, 400_000)
  }
)
