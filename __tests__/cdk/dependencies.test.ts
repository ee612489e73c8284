import { jest } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cdkDependenciesCacheKey, dependenciesPresent, installCdkDependencies } from '../../src/cdk/dependencies.js'
import type { CommandOptions, CommandRunner } from '../../src/process.js'
import { withSavePolicy } from '../../src/toolchain/cache-service.js'
import { LocalCache } from '../../testkit/local-cache.js'

const HOST = { os: 'linux', arch: 'x86_64' as const }
const NODE = '20.20.2'
const LOCK = '{"name":"fake","lockfileVersion":3,"packages":{}}\n'
const lockHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16)

let root: string
let log: string
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cdk-deps-'))
  jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    log += String(chunk)
    return true
  })
})
afterAll(() => {
  jest.restoreAllMocks()
  fs.rmSync(root, { recursive: true, force: true })
})
beforeEach(() => {
  log = ''
})

/** A CDK project outside the repository (nothing resolves from a parent's node_modules) depending on one fake package. */
function project(name: string, lock: string | null = LOCK): string {
  const dir = path.join(root, name)
  fs.mkdirSync(dir, { recursive: true })
  const manifest = { name, private: true, dependencies: { 'pmcp-fake-cdk-lib': '1.2.3' } }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest))
  if (lock !== null) fs.writeFileSync(path.join(dir, 'package-lock.json'), lock)
  return dir
}

/** npm as the tests see it: every call recorded; `ci`/`install` write the fake package at `version`. */
function fakeNpm(version = '1.2.3'): { run: CommandRunner; calls: { args: string[]; options?: CommandOptions }[] } {
  const calls: { args: string[]; options?: CommandOptions }[] = []
  const run: CommandRunner = async (command, args, options) => {
    expect(command).toBe('npm')
    calls.push({ args, options })
    const dir = path.join(options!.cwd!, 'node_modules', 'pmcp-fake-cdk-lib')
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'pmcp-fake-cdk-lib', version }))
    return { exitCode: 0, stdout: '', stderr: '' }
  }
  return { run, calls }
}

describe('the CDK dependencies cache key', () => {
  it('is pmcp-cdk-deps-v1-[cache-key-]os-arch-node<major>-<16 hex of the lock> and follows the lock', () => {
    const dir = project('key')
    const lockFile = path.join(dir, 'package-lock.json')
    const input = { lockFile, os: 'linux', arch: 'x86_64', nodeVersion: 'v20.20.2' }
    expect(cdkDependenciesCacheKey(input)).toBe(`pmcp-cdk-deps-v1-linux-x86_64-node20-${lockHash(LOCK)}`)
    expect(cdkDependenciesCacheKey({ ...input, extra: 'v2', nodeVersion: '22.1.0' })).toBe(
      `pmcp-cdk-deps-v1-v2-linux-x86_64-node22-${lockHash(LOCK)}`
    )
    fs.appendFileSync(lockFile, ' ')
    expect(cdkDependenciesCacheKey(input)).toBe(`pmcp-cdk-deps-v1-linux-x86_64-node20-${lockHash(`${LOCK} `)}`)
  })
})

