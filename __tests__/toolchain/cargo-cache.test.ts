import { jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  cargoCacheKey,
  cargoCachePaths,
  restoreCargoCache,
  saveCargoCache,
  type CargoCacheKey,
  type CargoCacheKeyInput
} from '../../src/toolchain/cargo-cache.js'
import { withSavePolicy, type CacheService } from '../../src/toolchain/cache-service.js'
import type { CommandRunner } from '../../src/process.js'
import { LocalCache } from '../../testkit/local-cache.js'

const RUSTC = 'rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0'

let repo: string
let server: string

function write(relative: string, content: string): void {
  const file = path.join(repo, relative)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
}

function keyOf(overrides: Partial<CargoCacheKeyInput> = {}): CargoCacheKey {
  return cargoCacheKey({
    os: 'linux',
    runnerArch: 'x86_64',
    lambdaArch: 'arm64',
    rustcVerbose: RUSTC,
    workingDirectory: server,
    searchRoot: repo,
    ...overrides
  })
}

/** The named parts of a key: pmcp-cargo-v1-<os>-<arch>-<lambda>-rustc-<h>-toolchain-<h>-config-<h>-lock-<h> */
function parts(key: string): Record<string, string> {
  const match = /^pmcp-cargo-v1-(\w+)-(\w+)-(\w+)-rustc-(\w+)-toolchain-(\w+)-config-(\w+)-lock-(\w+)$/.exec(key)
  if (!match) throw new Error(`unexpected key ${key}`)
  const [, osName, arch, lambda, rustc, toolchain, config, lock] = match
  return { os: osName, arch, lambda, rustc, toolchain, config, lock }
}

function changedParts(before: CargoCacheKey, after: CargoCacheKey): string[] {
  const a = parts(before.key)
  const b = parts(after.key)
  return Object.keys(a).filter(name => a[name] !== b[name])
}

beforeEach(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cache-key-'))
  server = path.join(repo, 'server')
  write('server/Cargo.toml', '[package]\nname = "s"\n')
  write('server/src/main.rs', 'fn main() {}\n')
  write('Cargo.lock', 'version = 4\n')
  write('rust-toolchain.toml', '[toolchain]\nchannel = "1.95.0"\n')
  write('.cargo/config.toml', '[build]\nrustflags = []\n')
})

afterEach(() => fs.rmSync(repo, { recursive: true, force: true }))

describe('cargoCacheKey', () => {
  it('is stable for unchanged inputs and restores down to the toolchain hash', () => {
    const key = keyOf()
    expect(keyOf()).toEqual(key)
    const { os: osName, arch, lambda, rustc, toolchain, config } = parts(key.key)
    expect([osName, arch, lambda]).toEqual(['linux', 'x86_64', 'arm64'])
    expect(key.restoreKeys).toEqual([
      `pmcp-cargo-v1-linux-x86_64-arm64-rustc-${rustc}-toolchain-${toolchain}-config-${config}-`,
      `pmcp-cargo-v1-linux-x86_64-arm64-rustc-${rustc}-`
    ])
    for (const prefix of key.restoreKeys) expect(key.key.startsWith(prefix)).toBe(true)
  })

  it('Cargo.lock changes only the lock part (both restore keys still match)', () => {
    const before = keyOf()
    write('Cargo.lock', 'version = 4\n[[package]]\nname = "serde"\n')
    const after = keyOf()
    expect(changedParts(before, after)).toEqual(['lock'])
    expect(after.restoreKeys).toEqual(before.restoreKeys)
  })

  it('.cargo/config.toml changes only the config part', () => {
    const before = keyOf()
    write('.cargo/config.toml', '[build]\nrustflags = ["-C", "target-cpu=native"]\n')
    const after = keyOf()
    expect(changedParts(before, after)).toEqual(['config'])
    expect(after.restoreKeys[1]).toBe(before.restoreKeys[1])
  })

  it('rust-toolchain.toml changes only the toolchain part; a legacy rust-toolchain file wins over it', () => {
    const before = keyOf()
    write('rust-toolchain.toml', '[toolchain]\nchannel = "1.94.0"\n')
    const changed = keyOf()
    expect(changedParts(before, changed)).toEqual(['toolchain'])
    write('rust-toolchain', '1.93.0\n')
    expect(changedParts(changed, keyOf())).toEqual(['toolchain'])
  })

  it('the rustc -vV output changes only the rustc part (and so every restore key)', () => {
    const before = keyOf()
    const after = keyOf({ rustcVerbose: RUSTC.replaceAll('1.95.0', '1.96.0') })
    expect(changedParts(before, after)).toEqual(['rustc'])
    expect(after.restoreKeys.every((prefix, i) => prefix !== before.restoreKeys[i])).toBe(true)
  })

  it('OS, runner arch and Lambda arch each change only their own part', () => {
    const before = keyOf()
    expect(changedParts(before, keyOf({ os: 'darwin' }))).toEqual(['os'])
    expect(changedParts(before, keyOf({ runnerArch: 'aarch64' }))).toEqual(['arch'])
    expect(changedParts(before, keyOf({ lambdaArch: 'x86_64' }))).toEqual(['lambda'])
  })

  it('ignores sources and manifests, and creating or deleting a file changes its part', () => {
    const before = keyOf()
    write('server/src/main.rs', 'fn main() { println!("changed"); }\n')
    write('server/Cargo.toml', '[package]\nname = "s"\nversion = "2.0.0"\n')
    expect(keyOf()).toEqual(before)
    fs.rmSync(path.join(repo, '.cargo/config.toml'))
    expect(changedParts(before, keyOf())).toEqual(['config'])
  })

  it('takes the nearest file and never looks above the search root', () => {
    const rootLock = keyOf()
    write('server/Cargo.lock', 'version = 4\n# the server has its own lock\n')
    expect(changedParts(rootLock, keyOf())).toEqual(['lock'])
    // With the server as the search root, the repository's toolchain and config files are out of reach.
    const contained = keyOf({ searchRoot: server })
    const noFiles = parts(contained.key)
    fs.rmSync(path.join(repo, 'rust-toolchain.toml'))
    fs.rmSync(path.join(repo, '.cargo'), { recursive: true })
    expect(parts(keyOf({ searchRoot: server }).key)).toEqual(noFiles)
  })
})

