/**
 * Cleans the cargo cache (registry, git, target/) in place before it is saved, as Swatinem/rust-cache
 * does (its src/cleanup.ts, called from src/save.ts and, for the week rule, src/restore.ts): what is
 * cheap to rebuild and expensive to store goes, so an entry stays small and the repository's 10 GB
 * Actions cache quota is not filled with unpacked sources, incremental state and stale artifacts.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { errorMessage } from '../errors.js'
import { runCommand, type CommandRunner } from '../process.js'

export const ONE_WEEK_MS = 7 * 24 * 3600 * 1000

/** What each rule removed, in the order they are printed. */
export const CLEAN_RULES = [
  'registry/src',
  'registry/cache',
  'registry/index',
  'git',
  'incremental',
  'workspace crates',
  'old dependencies',
  'other outputs'
] as const
export type CleanRule = (typeof CLEAN_RULES)[number]

export interface CargoPackage {
  name: string
  version: string
  /** Directory of the package's Cargo.toml. */
  manifestDir: string
  /** Every target's name (lib, bins, tests, examples, benches; not the build script). */
  targets: string[]
  /** The lib and proc-macro targets: what a dependent links (rust-cache's SAVE_TARGETS). */
  libTargets: string[]
}

export interface CargoPackages {
  /** The workspace's own packages: rebuilt by every build that changes them, so not worth storing. */
  members: CargoPackage[]
  /** Every other package of the resolved graph (all features); undefined when cargo could not resolve it. */
  dependencies?: CargoPackage[]
  /** Why a part is missing, for the log. */
  notes: string[]
}

interface MetadataPackage {
  id: string
  name: string
  version: string
  manifest_path: string
  targets: Array<{ name: string; kind: string[] }>
}

interface Metadata {
  packages: MetadataPackage[]
  workspace_members?: string[]
}

function toPackage(pkg: MetadataPackage): CargoPackage {
  const real = pkg.targets.filter(target => !target.kind.includes('custom-build'))
  return {
    name: pkg.name,
    version: pkg.version,
    manifestDir: path.dirname(pkg.manifest_path),
    targets: real.map(target => target.name),
    libTargets: real.filter(target => target.kind.some(kind => kind.endsWith('lib') || kind === 'proc-macro')).map(target => target.name)
  }
}

/**
 * The workspace's packages and its dependencies, from `cargo metadata --all-features --offline` (rust-cache's
 * workspace.ts runs `cargo metadata --all-features`; offline here, as the build has just resolved everything).
 * Falls back to `--no-deps` (members only) when the graph cannot be resolved; undefined when neither works.
 */
export async function readCargoPackages(workingDirectory: string, run: CommandRunner = runCommand): Promise<CargoPackages | undefined> {
  const metadata = async (extra: string[]): Promise<Metadata | string> => {
    try {
      const result = await run('cargo', ['metadata', '--format-version', '1', '--offline', ...extra], {
        cwd: workingDirectory,
        silent: true
      })
      if (result.exitCode !== 0) return result.stderr.trim().split('\n').slice(-1)[0] ?? `exit code ${result.exitCode}`
      return JSON.parse(result.stdout) as Metadata
    } catch (error) {
      return errorMessage(error)
    }
  }
  const full = await metadata(['--all-features'])
  if (typeof full !== 'string') {
    const members = new Set(full.workspace_members ?? [])
    return {
      members: full.packages.filter(pkg => members.has(pkg.id)).map(toPackage),
      dependencies: full.packages.filter(pkg => !members.has(pkg.id)).map(toPackage),
      notes: []
    }
  }
  const noDeps = await metadata(['--no-deps'])
  if (typeof noDeps === 'string') return undefined
  return {
    members: noDeps.packages.map(toPackage),
    notes: [
      `cargo metadata could not resolve the dependencies (${full}): the .crate files, the index cache, git checkouts and ` +
        "old dependencies' artifacts are kept as they are"
    ]
  }
}

export interface CargoCacheDirs {
  /** $CARGO_HOME/registry */
  registry: string
  /** $CARGO_HOME/git */
  git: string
  /** The target directory. */
  target: string
}

