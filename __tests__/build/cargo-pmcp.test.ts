/**
 * A repository prepared by `cargo pmcp deploy` 0.28 builds the same package and binary, with the same
 * cargo argv, and packages `[assets]` in cargo-pmcp's layout (assets/<relative path> beside bootstrap).
 */
import { jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  checkPackageSize,
  excludeMatches,
  globPaths,
  LAMBDA_UNZIPPED_LIMIT_BYTES,
  packageAssets,
  packageServerConfig,
  resolveAssets,
  sanitizeConfigForDeploy,
  type AssetsConfig
} from '../../src/build/assets.js'
import { buildBootstrap, type BuildOptions } from '../../src/build/index.js'
import { buildServer } from '../../src/build/server.js'
import type { CdkProject } from '../../src/cdk/project.js'
import { ActionError } from '../../src/errors.js'
import type { Plan } from '../../src/plan.js'
import { runCommand, type CommandRunner } from '../../src/process.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = path.resolve(here, '../../testkit/fixtures/cargo-pmcp-0.28-build')

let work: string
let writes: string[]

function elf(): Buffer {
  const header = Buffer.alloc(64)
  header.writeUInt32BE(0x7f454c46, 0)
  header[4] = 2
  header[5] = 1
  header.writeUInt16LE(0xb7, 18)
  return header
}

function write(relative: string, content: string | Buffer): void {
  const file = path.join(work, relative)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
}

function crate(dir: string, name: string, bins: string[]): void {
  const binTables = bins.map(bin => `[[bin]]\nname = "${bin}"\npath = "src/main.rs"\n`).join('')
  write(`${dir}/Cargo.toml`, `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n${binTables}`)
  write(`${dir}/src/main.rs`, 'fn main() {}\n')
}

interface Call {
  args: string[]
  cwd?: string
}

/** Real `cargo metadata`; `cargo lambda build` is recorded and leaves an arm64 Linux binary for each binary it builds. */
function fakeCargoLambda(calls: Call[]): CommandRunner {
  return async (command, args, options = {}) => {
    if (args[0] !== 'lambda') return runCommand(command, args, { ...options, silent: true })
    calls.push({ args, cwd: options.cwd })
    const metadata = JSON.parse(
      (await runCommand('cargo', ['metadata', '--no-deps', '--format-version', '1', '--offline'], { cwd: options.cwd, silent: true }))
        .stdout
    ) as { target_directory: string; packages: Array<{ manifest_path: string; targets: Array<{ name: string }> }> }
    const pkg = metadata.packages.find(p => path.dirname(p.manifest_path) === options.cwd)!
    const bins = args.includes('--bin') ? [args[args.indexOf('--bin') + 1]] : pkg.targets.map(t => t.name)
    for (const bin of bins) {
      const out = path.join(metadata.target_directory, 'lambda', bin, 'bootstrap')
      fs.mkdirSync(path.dirname(out), { recursive: true })
      fs.writeFileSync(out, elf())
    }
    return { exitCode: 0, stdout: 'Finished', stderr: '' }
  }
}

function options(overrides: Partial<BuildOptions> = {}): BuildOptions {
  return {
    workingDirectory: work,
    architecture: 'arm64',
    serverName: 'weather',
    features: [],
    cdkDir: 'deploy',
    host: { os: 'linux', arch: 'x86_64' },
    zigbuildCacheDir: path.join(work, 'no-zigbuild-cache'),
    problemMatcherPath: path.join(work, 'matcher.json'),
    ...overrides
  }
}

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cargo-pmcp-'))
  writes = []
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
  fs.rmSync(work, { recursive: true, force: true })
})

