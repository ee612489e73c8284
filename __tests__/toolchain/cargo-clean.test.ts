/**
 * The cargo cache cleaning (rust-cache's cleanup.ts) on a target/ that a real `cargo build` made: a workspace of
 * a bin crate and a lib crate with a build script, and a path dependency outside the workspace, built once for the
 * host (target/debug) and once with --target (target/<triple>/release, build scripts in target/release).
 */
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  cleanCargoCache,
  formatBytes,
  formatCleanReport,
  readCargoPackages,
  removeOutdated,
  type CargoCacheDirs,
  type CargoPackages
} from '../../src/toolchain/cargo-clean.js'
import type { CommandRunner } from '../../src/process.js'

const DAY = 24 * 3600 * 1000

let root: string
let built: string
let triple: string
let work: string

function write(file: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
}

/** Every file under dir, relative, sorted. */
function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter(name => !fs.lstatSync(path.join(dir, name)).isDirectory()).sort()
}

/** Bytes stored, a hard-linked file once (what tar stores). */
function size(...dirs: string[]): number {
  const seen = new Set<string>()
  let total = 0
  for (const dir of dirs)
    for (const name of files(dir)) {
      const stat = fs.lstatSync(path.join(dir, name))
      if (seen.has(`${stat.dev}:${stat.ino}`)) continue
      seen.add(`${stat.dev}:${stat.ino}`)
      total += stat.size
    }
  return total
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cargo-clean-'))
  const ws = path.join(root, 'ws')
  write(path.join(ws, 'Cargo.toml'), '[workspace]\nmembers = ["app", "crates/my-lib"]\nresolver = "2"\n')
  write(
    path.join(ws, 'app/Cargo.toml'),
    '[package]\nname = "my-app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n' +
      'my-lib = { path = "../crates/my-lib" }\noutside-dep = { path = "../../outside" }\n'
  )
  write(path.join(ws, 'app/src/main.rs'), 'fn main() { my_lib::hi(); outside_dep::x(); }\n')
  write(path.join(ws, 'crates/my-lib/Cargo.toml'), '[package]\nname = "my-lib"\nversion = "0.1.0"\nedition = "2021"\n')
  write(path.join(ws, 'crates/my-lib/src/lib.rs'), 'pub fn hi() {}\n')
  write(path.join(ws, 'crates/my-lib/build.rs'), 'fn main() {}\n')
  write(path.join(root, 'outside/Cargo.toml'), '[package]\nname = "outside-dep"\nversion = "0.2.0"\nedition = "2021"\n')
  write(path.join(root, 'outside/src/lib.rs'), 'pub fn x() {}\n')
  triple = /^host: (.+)$/m.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))![1]
  const env: NodeJS.ProcessEnv = { ...process.env, CARGO_INCREMENTAL: '1' }
  delete env.CARGO_TARGET_DIR
  delete env.CARGO_BUILD_TARGET
  execFileSync('cargo', ['build', '--offline', '-q'], { cwd: ws, env })
  execFileSync('cargo', ['build', '--offline', '-q', '--release', '--target', triple], { cwd: ws, env })
  built = path.join(ws, 'target')
}, 120000)

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

let dirs: CargoCacheDirs

/** A fresh copy of the built workspace (cp -a: hard links and times as cargo left them), a registry and git tree. */
function copyWorkspace(): void {
  work = fs.mkdtempSync(path.join(root, 'work-'))
  execFileSync('cp', ['-a', path.join(root, 'ws'), path.join(work, 'ws')])
  execFileSync('cp', ['-a', path.join(root, 'outside'), path.join(work, 'outside')])
  dirs = { registry: path.join(work, 'home/registry'), git: path.join(work, 'home/git'), target: path.join(work, 'ws/target') }
}

beforeEach(() => {
  work = ''
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
})