describe('the cache-key input', () => {
  it('is a part of the key and of every restore key, so changing it starts afresh', () => {
    const plain = keyOf()
    const fresh = keyOf({ extra: 'v2' })
    expect(fresh.key).toBe(plain.key.replace('pmcp-cargo-v1-', 'pmcp-cargo-v1-v2-'))
    expect(fresh.restoreKeys).toEqual(plain.restoreKeys.map(key => key.replace('pmcp-cargo-v1-', 'pmcp-cargo-v1-v2-')))
  })
})

/** `cargo metadata` of the server: the workspace crate `s`, one dependency `dep`. */
const metadata: CommandRunner = async (_command, args) => {
  const pkg = (id: string, name: string) => ({
    id,
    name,
    version: '1.0.0',
    manifest_path: `/${name}/Cargo.toml`,
    targets: [{ name, kind: ['lib'] }]
  })
  const packages = args.includes('--no-deps') ? [pkg('s-id', 's')] : [pkg('s-id', 's'), pkg('dep-id', 'dep')]
  return { exitCode: 0, stdout: JSON.stringify({ packages, workspace_members: ['s-id'] }), stderr: '' }
}

describe('restoreCargoCache / saveCargoCache', () => {
  let output: string[]
  let home: string
  let paths: string[]
  const target = (relative: string): string => path.join(server, 'target', relative)

  beforeEach(() => {
    output = []
    jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      output.push(String(chunk))
      return true
    })
    home = path.join(repo, 'cargo-home')
    delete process.env.CARGO_TARGET_DIR
    paths = cargoCachePaths({ cargoHome: home, workingDirectory: server })
  })
  afterEach(() => jest.restoreAllMocks())

  /** What a build leaves: the registry's sources and .crate file, the dependency's and the crate's own artifacts, incremental state. */
  function build(): void {
    write('cargo-home/registry/cache/index.crates.io-1/dep-1.0.0.crate', 'crate')
    write('cargo-home/registry/src/index.crates.io-1/dep-1.0.0/src/lib.rs', 'unpacked sources')
    write('server/target/release/deps/libdep-0123.rlib', 'dependency')
    write('server/target/release/deps/libs-4567.rlib', 'own crate')
    write('server/target/release/.fingerprint/s-4567/lib-s', 'fingerprint')
    write('server/target/release/incremental/s-89/s-1/query-cache.bin', 'incremental')
    write('server/target/release/s', 'linked server binary')
  }

  const summary = (): string[] => output.filter(line => /^Cargo cache: .* → /.test(line))

  it('saves after a build on a miss or a partial hit, and skips an exact hit', async () => {
    const cache = new LocalCache(path.join(repo, 'store'))
    expect(paths).toEqual([path.join(home, 'registry'), path.join(home, 'git'), path.join(server, 'target')])
    build()

    const first = await restoreCargoCache(keyOf(), paths, cache, { run: metadata })
    expect(first.restoredKey).toBeUndefined()
    await saveCargoCache(first)
    expect(cache.saves).toEqual([keyOf().key])
    // Cleaned in place before the save (the build is done): what is cheap to rebuild is gone.
    expect(fs.existsSync(target('release/incremental'))).toBe(false)
    expect(fs.existsSync(target('release/deps/libs-4567.rlib'))).toBe(false)
    expect(fs.existsSync(target('release/.fingerprint/s-4567'))).toBe(false)
    expect(fs.existsSync(target('release/s'))).toBe(false)
    expect(fs.existsSync(path.join(home, 'registry/src/index.crates.io-1/dep-1.0.0'))).toBe(false)
    expect(summary()).toEqual([
      'Cargo cache: 82 B → 15 B (registry/src 16 B, incremental 11 B, workspace crates 20 B, other outputs 20 B)\n'
    ])

    fs.rmSync(path.join(server, 'target'), { recursive: true })
    const exact = await restoreCargoCache(keyOf(), paths, cache, { run: metadata })
    expect(exact.restoredKey).toBe(keyOf().key)
    expect(fs.readFileSync(target('release/deps/libdep-0123.rlib'), 'utf8')).toBe('dependency')
    expect(fs.existsSync(target('release/incremental'))).toBe(false)
    // An exact hit is not saved again, and so not cleaned either.
    build()
    await saveCargoCache(exact)
    expect(cache.saves).toHaveLength(1)
    expect(fs.existsSync(target('release/incremental'))).toBe(true)
    expect(summary()).toHaveLength(1)

    write('Cargo.lock', 'version = 4\n[[package]]\nname = "tokio"\n')
    const partial = await restoreCargoCache(keyOf(), paths, cache, { run: metadata })
    expect(partial.restoredKey).toBe(cache.saves[0])
    await saveCargoCache(partial)
    expect(cache.saves).toEqual([cache.saves[0], keyOf().key])
    expect(summary()).toHaveLength(2)
  })

  it('a restore-only run neither cleans nor saves', async () => {
    const cache = new LocalCache(path.join(repo, 'store'))
    const service = withSavePolicy(cache, { save: false, reason: 'save-cache: false' })
    build()
    const state = await restoreCargoCache(keyOf(), paths, service, { run: metadata })
    await saveCargoCache(state)
    expect(cache.saves).toEqual([])
    expect(fs.existsSync(target('release/incremental/s-89/s-1/query-cache.bin'))).toBe(true)
    expect(fs.existsSync(path.join(home, 'registry/src/index.crates.io-1/dep-1.0.0'))).toBe(true)
    expect(summary()).toEqual([])
    expect(output.join('')).toContain(`The cargo cache ${keyOf().key} is not saved (save-cache: false)`)
  })

  /** A cache whose restored files have the modification times of the entry (@actions/cache's tar keeps them). */
  function agedCache(cache: LocalCache, ages: Record<string, number>): CacheService {
    return {
      isAvailable: () => true,
      save: (p, key) => cache.save(p, key),
      restore: async (p, key, restoreKeys) => {
        const restored = await cache.restore(p, key, restoreKeys)
        for (const [relative, days] of Object.entries(ages)) {
          const when = (Date.now() - days * 24 * 3600 * 1000) / 1000
          fs.utimesSync(target(relative), when, when)
        }
        return restored
      }
    }
  }

  it('after a partial hit, removes the artifacts older than 7 days (rust-cache) and reports them with the save', async () => {
    const cache = new LocalCache(path.join(repo, 'store'))
    write('server/target/release/deps/libdep-0123.rlib', 'dependency')
    write('server/target/release/deps/libold-9999.rlib', 'no longer built')
    await cache.save(paths, `${keyOf().restoreKeys[0]}lock-old`)
    fs.rmSync(path.join(server, 'target'), { recursive: true })
    const service = agedCache(cache, { 'release/deps/libold-9999.rlib': 8, 'release/deps/libdep-0123.rlib': 6 })

    const state = await restoreCargoCache(keyOf(), paths, service, { run: metadata })
    expect(state.restoredKey).toBe(`${keyOf().restoreKeys[0]}lock-old`)
    expect(state.outdated).toEqual({ bytes: 15, paths: [target('release/deps/libold-9999.rlib')] })
    expect(fs.existsSync(target('release/deps/libold-9999.rlib'))).toBe(false)
    expect(fs.existsSync(target('release/deps/libdep-0123.rlib'))).toBe(true)

    await saveCargoCache(state)
    expect(summary()).toEqual(['Cargo cache: 10 B → 10 B (nothing to remove); older than 7 days: 15 B, removed after the restore\n'])
  })

  it('a restore-only run does not apply the week rule either', async () => {
    const cache = new LocalCache(path.join(repo, 'store'))
    write('server/target/release/deps/libold-9999.rlib', 'no longer built')
    await cache.save(paths, `${keyOf().restoreKeys[0]}lock-old`)
    fs.rmSync(path.join(server, 'target'), { recursive: true })
    const service = withSavePolicy(agedCache(cache, { 'release/deps/libold-9999.rlib': 30 }), { save: false, reason: 'pull request' })
    const state = await restoreCargoCache(keyOf(), paths, service, { run: metadata })
    expect(state.restoredKey).toBeDefined()
    expect(state.outdated).toBeUndefined()
    expect(fs.existsSync(target('release/deps/libold-9999.rlib'))).toBe(true)
  })
})