describe('installing the CDK project dependencies', () => {
  it('on a miss runs npm ci, saves node_modules under the printed key, and the next fresh copy restores it without npm', async () => {
    const cache = new LocalCache(path.join(root, 'store-miss-hit'))
    const key = `pmcp-cdk-deps-v1-pr7-linux-x86_64-node20-${lockHash(LOCK)}`
    const first = project('first')
    const npm = fakeNpm()
    const options = { cache, cacheKey: 'pr7', host: HOST, nodeVersion: NODE, run: npm.run }

    expect(await installCdkDependencies(first, options)).toBe('installed')
    expect(npm.calls.map(call => call.args[0])).toEqual(['ci'])
    expect(npm.calls[0].options?.cwd).toBe(first)
    expect(cache.restores).toEqual([key])
    expect(cache.saves).toEqual([key])
    expect(cache.entries[0].paths).toEqual([path.join(first, 'node_modules')])
    expect(log).toContain(`CDK dependencies cache key: ${key}`)
    expect(log).toContain(`Saved the CDK dependencies cache: ${key}`)

    // A fresh runner: another copy of the project at the same place, the same cache store.
    fs.rmSync(path.join(first, 'node_modules'), { recursive: true })
    expect(dependenciesPresent(first)).toBe(false)
    log = ''
    expect(await installCdkDependencies(first, options)).toBe('restored')
    expect(npm.calls).toHaveLength(1)
    expect(cache.saves).toEqual([key])
    expect(dependenciesPresent(first)).toBe(true)
    expect(log).toContain(`CDK dependencies cache key: ${key}`)
    expect(log).toContain('exact hit; npm ci skipped')
  })

  it('runs npm ci after an exact hit that does not hold the pinned versions, and does not save the key again', async () => {
    const cache = new LocalCache(path.join(root, 'store-stale'))
    const dir = project('stale')
    await installCdkDependencies(dir, { cache, host: HOST, nodeVersion: NODE, run: fakeNpm('1.0.0').run })
    fs.rmSync(path.join(dir, 'node_modules'), { recursive: true })
    const npm = fakeNpm()
    expect(await installCdkDependencies(dir, { cache, host: HOST, nodeVersion: NODE, run: npm.run })).toBe('installed')
    expect(npm.calls.map(call => call.args[0])).toEqual(['ci'])
    expect(cache.saves).toHaveLength(1)
  })

  it('restores but does not save when the run restores only', async () => {
    const store = new LocalCache(path.join(root, 'store-restore-only'))
    const cache = withSavePolicy(store, { save: false, reason: 'save-cache: default-branch, and this pull_request run restores only' })
    const npm = fakeNpm()
    expect(await installCdkDependencies(project('restore-only'), { cache, host: HOST, nodeVersion: NODE, run: npm.run })).toBe('installed')
    expect(npm.calls.map(call => call.args[0])).toEqual(['ci'])
    expect(store.restores).toHaveLength(1)
    expect(store.saves).toEqual([])
    expect(log).toMatch(/The CDK dependencies cache pmcp-cdk-deps-v1-\S+ is not saved \(save-cache: default-branch/)
  })

  it("keys a repository's own project by its own lock", async () => {
    const cache = new LocalCache(path.join(root, 'store-own'))
    const ownLock = '{"name":"my-deploy","lockfileVersion":3,"packages":{"":{}}}\n'
    const own = path.join(project('own-repo', ownLock), 'deploy')
    fs.mkdirSync(own)
    for (const file of ['package.json', 'package-lock.json']) fs.renameSync(path.join(own, '..', file), path.join(own, file))
    await installCdkDependencies(own, { cache, host: HOST, nodeVersion: NODE, run: fakeNpm().run })
    expect(cache.saves).toEqual([`pmcp-cdk-deps-v1-linux-x86_64-node20-${lockHash(ownLock)}`])
    expect(cache.entries[0].paths).toEqual([path.join(own, 'node_modules')])
  })

  it('without a lock runs npm install, caches nothing and says why', async () => {
    const cache = new LocalCache(path.join(root, 'store-no-lock'))
    const npm = fakeNpm()
    expect(await installCdkDependencies(project('no-lock', null), { cache, host: HOST, nodeVersion: NODE, run: npm.run })).toBe('installed')
    expect(npm.calls.map(call => call.args[0])).toEqual(['install'])
    expect(cache.restores).toEqual([])
    expect(cache.saves).toEqual([])
    expect(log).toMatch(/has no package-lock\.json: npm install, and its node_modules is not cached \(add a package-lock\.json/)
  })

  it('with caching off runs npm ci and touches no cache; with the dependencies present runs nothing', async () => {
    const dir = project('cache-off')
    const npm = fakeNpm()
    expect(await installCdkDependencies(dir, { host: HOST, nodeVersion: NODE, run: npm.run })).toBe('installed')
    expect(log).toContain('CDK dependencies cache: off')
    expect(await installCdkDependencies(dir, { host: HOST, nodeVersion: NODE, run: npm.run })).toBe('present')
    expect(npm.calls.map(call => call.args[0])).toEqual(['ci'])
  })

  it('fails with the npm command when npm fails', async () => {
    const run: CommandRunner = async () => ({ exitCode: 1, stdout: '', stderr: 'E404' })
    await expect(installCdkDependencies(project('npm-fails'), { host: HOST, nodeVersion: NODE, run })).rejects.toThrow(/'npm ci' failed/)
  })
})
