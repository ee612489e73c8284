/**
 * A stand-in for the GitHub Actions cache service (which only exists on GitHub): entries are
 * directory copies in a local store, matched like @actions/cache (exact key, then restore-key
 * prefixes, newest first) and versioned by their path list.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { CacheService } from '../src/toolchain/cache-service.js'

interface Entry {
  key: string
  paths: string[]
  dir: string
}

export class LocalCache implements CacheService {
  readonly entries: Entry[] = []
  readonly saves: string[] = []
  readonly restores: string[] = []

  constructor(private readonly store: string) {}

  isAvailable(): boolean {
    return true
  }

  async restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined> {
    this.restores.push(key)
    const samePaths = this.entries.filter(e => e.paths.join('\n') === paths.join('\n')).reverse()
    const entry =
      samePaths.find(e => e.key === key) ?? restoreKeys.map(prefix => samePaths.find(e => e.key.startsWith(prefix))).find(Boolean)
    if (!entry) return undefined
    entry.paths.forEach((p, index) => {
      const saved = path.join(entry.dir, String(index))
      if (fs.existsSync(saved)) fs.cpSync(saved, p, { recursive: true })
    })
    return entry.key
  }

  async save(paths: string[], key: string): Promise<void> {
    if (this.entries.some(e => e.key === key))
      throw new Error(`Unable to reserve cache with key ${key}, another job may be creating this cache.`)
    this.saves.push(key)
    const dir = path.join(this.store, String(this.entries.length))
    paths.forEach((p, index) => {
      if (fs.existsSync(p)) fs.cpSync(p, path.join(dir, String(index)), { recursive: true })
    })
    this.entries.push({ key, paths, dir })
  }
}
