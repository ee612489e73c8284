import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorMessage } from '../errors.js'
import { runCommand, type CommandRunner } from '../process.js'
import type { Architecture } from '../types.js'
import { restoreFromCache, saveToCache, type CacheService } from './cache-service.js'
import {
  cleanCargoCache,
  formatBytes,
  formatCleanReport,
  readCargoPackages,
  removeOutdated,
  type CargoCacheDirs,
  type OutdatedReport
} from './cargo-clean.js'
import type { HostArch } from './command.js'
import { findUp, TOOLCHAIN_FILE_NAMES } from './rust.js'

export interface CargoCacheKeyInput {
  os: string
  runnerArch: HostArch
  lambdaArch: Architecture
  /** Full `rustc -vV` output. */
  rustcVerbose: string
  workingDirectory: string
  /** Files are looked up from workingDirectory upwards to here (the repository root). */
  searchRoot: string
  /** Input `cache-key`: an extra part, to start the cache afresh. */
  extra?: string
}

export interface CargoCacheKey {
  key: string
  /** Longest prefix first, down to the toolchain hash. */
  restoreKeys: string[]
}

const KEY_VERSION = 'v1'

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16)
}

/** Hash of a file's content, or of its absence (creating the file changes the key). */
function fileHash(file: string | undefined): string {
  return shortHash(file ? `${path.basename(file)}\0${fs.readFileSync(file, 'utf8')}` : 'absent')
}

/**
 * THE cargo cache key: OS + arch + hash of `rustc -vV` + hashes of rust-toolchain(.toml),
 * .cargo/config.toml and Cargo.lock (nearest one of each, searching upwards). Cargo.lock changes
 * most often, so it is the last part and the first to be dropped from the restore keys.
 */
export function cargoCacheKey(input: CargoCacheKeyInput): CargoCacheKey {
  const find = (name: string): string | undefined => findUp(name, input.workingDirectory, input.searchRoot)
  const toolchainFile = TOOLCHAIN_FILE_NAMES.map(find).find(file => file !== undefined)
  const prefix = `pmcp-cargo-${KEY_VERSION}-${input.extra ? `${input.extra}-` : ''}`
  const base = `${prefix}${input.os}-${input.runnerArch}-${input.lambdaArch}-rustc-${shortHash(input.rustcVerbose)}-`
  const withConfig = `${base}toolchain-${fileHash(toolchainFile)}-config-${fileHash(find('.cargo/config.toml'))}-`
  return { key: `${withConfig}lock-${fileHash(find('Cargo.lock'))}`, restoreKeys: [withConfig, base] }
}

export interface CargoCachePathsInput {
  cargoHome?: string
  workingDirectory: string
}

export function cargoCachePaths(input: CargoCachePathsInput): string[] {
  const cargoHome = input.cargoHome ?? process.env.CARGO_HOME ?? path.join(os.homedir(), '.cargo')
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(input.workingDirectory, process.env.CARGO_TARGET_DIR)
    : path.join(input.workingDirectory, 'target')
  return [path.join(cargoHome, 'registry'), path.join(cargoHome, 'git'), target]
}

/** The cached directories, by their place in cargoCachePaths' list. */
function cacheDirs(paths: string[]): CargoCacheDirs {
  const [registry, git, target] = paths
  return { registry, git, target }
}

/** What restoreCargoCache found, handed to saveCargoCache after a successful build. */
export interface CargoCacheState {
  key: string
  paths: string[]
  /** The key that was restored, if any. */
  restoredKey?: string
  service: CacheService
  /** Where `cargo metadata` lists the workspace's crates for the cleaning; else the target directory's parent when it has a Cargo.toml. */
  workingDirectory?: string
  run?: CommandRunner
  /** What the week rule removed after a partial hit. */
  outdated?: OutdatedReport
}

export interface CargoCacheOptions {
  /** The server's working directory (where `cargo metadata` runs before the cache is cleaned and saved). */
  workingDirectory?: string
  run?: CommandRunner
  /** Milliseconds since the epoch, for the week rule (tests). */
  now?: () => number
}

