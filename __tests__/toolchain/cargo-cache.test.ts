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

describe('restoreCargoCache / saveCargoCache', () => {
  it('saves after a build on a miss or a partial hit, and skips an exact hit', async () => {
    const cache = new LocalCache(path.join(repo, 'store'))
    const home = path.join(repo, 'cargo-home')
    delete process.env.CARGO_TARGET_DIR
    const paths = cargoCachePaths({ cargoHome: home, workingDirectory: server })
    expect(paths).toEqual([path.join(home, 'registry'), path.join(home, 'git'), path.join(server, 'target')])
    fs.mkdirSync(path.join(home, 'registry', 'index'), { recursive: true })
    fs.mkdirSync(path.join(server, 'target', 'release'), { recursive: true })
    fs.writeFileSync(path.join(server, 'target', 'release', 'artifact'), 'built')

    const first = await restoreCargoCache(keyOf(), paths, cache)
    expect(first.restoredKey).toBeUndefined()
    await saveCargoCache(first)
    expect(cache.saves).toEqual([keyOf().key])

    fs.rmSync(path.join(server, 'target'), { recursive: true })
    const exact = await restoreCargoCache(keyOf(), paths, cache)
    expect(exact.restoredKey).toBe(keyOf().key)
    expect(fs.readFileSync(path.join(server, 'target', 'release', 'artifact'), 'utf8')).toBe('built')
    await saveCargoCache(exact)
    expect(cache.saves).toHaveLength(1)

    write('Cargo.lock', 'version = 4\n[[package]]\nname = "tokio"\n')
    const partial = await restoreCargoCache(keyOf(), paths, cache)
    expect(partial.restoredKey).toBe(cache.saves[0])
    await saveCargoCache(partial)
    expect(cache.saves).toEqual([cache.saves[0], keyOf().key])
  })
})
