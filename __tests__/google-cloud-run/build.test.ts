/**
 * How the Cloud Run server is built on the runner: cargo-lambda (zig underneath) linking for the
 * base's glibc, the exact command line, where the binary is taken from, and the glibc check of the
 * result, with the command runner recording what would run and "building" a real host executable.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../../src/action-error.js'
import type { Plan } from '../../src/plan.js'
import type { CommandOptions, CommandResult } from '../../src/process.js'
import type { ServerBinary } from '../../src/targets/google-cloud-run/binary.js'
import { buildCloudRunBinary, cloudRunCargoArgs, linkTarget } from '../../src/targets/google-cloud-run/build.js'
import type { ToolchainResult } from '../../src/toolchain/index.js'
import { captureStdout } from '../../testkit/annotations.js'

let dir: string
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cloud-run-build-')))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const binary = (): ServerBinary => ({
  package: 'weather',
  binary: 'weather-server',
  packageDir: path.join(dir, 'weather'),
  manifestPath: path.join(dir, 'weather', 'Cargo.toml'),
  targetDirectory: path.join(dir, 'target'),
  reason: '[server] binary'
})

function planWith(base: string, inputs: Partial<Plan['inputs']> = {}): Plan {
  return {
    config: { file: '.pmcp/deploy.toml', cloudRun: { base } },
    inputs: { workingDirectory: dir, cacheOnFailure: false, ...inputs }
  } as unknown as Plan
}

const toolchain = { cargoCache: undefined } as unknown as ToolchainResult

/** Records each command and, for cargo, puts a real executable where cargo-lambda leaves the binary. */
function recordingRunner(calls: { command: string; args: string[]; options?: CommandOptions }[], exitCode = 0) {
  return async (command: string, args: string[], options?: CommandOptions): Promise<CommandResult> => {
    calls.push({ command, args, options })
    if (exitCode === 0) {
      const output = path.join(dir, 'target', 'lambda', 'weather-server', 'bootstrap')
      fs.mkdirSync(path.dirname(output), { recursive: true })
      fs.copyFileSync(process.execPath, output)
    }
    return { exitCode, stdout: '', stderr: exitCode === 0 ? '' : 'error[E0425]: cannot find value `x`\n --> src/main.rs:3:5\n' }
  }
}

describe('linkTarget', () => {
  it("links for the base's glibc: 2.36 for cargo-pmcp's distroless default, 2.31 for Debian 11", () => {
    expect(linkTarget('gcr.io/distroless/cc-debian12')).toMatchObject({ target: 'x86_64-unknown-linux-gnu.2.36' })
    expect(linkTarget('gcr.io/distroless/cc-debian11').target).toBe('x86_64-unknown-linux-gnu.2.31')
  })

  it('links for glibc 2.17 when the base is unknown, and says why', () => {
    expect(linkTarget('registry.example.com/team/base:7')).toEqual({
      target: 'x86_64-unknown-linux-gnu.2.17',
      why: 'glibc 2.17, the oldest Rust supports: the glibc of base registry.example.com/team/base:7 is not known to the action'
    })
  })

  it('refuses a base without a C library before anything is built', () => {
    expect(() => linkTarget('gcr.io/distroless/static-debian12')).toThrow(ActionError)
    expect(() => linkTarget('gcr.io/distroless/static-debian12')).toThrow(/has no C library.*gcr.io\/distroless\/cc-debian12/s)
  })
})

describe('buildCloudRunBinary', () => {
  it('runs cargo lambda build for the chosen package and binary, with default features, and takes its bootstrap', async () => {
    expect(cloudRunCargoArgs(binary(), 'x86_64-unknown-linux-gnu.2.36')).toEqual([
      'lambda',
      'build',
      '--release',
      '--target',
      'x86_64-unknown-linux-gnu.2.36',
      '--manifest-path',
      path.join(dir, 'weather', 'Cargo.toml'),
      '-p',
      'weather',
      '--bin',
      'weather-server'
    ])
    const calls: { command: string; args: string[]; options?: CommandOptions }[] = []
    const { result, output } = await captureStdout(() =>
      buildCloudRunBinary(planWith('gcr.io/distroless/cc-debian12'), toolchain, binary(), {
        run: recordingRunner(calls),
        host: { os: 'linux', arch: 'x86_64' }
      })
    )
    expect(calls).toHaveLength(1)
    expect(calls[0].command).toBe('cargo')
    expect(calls[0].args).toEqual(cloudRunCargoArgs(binary(), 'x86_64-unknown-linux-gnu.2.36'))
    expect(calls[0].options?.cwd).toBe(path.join(dir, 'weather'))
    expect(result?.binaryPath).toBe(path.join(dir, 'target', 'lambda', 'weather-server', 'bootstrap'))
    expect(output).toContain("linked for glibc 2.36, the base's (distroless Debian 12)")
    // node itself stands in for the server: a dynamically linked x86_64 executable of this machine (Debian 12).
    expect(result?.glibc.summary).toMatch(/dynamically linked, needs glibc 2\.\d+; base gcr.io\/distroless\/cc-debian12 has glibc 2\.36/)
  })

  it("with build-command runs it through bash and takes binary-path; a failure names the input and the compiler's error", async () => {
    const calls: { command: string; args: string[] }[] = []
    const built = path.join(dir, 'target', 'lambda', 'weather-server', 'bootstrap')
    const { result } = await captureStdout(() =>
      buildCloudRunBinary(planWith('example.com/base:1', { buildCommand: 'make server', binaryPath: built }), toolchain, binary(), {
        run: recordingRunner(calls)
      })
    )
    expect(calls.map(call => [call.command, ...call.args])).toEqual([['bash', '-c', 'make server']])
    expect(result?.binaryPath).toBe(built)

    const { error } = await captureStdout(() =>
      buildCloudRunBinary(planWith('example.com/base:1', { buildCommand: 'make server' }), toolchain, binary(), {
        run: recordingRunner([], 2)
      })
    )
    expect(error).toBeInstanceOf(ActionError)
    expect((error as Error).message).toMatch(/Input 'build-command' \(`make server`\) exited with code 2\.\nerror\[E0425\]/)
  })
})
