/**
 * The real @actions/cache client (through the action's `actionsCache`) against a loopback stand-in of
 * the Actions cache service v2 (Twirp + signed Azure Blob URLs, testkit/actions-cache-service.ts).
 */
import { jest } from '@jest/globals'
import { BlockBlobClient } from '@azure/storage-blob'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { actionsCache, saveToCache, restoreFromCache } from '../../src/toolchain/cache-service.js'
import { cargoCacheKey, cargoCachePaths, restoreCargoCache, saveCargoCache } from '../../src/toolchain/cargo-cache.js'
import { installMcpTester } from '../../src/toolchain/tools.js'
import { runCommand } from '../../src/process.js'
import {
  archiveListing,
  cacheVersion,
  READ,
  startActionsCacheService,
  type ActionsCacheService
} from '../../testkit/actions-cache-service.js'
import { fakeExecutable, sha256File, startReleaseServer, type ReleaseServer } from '../../testkit/release-server.js'

const TWIRP = 'twirp/github.actions.results.api.v1.CacheService'
const CACHE_ENV = ['ACTIONS_CACHE_SERVICE_V2', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_RUNTIME_TOKEN', 'GITHUB_SERVER_URL']

let service: ActionsCacheService
let work: string
const savedEnv = { ...process.env }

/** What the client and the action wrote through @actions/core (stdout, captured for every test). */
const written: string[] = []

/** Runs fn and returns what it logged. */
async function logged<T>(fn: () => Promise<T>): Promise<{ value: T; log: string }> {
  const start = written.length
  const value = await fn()
  return { value, log: written.slice(start).join('') }
}

/**
 * Runs a save the service refuses: the client only logs its failure and answers -1, which our
 * CacheService turns into an error (so the action never says "Saved" for it); returns what was logged.
 */
async function refusedSave(dir: string, key: string): Promise<string> {
  const start = written.length
  await expect(actionsCache.save([dir], key)).rejects.toThrow(/the cache service did not store it/)
  return written.slice(start).join('')
}

function useRunner(token?: string): void {
  for (const name of CACHE_ENV) delete process.env[name]
  Object.assign(process.env, service.env(token), { GITHUB_SERVER_URL: 'https://github.com' })
}

function makeDir(name: string, files: Record<string, string>): string {
  const dir = path.join(work, name)
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), content)
  }
  return dir
}

/** Every file under dirs (absolute path → content); directories that do not exist have none. */
function snapshot(dirs: string[]): Record<string, string> {
  const files: Record<string, string> = {}
  const visit = (p: string): void => {
    if (!fs.existsSync(p)) return
    if (fs.statSync(p).isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name))
    else files[p] = fs.readFileSync(p, 'utf8')
  }
  dirs.forEach(visit)
  return files
}