afterEach(() => {
  jest.restoreAllMocks()
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

const INDEX = 'index.crates.io-1949cf8c6b5b557f'

/** A registry with serde (a dependency of nothing here), outside-dep's .crate, an old -sys crate, and a git index. */
function fakeRegistry(): void {
  const r = dirs.registry
  write(path.join(r, 'src', INDEX, 'serde-1.0.200/src/lib.rs'), Buffer.alloc(5000))
  write(path.join(r, 'src', INDEX, 'serde-1.0.200/Cargo.toml'), Buffer.alloc(1000))
  write(path.join(r, 'src', INDEX, 'openssl-sys-0.9.100/build/main.rs'), Buffer.alloc(700))
  write(path.join(r, 'cache', INDEX, 'serde-1.0.200.crate'), Buffer.alloc(3000))
  write(path.join(r, 'cache', INDEX, 'outside-dep-0.2.0.crate'), Buffer.alloc(400))
  write(path.join(r, 'index', INDEX, 'config.json'), '{"dl":"https://static.crates.io/crates"}')
  write(path.join(r, 'index', INDEX, '.cache/se/rd/serde'), Buffer.alloc(2000))
  write(path.join(r, 'index', INDEX, '.cache/ou/ts/outside-dep'), Buffer.alloc(300))
  write(path.join(r, 'index', 'github.com-1ecc6299db9ec823/.git/HEAD'), 'ref: refs/heads/master\n')
  write(path.join(r, 'index', 'github.com-1ecc6299db9ec823/.cache/se/rd/serde'), Buffer.alloc(100))
}

/** The workspace crates' and the dependency's files in one profile directory, as cargo names them. */
const member = /^(deps\/(lib)?my_(app|lib)-|\.fingerprint\/my-(app|lib)-|build\/my-lib-)/
const dependency = /^(deps\/(lib)?outside_dep-[0-9a-f]+\.(rlib|rmeta|d)|\.fingerprint\/outside-dep-[0-9a-f]+\/)/

describe('cleanCargoCache on a real target/', () => {
  beforeEach(copyWorkspace)

  it('keeps only the dependencies’ artifacts, and says what each rule removed', async () => {
    fakeRegistry()
    const packages = await readCargoPackages(path.join(work, 'ws'))
    expect(packages?.members.map(pkg => pkg.name).sort()).toEqual(['my-app', 'my-lib'])
    expect(packages?.dependencies?.map(pkg => pkg.name)).toEqual(['outside-dep'])

    const debug = files(path.join(dirs.target, 'debug'))
    // What cargo made, so the test can fail: incremental state, the workspace's artifacts, the linked binary.
    expect(debug.some(name => name.startsWith('incremental/my_app-'))).toBe(true)
    expect(debug.filter(name => member.test(name)).length).toBeGreaterThan(8)
    expect(debug).toContain('my-app')
    const incrementalDirs = ['debug', 'release', `${triple}/release`].map(profile => path.join(dirs.target, profile, 'incremental'))
    // rustc hard-links incremental/*/metadata.rmeta to deps/: those bytes are freed with the deps/ link (or not at all).
    const incremental = incrementalDirs
      .flatMap(dir => files(dir).map(name => fs.statSync(path.join(dir, name))))
      .filter(stat => stat.nlink === 1)
      .reduce((total, stat) => total + stat.size, 0)
    expect(incremental).toBeGreaterThan(0)
    expect(incremental).toBeLessThan(size(...incrementalDirs))
    const before = size(dirs.registry, dirs.git, dirs.target)

    const report = cleanCargoCache(dirs, packages)

    expect(files(dirs.target)).toEqual(
      [
        'CACHEDIR.TAG',
        `${triple}/CACHEDIR.TAG`,
        ...debug.filter(name => dependency.test(name)).map(name => `debug/${name}`),
        ...files(path.join(built, triple, 'release'))
          .filter(name => dependency.test(name))
          .map(name => `${triple}/release/${name}`)
      ].sort()
    )
    expect(files(path.join(dirs.target, 'debug/deps')).map(name => name.replace(/-[0-9a-f]+\./, '-H.'))).toEqual([
      'liboutside_dep-H.rlib',
      'liboutside_dep-H.rmeta',
      'outside_dep-H.d'
    ])
    // Directories stay (cargo recreates nothing there), emptied: the build scripts were the workspace's.
    expect(fs.readdirSync(path.join(dirs.target, 'release/build'))).toEqual([])

    expect(files(dirs.registry)).toEqual([
      `cache/${INDEX}/outside-dep-0.2.0.crate`,
      'index/github.com-1ecc6299db9ec823/.git/HEAD',
      `index/${INDEX}/.cache/ou/ts/outside-dep`,
      `index/${INDEX}/config.json`
    ])

    expect(report.before).toBe(before)
    expect(report.after).toBe(size(dirs.registry, dirs.git, dirs.target))
    expect(report.removed['registry/src']).toBe(6700)
    expect(report.removed['registry/cache']).toBe(3000)
    expect(report.removed['registry/index']).toBe(2100)
    expect(report.removed.incremental).toBe(incremental)
    expect(report.removed['workspace crates']).toBeGreaterThan(0)
    expect(report.removed['old dependencies']).toBeUndefined()
    const sum = Object.values(report.removed).reduce((a, b) => a + b, 0)
    expect(sum).toBe(report.before - report.after)
    expect(formatCleanReport(report)).toBe(
      `Cargo cache: ${formatBytes(report.before)} → ${formatBytes(report.after)} (registry/src 6.7 kB, registry/cache 3.0 kB, ` +
        `registry/index 2.1 kB, incremental ${formatBytes(incremental)}, ` +
        `workspace crates ${formatBytes(report.removed['workspace crates']!)}, ` +
        `other outputs ${formatBytes(report.removed['other outputs']!)})`
    )
  })

  it('counts a hard-linked binary once: target/debug/my-app frees nothing while deps/my_app-<hash> stays', () => {
    const linked = fs.statSync(path.join(dirs.target, 'debug/my-app'))
    expect(linked.nlink).toBe(2)
    const report = cleanCargoCache({ ...dirs, target: dirs.target }, { members: [], notes: [] })
    // With no workspace crates known, deps/my_app-<hash> stays, so the binary's bytes are not freed.
    expect(fs.existsSync(path.join(dirs.target, 'debug/my-app'))).toBe(false)
    expect(report.removed['other outputs']! < linked.size).toBe(true)
  })

  it('dependencies no longer in the graph go (rust-cache keeps only the current ones)', () => {
    const packages: CargoPackages = {
      members: [{ name: 'my-app', version: '0.1.0', manifestDir: '', targets: ['my-app'], libTargets: [] }],
      dependencies: [{ name: 'my-lib', version: '0.1.0', manifestDir: '', targets: ['my_lib'], libTargets: ['my_lib'] }],
      notes: []
    }
    const report = cleanCargoCache(dirs, packages)
    const deps = files(path.join(dirs.target, 'debug/deps'))
    expect(deps.length).toBeGreaterThan(0)
    expect(deps.every(name => /^(lib)?my_lib-/.test(name))).toBe(true)
    expect(files(path.join(dirs.target, 'debug/.fingerprint')).every(name => name.startsWith('my-lib-'))).toBe(true)
    expect(report.removed['old dependencies']).toBeGreaterThan(0)
  })
})

describe('the registry and git rules with a known dependency graph', () => {
  beforeEach(copyWorkspace)

  const pkg = (name: string, version: string, manifestDir = ''): CargoPackages['members'][number] => ({
    name,
    version,
    manifestDir,
    targets: [name],
    libTargets: [name]
  })

  it('keeps the -sys crates’ sources and the git clones and checkouts in use', () => {
    const r = dirs.registry
    write(path.join(r, 'src', INDEX, 'openssl-sys-0.9.100/build.rs'), 'x')
    write(path.join(r, 'src', INDEX, 'openssl-sys-0.9.90/build.rs'), 'x')
    write(path.join(r, 'src', INDEX, 'serde-1.0.200/lib.rs'), 'x')
    write(path.join(dirs.git, 'db/used-1a2b/HEAD'), 'x')
    write(path.join(dirs.git, 'db/gone-3c4d/HEAD'), 'x')
    write(path.join(dirs.git, 'checkouts/used-1a2b/abc1234/Cargo.toml'), 'x')
    write(path.join(dirs.git, 'checkouts/used-1a2b/old0000/Cargo.toml'), 'x')
    write(path.join(dirs.git, 'checkouts/gone-3c4d/fff0000/Cargo.toml'), 'x')
    const report = cleanCargoCache(dirs, {
      members: [],
      dependencies: [
        pkg('openssl-sys', '0.9.100'),
        pkg('serde', '1.0.200'),
        pkg('git-dep', '0.1.0', path.join(dirs.git, 'checkouts/used-1a2b/abc1234'))
      ],
      notes: []
    })
    expect(files(r)).toEqual([`src/${INDEX}/openssl-sys-0.9.100/build.rs`])
    expect(files(dirs.git)).toEqual(['checkouts/used-1a2b/abc1234/Cargo.toml', 'db/used-1a2b/HEAD'])
    expect(report.removed.git).toBe(3)
  })

  it('without a dependency graph: registry/src goes (but -sys sources), the rest of the registry and git stay', () => {
    fakeRegistry()
    write(path.join(dirs.git, 'checkouts/any-1a2b/abc1234/Cargo.toml'), 'x')
    const report = cleanCargoCache(dirs, undefined)
    expect(files(dirs.registry)).toEqual([
      `cache/${INDEX}/outside-dep-0.2.0.crate`,
      `cache/${INDEX}/serde-1.0.200.crate`,
      'index/github.com-1ecc6299db9ec823/.git/HEAD',
      `index/${INDEX}/.cache/ou/ts/outside-dep`,
      `index/${INDEX}/.cache/se/rd/serde`,
      `index/${INDEX}/config.json`,
      `src/${INDEX}/openssl-sys-0.9.100/build/main.rs`
    ])
    expect(files(dirs.git)).toEqual(['checkouts/any-1a2b/abc1234/Cargo.toml'])
    // The workspace's artifacts are not known either: only incremental and the other outputs go.
    expect(files(path.join(dirs.target, 'debug')).some(name => name.startsWith('deps/my_app-'))).toBe(true)
    expect(Object.keys(report.removed).sort()).toEqual(['incremental', 'other outputs', 'registry/index', 'registry/src'])
    expect(report.notes[0]).toMatch(/cargo metadata failed/)
  })
})

describe('readCargoPackages', () => {
  it('falls back to --no-deps when the graph cannot be resolved, and gives up when cargo metadata fails', async () => {
    const calls: string[][] = []
    const noDeps = JSON.stringify({
      packages: [
        { id: 'a', name: 'my-app', version: '0.1.0', manifest_path: '/w/app/Cargo.toml', targets: [{ name: 'my-app', kind: ['bin'] }] }
      ]
    })
    const run: CommandRunner = async (_command, args) => {
      calls.push(args)
      return args.includes('--no-deps')
        ? { exitCode: 0, stdout: noDeps, stderr: '' }
        : { exitCode: 101, stdout: '', stderr: 'error: no matching package named `serde` found\n' }
    }
    const packages = await readCargoPackages('/w', run)
    expect(calls).toEqual([
      ['metadata', '--format-version', '1', '--offline', '--all-features'],
      ['metadata', '--format-version', '1', '--offline', '--no-deps']
    ])
    expect(packages?.members.map(p => p.name)).toEqual(['my-app'])
    expect(packages?.dependencies).toBeUndefined()
    expect(packages?.notes[0]).toContain('no matching package named `serde` found')
    expect(await readCargoPackages('/w', async () => ({ exitCode: 101, stdout: '', stderr: 'broken' }))).toBeUndefined()
  })
})

describe('removeOutdated (the week rule)', () => {
  beforeEach(copyWorkspace)

  const at = (p: string, atimeMs: number, mtimeMs: number): void => {
    for (const name of fs.statSync(p).isDirectory() ? files(p) : []) fs.utimesSync(path.join(p, name), atimeMs / 1000, mtimeMs / 1000)
    fs.utimesSync(p, atimeMs / 1000, mtimeMs / 1000)
  }

  it('removes build/, .fingerprint/ and deps/ entries whose newest modification time is over a week old; access times do not count', () => {
    const now = Date.now() + 30 * DAY
    const profile = path.join(dirs.target, 'debug')
    // Everything in the copy is "recent" (30 days before now is too old: bring it all to now first).
    for (const name of files(dirs.target)) fs.utimesSync(path.join(dirs.target, name), now / 1000, now / 1000)
    const entry = (dir: string, prefix: string): string => {
      const name = fs.readdirSync(path.join(profile, dir)).find(n => n.startsWith(prefix))!
      return path.join(profile, dir, name)
    }
    const oldRlib = entry('deps', 'liboutside_dep-')
    const readRecently = entry('deps', 'liboutside_dep-').replace('.rlib', '.rmeta')
    const oldFingerprint = entry('.fingerprint', 'outside-dep-')
    const sixDays = entry('deps', 'libmy_lib-')
    const freshInside = entry('.fingerprint', 'my-app-')
    at(oldRlib, now, now - 8 * DAY) // read today, written 8 days ago: goes
    at(readRecently, now - 20 * DAY, now - 8 * DAY)
    at(oldFingerprint, now, now - 8 * DAY)
    at(sixDays, now - 8 * DAY, now - 6 * DAY) // not read for 8 days, written 6 days ago: stays
    at(freshInside, now, now - 9 * DAY)
    fs.utimesSync(path.join(freshInside, 'invoked.timestamp'), now / 1000, (now - DAY) / 1000) // one new file keeps the directory
    const removed = [oldRlib, readRecently, oldFingerprint]
    // deps/*.rmeta is hard-linked into incremental/: removing it frees nothing while that link stays.
    expect(fs.statSync(readRecently).nlink).toBe(2)
    const before = size(dirs.target)

    const report = removeOutdated(dirs.target, now)

    expect(report.paths.sort()).toEqual(removed.sort())
    expect(report.bytes).toBe(before - size(dirs.target))
    expect(report.bytes).toBe(
      size(path.join(root, 'ws/target/debug/.fingerprint', path.basename(oldFingerprint))) +
        fs.statSync(path.join(built, 'debug/deps', path.basename(oldRlib))).size
    )
    for (const p of removed) expect(fs.existsSync(p)).toBe(false)
    for (const p of [sixDays, freshInside]) expect(fs.existsSync(p)).toBe(true)
    expect(fs.existsSync(path.join(profile, 'incremental'))).toBe(true)
  })
})

describe('formatBytes', () => {
  it.each([
    [1_200_000_000, '1.20 GB'],
    [310_000_000, '310 MB'],
    [4_520_000, '4.5 MB'],
    [12_345, '12 kB'],
    [1_500, '1.5 kB'],
    [512, '512 B']
  ])('%d → %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text))
})