describe('the crate cargo pmcp deploy builds', () => {
  it('builds the <name>-lambda wrapper in its directory with cargo-pmcp argv, and takes its bootstrap', async () => {
    fs.cpSync(fixture, work, { recursive: true })
    const calls: Call[] = []
    const result = await buildBootstrap(
      options({ run: fakeCargoLambda(calls), features: ['alerts'], noDefaultFeatures: true, cdkDir: 'deploy' })
    )
    expect(calls).toEqual([
      {
        args: ['lambda', 'build', '--release', '--arm64', '--no-default-features', '--features=alerts'],
        cwd: path.join(work, 'weather-lambda')
      }
    ])
    expect(result.command).toEqual(['cargo', ...calls[0].args])
    expect(fs.readFileSync(path.join(work, 'deploy/.build/bootstrap'))).toEqual(elf())
  })

  it('takes the <name>-lambda directory whatever its package is called, and does not pass --bin when it has more binaries', async () => {
    write('Cargo.toml', '[workspace]\nmembers = ["weather-lambda", "tools"]\nresolver = "2"\n')
    crate('weather-lambda', 'lambda-wrapper', ['admin', 'bootstrap'])
    crate('tools', 'tools', ['weather'])
    const calls: Call[] = []
    await buildBootstrap(options({ run: fakeCargoLambda(calls) }))
    expect(calls).toEqual([{ args: ['lambda', 'build', '--release', '--arm64'], cwd: path.join(work, 'weather-lambda') }])
  })

  it('without that directory takes the first -lambda package by name with a bootstrap binary', async () => {
    write('Cargo.toml', '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n')
    crate('crates/weather-lambda', 'weather-lambda', ['bootstrap'])
    crate('crates/alpha-lambda', 'alpha-lambda', ['bootstrap'])
    crate('crates/server', 'server', ['bootstrap'])
    const calls: Call[] = []
    await buildBootstrap(options({ run: fakeCargoLambda(calls) }))
    expect(calls).toEqual([{ args: ['lambda', 'build', '--release', '--arm64'], cwd: path.join(work, 'crates/alpha-lambda') }])
  })

  it('builds a config-driven single crate (config.toml + schema.sql) in place, before any other bootstrap package', async () => {
    write(
      'Cargo.toml',
      '[package]\nname = "sqlsrv"\nversion = "0.1.0"\nedition = "2021"\n' +
        '[[bin]]\nname = "bootstrap"\npath = "src/main.rs"\n[[bin]]\nname = "sqlsrv"\npath = "src/main.rs"\n' +
        '[workspace]\nmembers = ["other"]\n'
    )
    write('src/main.rs', 'fn main() {}\n')
    write('config.toml', '[server]\n')
    write('schema.sql', 'CREATE TABLE t(id INTEGER);\n')
    crate('other', 'other', ['bootstrap'])
    const calls: Call[] = []
    await buildBootstrap(options({ run: fakeCargoLambda(calls), serverName: 'sqlsrv' }))
    expect(calls).toEqual([{ args: ['lambda', 'build', '--release', '--arm64'], cwd: work }])
  })

  it('refuses [build] feature names cargo-pmcp refuses, before building', async () => {
    fs.cpSync(fixture, work, { recursive: true })
    for (const bad of ['', '-x', 'a,b', 'a b']) {
      const calls: Call[] = []
      const attempt = buildBootstrap(options({ run: fakeCargoLambda(calls), features: ['ok', bad], configFile: '.pmcp/deploy.toml' }))
      await expect(attempt).rejects.toThrow(ActionError)
      await expect(attempt).rejects.toMatchObject({ title: 'Invalid [build] features', location: { file: '.pmcp/deploy.toml' } })
      expect(calls).toEqual([])
    }
  })
})

describe('[assets] patterns as the glob crate reads them', () => {
  it('expands include globs component by component; a trailing ** yields directories only', () => {
    fs.cpSync(fixture, work, { recursive: true })
    const rel = (files: string[]): string[] => files.map(f => path.relative(work, f)).sort()
    expect(rel(globPaths(work, 'resources/**/*.md'))).toEqual(['resources/guide.md', 'resources/tools/weather.md'])
    expect(rel(globPaths(work, 'resources/*'))).toEqual([
      'resources/.DS_Store',
      'resources/guide.md',
      'resources/notes.tmp',
      'resources/tools'
    ])
    expect(rel(globPaths(work, 'resources/**'))).toEqual(['resources', 'resources/tools'])
    expect(rel(globPaths(work, 'data/[c]hinook.d?'))).toEqual(['data/chinook.db'])
    expect(() => globPaths(work, 'resources/a**')).toThrow(/single path component/)
    expect(() => globPaths(work, 'data/[abc')).toThrow(/invalid range pattern/)
  })

  it('matches exclude patterns against the whole absolute path, * crossing /', () => {
    expect(excludeMatches('**/*.tmp', '/w/resources/notes.tmp')).toBe(true)
    expect(excludeMatches('*.tmp', '/w/resources/notes.tmp')).toBe(true)
    expect(excludeMatches('**/.DS_Store', '/w/resources/.DS_Store')).toBe(true)
    expect(excludeMatches('/w/resources/**', '/w/resources/tools/weather.md')).toBe(true)
    expect(excludeMatches('resources/notes.tmp', '/w/resources/notes.tmp')).toBe(false)
    expect(excludeMatches('**/*.tmp', '/w/resources/notes.tmpx')).toBe(false)
    expect(excludeMatches('[abc', '/w/x')).toBe(false)
  })
})

