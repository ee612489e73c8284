/**
 * The rendered CDK project's package-lock.json (templates/shared/package-lock.json) against what it
 * must agree with: the package.json the templates render, and the versions this repository's tests
 * ran with (its node_modules and package-lock.json). scripts/update-cdk-lock.ts regenerates it.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createRenderer, sharedTemplatesRoot } from '../src/render/index.js'
import { REPO_ROOT } from './workdir.js'

export interface LockEntry {
  name?: string
  version?: string
  integrity?: string
  inBundle?: boolean
  link?: boolean
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

export interface LockFile {
  name?: string
  lockfileVersion: number
  packages: Record<string, LockEntry>
}

export interface Manifest {
  name: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

/** The shared lock file that rendering copies into every rendered project. */
export const CDK_LOCK_FILE = path.join(sharedTemplatesRoot(), 'package-lock.json')

/** The server name the lock's own package.json is rendered with (the lock's `name`; npm ci does not compare it). */
export const LOCK_SERVER_NAME = 'pmcp'

/** templates/shared/package.json.hbs rendered for a server name. */
export function renderedManifest(serverName = LOCK_SERVER_NAME): Manifest {
  const source = fs.readFileSync(path.join(sharedTemplatesRoot(), 'package.json.hbs'), 'utf8')
  return JSON.parse(createRenderer().compile(source, { strict: true, noEscape: true })({ server: { name: serverName } })) as Manifest
}

export const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T

/** The version of a package in this repository's node_modules, undefined when it is not installed. */
export function installedVersion(name: string, root = REPO_ROOT): string | undefined {
  const file = path.join(root, 'node_modules', name, 'package.json')
  return fs.existsSync(file) ? readJson<{ version: string }>(file).version : undefined
}

const EXACT = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/
const nameOf = (lockPath: string, entry: LockEntry): string => entry.name ?? lockPath.slice(lockPath.lastIndexOf('node_modules/') + 13)

export interface RepositoryVersions {
  /** This repository's package-lock.json. */
  lock: LockFile
  /** The version installed in this repository's node_modules. */
  installed: (name: string) => string | undefined
}

/**
 * Every way the lock disagrees with the rendered package.json or with what this repository tested:
 * [] when it is in step. Checked: the root package's dependencies and devDependencies (names and
 * versions, exact), the locked version of each of them (= package.json's = the one installed here),
 * and every other locked package (some package of that name and version is in this repository's lock).
 */
export function cdkLockProblems(manifest: Manifest, lock: LockFile, repository: RepositoryVersions): string[] {
  const problems: string[] = []
  if (lock.lockfileVersion !== 3) problems.push(`lockfileVersion is ${lock.lockfileVersion}, not 3`)
  const root = lock.packages[''] ?? {}
  for (const field of ['dependencies', 'devDependencies'] as const) {
    const wanted = manifest[field] ?? {}
    const locked = root[field] ?? {}
    for (const name of new Set([...Object.keys(wanted), ...Object.keys(locked)])) {
      if (wanted[name] !== locked[name]) {
        problems.push(
          `${field}.${name}: package.json has ${wanted[name] ?? 'nothing'}, the lock's root package ${locked[name] ?? 'nothing'}`
        )
      }
    }
    for (const [name, spec] of Object.entries(wanted)) {
      if (!EXACT.test(spec)) problems.push(`${field}.${name} is ${spec} in package.json, not an exact version`)
      const lockedVersion = lock.packages[`node_modules/${name}`]?.version
      if (lockedVersion !== spec) problems.push(`${name}: package.json has ${spec}, the lock installs ${lockedVersion ?? 'nothing'}`)
      const installed = repository.installed(name)
      if (installed !== lockedVersion) {
        problems.push(
          `${name}: the lock installs ${lockedVersion ?? 'nothing'}, this repository's node_modules has ${installed ?? 'nothing'}`
        )
      }
    }
  }
  const tested = new Set(
    Object.entries(repository.lock.packages)
      .filter(([lockPath]) => lockPath !== '')
      .map(([lockPath, entry]) => `${nameOf(lockPath, entry)}@${entry.version}`)
  )
  for (const [lockPath, entry] of Object.entries(lock.packages)) {
    if (lockPath === '') continue
    const id = `${nameOf(lockPath, entry)}@${entry.version}`
    if (!tested.has(id)) problems.push(`${lockPath}: ${id} is not in this repository's package-lock.json`)
    if (!entry.inBundle && !entry.link && !entry.integrity) problems.push(`${lockPath}: no integrity`)
  }
  return problems
}

/** This repository's own versions: its package-lock.json and node_modules. */
export function repositoryVersions(root = REPO_ROOT): RepositoryVersions {
  return { lock: readJson<LockFile>(path.join(root, 'package-lock.json')), installed: name => installedVersion(name, root) }
}
