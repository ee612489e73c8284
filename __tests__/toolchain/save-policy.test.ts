/** save-cache, as rust-cache reads it: restore always; save on the default branch unless told otherwise. */
import { jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cacheSavePolicy, saveToCache, withSavePolicy } from '../../src/toolchain/cache-service.js'
import { LocalCache } from '../../testkit/local-cache.js'

describe('cacheSavePolicy', () => {
  it.each([
    ['default-branch', 'push', 'refs/heads/main', 'main', true],
    ['default-branch', 'push', 'refs/heads/feature', 'main', false],
    ['default-branch', 'workflow_dispatch', 'refs/heads/main', 'main', true],
    ['default-branch', 'pull_request', 'refs/pull/5/merge', 'main', false],
    ['default-branch', 'pull_request_target', 'refs/heads/main', 'main', false],
    ['default-branch', 'push', 'refs/heads/main', undefined, true],
    ['default-branch', 'pull_request', undefined, undefined, false],
    ['true', 'pull_request', 'refs/pull/5/merge', 'main', true],
    ['false', 'push', 'refs/heads/main', 'main', false]
  ] as const)('save-cache: %s on %s of %s (default %s) saves: %s', (mode, eventName, ref, defaultBranch, save) => {
    expect(cacheSavePolicy({ mode, eventName, ref, defaultBranch }).save).toBe(save)
  })

  it('says why a run does not save', () => {
    expect(cacheSavePolicy({ mode: 'default-branch', eventName: 'push', ref: 'refs/heads/feature', defaultBranch: 'main' }).reason).toBe(
      'save-cache: default-branch, and refs/heads/feature is not refs/heads/main'
    )
  })
})

describe('withSavePolicy', () => {
  let store: string
  let work: string
  beforeEach(() => {
    store = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-policy-store-'))
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-policy-work-'))
    fs.writeFileSync(path.join(work, 'file'), 'x')
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
  })
  afterEach(() => {
    jest.restoreAllMocks()
    fs.rmSync(store, { recursive: true, force: true })
    fs.rmSync(work, { recursive: true, force: true })
  })

  it('restores but does not save when the policy says so', async () => {
    const cache = new LocalCache(store)
    await cache.save([work], 'k1')
    const restoreOnly = withSavePolicy(cache, { save: false, reason: 'save-cache: false' })
    expect(await restoreOnly.restore([work], 'k1', [])).toBe('k1')
    await saveToCache(restoreOnly, 'cargo', [work], 'k2')
    expect(cache.saves).toEqual(['k1'])
    await saveToCache(withSavePolicy(cache, { save: true, reason: 'save-cache: true' }), 'cargo', [work], 'k2')
    expect(cache.saves).toEqual(['k1', 'k2'])
  })
})
