import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildBootstrap, cargoLambdaEnv, compilerErrors, PROBLEM_MATCHER_FILE, type BuildOptions } from '../../src/build/index.js'
import { ActionError } from '../../src/errors.js'
import { runCommand, type CommandRunner } from '../../src/process.js'
import type { HostPlatform } from '../../src/toolchain/command.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = path.resolve(here, '../../testkit/fixtures/hello-crate')
const matcherPath = path.resolve(here, '../../src/build', PROBLEM_MATCHER_FILE)
const host: HostPlatform = { os: 'linux', arch: 'x86_64' }

let work: string
let writes: string[]
let stdoutSpy: ReturnType<typeof jest.spyOn>

/** A minimal ELF header for the given machine: what Lambda checks first. */
function elf(machine: 'x86_64' | 'aarch64'): Buffer {
  const header = Buffer.alloc(64)
  header.writeUInt32BE(0x7f454c46, 0)
  header[4] = 2
  header[5] = 1
  header.writeUInt16LE(machine === 'x86_64' ? 0x3e : 0xb7, 18)
  return header
}

function write(root: string, relative: string, content: string): void {
  const file = path.join(root, relative)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
}

function crate(root: string, dir: string, name: string, bins: string[] = []): void {
  const binTables = bins.map(bin => `[[bin]]\nname = "${bin}"\npath = "src/main.rs"\n`).join('')
  write(root, `${dir}/Cargo.toml`, `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n${binTables}`)
  write(root, `${dir}/src/main.rs`, 'fn main() {}\n')
}

interface Recorded {
  command: string
  args: string[]
  cwd?: string
  env?: Record<string, string>
}

/** Real `cargo metadata`; `cargo lambda build` is recorded and leaves a Linux binary where cargo-lambda would. */
function fakeCargoLambda(calls: Recorded[], architecture: 'x86_64' | 'aarch64', exitCode = 0): CommandRunner {
  return async (command, args, options = {}) => {
    if (args[0] !== 'lambda') return runCommand(command, args, { ...options, silent: true })
    calls.push({ command, args, cwd: options.cwd, env: options.env })
    const metadata = JSON.parse(
      (await runCommand('cargo', ['metadata', '--no-deps', '--format-version', '1', '--offline'], { cwd: options.cwd, silent: true }))
        .stdout
    )
    type Pkg = { name: string; manifest_path: string; targets: Array<{ name: string; kind: string[] }> }
    const selected = (metadata.packages as Pkg[]).find(pkg =>
      args.includes('-p') ? pkg.name === args[args.indexOf('-p') + 1] : path.dirname(pkg.manifest_path) === options.cwd
    )
    const bins = args.includes('--bin') ? [args[args.indexOf('--bin') + 1]] : selected!.targets.map(t => t.name)
    for (const bin of bins) {
      const out = path.join(metadata.target_directory, 'lambda', bin, 'bootstrap')
      fs.mkdirSync(path.dirname(out), { recursive: true })
      fs.writeFileSync(out, elf(architecture))
    }
    return exitCode === 0
      ? { exitCode, stdout: 'Finished', stderr: '' }
      : { exitCode, stdout: '', stderr: 'error[E0425]: cannot find value `x` in this scope\n --> src/main.rs:1:13\n' }
  }
}

function options(root: string, overrides: Partial<BuildOptions> = {}): BuildOptions {
  return {
    workingDirectory: root,
    architecture: 'arm64',
    serverName: 'weather',
    features: [],
    cdkDir: 'deploy',
    host,
    zigbuildCacheDir: path.join(work, 'no-zigbuild-cache'),
    problemMatcherPath: matcherPath,
    ...overrides
  }
}

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-build-'))
  writes = []
  stdoutSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk))
    return true
  })
})

afterEach(() => {
  stdoutSpy.mockRestore()
  fs.rmSync(work, { recursive: true, force: true })
})

