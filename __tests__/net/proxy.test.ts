import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { awsClient } from '../../src/aws/clients.js'
import { ActionError } from '../../src/errors.js'
import {
  awsProxyAgents,
  describeRoute,
  installProxySupport,
  networkFailureReason,
  proxyFor,
  proxySettings,
  redactProxyUrl
} from '../../src/net/proxy.js'
import { installCargoLambda, type ToolInstallContext } from '../../src/toolchain/tools.js'
import { parseAnnotations } from '../../testkit/annotations.js'
import {
  describeWithTinyproxy,
  exposeOnNetwork,
  networkAddress,
  startForwardProxy,
  type Exposed,
  type ForwardProxy
} from '../../testkit/forward-proxy.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { freePort } from '../../testkit/processes.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { executableTarball, fakeExecutable, sha256File, startReleaseServer, type ReleaseServer } from '../../testkit/release-server.js'
import { REPO_ROOT } from '../../testkit/workdir.js'

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']
const savedEnv = { ...process.env }

function clearProxyVariables(): void {
  for (const name of PROXY_VARIABLES) delete process.env[name]
}

beforeEach(clearProxyVariables)
afterAll(() => {
  process.env = savedEnv
})

describe('the proxy rule (the one @actions/http-client applies)', () => {
  it('takes HTTPS_PROXY for https and HTTP_PROXY for http, neither standing in for the other', () => {
    const env = { HTTPS_PROXY: 'http://secure-proxy:3128' }
    expect(proxyFor('https://api.pmcp.run/graphql', env)).toEqual({ proxy: new URL('http://secure-proxy:3128'), variable: 'HTTPS_PROXY' })
    expect(proxyFor('http://mirror.example.com/zig.tar.xz', env)).toBeUndefined()
    expect(proxyFor('http://mirror.example.com/zig.tar.xz', { HTTP_PROXY: 'proxy.corp:8080' })?.proxy.href).toBe('http://proxy.corp:8080/')
    expect(proxyFor('https://x.example.com', { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' })?.proxy.host).toBe('lower:1')
  })

  it('never proxies loopback, and NO_PROXY exempts a host, host:port, subdomains, or everything', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128', HTTP_PROXY: 'http://proxy:3128' }
    expect(proxyFor('http://127.0.0.1:5000/', env)).toBeUndefined()
    expect(proxyFor('http://localhost:5000/', env)).toBeUndefined()
    expect(proxyFor('http://[::1]:5000/', env)).toBeUndefined()
    const noProxy = { ...env, NO_PROXY: 'internal.corp, .amazonaws.com,mirror.example.com:8443' }
    expect(proxyFor('https://internal.corp/', noProxy)).toBeUndefined()
    expect(proxyFor('https://git.internal.corp/', noProxy)).toBeUndefined()
    expect(proxyFor('https://sts.us-east-1.amazonaws.com/', noProxy)).toBeUndefined()
    expect(proxyFor('https://mirror.example.com:8443/x', noProxy)).toBeUndefined()
    expect(proxyFor('https://mirror.example.com/x', noProxy)).toBeDefined()
    expect(proxyFor('https://github.com/', noProxy)).toBeDefined()
    expect(proxyFor('https://github.com/', { ...env, no_proxy: '*' })).toBeUndefined()
  })

  it('never shows the credentials of a proxy URL', () => {
    const env = { HTTPS_PROXY: 'http://alice:s3cret@proxy.corp:3128', NO_PROXY: '.internal' }
    expect(redactProxyUrl(env.HTTPS_PROXY)).toBe('http://proxy.corp:3128')
    expect(proxySettings(env)).toBe('HTTPS_PROXY=http://proxy.corp:3128, NO_PROXY=.internal')
    const route = describeRoute('https://api.pmcp.run/', env)
    expect(route).toMatch(/through the proxy http:\/\/proxy\.corp:3128/)
    expect(route).not.toMatch(/alice|s3cret/)
    expect(describeRoute('https://a.internal/', env)).toMatch(/directly, not through a proxy, as NO_PROXY lists \.internal/)
    expect(describeRoute('https://api.pmcp.run/', {})).toMatch(/No proxy is set/)
  })

  it('reads the cause of a network failure rather than "fetch failed"', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:3128'), { code: 'ECONNREFUSED' })
    expect(networkFailureReason(new TypeError('fetch failed', { cause }))).toBe('fetch failed: connect ECONNREFUSED 10.0.0.1:3128')
  })

  it('changes nothing without proxy variables', () => {
    expect(awsProxyAgents({})).toBeUndefined()
    expect(installProxySupport({})).toBe(false)
  })
})

const host = { os: 'linux', arch: 'x86_64' } as const
const CARGO_LAMBDA = '/cargo-lambda/releases/download/v{version}/cargo-lambda-v{version}.{arch}-unknown-linux-musl.tar.gz'
// @actions/tool-cache waits 10-20 s between download attempts; these globals of its own shorten that.
const retryWaits = globalThis as { TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS?: number; TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS?: number }

describeWithTinyproxy('through a real forwarding proxy (tinyproxy)', () => {
  let proxy: ForwardProxy
  let work: string

  beforeAll(async () => {
    proxy = await startForwardProxy()
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-proxy-'))
    retryWaits.TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS = 0
    retryWaits.TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS = 0
  })

  afterAll(async () => {
    await proxy?.stop()
    fs.rmSync(work, { recursive: true, force: true })
    delete retryWaits.TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS
    delete retryWaits.TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS
  })

  describe('tool downloads (@actions/tool-cache)', () => {
    let releases: ReleaseServer
    let exposed: Exposed

    beforeAll(async () => {
      releases = await startReleaseServer()
      exposed = await exposeOnNetwork(Number(new URL(releases.url).port))
      for (const version of ['1.8.5', '1.8.6', '1.8.7', '1.8.8']) {
        const name = `cargo-lambda-v${version}.x86_64-unknown-linux-musl.tar.gz`
        const tarball = executableTarball('cargo-lambda', fakeExecutable('cargo-lambda', version))
        releases.setFile(`/cargo-lambda/releases/download/v${version}/${name}`, tarball)
        releases.setFile(`/cargo-lambda/releases/download/v${version}/${name}.sha256`, sha256File(tarball, name))
      }
    })

    afterAll(async () => {
      await exposed?.close()
      await releases?.close()
    })

    beforeEach(() => {
      // A new runner for each: empty tool cache and temp.
      const runner = fs.mkdtempSync(path.join(work, 'runner-'))
      process.env.RUNNER_TOOL_CACHE = path.join(runner, 'tool-cache')
      process.env.RUNNER_TEMP = path.join(runner, 'temp')
      fs.mkdirSync(process.env.RUNNER_TEMP, { recursive: true })
      releases.requests.length = 0
    })

    const context: ToolInstallContext = { host, run: async () => ({ exitCode: 1, stdout: '', stderr: 'no commands here' }) }
    const install = (version: string): ReturnType<typeof installCargoLambda> =>
      installCargoLambda({ version, urlTemplate: exposed.url + CARGO_LAMBDA }, context)

    it('go through HTTP_PROXY: the proxy log shows the release host', async () => {
      process.env.HTTP_PROXY = proxy.url
      const before = proxy.requests().length
      const tool = await install('1.8.5')
      expect(tool.source).toBe('download')
      expect(releases.requests).toHaveLength(2)
      // @actions/http-client tunnels (CONNECT) through the proxy, for http targets too: once for the tarball, once for its .sha256.
      expect(proxy.requests().slice(before)).toEqual([`CONNECT ${exposed.host}:${exposed.port}`, `CONNECT ${exposed.host}:${exposed.port}`])
    })

    it('go directly when NO_PROXY lists the host, and when no proxy is set', async () => {
      process.env.HTTP_PROXY = proxy.url
      process.env.NO_PROXY = `localhost,${exposed.host}`
      const before = proxy.requests().length
      expect((await install('1.8.6')).source).toBe('download')
      clearProxyVariables()
      expect((await install('1.8.7')).source).toBe('download')
      expect(releases.requests).toHaveLength(4)
      expect(proxy.requests().length).toBe(before)
    })

    it('through a proxy that refuses the connection fail with an annotation naming the URL, the inputs and the proxy', async () => {
      const closedPort = await freePort()
      process.env.HTTP_PROXY = `http://alice:s3cret@127.0.0.1:${closedPort}`
      process.env.NO_PROXY = 'internal.corp'
      const failure = await install('1.8.8').catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(ActionError)
      const error = failure as ActionError
      expect(error.title).toBe('Could not download cargo-lambda')
      expect(error.message).toContain(`${exposed.url}/cargo-lambda/releases/download/v1.8.8/`)
      expect(error.message).toMatch(/ECONNREFUSED/)
      expect(error.message).toContain(
        `through the proxy http://127.0.0.1:${closedPort} (HTTP_PROXY=http://127.0.0.1:${closedPort}, NO_PROXY=internal.corp)`
      )
      expect(error.message).toContain("'cargo-lambda-url' and 'cargo-lambda-version' inputs")
      expect(error.message).not.toMatch(/alice|s3cret/)
      expect(releases.requests).toEqual([])
    })

    it('through a proxy that denies the tunnel say what the proxy answered', async () => {
      const strict = await startForwardProxy({ connectPorts: [443] })
      try {
        process.env.HTTP_PROXY = strict.url
        const failure = install('1.8.8')
        await expect(failure).rejects.toThrow(ActionError)
        await expect(failure).rejects.toThrow(/could not be reached: .*403.*through the proxy/s)
        expect(strict.requests()).toContain(`CONNECT ${exposed.host}:${exposed.port}`)
        expect(releases.requests).toEqual([])
      } finally {
        await strict.stop()
      }
    })
  })

  describe("Node's global fetch (the MCP smoke test's client)", () => {
    let mcp: TestMcpServer
    let exposed: Exposed

    beforeAll(async () => {
      mcp = await startMcpServer()
      exposed = await exposeOnNetwork(Number(new URL(mcp.url).port))
    })

    afterAll(async () => {
      await exposed?.close()
      await mcp?.close()
    })

    async function smokeTest(env: Record<string, string>): Promise<{ code: number; stdout: string }> {
      const childEnv: Record<string, string | undefined> = { ...process.env, ...env }
      const script = path.join(REPO_ROOT, '__tests__', 'net', 'smoke-through-proxy.ts')
      try {
        const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, `${exposed.url}/mcp`], {
          cwd: REPO_ROOT,
          env: childEnv
        })
        return { code: 0, stdout }
      } catch (error) {
        const failed = error as { code?: number; stdout?: string }
        return { code: failed.code ?? 1, stdout: failed.stdout ?? '' }
      }
    }

    it('goes through the proxy once installProxySupport ran (as the action does at start-up)', async () => {
      const before = proxy.requests().length
      const run = await smokeTest({ HTTP_PROXY: proxy.url })
      expect(run.code).toBe(0)
      const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { installed: boolean; summary: { failed: number } }
      expect(result.installed).toBe(true)
      expect(result.summary.failed).toBe(0)
      // undici's ProxyAgent tunnels (CONNECT) to the MCP server.
      expect(proxy.requests().slice(before)).toContain(`CONNECT ${exposed.host}:${exposed.port}`)
    })

    it('goes directly when NO_PROXY lists the host, and when no proxy is set', async () => {
      const before = proxy.requests().length
      expect((await smokeTest({ HTTP_PROXY: proxy.url, NO_PROXY: exposed.host })).code).toBe(0)
      expect((await smokeTest({})).code).toBe(0)
      expect(proxy.requests().length).toBe(before)
    })

    it('through a proxy that refuses the connection is a failed smoke test naming the URL and the proxy', async () => {
      const closedPort = await freePort()
      const run = await smokeTest({ HTTP_PROXY: `http://127.0.0.1:${closedPort}` })
      expect(run.code).toBe(0)
      const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { summary: { failed: number }; errors: string[] }
      expect(result.summary.failed).toBe(1)
      expect(result.errors[0]).toContain(`${exposed.url}/mcp`)
      expect(result.errors[0]).toContain(`through the proxy http://127.0.0.1:${closedPort}`)
      expect(parseAnnotations(run.stdout).filter(a => a.level === 'error')).toEqual([])
    })
  })

  describeWithMoto('the AWS SDK (awsClient)', () => {
    let moto: MotoServer
    let exposed: Exposed
    let restore: () => void

    beforeAll(async () => {
      moto = await startMoto()
      exposed = await exposeOnNetwork(moto.port)
      restore = useMotoEnvironment(moto)
      process.env.AWS_ENDPOINT_URL = exposed.url
    })

    afterAll(async () => {
      restore?.()
      await exposed?.close()
      await moto?.stop()
    })

    const callerIdentity = async (): Promise<string | undefined> =>
      (await awsClient(STSClient, { region: 'us-east-1' }).send(new GetCallerIdentityCommand({}))).Account

    it('goes through HTTP_PROXY to an http endpoint: the proxy log shows the request to moto', async () => {
      process.env.HTTP_PROXY = proxy.url
      const before = proxy.requests().length
      expect(await callerIdentity()).toMatch(/^\d{12}$/)
      // http-proxy-agent sends the request itself to the proxy, with the absolute URL.
      expect(proxy.requests().slice(before)).toEqual([`POST ${exposed.url}/`])
    })

    it('goes directly when NO_PROXY lists the endpoint, when it is loopback, and when no proxy is set', async () => {
      const before = proxy.requests().length
      process.env.HTTP_PROXY = proxy.url
      process.env.NO_PROXY = networkAddress()
      expect(await callerIdentity()).toMatch(/^\d{12}$/)
      delete process.env.NO_PROXY
      process.env.AWS_ENDPOINT_URL = moto.endpoint
      try {
        expect(await callerIdentity()).toMatch(/^\d{12}$/)
      } finally {
        process.env.AWS_ENDPOINT_URL = exposed.url
      }
      clearProxyVariables()
      expect(await callerIdentity()).toMatch(/^\d{12}$/)
      expect(proxy.requests().length).toBe(before)
    })

    it('through a proxy that refuses the connection fails with the network error, not a hang', async () => {
      process.env.HTTP_PROXY = `http://127.0.0.1:${await freePort()}`
      await expect(callerIdentity()).rejects.toThrow(/ECONNREFUSED/)
    })
  })
})
