import * as core from '@actions/core'
import { PULL_REQUEST_EVENTS } from '../context.js'
import { errorMessage } from '../errors.js'
import type { SaveCacheMode } from '../inputs.js'

/** The part of @actions/cache this action uses; tests inject a local stand-in. */
export interface CacheService {
  isAvailable(): boolean | Promise<boolean>
  /** The key that matched, or undefined on a miss. */
  restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined>
  save(paths: string[], key: string): Promise<void>
  /** Set when this run restores only: why it does not save (the save-cache rule). */
  readonly restoreOnly?: string
}

type ActionsCacheModule = typeof import('@actions/cache')
let actionsCacheModule: Promise<ActionsCacheModule> | undefined

/**
 * @actions/cache (with its storage clients) is the heaviest dependency; loading it only when a
 * cache is used keeps it out of the start-up of runs with `cache: false` and of every other command.
 */
function loadActionsCache(): Promise<ActionsCacheModule> {
  actionsCacheModule ??= import('@actions/cache')
  return actionsCacheModule
}

export const actionsCache: CacheService = {
  isAvailable: async () => (await loadActionsCache()).isFeatureAvailable(),
  restore: async (paths, key, restoreKeys) => (await loadActionsCache()).restoreCache(paths, key, restoreKeys),
  save: async (paths, key) => {
    // saveCache logs and returns -1 instead of throwing when the entry exists, an upload fails or the
    // runner's ACTIONS_CACHE_MODE forbids writes: that is not a save.
    const id = await (await loadActionsCache()).saveCache(paths, key)
    if (id === -1)
      throw new Error('the cache service did not store it (the key exists already, the upload failed, or writes are not allowed here)')
  }
}

/** Whether this run saves what it caches, and why (printed, so a cache that never fills can be explained). */
export interface CacheSavePolicy {
  save: boolean
  reason: string
}

export interface CacheSavePolicyInput {
  /** Input `save-cache`. */
  mode: SaveCacheMode
  eventName: string
  /** `refs/heads/main`, `refs/pull/5/merge`, … (GITHUB_REF). */
  ref?: string
  /** The event payload's `repository.default_branch`. */
  defaultBranch?: string
}

/**
 * rust-cache's rule: `save-cache: default-branch` (the default) saves only on the repository's default
 * branch, so pull requests restore what main saved without filling the 10 GB quota with their own
 * entries; `true` always saves, `false` never does. A run whose default branch is not known (outside a
 * runner) saves unless it belongs to a pull request.
 */
export function cacheSavePolicy(input: CacheSavePolicyInput): CacheSavePolicy {
  if (input.mode === 'true') return { save: true, reason: 'save-cache: true' }
  if (input.mode === 'false') return { save: false, reason: 'save-cache: false' }
  if (PULL_REQUEST_EVENTS.includes(input.eventName)) {
    return { save: false, reason: `save-cache: default-branch, and this ${input.eventName} run restores only` }
  }
  if (input.defaultBranch === undefined) return { save: true, reason: 'save-cache: default-branch (default branch unknown)' }
  const onDefault = input.ref === `refs/heads/${input.defaultBranch}`
  return {
    save: onDefault,
    reason: `save-cache: default-branch, and ${input.ref ?? 'this ref'} ${onDefault ? 'is' : 'is not'} refs/heads/${input.defaultBranch}`
  }
}

/** The cache service for this run: it restores always, and saves only when the policy says so. */
export function withSavePolicy(service: CacheService, policy: CacheSavePolicy): CacheService {
  core.info(`Caches: restored; ${policy.save ? 'saved' : 'not saved'} (${policy.reason})`)
  if (policy.save) return service
  return {
    isAvailable: () => service.isAvailable(),
    restore: (paths, key, restoreKeys) => service.restore(paths, key, restoreKeys),
    save: (paths, key) => service.save(paths, key),
    restoreOnly: policy.reason
  }
}

const warnedUnavailable = new WeakSet<CacheService>()

/**
 * Caching is best effort: an absent cache service (no ACTIONS_CACHE_URL / runtime token, e.g. on
 * GHES without caching or a self-hosted runner) or a failing one is a warning, never a failure.
 */
export async function restoreFromCache(
  service: CacheService,
  what: string,
  paths: string[],
  key: string,
  restoreKeys: string[] = []
): Promise<string | undefined> {
  if (!(await usable(service))) return undefined
  try {
    return await service.restore(paths, key, restoreKeys)
  } catch (error) {
    core.warning(`Could not restore the ${what} cache (${key}): ${errorMessage(error)}. Continuing without it.`)
    return undefined
  }
}

export async function saveToCache(service: CacheService, what: string, paths: string[], key: string): Promise<void> {
  if (service.restoreOnly !== undefined) {
    core.info(`The ${what} cache ${key} is not saved (${service.restoreOnly})`)
    return
  }
  if (!(await usable(service))) return
  try {
    await service.save(paths, key)
    core.info(`Saved the ${what} cache: ${key}`)
  } catch (error) {
    core.warning(`Could not save the ${what} cache (${key}): ${errorMessage(error)}. The next run will rebuild it.`)
  }
}

async function usable(service: CacheService): Promise<boolean> {
  if (await service.isAvailable()) return true
  if (!warnedUnavailable.has(service)) {
    warnedUnavailable.add(service)
    core.warning(
      'The GitHub Actions cache service is not available to this runner (no ACTIONS_CACHE_URL or ACTIONS_RESULTS_URL); ' +
        'tools and cargo builds are not cached. Set `cache: false` to silence this warning.'
    )
  }
  return false
}
