import { jest } from '@jest/globals'
import * as tc from '@actions/tool-cache'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../../src/errors.js'
import type { CommandRunner } from '../../src/process.js'
import { actionsCache } from '../../src/toolchain/cache-service.js'
import type { HostPlatform } from '../../src/toolchain/command.js'
import {
  cargoInstallMcpTesterArgs,
  installCargoLambda,
  installMcpTester,
  installZig,
  sdkGitUrl,
  toolCacheKey,
  type ToolInstallContext
} from '../../src/toolchain/tools.js'
import { executableTarball, fakeExecutable, sha256File, startReleaseServer, type ReleaseServer } from '../../testkit/release-server.js'
import { LocalCache } from '../../testkit/local-cache.js'

const host: HostPlatform = { os: 'linux', arch: 'x86_64' }
const refuseCommands: CommandRunner = async command => {
  throw new Error(`unexpected command ${command}`)
}

let work: string
let server: ReleaseServer
const savedEnv = { ...process.env }

const CARGO_LAMBDA_TEMPLATE = '/cargo-lambda/releases/download/v{version}/cargo-lambda-v{version}.{arch}-unknown-linux-musl.tar.gz'
const ZIG_TEMPLATE = '/zig/{version}/zig-linux-{arch}-{version}.tar.xz'
const MCP_TESTER_TEMPLATE = '/paiml/rust-mcp-sdk/releases/download/v{version}/mcp-tester-{arch}-unknown-linux-gnu'

function publishCargoLambda(version: string, checksumOf?: Buffer): string {
  const name = `cargo-lambda-v${version}.x86_64-unknown-linux-musl.tar.gz`
  const tarball = executableTarball('cargo-lambda', fakeExecutable('cargo-lambda', version))
  const urlPath = `/cargo-lambda/releases/download/v${version}/${name}`
  server.setFile(urlPath, tarball)
  server.setFile(`${urlPath}.sha256`, sha256File(checksumOf ?? tarball, name))
  return urlPath
}

function publishMcpTester(version: string): string {
  const urlPath = `/paiml/rust-mcp-sdk/releases/download/v${version}/mcp-tester-x86_64-unknown-linux-gnu`
  const binary = Buffer.from(fakeExecutable('mcp-tester', version))
  server.setFile(urlPath, binary)
  server.setFile(`${urlPath}.sha256`, sha256File(binary, 'mcp-tester-x86_64-unknown-linux-gnu'))
  return urlPath
}

function freshRunner(): void {
  // A new hosted runner: empty tool cache, empty temp.
  for (const name of ['tool-cache', 'temp']) {
    fs.rmSync(path.join(work, name), { recursive: true, force: true })
    fs.mkdirSync(path.join(work, name), { recursive: true })
  }
}

function context(overrides: Partial<ToolInstallContext> = {}): ToolInstallContext {
  return { host, run: refuseCommands, ...overrides }
}

const runTool = (dir: string, name: string): string => execFileSync(path.join(dir, name), { encoding: 'utf8' }).trim()

// @actions/tool-cache waits 10-20 s between download attempts; these globals of its own shorten that.
const retryWaits = globalThis as { TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS?: number; TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS?: number }

beforeAll(async () => {
  retryWaits.TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS = 0
  retryWaits.TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS = 0
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-tools-'))
  process.env.RUNNER_TOOL_CACHE = path.join(work, 'tool-cache')
  process.env.RUNNER_TEMP = path.join(work, 'temp')
  server = await startReleaseServer()
})

afterAll(async () => {
  await server.close()
  fs.rmSync(work, { recursive: true, force: true })
  process.env = savedEnv
  delete retryWaits.TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS
  delete retryWaits.TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS
})

beforeEach(() => {
  freshRunner()
  server.requests.length = 0
})