describe('[assets] layout', () => {
  const fixtureAssets: AssetsConfig = {
    include: ['data/*.db', 'resources/**/*.md', 'resources/*', 'config/*.toml'],
    exclude: ['**/*.tmp', '**/.DS_Store']
  }

  it('packages the included files under assets/<path relative to the working directory>, once each, minus the exclusions', () => {
    fs.cpSync(fixture, work, { recursive: true })
    const { files, warnings: found } = resolveAssets(work, fixtureAssets)
    expect(files.map(f => f.destination)).toEqual([
      'assets/config/app.toml',
      'assets/data/chinook.db',
      'assets/resources/guide.md',
      'assets/resources/tools/weather.md'
    ])
    expect(files[1]).toEqual({
      source: path.join(work, 'data/chinook.db'),
      destination: 'assets/data/chinook.db',
      sizeBytes: fs.statSync(path.join(work, 'data/chinook.db')).size
    })
    expect(found).toEqual([])
  })

  it('makes paths relative to base_dir', () => {
    fs.cpSync(fixture, work, { recursive: true })
    const { files } = resolveAssets(work, { include: ['**/*.md'], exclude: [], baseDir: 'resources' })
    expect(files.map(f => f.destination)).toEqual(['assets/guide.md', 'assets/tools/weather.md'])
  })

  it('warns (and packages nothing for it) when a pattern matches no file, or an exclude names a relative path', () => {
    fs.cpSync(fixture, work, { recursive: true })
    const { files, warnings: found } = resolveAssets(work, {
      include: ['missing/*.db', 'resources/**', 'resources/*.md'],
      exclude: ['resources/guide.md']
    })
    expect(files.map(f => f.destination)).toEqual(['assets/resources/guide.md'])
    expect(found).toEqual([
      expect.stringContaining('"missing/*.db" matches no file'),
      expect.stringMatching(/"resources\/\*\*" matches no file.*trailing `\*\*` matches directories only; write "resources\/\*\*\/\*"/),
      expect.stringMatching(/exclude "resources\/guide.md" excludes nothing.*"\*\*\/resources\/guide.md"/)
    ])
  })

  it('reports those warnings as annotations on deploy.toml', () => {
    fs.cpSync(fixture, work, { recursive: true })
    const buildDir = path.join(work, 'deploy/.build')
    packageAssets({ workingDirectory: work, assets: { include: ['missing/*'], exclude: [] }, buildDir, configFile: '.pmcp/deploy.toml' })
    expect(writes.filter(w => w.startsWith('::warning'))).toEqual([
      expect.stringMatching(/^::warning title=\[assets\],file=.pmcp\/deploy.toml::\[assets\] include "missing\/\*" matches no file/)
    ])
  })

  it('refuses a file named without wildcards that does not exist, on the include line: the server cannot start without it', () => {
    fs.cpSync(fixture, work, { recursive: true })
    let error: unknown
    try {
      resolveAssets(work, { include: ['data/*.db', 'models/ranker.onnx'], exclude: [], includeLine: 58 }, '.pmcp/deploy.toml')
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({ title: '[assets] file missing', location: { file: '.pmcp/deploy.toml', line: 58 } })
    expect((error as Error).message).toMatch(/include names "models\/ranker.onnx", which is not a file under .*nothing is built/)
    // A glob that matches nothing stays a warning, as cargo-pmcp deploys without it.
    expect(resolveAssets(work, { include: ['models/*.onnx'], exclude: [] }).warnings).toEqual([expect.stringContaining('matches no file')])
  })

  it('refuses an invalid include pattern and a file outside the package, naming deploy.toml', () => {
    fs.cpSync(fixture, work, { recursive: true })
    expect(() => resolveAssets(work, { include: ['data/***'], exclude: [] }, '.pmcp/deploy.toml')).toThrow(
      expect.objectContaining({ title: 'Invalid [assets] pattern', location: { file: '.pmcp/deploy.toml' } })
    )
    fs.writeFileSync(path.join(os.tmpdir(), `${path.basename(work)}-outside.txt`), 'x')
    try {
      expect(() => resolveAssets(work, { include: [`../../${path.basename(work)}-outside.txt`], exclude: [], baseDir: 'data' })).toThrow(
        /outside the function package/
      )
    } finally {
      fs.rmSync(path.join(os.tmpdir(), `${path.basename(work)}-outside.txt`))
    }
  })

  it('copies the files beside bootstrap, replacing what an earlier build left, and sanitizes a config-driven config.toml', () => {
    fs.cpSync(fixture, work, { recursive: true })
    const buildDir = path.join(work, 'deploy/.build')
    fs.mkdirSync(path.join(buildDir, 'assets/stale'), { recursive: true })
    fs.writeFileSync(path.join(buildDir, 'assets/stale/old.txt'), 'old')
    fs.writeFileSync(path.join(buildDir, 'bootstrap'), elf())
    const files = packageAssets({ workingDirectory: work, assets: fixtureAssets, buildDir })
    expect(files).toHaveLength(4)
    expect(fs.existsSync(path.join(buildDir, 'assets/stale'))).toBe(false)
    expect(fs.readFileSync(path.join(buildDir, 'assets/resources/tools/weather.md'), 'utf8')).toBe('# Weather tool\n')
    expect(fs.readFileSync(path.join(buildDir, 'bootstrap'))).toEqual(elf())

    write('Cargo.toml', '[package]\nname = "sql"\n[dependencies]\npmcp-server-toolkit = "0.1"\n')
    write('config.toml', '[code_mode]\n  token_secret = "dev-literal"\nname = "x"\n')
    write('schema.sql', '')
    packageAssets({ workingDirectory: work, assets: { include: ['config.toml'], exclude: [] }, buildDir })
    expect(fs.readFileSync(path.join(buildDir, 'assets/config.toml'), 'utf8')).toBe(
      '[code_mode]\n  token_secret = "${CODE_MODE_SECRET}"\nname = "x"\n'
    )
    expect(fs.readFileSync(path.join(work, 'config.toml'), 'utf8')).toContain('dev-literal')
  })

  it('keeps non-UTF-8 bytes and line endings as cargo-pmcp does', () => {
    expect(sanitizeConfigForDeploy(Buffer.from([0xff, 0x00]))).toEqual(Buffer.from([0xff, 0x00]))
    expect(sanitizeConfigForDeploy(Buffer.from('a = 1\r\ntoken_secret="s"')).toString()).toBe('a = 1\ntoken_secret = "${CODE_MODE_SECRET}"')
  })
})

describe('the server configuration (config.toml) at the package root', () => {
  it('packages config.toml beside deploy.toml, else the only instances/*.toml, as config.toml; drops a stale one', () => {
    const buildDir = path.join(work, 'deploy/.build')
    write('deploy/.build/config.toml', 'stale')
    expect(packageServerConfig(work, buildDir)).toBeUndefined()
    expect(fs.existsSync(path.join(buildDir, 'config.toml'))).toBe(false)

    write('instances/prod.toml', 'name = "prod"\n')
    expect(packageServerConfig(work, buildDir)).toEqual({
      source: path.join(work, 'instances/prod.toml'),
      destination: 'config.toml',
      sizeBytes: 14
    })
    expect(fs.readFileSync(path.join(buildDir, 'config.toml'), 'utf8')).toBe('name = "prod"\n')
    write('instances/dev.toml', '')
    expect(packageServerConfig(work, buildDir)).toBeUndefined()

    write('config.toml', 'name = "root"\n')
    expect(packageServerConfig(work, buildDir)?.source).toBe(path.join(work, 'config.toml'))
  })

  it("sanitizes a config-driven project's token_secret", () => {
    write('Cargo.toml', '[package]\nname = "sql"\n[dependencies]\npmcp-server-toolkit = "0.1"\n')
    write('config.toml', 'token_secret = "dev-literal"\n')
    write('schema.sql', '')
    packageServerConfig(work, path.join(work, 'deploy/.build'))
    expect(fs.readFileSync(path.join(work, 'deploy/.build/config.toml'), 'utf8')).toBe('token_secret = "${CODE_MODE_SECRET}"\n')
  })
})

describe('[assets] limits', () => {
  it("stops a package over Lambda's 250 MB unpacked, naming the largest files and deploy.toml", () => {
    const files = [
      { source: '/w/a.db', destination: 'assets/a.db', sizeBytes: LAMBDA_UNZIPPED_LIMIT_BYTES - 1000 },
      { source: '/w/b.md', destination: 'assets/b.md', sizeBytes: 10 }
    ]
    expect(() => checkPackageSize(files, 990, '.pmcp/deploy.toml')).not.toThrow()
    let error: unknown
    try {
      checkPackageSize(files, 991, '.pmcp/deploy.toml')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ActionError)
    expect(error).toMatchObject({ title: '[assets] too large for Lambda', location: { file: '.pmcp/deploy.toml' } })
    expect((error as Error).message).toMatch(/250\.0 MB unpacked\. Largest assets: assets\/a\.db \(250\.0 MB\), assets\/b\.md/)
  })

  it('checks before copying anything', () => {
    write('big/blob.bin', '')
    fs.truncateSync(path.join(work, 'big/blob.bin'), LAMBDA_UNZIPPED_LIMIT_BYTES)
    const buildDir = path.join(work, 'deploy/.build')
    write('deploy/.build/bootstrap', elf())
    expect(() => packageAssets({ workingDirectory: work, assets: { include: ['big/*'], exclude: [] }, buildDir })).toThrow(ActionError)
    expect(fs.existsSync(path.join(buildDir, 'assets'))).toBe(false)
  })
})

describe('buildServer', () => {
  function plan(assets: AssetsConfig): Plan {
    return {
      inputs: { workingDirectory: work, buildCommand: 'true', binaryPath: 'bin/bootstrap' },
      architecture: 'arm64',
      config: { file: '.pmcp/deploy.toml', server: { name: 'weather' }, build: { features: [], noDefaultFeatures: false }, assets }
    } as unknown as Plan
  }
  const project = (): CdkProject => ({ dir: path.join(work, 'deploy') }) as unknown as CdkProject

  it('packages [assets] beside bootstrap when include lists something, and not otherwise', async () => {
    fs.cpSync(fixture, work, { recursive: true })
    write('bin/bootstrap', elf())
    const packaged = jest.fn(packageAssets)
    const result = await buildServer(plan({ include: ['data/*.db'], exclude: [] }), project(), { cargoCache: undefined } as never, {
      packageAssets: packaged
    })
    expect(writes.filter(w => w.startsWith('::warning'))).toEqual([])
    expect(packaged).toHaveBeenCalledWith({
      workingDirectory: work,
      assets: { include: ['data/*.db'], exclude: [] },
      buildDir: path.join(work, 'deploy/.build'),
      configFile: '.pmcp/deploy.toml'
    })
    expect(result.assets.map(f => f.destination)).toEqual(['assets/data/chinook.db'])
    expect(result.packaged.map(f => f.destination)).toEqual(['assets/data/chinook.db'])
    expect(fs.existsSync(path.join(work, 'deploy/.build/assets/data/chinook.db'))).toBe(true)

    // Without [assets] the config holds cargo-pmcp's default (nothing included); a table may list excludes only.
    for (const assets of [
      { include: [], exclude: ['**/*.tmp', '**/.DS_Store', '**/Thumbs.db'] },
      { include: [], exclude: ['**/*.tmp'] }
    ]) {
      const none = jest.fn(packageAssets)
      const built = await buildServer(plan(assets), project(), { cargoCache: undefined } as never, { packageAssets: none })
      expect(none).not.toHaveBeenCalled()
      expect(built.assets).toEqual([])
    }
  })

  it('stops on a missing asset before it builds anything', async () => {
    fs.cpSync(fixture, work, { recursive: true })
    const withMissing = plan({ include: ['models/ranker.onnx'], exclude: [] })
    withMissing.inputs.buildCommand = 'touch built-marker'
    await expect(buildServer(withMissing, project(), { cargoCache: undefined } as never)).rejects.toMatchObject({
      title: '[assets] file missing'
    })
    expect(fs.existsSync(path.join(work, 'built-marker'))).toBe(false)
  })
})