describe('cargo lambda build command line', () => {
  it('builds a single crate for arm64 and x86_64 with its [build] features', async () => {
    crate(work, '.', 'weather', ['weather'])
    const calls: Recorded[] = []
    await buildBootstrap(options(work, { run: fakeCargoLambda(calls, 'aarch64'), features: ['auth', 'metrics'] }))
    await buildBootstrap(options(work, { run: fakeCargoLambda(calls, 'x86_64'), architecture: 'x86_64' }))
    expect(calls.map(c => [c.command, ...c.args])).toEqual([
      ['cargo', 'lambda', 'build', '--release', '--arm64', '--features=auth,metrics'],
      ['cargo', 'lambda', 'build', '--release', '--x86-64']
    ])
    expect(calls.map(c => c.cwd)).toEqual([work, work])
  })

  it('builds the <name>-lambda crate of cargo pmcp deploy init in its own directory', async () => {
    write(work, 'Cargo.toml', '[workspace]\nmembers = ["weather", "weather-lambda"]\nresolver = "2"\n')
    crate(work, 'weather', 'weather', ['weather'])
    crate(work, 'weather-lambda', 'weather-lambda', ['bootstrap'])
    const calls: Recorded[] = []
    const result = await buildBootstrap(options(work, { run: fakeCargoLambda(calls, 'aarch64') }))
    expect(calls[0].args).toEqual(['lambda', 'build', '--release', '--arm64'])
    expect(calls[0].cwd).toBe(path.join(work, 'weather-lambda'))
    expect(result.command).toEqual(['cargo', 'lambda', 'build', '--release', '--arm64'])
  })

  it('without a -lambda crate picks the package whose binary is named after the server, choosing the binary', async () => {
    write(work, 'Cargo.toml', '[workspace]\nmembers = ["core", "server"]\nresolver = "2"\n')
    crate(work, 'core', 'weather-core', ['tool'])
    crate(work, 'server', 'weather-server', ['weather', 'admin'])
    const calls: Recorded[] = []
    await buildBootstrap(options(work, { run: fakeCargoLambda(calls, 'aarch64') }))
    expect(calls[0].args).toEqual(['lambda', 'build', '--release', '--arm64', '--bin', 'weather'])
    expect(calls[0].cwd).toBe(path.join(work, 'server'))
  })

  it('selects a root package that shares its workspace with members, and prefers a bootstrap binary', async () => {
    write(
      work,
      'Cargo.toml',
      '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n' +
        '[[bin]]\nname = "bootstrap"\npath = "src/main.rs"\n[workspace]\nmembers = ["tools"]\n'
    )
    write(work, 'src/main.rs', 'fn main() {}\n')
    crate(work, 'tools', 'tools', ['weather'])
    const calls: Recorded[] = []
    await buildBootstrap(options(work, { run: fakeCargoLambda(calls, 'aarch64') }))
    expect(calls[0].args).toEqual(['lambda', 'build', '--release', '--arm64', '-p', 'app'])
    expect(calls[0].cwd).toBe(work)
  })

  it("sets cargo-pmcp's aws-lc-sys environment, keeps values the user set, and uses the zigcc wrapper when cross-compiling", () => {
    const zigbuild = path.join(work, 'cargo-zigbuild')
    write(zigbuild, '0.19.8/zigcc-aarch64-unknown-linux-gnu-1234.sh', '')
    write(zigbuild, '0.20.1/zigcc-aarch64-unknown-linux-gnu-abcd.sh', '')
    write(zigbuild, '0.20.1/ar', '')
    expect(cargoLambdaEnv('arm64', host, zigbuild, {})).toEqual({
      AWS_LC_SYS_CMAKE_BUILDER: '1',
      AWS_LC_SYS_NO_JITTER_ENTROPY: '1',
      CARGO_TERM_COLOR: 'never',
      CC_aarch64_unknown_linux_gnu: path.join(zigbuild, '0.20.1', 'zigcc-aarch64-unknown-linux-gnu-abcd.sh'),
      AR_aarch64_unknown_linux_gnu: path.join(zigbuild, '0.20.1', 'ar')
    })
    expect(cargoLambdaEnv('x86_64', host, zigbuild, { AWS_LC_SYS_CMAKE_BUILDER: '0' })).toEqual({
      AWS_LC_SYS_NO_JITTER_ENTROPY: '1',
      CARGO_TERM_COLOR: 'never'
    })
  })

  it('passes that environment to cargo lambda build', async () => {
    crate(work, '.', 'weather', ['bootstrap'])
    const calls: Recorded[] = []
    await buildBootstrap(options(work, { run: fakeCargoLambda(calls, 'aarch64') }))
    expect(calls[0].env).toMatchObject({ AWS_LC_SYS_CMAKE_BUILDER: '1', AWS_LC_SYS_NO_JITTER_ENTROPY: '1' })
  })

  it('names what it found when no crate fits', async () => {
    crate(work, '.', 'something', ['other'])
    const attempt = buildBootstrap(options(work, { run: fakeCargoLambda([], 'aarch64') }))
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(/binaries found: something:other.*build-command/s)
  })

  it('reports the compiler errors of a failed build and registers the problem matcher around it', async () => {
    crate(work, '.', 'weather', ['bootstrap'])
    const attempt = buildBootstrap(options(work, { run: fakeCargoLambda([], 'aarch64', 101) }))
    await expect(attempt).rejects.toThrow(/error\[E0425\]: cannot find value `x` in this scope\n --> src\/main.rs:1:13/)
    expect(writes.filter(w => w.startsWith('::add-matcher::'))).toEqual([`::add-matcher::${matcherPath}\n`])
    expect(writes.filter(w => w.startsWith('::remove-matcher'))).toEqual(['::remove-matcher owner=pmcp-rustc::\n'])
    expect(fs.existsSync(path.join(work, 'deploy/.build/bootstrap'))).toBe(false)
  })
})

