import * as core from '@actions/core'
import { errorMessage } from '../errors.js'

/** The part of @actions/cache this action uses; tests inject a local stand-in. */
export interface CacheService {
  isAvailable(): boolean | Promise<boolean>
  /** The key that matched, or undefined on a miss. */
  restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined>
  save(paths: string[], key: string): Promise<void>
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
    await (await loadActionsCache()).saveCache(paths, key)
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
