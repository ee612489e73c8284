/**
 * setupToolchain with the real rustup of this machine (offline: it cannot reach its server, which
 * is exactly the locked-down-runner case) and tools from the local release server.
 */
import { jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runCommand, type CommandRunner } from '../../src/process.js'
import type { HostPlatform } from '../../src/toolchain/command.js'
import { setupToolchain, type ToolchainOptions } from '../../src/toolchain/index.js'
import {
  sha256Hex,
  executableTarball,
  fakeExecutable,
  sha256File,
  startReleaseServer,
  type ReleaseServer
} from '../../testkit/release-server.js'
import { LocalCache } from '../../testkit/local-cache.js'

const host: HostPlatform = { os: 'linux', arch: 'x86_64' }
const hasRustup = runCommand('rustup', ['--version'], { silent: true }).then(r => r.exitCode === 0)

let work: string
let project: string
let server: ReleaseServer
let zigSha: string
const savedEnv = { ...process.env }

/** Records every command line and runs it for real. */
function recordingRunner(calls: string[][], exitCodes: number[] = []): CommandRunner {
  return async (command, args, options) => {
    calls.push([command, ...args])
    const result = await runCommand(command, args, { ...options, silent: true })
    exitCodes.push(result.exitCode)
    return result
  }
}

function options(overrides: Partial<ToolchainOptions> = {}): ToolchainOptions {
  return {
    workingDirectory: project,
    repositoryRoot: project,
    architecture: 'x86_64',
    rustToolchain: 'stable',
    smokeEngine: 'none',
    cache: false,
    cargoLambda: { version: '1.8.5', urlTemplate: `${server.url}/cl/v{version}/cargo-lambda-v{version}.{arch}-unknown-linux-musl.tar.gz` },
    zig: { version: '0.14.0', urlTemplate: `${server.url}/zig/{version}/zig-linux-{arch}-{version}.tar.xz`, sha256: zigSha },
    mcpTester: { version: '2.22.4', urlTemplate: `${server.url}/sdk/v{version}/mcp-tester-{arch}-unknown-linux-gnu` },
    host,
    ...overrides
  }
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-setup-'))
  process.env.RUNNER_TOOL_CACHE = path.join(work, 'tool-cache')
  process.env.RUNNER_TEMP = path.join(work, 'temp')
  fs.mkdirSync(process.env.RUNNER_TEMP)
  const cargoLambda = executableTarball('cargo-lambda', fakeExecutable('cargo-lambda', '1.8.5'))
  const zig = executableTarball('zig', fakeExecutable('zig', '0.14.0'), { folder: 'zig-linux-x86_64-0.14.0', compression: 'xz' })
  const tester = Buffer.from(fakeExecutable('mcp-tester', '2.22.4'))
  zigSha = sha256Hex(zig)
  server = await startReleaseServer({
    '/cl/v1.8.5/cargo-lambda-v1.8.5.x86_64-unknown-linux-musl.tar.gz': cargoLambda,
    '/cl/v1.8.5/cargo-lambda-v1.8.5.x86_64-unknown-linux-musl.tar.gz.sha256': sha256File(cargoLambda, 'cargo-lambda.tar.gz'),
    '/zig/0.14.0/zig-linux-x86_64-0.14.0.tar.xz': zig,
    '/sdk/v2.22.4/mcp-tester-x86_64-unknown-linux-gnu': tester,
    '/sdk/v2.22.4/mcp-tester-x86_64-unknown-linux-gnu.sha256': sha256File(tester, 'mcp-tester')
  })
})

afterAll(async () => {
  await server.close()
  fs.rmSync(work, { recursive: true, force: true })
  process.env = savedEnv
})

beforeEach(async () => {
  if (!(await hasRustup)) {
    if (process.env.CI === 'true') throw new Error('rustup is required for these tests')
    console.warn('rustup is not installed: skipping')
  }
  project = fs.mkdtempSync(path.join(work, 'project-'))
  fs.rmSync(process.env.RUNNER_TOOL_CACHE!, { recursive: true, force: true })
  server.requests.length = 0
  delete process.env.RUSTUP_TOOLCHAIN
})