export interface CleanReport {
  /** Bytes stored before and after cleaning (hard links counted once, as tar stores them). */
  before: number
  after: number
  removed: Partial<Record<CleanRule, number>>
  /** Every path removed, for tests and debugging. */
  paths: string[]
  notes: string[]
}

const fileKey = (stat: fs.Stats): string => `${stat.dev}:${stat.ino}`

/** Calls visit for every non-directory under (or at) p, without following symlinks. */
function walk(p: string, visit: (stat: fs.Stats) => void): void {
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(p)
  } catch {
    return
  }
  if (!stat.isDirectory()) return visit(stat)
  for (const name of readDir(p)) walk(path.join(p, name), visit)
}

function readDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir)
  } catch {
    return []
  }
}

const isDir = (p: string): boolean => {
  try {
    return fs.lstatSync(p).isDirectory()
  } catch {
    return false
  }
}

/**
 * The size of the cached trees, inode by inode: cargo hard-links target/<profile>/<bin> to
 * deps/<bin>-<hash>, and removing one of the two frees nothing until the other goes too.
 */
class Tally {
  private readonly inodes = new Map<string, { size: number; links: number }>()
  total = 0

  constructor(roots: string[]) {
    for (const root of roots)
      walk(root, stat => {
        const known = this.inodes.get(fileKey(stat))
        if (known) known.links++
        else {
          this.inodes.set(fileKey(stat), { size: stat.size, links: 1 })
          this.total += stat.size
        }
      })
  }

  /** Removes a file or a directory; the bytes this frees. */
  remove(p: string): number {
    let freed = 0
    walk(p, stat => {
      const known = this.inodes.get(fileKey(stat))
      if (known && --known.links === 0) {
        freed += known.size
        this.inodes.delete(fileKey(stat))
      }
    })
    fs.rmSync(p, { recursive: true, force: true })
    this.total -= freed
    return freed
  }
}

class Cleaner {
  readonly removed: Partial<Record<CleanRule, number>> = {}
  readonly paths: string[] = []

  constructor(readonly tally: Tally) {}

  remove(p: string, rule: CleanRule): void {
    this.removed[rule] = (this.removed[rule] ?? 0) + this.tally.remove(p)
    this.paths.push(p)
  }
}

/** `serde-1a2b3c`, `libserde-1a2b3c.rlib` → `serde`, `libserde` (rust-cache's rmExcept strips from the last `-`). */
function withoutHash(name: string): string {
  const dash = name.lastIndexOf('-')
  return dash === -1 ? name : name.slice(0, dash)
}

/** deps/ names of these crates: `my_crate` and `libmy_crate` (rust-cache's keepDeps). */
function crateNames(packages: CargoPackage[], targets: (pkg: CargoPackage) => string[]): Set<string> {
  return new Set(
    packages.flatMap(pkg =>
      [pkg.name, ...targets(pkg)].flatMap(name => {
        const crate = name.replace(/-/g, '_')
        return [crate, `lib${crate}`]
      })
    )
  )
}

/** target/<triple>/ is a target directory of its own: cargo puts a CACHEDIR.TAG there (rust-cache also checks .rustc_info.json). */
const isNestedTarget = (dir: string): boolean =>
  fs.existsSync(path.join(dir, 'CACHEDIR.TAG')) || fs.existsSync(path.join(dir, '.rustc_info.json'))

/** Calls profile for target/<profile>/ and target/<triple>/<profile>/; other files of the target dirs go to files. */
function forEachProfile(target: string, profile: (dir: string) => void, files?: (file: string) => void): void {
  for (const name of readDir(target)) {
    const entry = path.join(target, name)
    if (isDir(entry)) {
      if (isNestedTarget(entry)) forEachProfile(entry, profile, files)
      else profile(entry)
    } else if (name !== 'CACHEDIR.TAG') files?.(entry)
  }
}

const KEEP_IN_PROFILE = ['build', '.fingerprint', 'deps']

