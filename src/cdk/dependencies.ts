/**
 * The CDK project's node_modules: `npm ci` from its package-lock.json, kept in the Actions cache
 * under a key made of the lock file's hash, so a fresh runner restores what it would install.
 */
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import { runCommand, type CommandRunner } from '../process.js'
import { restoreFromCache, saveToCache, type CacheService } from '../toolchain/cache-service.js'
import { currentHost, type HostPlatform } from '../toolchain/command.js'

export const LOCK_FILE = 'package-lock.json'
/** What the log and the cache warnings call this cache. */
const WHAT = 'CDK dependencies'
/** Bumped when what is cached under a key changes shape. */
const KEY_VERSION = 'v1'

/** A version the manifest pins exactly (`2.276.0`, `1.0.0-rc.1`), as the rendered project's package.json does. */
const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/

/**
 * True when every package the project depends on resolves from its directory (its own node_modules
 * or a parent's, as Node finds it), at the version package.json pins when it pins one exactly: a
 * parent's aws-cdk-lib of another version does not count for the rendered project.
 */
export function dependenciesPresent(dir: string): boolean {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
    devDependencies?: Record<string, string>
  }
  const wanted = Object.entries({ ...manifest.devDependencies, ...manifest.dependencies })
  return wanted.every(([name, spec]) => {
    const found = installedManifest(dir, name)
    return found !== undefined && (!EXACT_VERSION.test(spec) || found.version === spec)
  })
}

/**
 * The package.json of a package as Node finds it from dir (dir/node_modules/<name>, then each parent's),
 * read from disk every time: a package npm or the cache has just put there is seen.
 */
function installedManifest(dir: string, name: string): { version?: string } | undefined {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const file = path.join(current, 'node_modules', name, 'package.json')
    if (fs.existsSync(file)) {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }
      } catch {
        return undefined
      }
    }
    if (path.dirname(current) === current) return undefined
  }
}

export interface CdkDependenciesKeyInput {
  /** The project's package-lock.json. */
  lockFile: string
  /** Input `cache-key`: an extra part, to start the cache afresh. */
  extra?: string
  /** process.platform, as the other caches of the run name it. */
  os: string
  arch: string
  /** process.versions.node: node_modules may hold native code built for a Node ABI. */
  nodeVersion: string
}

/**
 * THE key of the CDK dependencies cache:
 * `pmcp-cdk-deps-v1-[<cache-key>-]<os>-<arch>-node<major>-<sha256 of the lock file, 16 hex>`.
 * There are no restore keys: node_modules must be exactly what `npm ci` makes of this lock.
 */
export function cdkDependenciesCacheKey(input: CdkDependenciesKeyInput): string {
  const lockHash = createHash('sha256').update(fs.readFileSync(input.lockFile)).digest('hex').slice(0, 16)
  const major = input.nodeVersion.replace(/^v/, '').split('.')[0]
  return `pmcp-cdk-deps-${KEY_VERSION}-${input.extra ? `${input.extra}-` : ''}${input.os}-${input.arch}-node${major}-${lockHash}`
}

export interface InstallCdkDependenciesOptions {
  /** The run's cache service (runCacheService(plan)); undefined when caching is off (`cache: false`). */
  cache?: CacheService
  /** Input `cache-key`. */
  cacheKey?: string
  /** The runner's OS and architecture; this machine's by default. */
  host?: HostPlatform
  /** The Node version npm installs for; this process's by default. */
  nodeVersion?: string
  /** Runs npm; runCommand by default. */
  run?: CommandRunner
}

/**
 * How the dependencies came to be there: already resolvable (nothing done), restored from the
 * cache (an exact hit, so no `npm ci`), or installed by npm.
 */
export type CdkDependencies = 'present' | 'restored' | 'installed'

/**
 * The project's dependencies, installed unless they already resolve. With a package-lock.json (the
 * rendered project always has one; a repository's own deploy/ may): node_modules is restored from
 * the cache on an exact hit, else `npm ci` installs it and it is saved (as the run's save policy
 * allows). Without one, `npm install`, not cached: without a lock there is nothing to key it by.
 */
export async function installCdkDependencies(dir: string, options: InstallCdkDependenciesOptions = {}): Promise<CdkDependencies> {
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    throw new ActionError(
      'CDK project has no package.json',
      `${dir} holds a cdk.json but no package.json; add one that depends on aws-cdk-lib and aws-cdk.`
    )
  }
  if (dependenciesPresent(dir)) {
    core.info('CDK project dependencies already present; no install needed')
    return 'present'
  }
  const run = options.run ?? runCommand
  const lockFile = path.join(dir, LOCK_FILE)
  if (!fs.existsSync(lockFile)) {
    core.info(
      `The CDK project in ${dir} has no ${LOCK_FILE}: npm install, and its node_modules is not cached ` +
        `(add a ${LOCK_FILE} to have it installed with npm ci and cached)`
    )
    await npm(run, dir, 'install')
    return 'installed'
  }
  const host = options.host ?? currentHost()
  const key = cdkDependenciesCacheKey({
    lockFile,
    extra: options.cacheKey,
    os: host.os,
    arch: host.arch,
    nodeVersion: options.nodeVersion ?? process.versions.node
  })
  core.info(`CDK dependencies cache key: ${key}`)
  const nodeModules = path.resolve(dir, 'node_modules')
  const { cache } = options
  if (cache === undefined) core.info('CDK dependencies cache: off (cache: false)')
  const restored = cache && (await restoreFromCache(cache, WHAT, [nodeModules], key))
  if (restored === key) {
    if (dependenciesPresent(dir)) {
      core.info('CDK dependencies cache: exact hit; npm ci skipped')
      return 'restored'
    }
    core.warning(`The ${WHAT} cache ${key} was restored but does not hold every dependency; running npm ci.`)
  } else if (cache) {
    core.info('CDK dependencies cache: miss')
  }
  await npm(run, dir, 'ci')
  if (cache && restored !== key) await saveToCache(cache, WHAT, [nodeModules], key)
  return 'installed'
}

async function npm(run: CommandRunner, dir: string, command: 'ci' | 'install'): Promise<void> {
  const { exitCode } = await run('npm', [command, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir })
  if (exitCode !== 0) {
    throw new ActionError(
      'CDK dependencies could not be installed',
      `'npm ${command}' failed in ${dir} (exit code ${exitCode}); see the log above.`
    )
  }
}