describe('cargo-lambda', () => {
  it('downloads, verifies and installs once; the second run is a tool-cache hit with no download', async () => {
    const urlPath = publishCargoLambda('1.8.5')
    const request = { version: '1.8.5', urlTemplate: server.url + CARGO_LAMBDA_TEMPLATE }

    const first = await installCargoLambda(request, context())
    expect(first.source).toBe('download')
    expect(server.requests).toEqual([urlPath, `${urlPath}.sha256`])
    expect(runTool(first.dir, 'cargo-lambda')).toBe('cargo-lambda 1.8.5')
    expect(first.dir).toBe(path.join(process.env.RUNNER_TOOL_CACHE!, 'cargo-lambda', '1.8.5', 'x86_64'))
    expect(process.env.PATH!.split(path.delimiter)).toContain(first.dir)

    const second = await installCargoLambda(request, context())
    expect(second).toEqual({ ...first, source: 'tool-cache' })
    expect(server.requests).toHaveLength(2)
  })

  it('on a fresh runner restores the tool from the Actions cache instead of downloading it', async () => {
    publishCargoLambda('1.8.4')
    const cache = new LocalCache(path.join(work, 'store-restore'))
    const request = { version: '1.8.4', urlTemplate: server.url + CARGO_LAMBDA_TEMPLATE }
    await installCargoLambda(request, context({ cache }))
    expect(cache.saves).toEqual([toolCacheKey('cargo-lambda', '1.8.4', host)])

    freshRunner()
    server.requests.length = 0
    const restored = await installCargoLambda(request, context({ cache }))
    expect(restored.source).toBe('actions-cache')
    expect(server.requests).toEqual([])
    expect(runTool(restored.dir, 'cargo-lambda')).toBe('cargo-lambda 1.8.4')
    expect(cache.saves).toHaveLength(1)
  })

  it('fails on a checksum mismatch and installs nothing', async () => {
    publishCargoLambda('1.8.3', Buffer.from('another file'))
    const cache = new LocalCache(path.join(work, 'store-mismatch'))
    const attempt = installCargoLambda({ version: '1.8.3', urlTemplate: server.url + CARGO_LAMBDA_TEMPLATE }, context({ cache }))
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(/Checksum mismatch|expected [0-9a-f]{64}/)
    expect(tc.find('cargo-lambda', '1.8.3', 'x86_64')).toBe('')
    expect(fs.existsSync(path.join(process.env.RUNNER_TOOL_CACHE!, 'cargo-lambda'))).toBe(false)
    expect(cache.saves).toEqual([])
    expect(fs.readdirSync(process.env.RUNNER_TEMP!)).toEqual([])
  })

  it('refuses an asset without a .sha256 beside it', async () => {
    const urlPath = publishCargoLambda('1.8.2')
    server.removeFile(`${urlPath}.sha256`)
    await expect(installCargoLambda({ version: '1.8.2', urlTemplate: server.url + CARGO_LAMBDA_TEMPLATE }, context())).rejects.toThrow(
      /\.sha256 answered HTTP 404/
    )
    expect(tc.find('cargo-lambda', '1.8.2', 'x86_64')).toBe('')
  })

  it('retries a transient server error, then says which URL and input to check on a 404', async () => {
    const urlPath = publishCargoLambda('1.8.1')
    server.setStatus(urlPath, 503)
    const failing = installCargoLambda({ version: '1.8.1', urlTemplate: server.url + CARGO_LAMBDA_TEMPLATE }, context())
    await expect(failing).rejects.toThrow(/HTTP 503.*cargo-lambda-version/s)
    // @actions/tool-cache's downloadTool: three attempts.
    expect(server.requests.filter(r => r === urlPath)).toHaveLength(3)

    server.setStatus(urlPath, undefined)
    server.requests.length = 0
    await expect(installCargoLambda({ version: '9.9.9', urlTemplate: server.url + CARGO_LAMBDA_TEMPLATE }, context())).rejects.toThrow(
      /answered HTTP 404/
    )
    expect(server.requests).toHaveLength(1)
  })

  it('rejects a version that is not exact before any download', async () => {
    await expect(installCargoLambda({ version: 'latest', urlTemplate: server.url + CARGO_LAMBDA_TEMPLATE }, context())).rejects.toThrow(
      /not an exact version/
    )
    expect(server.requests).toEqual([])
  })
})

describe('zig', () => {
  it('installs a tar.xz whose executable sits in a folder, verified against the given checksum', async () => {
    const tarball = executableTarball('zig', fakeExecutable('zig', '0.14.0'), { folder: 'zig-linux-x86_64-0.14.0', compression: 'xz' })
    server.setFile('/zig/0.14.0/zig-linux-x86_64-0.14.0.tar.xz', tarball)
    const { sha256Hex } = await import('../../testkit/release-server.js')
    const zig = await installZig({ version: '0.14.0', urlTemplate: server.url + ZIG_TEMPLATE, sha256: sha256Hex(tarball) }, context())
    expect(runTool(zig.dir, 'zig')).toBe('zig 0.14.0')
    expect(server.requests).toEqual(['/zig/0.14.0/zig-linux-x86_64-0.14.0.tar.xz'])
  })

  it('checks the pinned checksum of the default version (a tampered tarball is refused)', async () => {
    server.setFile(
      '/zig/0.13.0/zig-linux-x86_64-0.13.0.tar.xz',
      executableTarball('zig', fakeExecutable('zig', '0.13.0'), { compression: 'xz' })
    )
    await expect(installZig({ version: '0.13.0', urlTemplate: server.url + ZIG_TEMPLATE }, context())).rejects.toThrow(
      /expected d45312e61ebcc48032b77bc4cf7fd6915c11fa16e4aad116b66c9468211230ea/
    )
    expect(tc.find('zig', '0.13.0', 'x86_64')).toBe('')
  })

  it('needs a checksum for a version that is not pinned', async () => {
    server.setFile(
      '/zig/0.15.2/zig-linux-x86_64-0.15.2.tar.xz',
      executableTarball('zig', fakeExecutable('zig', '0.15.2'), { compression: 'xz' })
    )
    await expect(installZig({ version: '0.15.2', urlTemplate: server.url + ZIG_TEMPLATE }, context())).rejects.toThrow(
      /zig 0\.15\.2 has no checksum pinned/
    )
    expect(tc.find('zig', '0.15.2', 'x86_64')).toBe('')
  })
})