function twirp(method: string, body: object, token = service.token): Promise<Response> {
  return fetch(`${service.url}${TWIRP}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body)
  })
}

beforeAll(async () => {
  service = await startActionsCacheService()
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-actions-cache-'))
  process.env.RUNNER_TEMP = path.join(work, 'runner-temp')
  fs.mkdirSync(process.env.RUNNER_TEMP)
})

afterAll(async () => {
  await service.close()
  fs.rmSync(work, { recursive: true, force: true })
  process.env = savedEnv
})

beforeEach(() => {
  useRunner()
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
  written.length = 0
})

describe('actionsCache (the real @actions/cache) against the cache service stand-in', () => {
  it('is available with ACTIONS_RESULTS_URL (service v2), not without it', async () => {
    expect(await actionsCache.isAvailable()).toBe(true)
    delete process.env.ACTIONS_RESULTS_URL
    expect(await actionsCache.isAvailable()).toBe(false)
    // v2 is what a github.com runner gets; GHES (another server URL) would fall back to the v1 API.
    useRunner()
    process.env.GITHUB_SERVER_URL = 'https://ghes.example.com'
    delete process.env.ACTIONS_CACHE_URL
    expect(await actionsCache.isAvailable()).toBe(false)
  })

  it('saves a directory and restores it with its exact key', async () => {
    const dir = makeDir('exact', { 'a.txt': 'alpha', 'nested/b.bin': 'x'.repeat(100_000) })
    const before = service.requests.length
    await actionsCache.save([dir], 'exact-key-1')
    const entry = service.finalizedEntries().find(e => e.key === 'exact-key-1')
    expect(entry).toMatchObject({ version: cacheVersion([dir]), scope: 'refs/heads/main', finalized: true })
    expect(entry?.sizeBytes).toBe(entry?.archive?.length)
    expect(archiveListing(entry!)).toEqual(
      expect.arrayContaining([expect.stringMatching(/exact\/a\.txt$/), expect.stringMatching(/nested\/b\.bin$/)])
    )
    // What the client sent to save: reserve, one PUT of a BlockBlob to the signed URL, finalize with the size.
    const saving = service.requests.slice(before)
    expect(saving.map(r => `${r.kind} ${r.method} ${r.kind === 'twirp' ? r.name : (r.comp ?? r.blobType)} ${r.status}`)).toEqual([
      'twirp POST CreateCacheEntry 200',
      'blob PUT BlockBlob 201',
      'twirp POST FinalizeCacheEntryUpload 200'
    ])
    expect(saving[0].body).toEqual({ key: 'exact-key-1', version: cacheVersion([dir]) })
    expect(saving[2].body).toEqual({ key: 'exact-key-1', version: cacheVersion([dir]), size_bytes: String(entry?.sizeBytes) })

    fs.rmSync(dir, { recursive: true })
    const restoring = service.requests.length
    const { value: key, log } = await logged(() => actionsCache.restore([dir], 'exact-key-1', []))
    expect(key).toBe('exact-key-1')
    expect(log).toContain('Cache hit for: exact-key-1')
    expect(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('alpha')
    expect(fs.statSync(path.join(dir, 'nested/b.bin')).size).toBe(100_000)
    const restore = service.requests.slice(restoring)
    expect(restore.map(r => `${r.kind} ${r.method} ${r.status}`)).toEqual(['twirp POST 200', 'blob GET 200'])
    expect(restore[0].body).toEqual({ key: 'exact-key-1', version: cacheVersion([dir]) })
    expect(service.requests.filter(r => r.kind === 'other')).toEqual([])
  })

  it('restores the newest entry of a restore-key prefix; an exact key wins over a newer prefix match', async () => {
    const dir = makeDir('prefix', { 'v.txt': 'one' })
    await actionsCache.save([dir], 'deps-linux-aaa')
    fs.writeFileSync(path.join(dir, 'v.txt'), 'two')
    await actionsCache.save([dir], 'deps-linux-bbb')
    fs.rmSync(dir, { recursive: true })

    const { value: matched, log } = await logged(() => actionsCache.restore([dir], 'deps-linux-ccc', ['deps-linux-', 'deps-']))
    expect(matched).toBe('deps-linux-bbb')
    expect(log).toContain('Cache hit for restore-key: deps-linux-bbb')
    expect(fs.readFileSync(path.join(dir, 'v.txt'), 'utf8')).toBe('two')
    const request = service.requests.filter(r => r.name === 'GetCacheEntryDownloadURL').at(-1)
    expect(request?.body).toEqual({ key: 'deps-linux-ccc', restore_keys: ['deps-linux-', 'deps-'], version: cacheVersion([dir]) })

    fs.rmSync(dir, { recursive: true })
    expect(await actionsCache.restore([dir], 'deps-linux-aaa', ['deps-linux-'])).toBe('deps-linux-aaa')
    expect(fs.readFileSync(path.join(dir, 'v.txt'), 'utf8')).toBe('one')
  })

  it('misses an unknown key, and a known key saved for other paths (another version)', async () => {
    const dir = makeDir('miss', { 'm.txt': 'm' })
    await actionsCache.save([dir], 'miss-known')
    const other = path.join(work, 'elsewhere')
    expect(await actionsCache.restore([dir], 'miss-unknown', ['nothing-'])).toBeUndefined()
    expect(await actionsCache.restore([other], 'miss-known', ['miss-'])).toBeUndefined()
    expect(fs.existsSync(other)).toBe(false)
  })

  it('refuses a key that already exists (409 already_exists); the client logs it, the save fails, the entry stays', async () => {
    const dir = makeDir('twice', { 't.txt': 'first' })
    await actionsCache.save([dir], 'twice-key')
    fs.writeFileSync(path.join(dir, 't.txt'), 'second')
    const log = await refusedSave(dir, 'twice-key')
    expect(service.requests.at(-1)).toMatchObject({ name: 'CreateCacheEntry', status: 409 })
    expect(log).toContain('Failed to save: Unable to reserve cache with key twice-key, another job may be creating this cache.')
    expect(service.entries.filter(e => e.key === 'twice-key')).toHaveLength(1)
    fs.rmSync(dir, { recursive: true })
    await actionsCache.restore([dir], 'twice-key', [])
    expect(fs.readFileSync(path.join(dir, 't.txt'), 'utf8')).toBe('first')
  })

  it('answers only the runtime token it issued; a pull request restores from main and saves into its own scope', async () => {
    const dir = makeDir('scoped', { 's.txt': 'main' })
    await actionsCache.save([dir], 'scoped-key')

    useRunner('not-the-runtime-token')
    const { value, log } = await logged(() => actionsCache.restore([dir], 'scoped-key', []))
    expect(value).toBeUndefined()
    expect(log).toMatch(/::warning::Failed to restore: .*\(401\) Unauthorized: invalid runtime token/)

    useRunner(service.tokenForRef('refs/pull/7/merge'))
    fs.rmSync(dir, { recursive: true })
    expect(await actionsCache.restore([dir], 'scoped-key', [])).toBe('scoped-key')
    fs.writeFileSync(path.join(dir, 's.txt'), 'pr')
    await actionsCache.save([dir], 'scoped-pr-key')
    expect(service.finalizedEntries().find(e => e.key === 'scoped-pr-key')?.scope).toBe('refs/pull/7/merge')

    // main does not see the pull request's entry; a read-only token cannot save.
    useRunner()
    expect(await actionsCache.restore([dir], 'scoped-pr-key', [])).toBeUndefined()
    useRunner(service.tokenFor([{ scope: 'refs/heads/main', permission: READ }]))
    const denied = await refusedSave(dir, 'scoped-read-only')
    expect(denied).toMatch(
      /::warning::Failed to save: Unable to reserve cache with key scoped-read-only\. More details: cache write denied:/
    )
    expect(service.entries.some(e => e.key === 'scoped-read-only')).toBe(false)
  })

  it('speaks the Azure Blob protocol of @azure/storage-blob: Put Block + Put Block List, ranged GETs', async () => {
    const version = cacheVersion(['/blocks'])
    const created = (await (await twirp('CreateCacheEntry', { key: 'blocks', version })).json()) as {
      ok: boolean
      signed_upload_url: string
    }
    expect(created.ok).toBe(true)
    const content = Buffer.alloc(300_000, 7)
    content.write('start', 0)
    // The client uses the same SDK call with 64 MiB blocks above 128 MiB; smaller thresholds here.
    await new BlockBlobClient(created.signed_upload_url).uploadData(content, {
      blockSize: 100_000,
      maxSingleShotSize: 50_000,
      concurrency: 2
    })
    const puts = service.requests.filter(r => r.kind === 'blob' && r.method === 'PUT').slice(-4)
    expect(puts.map(r => r.comp)).toEqual(['block', 'block', 'block', 'blocklist'])
    expect(puts.every(r => r.status === 201)).toBe(true)

    // Before finalize nothing is restorable; a wrong size is refused.
    const lookup = { key: 'blocks', version }
    expect(await (await twirp('GetCacheEntryDownloadURL', lookup)).json()).toMatchObject({ ok: false })
    expect(await (await twirp('FinalizeCacheEntryUpload', { ...lookup, size_bytes: '1' })).json()).toMatchObject({ ok: false })
    expect(await (await twirp('FinalizeCacheEntryUpload', { ...lookup, size_bytes: String(content.length) })).json()).toMatchObject({
      ok: true
    })
    const found = (await (await twirp('GetCacheEntryDownloadURL', lookup)).json()) as { signed_download_url: string; matched_key: string }
    expect(found.matched_key).toBe('blocks')

    const ranged = await fetch(found.signed_download_url, { headers: { range: 'bytes=0-4' } })
    expect(ranged.status).toBe(206)
    expect(ranged.headers.get('content-range')).toBe(`bytes 0-4/${content.length}`)
    expect(await ranged.text()).toBe('start')
    expect(Buffer.from(await (await fetch(found.signed_download_url)).arrayBuffer()).equals(content)).toBe(true)
    // The signature covers the blob path and its permissions: the download URL cannot upload.
    expect((await fetch(found.signed_download_url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' })).status).toBe(
      403
    )
    expect((await fetch(found.signed_download_url.replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(403)
    expect((await twirp('CreateCacheEntry', { key: 'blocks', version }, 'forged')).status).toBe(401)
    expect((await twirp('CreateCacheEntry', { key: 'blocks', version })).status).toBe(409)
  })
})

describe("the action's caches through the real client", () => {
  it('cargo: saveCargoCache after a build, then a fresh runner restores registry and target with the exact key', async () => {
    const cargoHome = path.join(work, 'cargo-home')
    const project = makeDir('crate', { 'Cargo.lock': '# lock v1\n', 'target/release/app': 'binary' })
    fs.mkdirSync(path.join(cargoHome, 'registry', 'cache'), { recursive: true })
    fs.writeFileSync(path.join(cargoHome, 'registry', 'cache', 'serde-1.0.0.crate'), 'crate')
    const input = {
      os: 'linux',
      runnerArch: 'x86_64' as const,
      lambdaArch: 'x86_64' as const,
      rustcVerbose: 'rustc 1.95.0',
      workingDirectory: project,
      searchRoot: project
    }
    const paths = cargoCachePaths({ cargoHome, workingDirectory: project })
    const key = cargoCacheKey(input)

    const first = await logged(() => restoreCargoCache(key, paths, actionsCache))
    expect(first.log).toContain('Cargo cache: miss')
    const saved = await logged(() => saveCargoCache(first.value))
    expect(saved.log).toContain(`Saved the cargo cache: ${key.key}`)
    const entry = service.finalizedEntries().find(e => e.key === key.key)
    // The version is the hash of the three paths (registry, git, target) though git does not exist.
    expect(entry?.version).toBe(cacheVersion(paths))
    const listing = archiveListing(entry!)
    expect(listing).toEqual(
      expect.arrayContaining([expect.stringMatching(/cargo-home\/registry\/$/), expect.stringMatching(/crate\/target\/$/)])
    )
    // Whatever the save left in place (the cargo cache may be cleaned before it is saved) is what comes back.
    const kept = snapshot([path.join(cargoHome, 'registry'), path.join(project, 'target')])
    expect(Object.keys(kept).length).toBeGreaterThan(0)
    for (const file of Object.keys(kept)) expect(listing).toContain(path.relative(process.cwd(), file))

    fs.rmSync(cargoHome, { recursive: true })
    fs.rmSync(path.join(project, 'target'), { recursive: true })
    const second = await logged(() => restoreCargoCache(key, paths, actionsCache))
    expect(second.log).toContain('Cargo cache: exact hit')
    expect(second.value.restoredKey).toBe(key.key)
    expect(snapshot([path.join(cargoHome, 'registry'), path.join(project, 'target')])).toEqual(kept)
    const again = await logged(() => saveCargoCache(second.value))
    expect(again.log).toContain('was an exact hit; not saving it again')

    // A new Cargo.lock: a partial hit through the restore keys, saved under the new key.
    fs.writeFileSync(path.join(project, 'Cargo.lock'), '# lock v2\n')
    const changed = cargoCacheKey(input)
    const third = await logged(() => restoreCargoCache(changed, paths, actionsCache))
    expect(third.log).toContain(`Cargo cache: partial hit (${key.key})`)
    await logged(() => saveCargoCache(third.value))
    expect(service.finalizedEntries().map(e => e.key)).toEqual(expect.arrayContaining([key.key, changed.key]))
  })

  it('tools: a tool downloaded once is restored from the Actions cache by a runner with an empty tool cache', async () => {
    const tester = Buffer.from(fakeExecutable('mcp-tester', '2.22.4'))
    const release: ReleaseServer = await startReleaseServer({
      '/sdk/v2.22.4/mcp-tester-x86_64-unknown-linux-gnu': tester,
      '/sdk/v2.22.4/mcp-tester-x86_64-unknown-linux-gnu.sha256': sha256File(tester, 'mcp-tester')
    })
    try {
      process.env.RUNNER_TOOL_CACHE = path.join(work, 'tool-cache')
      const context = {
        host: { os: 'linux', arch: 'x86_64' as const },
        cache: actionsCache,
        run: runCommand
      }
      const request = { version: '2.22.4', urlTemplate: `${release.url}/sdk/v{version}/mcp-tester-{arch}-unknown-linux-gnu` }
      const first = await logged(() => installMcpTester(request, context))
      expect(first.value.source).toBe('download')
      expect(first.log).toContain('Saved the mcp-tester cache: pmcp-tool-mcp-tester-2.22.4-linux-x86_64')
      const entry = service.finalizedEntries().find(e => e.key === 'pmcp-tool-mcp-tester-2.22.4-linux-x86_64')
      const dir = path.join(process.env.RUNNER_TOOL_CACHE, 'mcp-tester', '2.22.4', 'x86_64')
      expect(entry?.version).toBe(cacheVersion([dir, `${dir}.complete`]))

      fs.rmSync(process.env.RUNNER_TOOL_CACHE, { recursive: true })
      const downloads = release.requests.length
      const second = await logged(() => installMcpTester(request, context))
      expect(second.value.source).toBe('actions-cache')
      expect(release.requests.length).toBe(downloads)
      expect((await runCommand(path.join(second.value.dir, 'mcp-tester'), [], { silent: true })).stdout.trim()).toBe('mcp-tester 2.22.4')
    } finally {
      await release.close()
    }
  })

  it('restoreFromCache/saveToCache stay best effort when the service fails (5xx retried, then a warning)', async () => {
    const dir = makeDir('failing', { 'f.txt': 'f' })
    service.failTwirp('GetCacheEntryDownloadURL', 400)
    try {
      const { value, log } = await logged(() => restoreFromCache(actionsCache, 'failing', [dir], 'failing-key'))
      expect(value).toBeUndefined()
      expect(log).toMatch(/::warning::Failed to restore: .*\(400\) Bad Request: injected failure 400/)
    } finally {
      service.failTwirp('GetCacheEntryDownloadURL', undefined)
    }
    const { log } = await logged(() => saveToCache(actionsCache, 'failing', [dir], 'failing-key'))
    expect(log).toContain('Saved the failing cache: failing-key')
  })
})