function cleanTarget(target: string, packages: CargoPackages | undefined, cleaner: Cleaner): void {
  const memberPackages = packages && new Set(packages.members.map(pkg => pkg.name))
  const memberCrates = packages && crateNames(packages.members, pkg => pkg.targets)
  const dependencies = packages?.dependencies
  const dependencyPackages = dependencies && new Set(dependencies.map(pkg => pkg.name))
  const dependencyCrates = dependencies && crateNames(dependencies, pkg => pkg.libTargets)

  forEachProfile(
    target,
    profile => {
      for (const name of readDir(profile)) {
        const entry = path.join(profile, name)
        if (name === 'incremental') cleaner.remove(entry, 'incremental')
        // Final binaries, examples, .cargo-lock, cargo-lambda's target/lambda/: cargo re-links them from deps/.
        else if (!KEEP_IN_PROFILE.includes(name) || !isDir(entry)) cleaner.remove(entry, 'other outputs')
      }
      for (const dir of KEEP_IN_PROFILE) {
        const byPackage = dir !== 'deps'
        const members = byPackage ? memberPackages : memberCrates
        const keep = byPackage ? dependencyPackages : dependencyCrates
        for (const name of readDir(path.join(profile, dir))) {
          const entry = path.join(profile, dir, name)
          const owner = withoutHash(name)
          if (members?.has(owner)) cleaner.remove(entry, 'workspace crates')
          else if (keep && !keep.has(owner)) cleaner.remove(entry, 'old dependencies')
        }
      }
    },
    file => cleaner.remove(file, 'other outputs')
  )
}

/** A -sys crate's build script checks its sources' timestamps: re-extracted sources would rebuild it. */
const SYS_CRATE_DIR = /^.+-sys-\d+\.\d+\.\d+/

function cleanRegistry(registry: string, dependencies: CargoPackage[] | undefined, cleaner: Cleaner): void {
  // registry/src: cargo unpacks it again from registry/cache/*.crate, without rebuilding.
  const sysSources = dependencies && new Set(dependencies.filter(pkg => pkg.name.endsWith('-sys')).map(pkg => `${pkg.name}-${pkg.version}`))
  const src = path.join(registry, 'src')
  for (const index of readDir(src))
    for (const name of readDir(path.join(src, index))) {
      const keep = sysSources ? sysSources.has(name) : SYS_CRATE_DIR.test(name)
      if (!keep) cleaner.remove(path.join(src, index, name), 'registry/src')
    }

  const index = path.join(registry, 'index')
  const names = dependencies && new Set(dependencies.map(pkg => pkg.name.toLowerCase()))
  for (const name of readDir(index)) {
    const dir = path.join(index, name)
    // A git index recreates .cache from its clone; a sparse index keeps the entries of the crates in use.
    if (fs.existsSync(path.join(dir, '.git'))) {
      if (fs.existsSync(path.join(dir, '.cache'))) cleaner.remove(path.join(dir, '.cache'), 'registry/index')
    } else if (names) pruneIndexCache(path.join(dir, '.cache'), names, cleaner)
  }

  // registry/cache: the .crate files of the current dependencies (rust-cache without cache-all-crates).
  if (!dependencies) return
  const crates = new Set(dependencies.map(pkg => `${pkg.name}-${pkg.version}.crate`))
  const cache = path.join(registry, 'cache')
  for (const index of readDir(cache))
    for (const name of readDir(path.join(cache, index)))
      if (!crates.has(name) && !isDir(path.join(cache, index, name))) cleaner.remove(path.join(cache, index, name), 'registry/cache')
}

/** Whether the directory is empty afterwards. */
function pruneIndexCache(dir: string, keep: Set<string>, cleaner: Cleaner): boolean {
  let empty = true
  for (const name of readDir(dir)) {
    const entry = path.join(dir, name)
    const gone = isDir(entry) ? pruneIndexCache(entry, keep, cleaner) : !keep.has(name.toLowerCase())
    if (gone) cleaner.remove(entry, 'registry/index')
    else empty = false
  }
  return empty
}

/**
 * git/db/<repo> and git/checkouts/<repo>/<rev> of the git dependencies in use stay, both of them (rust-cache's
 * cleanGit: "removing either will trigger a rebuild"); every other clone and checkout goes.
 */