describe('mcp-tester', () => {
  it('downloads the release binary and verifies it', async () => {
    const urlPath = publishMcpTester('2.22.4')
    const tester = await installMcpTester({ version: '2.22.4', urlTemplate: server.url + MCP_TESTER_TEMPLATE }, context())
    expect(tester.source).toBe('download')
    expect(server.requests).toEqual([urlPath, `${urlPath}.sha256`])
    expect(runTool(tester.dir, 'mcp-tester')).toBe('mcp-tester 2.22.4')
    expect(fs.statSync(path.join(tester.dir, 'mcp-tester')).mode & 0o777).toBe(0o755)
  })

  it('falls back to cargo install when the release has no asset, with its own cache entry', async () => {
    const calls: Array<{ command: string; args: string[] }> = []
    const fakeCargo: CommandRunner = async (command, args) => {
      calls.push({ command, args })
      const root = args[args.indexOf('--root') + 1]
      fs.mkdirSync(path.join(root, 'bin'), { recursive: true })
      fs.writeFileSync(path.join(root, 'bin', 'mcp-tester'), fakeExecutable('mcp-tester', 'built'), { mode: 0o755 })
      return { exitCode: 0, stdout: '', stderr: '' }
    }
    const cache = new LocalCache(path.join(work, 'store-cargo'))
    const request = { version: '1.9.0', urlTemplate: server.url + MCP_TESTER_TEMPLATE }

    const built = await installMcpTester(request, context({ run: fakeCargo, cache }))
    expect(built.source).toBe('cargo-install')
    expect(calls).toHaveLength(1)
    const root = calls[0].args[calls[0].args.length - 1]
    expect(calls[0]).toEqual({
      command: 'cargo',
      args: ['install', 'mcp-tester', '--locked', '--git', `${server.url}/paiml/rust-mcp-sdk`, '--tag', 'v1.9.0', '--root', root]
    })
    expect(runTool(built.dir, 'mcp-tester')).toBe('mcp-tester built')
    expect(cache.saves).toEqual([toolCacheKey('mcp-tester-cargo', '1.9.0', host)])

    freshRunner()
    server.requests.length = 0
    const restored = await installMcpTester(request, context({ run: refuseCommands, cache }))
    expect(restored.source).toBe('actions-cache')
    expect(server.requests).toEqual([])
  })

  it('says what to do when cargo install fails', async () => {
    const failingCargo: CommandRunner = async () => ({ exitCode: 101, stdout: '', stderr: 'error: could not find `mcp-tester`' })
    await expect(
      installMcpTester({ version: '1.8.0', urlTemplate: server.url + MCP_TESTER_TEMPLATE }, context({ run: failingCargo }))
    ).rejects.toThrow(/smoke-test: builtin/)
    expect(tc.find('mcp-tester', '1.8.0', 'x86_64')).toBe('')
  })

  it('builds from the default SDK repository unless the URL template names another one', () => {
    expect(sdkGitUrl('https://github.com/paiml/rust-mcp-sdk/releases/download/v{version}/mcp-tester-{arch}-unknown-linux-gnu')).toBe(
      'https://github.com/paiml/rust-mcp-sdk'
    )
    expect(sdkGitUrl('https://ghe.example.com/mirror/sdk/releases/download/v{version}/x')).toBe('https://ghe.example.com/mirror/sdk')
    expect(sdkGitUrl('https://mirror.example.com/files/mcp-tester-{arch}')).toBe('https://github.com/paiml/rust-mcp-sdk')
    expect(cargoInstallMcpTesterArgs('2.22.4', '/r')).toEqual([
      'install',
      'mcp-tester',
      '--locked',
      '--git',
      'https://github.com/paiml/rust-mcp-sdk',
      '--tag',
      'v2.22.4',
      '--root',
      '/r'
    ])
  })
})

describe('cache service', () => {
  it('warns once and carries on when the Actions cache service is absent', async () => {
    for (const name of ['ACTIONS_CACHE_URL', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_SERVICE_V2']) delete process.env[name]
    publishCargoLambda('1.7.0')
    const written: string[] = []
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    try {
      const cache = { ...actionsCache }
      const tool = await installCargoLambda({ version: '1.7.0', urlTemplate: server.url + CARGO_LAMBDA_TEMPLATE }, context({ cache }))
      expect(tool.source).toBe('download')
      freshRunner()
      await installCargoLambda({ version: '1.7.0', urlTemplate: server.url + CARGO_LAMBDA_TEMPLATE }, context({ cache }))
    } finally {
      spy.mockRestore()
    }
    const warnings = written.filter(line => line.startsWith('::warning::'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/cache service is not available/)
  })
})