/** Whether this run will save the cargo cache (it is not a restore-only run); an exact hit is never saved again. */
const savesCache = (service: CacheService): boolean => service.restoreOnly === undefined

export async function restoreCargoCache(
  key: CargoCacheKey,
  paths: string[],
  service: CacheService,
  options: CargoCacheOptions = {}
): Promise<CargoCacheState> {
  core.info(`Cargo cache key: ${key.key}`)
  core.info(`Cargo cache restore keys: ${key.restoreKeys.join(', ')}`)
  const restoredKey = await restoreFromCache(service, 'cargo', paths, key.key, key.restoreKeys)
  const state: CargoCacheState = { key: key.key, paths, restoredKey, service, workingDirectory: options.workingDirectory, run: options.run }
  if (restoredKey === key.key) core.info('Cargo cache: exact hit')
  else if (restoredKey) {
    core.info(`Cargo cache: partial hit (${restoredKey})`)
    // rust-cache's pre-clean on a partial hit (restore.ts): artifacts not rebuilt for a week are rebuilt now,
    // so the new entry drops those of crates no longer built. Only when this run saves a new entry.
    if (savesCache(service)) {
      try {
        state.outdated = removeOutdated(cacheDirs(paths).target, options.now?.() ?? Date.now())
        core.info(
          `Cargo cache: removed ${formatBytes(state.outdated.bytes)} of target/ artifacts older than 7 days (rebuilt by this build)`
        )
      } catch (error) {
        core.warning(`Could not remove the cargo artifacts older than 7 days: ${errorMessage(error)}`)
      }
    }
  } else core.info('Cargo cache: miss')
  return state
}

/** Whether the cargo cache was restored with its exact key (output `cache-hit`); undefined when caching is off. */
export function cargoCacheHit(state: CargoCacheState | undefined): boolean | undefined {
  return state === undefined ? undefined : state.restoredKey === state.key
}

/** The working directory given to restoreCargoCache, else the target directory's parent when it is a Cargo project. */
function workspaceOf(state: CargoCacheState): string | undefined {
  if (state.workingDirectory) return state.workingDirectory
  const parent = path.dirname(cacheDirs(state.paths).target)
  return fs.existsSync(path.join(parent, 'Cargo.toml')) ? parent : undefined
}

/** rust-cache's save.ts: clean in place (the build is done), print what each rule removed, then save. */
async function cleanBeforeSave(state: CargoCacheState): Promise<void> {
  try {
    const workingDirectory = workspaceOf(state)
    const packages = workingDirectory ? await readCargoPackages(workingDirectory, state.run ?? runCommand) : undefined
    const report = cleanCargoCache(cacheDirs(state.paths), packages)
    core.info(formatCleanReport(report, state.outdated))
    for (const note of report.notes) core.info(`Cargo cache: ${note}`)
  } catch (error) {
    core.warning(`Could not clean the cargo cache before saving it: ${errorMessage(error)}. Saving it as it is.`)
  }
}

/**
 * After a build (a failed one too with `cache-on-failure`); an exact hit is not saved again. The cache is
 * cleaned just before it is saved, and only then: never in a restore-only run or for an exact hit.
 */
export async function saveCargoCache(state: CargoCacheState | undefined): Promise<void> {
  if (!state) return
  if (state.restoredKey === state.key) {
    core.info(`Cargo cache ${state.key} was an exact hit; not saving it again.`)
    return
  }
  // The same path list as the restore: @actions/cache versions an entry by its paths.
  if (!state.paths.some(p => fs.existsSync(p))) return
  // saveToCache says why it does not save (restore-only run, no cache service); nothing is cleaned then.
  if (savesCache(state.service) && (await state.service.isAvailable())) await cleanBeforeSave(state)
  await saveToCache(state.service, 'cargo', state.paths, state.key)
}