function cleanGit(git: string, dependencies: CargoPackage[], cleaner: Cleaner): void {
  const checkouts = path.join(git, 'checkouts')
  const used = new Map<string, Set<string>>()
  for (const pkg of dependencies) {
    const relative = path.relative(checkouts, pkg.manifestDir)
    if (relative.startsWith('..') || path.isAbsolute(relative)) continue
    const [repo, rev] = relative.split(path.sep)
    used.set(repo, (used.get(repo) ?? new Set()).add(rev))
  }
  const db = path.join(git, 'db')
  for (const repo of readDir(db)) if (!used.has(repo)) cleaner.remove(path.join(db, repo), 'git')
  for (const repo of readDir(checkouts)) {
    const revs = used.get(repo)
    if (!revs) cleaner.remove(path.join(checkouts, repo), 'git')
    else for (const rev of readDir(path.join(checkouts, repo))) if (!revs.has(rev)) cleaner.remove(path.join(checkouts, repo, rev), 'git')
  }
}

/**
 * Cleans the cache in place, just before it is saved. `packages` undefined (cargo metadata failed):
 * only the rules that need no package list run (registry/src, incremental, other outputs).
 */
export function cleanCargoCache(dirs: CargoCacheDirs, packages: CargoPackages | undefined): CleanReport {
  const cleaner = new Cleaner(new Tally([dirs.registry, dirs.git, dirs.target]))
  const before = cleaner.tally.total
  const notes = packages
    ? [...packages.notes]
    : ['cargo metadata failed: the workspace crates and dependencies are not known, so only the rules that need no package list ran']
  cleanRegistry(dirs.registry, packages?.dependencies, cleaner)
  if (packages?.dependencies) cleanGit(dirs.git, packages.dependencies, cleaner)
  cleanTarget(dirs.target, packages, cleaner)
  return { before, after: cleaner.tally.total, removed: cleaner.removed, paths: cleaner.paths, notes }
}

export interface OutdatedReport {
  bytes: number
  paths: string[]
}

/** The newest modification time of a file or of anything in a directory. */
function newestMtime(p: string): number {
  let newest = 0
  const visit = (entry: string): void => {
    let stat: fs.Stats
    try {
      stat = fs.lstatSync(entry)
    } catch {
      return
    }
    newest = Math.max(newest, stat.mtimeMs)
    if (stat.isDirectory()) for (const name of readDir(entry)) visit(path.join(entry, name))
  }
  visit(p)
  return newest
}

/**
 * rust-cache's week rule (restore.ts on a partial hit: cleanTargetDir(target, [], true), rmExcept's checkTimestamp):
 * entries of build/, .fingerprint/ and deps/ whose modification time is more than a week before `now` go, so this
 * build compiles them afresh and the entry it saves holds no artifacts of crates that are no longer built.
 * Modification times only, as rust-cache: access times say nothing here (tar sets them to the time of the
 * restore, and relatime or noatime mounts do not update them on every read). Unlike rust-cache, a directory
 * counts as new when anything in it is, and every entry is checked (its loop returns after the first one).
 */
export function removeOutdated(target: string, now: number = Date.now(), maxAgeMs: number = ONE_WEEK_MS): OutdatedReport {
  const tally = new Tally([target])
  const paths: string[] = []
  let bytes = 0
  forEachProfile(target, profile => {
    for (const dir of KEEP_IN_PROFILE)
      for (const name of readDir(path.join(profile, dir))) {
        const entry = path.join(profile, dir, name)
        if (now - newestMtime(entry) > maxAgeMs) {
          bytes += tally.remove(entry)
          paths.push(entry)
        }
      }
  })
  return { bytes, paths }
}

/** 1.20 GB, 310 MB, 4.5 MB, 12 kB, 512 B (decimal units, as GitHub shows cache sizes). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(bytes >= 1e7 ? 0 : 1)} MB`
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(bytes >= 1e4 ? 0 : 1)} kB`
  return `${bytes} B`
}

/** `Cargo cache: 1.20 GB → 310 MB (registry/src 540 MB, incremental 210 MB, …)`, with the week rule's share when it ran. */
export function formatCleanReport(report: CleanReport, outdated?: OutdatedReport): string {
  const parts = CLEAN_RULES.filter(rule => (report.removed[rule] ?? 0) > 0).map(rule => `${rule} ${formatBytes(report.removed[rule] ?? 0)}`)
  const removed = parts.length ? parts.join(', ') : 'nothing to remove'
  const line = `Cargo cache: ${formatBytes(report.before)} → ${formatBytes(report.after)} (${removed})`
  return outdated ? `${line}; older than 7 days: ${formatBytes(outdated.bytes)}, removed after the restore` : line
}