describe('problem matcher', () => {
  it('matches rustc errors and their location, not warnings', () => {
    const matcher = JSON.parse(fs.readFileSync(matcherPath, 'utf8')).problemMatcher[0]
    const [first, second] = matcher.pattern.map((p: { regexp: string }) => new RegExp(p.regexp))
    expect(first.exec('error[E0308]: mismatched types')?.slice(1)).toEqual(['error', 'E0308', 'mismatched types'])
    expect(first.exec('error: could not compile `weather`')?.[3]).toBe('could not compile `weather`')
    expect(first.test('warning: unused variable: `x`')).toBe(false)
    expect(second.exec('  --> src/main.rs:4:18')?.slice(1)).toEqual(['src/main.rs', '4', '18'])
    expect(compilerErrors('warning: x\nerror[E0308]: mismatched types\n  --> src/main.rs:4:18\nnote: y')).toEqual([
      'error[E0308]: mismatched types',
      '  --> src/main.rs:4:18'
    ])
  })
})

describe('build-command', () => {
  it('really builds the fixture crate and puts an executable bootstrap into the CDK project', async () => {
    const target = path.join(work, 'target')
    const arch = process.arch === 'arm64' ? 'arm64' : 'x86_64'
    const result = await buildBootstrap(
      options(fixture, {
        architecture: arch,
        host: { os: 'linux', arch: arch === 'arm64' ? 'aarch64' : 'x86_64' },
        buildCommand: `cargo build --release --offline --locked --target-dir "${target}"`,
        binaryPath: path.join(target, 'release', 'hello-crate'),
        cdkDir: path.join(work, 'cdk')
      })
    )
    expect(result.bootstrapPath).toBe(path.join(work, 'cdk', '.build', 'bootstrap'))
    expect(fs.statSync(result.bootstrapPath).mode & 0o777).toBe(0o755)
    expect(result.sizeBytes).toBe(fs.statSync(path.join(target, 'release', 'hello-crate')).size)
    expect(execFileSync(result.bootstrapPath, { encoding: 'utf8' })).toBe('hello from hello-crate\n')
    expect(fs.existsSync(path.join(fixture, 'target'))).toBe(false)
  })

  it('fails with the real compiler errors of a broken crate', async () => {
    const broken = path.join(work, 'broken')
    fs.cpSync(fixture, broken, { recursive: true })
    fs.writeFileSync(path.join(broken, 'src/main.rs'), 'fn main() {\n    let n: u32 = "text";\n}\n')
    const attempt = buildBootstrap(
      options(broken, { buildCommand: 'cargo build --release --offline --color never', binaryPath: 'target/release/hello-crate' })
    )
    await expect(attempt).rejects.toThrow(/error\[E0308\]: mismatched types\n\s+--> src\/main.rs:2:18/)
  })

  it('a failing build-command is named as the input it comes from', async () => {
    await expect(buildBootstrap(options(work, { buildCommand: 'echo broken >&2; exit 3' }))).rejects.toThrow(
      /Input 'build-command' \(`echo broken >&2; exit 3`\) exited with code 3\.\nbroken/
    )
  })

  it('refuses a binary of the wrong architecture or a missing one', async () => {
    write(work, 'bin/app', '')
    fs.writeFileSync(path.join(work, 'bin/app'), elf('x86_64'))
    await expect(buildBootstrap(options(work, { buildCommand: 'true', binaryPath: 'bin/app', architecture: 'arm64' }))).rejects.toThrow(
      /x86_64 executable but the server runs on arm64/
    )
    await expect(buildBootstrap(options(work, { buildCommand: 'true', binaryPath: 'bin/missing' }))).rejects.toThrow(
      /bin\/missing does not exist/
    )
    expect(fs.existsSync(path.join(work, 'deploy/.build/bootstrap'))).toBe(false)
  })
})