describe('setupToolchain', () => {
  it('uses the installed toolchain with a warning when rustup cannot update it, and installs only the tools needed', async () => {
    if (!(await hasRustup)) return
    const calls: string[][] = []
    const exitCodes: number[] = []
    const written: string[] = []
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    let result
    try {
      result = await setupToolchain(options({ run: recordingRunner(calls, exitCodes), buildCommand: 'make', smokeEngine: 'builtin' }))
    } finally {
      spy.mockRestore()
    }
    expect(calls[0]).toEqual(['rustup', 'toolchain', 'install', 'stable', '--profile', 'minimal', '--no-self-update'])
    expect(result.rustcVersion).toMatch(/^rustc \d+\.\d+\.\d+/)
    expect(process.env.RUSTUP_TOOLCHAIN).toBe('stable')
    expect([result.cargoLambda, result.zig, result.mcpTester]).toEqual([undefined, undefined, undefined])
    expect(server.requests).toEqual([])
    // Offline (as here), the failed install must have produced the warning.
    if (exitCodes[0] !== 0)
      expect(written.some(line => line.startsWith('::warning::') && line.includes('using the toolchain already installed'))).toBe(true)
  })

  it('installs cargo-lambda and zig for a cargo-lambda build, mcp-tester for its smoke test, with the Lambda target', async () => {
    if (!(await hasRustup)) return
    const calls: string[][] = []
    const result = await setupToolchain(options({ run: recordingRunner(calls), smokeEngine: 'mcp-tester' }))
    expect(calls[0]).toEqual([
      'rustup',
      'toolchain',
      'install',
      'stable',
      '--profile',
      'minimal',
      '--no-self-update',
      '--target',
      'x86_64-unknown-linux-gnu'
    ])
    expect(result).toMatchObject({ cargoLambda: '1.8.5', zig: '0.14.0', mcpTester: '2.22.4' })
    expect(result.tools.map(t => t.source)).toEqual(['download', 'download', 'download'])
    expect(result.cargoCache).toBeUndefined()
  })

  it('honours rust-toolchain.toml over the input and keeps RUSTUP_TOOLCHAIN unset', async () => {
    if (!(await hasRustup)) return
    const installed = (await runCommand('rustup', ['toolchain', 'list'], { silent: true })).stdout
    const channel = /^nightly/m.test(installed) ? 'nightly' : 'stable'
    fs.writeFileSync(path.join(project, 'rust-toolchain.toml'), `[toolchain]\nchannel = "${channel}"\ncomponents = ["rustfmt"]\n`)
    const calls: string[][] = []
    const result = await setupToolchain(options({ run: recordingRunner(calls), buildCommand: 'make', rustToolchain: '1.2.3' }))
    expect(calls[0]).toEqual([
      'rustup',
      'toolchain',
      'install',
      channel,
      '--profile',
      'minimal',
      '--no-self-update',
      '--component',
      'rustfmt'
    ])
    expect(result.toolchain).toBe(channel)
    if (channel === 'nightly') expect(result.rustcVersion).toContain('nightly')
    expect(process.env.RUSTUP_TOOLCHAIN).toBeUndefined()
  })

  it('fails with what to do when the toolchain is neither installable nor installed', async () => {
    if (!(await hasRustup)) return
    const offline = (await runCommand('rustup', ['toolchain', 'list'], { silent: true })).stdout
    if (/^1\.2\.3/m.test(offline)) return
    const failing: CommandRunner = async (command, args, opts) =>
      command === 'rustup' && args[0] === 'toolchain'
        ? { exitCode: 1, stdout: '', stderr: 'error: could not download file' }
        : runCommand(command, args, { ...opts, silent: true })
    await expect(setupToolchain(options({ run: failing, buildCommand: 'make', rustToolchain: '1.2.3' }))).rejects.toThrow(
      /rustup could not install '1\.2\.3' \(error: could not download file\) and it is not installed/
    )
  })

  it('fails when offline and the Lambda target is missing', async () => {
    if (!(await hasRustup)) return
    const targets = (await runCommand('rustup', ['target', 'list', '--installed', '--toolchain', 'stable'], { silent: true })).stdout
    if (targets.includes('aarch64-unknown-linux-gnu')) return
    const failing: CommandRunner = async (command, args, opts) =>
      command === 'rustup' && args[0] === 'toolchain'
        ? { exitCode: 1, stdout: '', stderr: 'error: could not download file' }
        : runCommand(command, args, { ...opts, silent: true })
    await expect(setupToolchain(options({ run: failing, architecture: 'arm64' }))).rejects.toThrow(
      /lacks the target aarch64-unknown-linux-gnu/
    )
  })

  it('restores the cargo cache and the tools from the Actions cache on a fresh runner', async () => {
    if (!(await hasRustup)) return
    const cache = new LocalCache(path.join(work, 'store'))
    const first = await setupToolchain(options({ cache: true, cacheService: cache, cargoHome: path.join(work, 'cargo-home') }))
    expect(first.cargoCache?.restoredKey).toBeUndefined()
    expect(cache.saves).toHaveLength(2)

    fs.rmSync(process.env.RUNNER_TOOL_CACHE!, { recursive: true, force: true })
    server.requests.length = 0
    const second = await setupToolchain(options({ cache: true, cacheService: cache, cargoHome: path.join(work, 'cargo-home') }))
    expect(second.tools.map(t => t.source)).toEqual(['actions-cache', 'actions-cache'])
    expect(server.requests).toEqual([])
    expect(second.cargoCache?.key).toBe(first.cargoCache?.key)
  })
})
