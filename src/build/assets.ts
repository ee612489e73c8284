/**
 * `[assets]` of .pmcp/deploy.toml, packaged as `cargo pmcp deploy` 0.28 packages them for aws-lambda
 * (cargo-pmcp src/deployment/config.rs `AssetsConfig::resolve_files`, builder.rs `bundle_assets_if_configured`):
 *
 * - each `include` glob is joined to the base directory (`base_dir` under the working directory, else the
 *   working directory) and expanded like Rust's `glob` crate; only regular files count;
 * - a file is dropped when an `exclude` pattern matches its whole *absolute* path (the `glob` crate's
 *   `Pattern::matches`, where `*` also crosses `/`), so `**\/*.tmp` works and `data/x.tmp` never does;
 * - each file goes to `assets/<path relative to the base directory>` beside `bootstrap`: Lambda unpacks the
 *   package to /var/task (LAMBDA_TASK_ROOT), where `pmcp::assets` reads /var/task/assets/;
 * - a `config.toml` asset of a config-driven project (config.toml + schema.sql + pmcp-server-toolkit) has its
 *   `token_secret` lines replaced by `token_secret = "${CODE_MODE_SECRET}"`, so the dev secret is not shipped.
 *
 * - a server `config.toml` (beside deploy.toml, else the only `*.toml` in `instances/`) goes to the package root
 *   as `config.toml` (builder.rs `resolve_config_toml`), sanitized the same way.
 *
 * cargo-pmcp itself checks no size: Lambda refuses a function whose unpacked code is over 250 MB, so the
 * action stops before the deploy with that limit named. A glob that matches nothing is no error (cargo-pmcp
 * deploys without it); the action says so in a warning. A file named without wildcards that does not exist is
 * an error, where cargo-pmcp deploys in silence a server that then cannot find it.
 */
import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError, annotationProperties } from '../errors.js'
import { configRootManifest } from './crate.js'

/** `[assets]`: cargo-pmcp's keys `include`, `exclude`, `base_dir` (camel-cased as the rest of DeployConfig). */
export interface AssetsConfig {
  /** Glob patterns of the files to package, relative to the base directory. */
  include: string[]
  /** Glob patterns matched against each file's absolute path; a match drops the file. */
  exclude: string[]
  /** `base_dir`: the directory the patterns and the package layout are relative to (under the working directory). */
  baseDir?: string
  /** The line of `include` in deploy.toml, for the annotation on a missing file. */
  includeLine?: number
}

export interface AssetFile {
  /** Absolute path of the file in the repository. */
  source: string
  /** Path inside the function package, `/`-separated: `assets/<relative to the base directory>`. */
  destination: string
  sizeBytes: number
}

/** Lambda's limit on a function's unpacked code (bootstrap + every asset), in bytes: 250 MB. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 262_144_000

/** The directory inside the package that holds the assets (cargo-pmcp's zip layout). */
export const ASSETS_DIR = 'assets'

/** The name a server configuration gets at the package root. */
export const SERVER_CONFIG = 'config.toml'

// ---------------------------------------------------------------------------------------------------------
// Rust `glob` crate 0.3 patterns (Pattern::new, Pattern::matches_with with MatchOptions::new():
// case-sensitive, `*` and `?` may match `/`, a leading `.` needs no literal dot).
// ---------------------------------------------------------------------------------------------------------

type CharSpecifier = { kind: 'char'; c: string } | { kind: 'range'; from: string; to: string }
type Token =
  | { kind: 'char'; c: string }
  | { kind: 'any-char' }
  | { kind: 'any-sequence' }
  | { kind: 'any-recursive-sequence' }
  | { kind: 'within'; specifiers: CharSpecifier[] }
  | { kind: 'except'; specifiers: CharSpecifier[] }

interface Pattern {
  original: string
  tokens: Token[]
  isRecursive: boolean
  hasMetachars: boolean
}

class PatternError extends Error {}

const isSeparator = (c: string): boolean => c === '/'

function parseCharSpecifiers(chars: string[]): CharSpecifier[] {
  const specifiers: CharSpecifier[] = []
  let i = 0
  while (i < chars.length) {
    if (i + 3 <= chars.length && chars[i + 1] === '-') {
      specifiers.push({ kind: 'range', from: chars[i], to: chars[i + 2] })
      i += 3
    } else {
      specifiers.push({ kind: 'char', c: chars[i] })
      i += 1
    }
  }
  return specifiers
}

function compilePattern(pattern: string): Pattern {
  const chars = [...pattern]
  const tokens: Token[] = []
  let isRecursive = false
  let hasMetachars = false
  let i = 0
  while (i < chars.length) {
    const c = chars[i]
    if (c === '?') {
      hasMetachars = true
      tokens.push({ kind: 'any-char' })
      i += 1
    } else if (c === '*') {
      hasMetachars = true
      const old = i
      while (i < chars.length && chars[i] === '*') i += 1
      const count = i - old
      if (count > 2) throw new PatternError('wildcards are either regular `*` or recursive `**`')
      if (count === 2) {
        if (!(i === 2 || isSeparator(chars[i - count - 1]))) throw new PatternError('recursive wildcards must form a single path component')
        if (i < chars.length && isSeparator(chars[i])) i += 1
        else if (i !== chars.length) throw new PatternError('recursive wildcards must form a single path component')
        const last = tokens[tokens.length - 1]
        if (!(tokens.length > 1 && last.kind === 'any-recursive-sequence')) {
          isRecursive = true
          tokens.push({ kind: 'any-recursive-sequence' })
        }
      } else {
        tokens.push({ kind: 'any-sequence' })
      }
    } else if (c === '[') {
      hasMetachars = true
      if (i + 4 <= chars.length && chars[i + 1] === '!') {
        const j = chars.slice(i + 3).indexOf(']')
        if (j >= 0) {
          tokens.push({ kind: 'except', specifiers: parseCharSpecifiers(chars.slice(i + 2, i + 3 + j)) })
          i += j + 4
          continue
        }
      } else if (i + 3 <= chars.length && chars[i + 1] !== '!') {
        const j = chars.slice(i + 2).indexOf(']')
        if (j >= 0) {
          tokens.push({ kind: 'within', specifiers: parseCharSpecifiers(chars.slice(i + 1, i + 2 + j)) })
          i += j + 3
          continue
        }
      }
      throw new PatternError('invalid range pattern')
    } else {
      tokens.push({ kind: 'char', c })
      i += 1
    }
  }
  return { original: pattern, tokens, isRecursive, hasMetachars }
}

const inSpecifiers = (specifiers: CharSpecifier[], c: string): boolean =>
  specifiers.some(s => (s.kind === 'char' ? s.c === c : s.from <= c && c <= s.to))

type MatchResult = 'match' | 'sub-pattern-doesnt-match' | 'entire-pattern-doesnt-match'

function matchesFrom(pattern: Pattern, followsSeparatorAtStart: boolean, file: string[], start: number, tokenIndex: number): MatchResult {
  let followsSeparator = followsSeparatorAtStart
  let position = start
  for (let ti = tokenIndex; ti < pattern.tokens.length; ti++) {
    const token = pattern.tokens[ti]
    if (token.kind === 'any-sequence' || token.kind === 'any-recursive-sequence') {
      const empty = matchesFrom(pattern, followsSeparator, file, position, ti + 1)
      if (empty !== 'sub-pattern-doesnt-match') return empty
      while (position < file.length) {
        const c = file[position++]
        followsSeparator = isSeparator(c)
        if (token.kind === 'any-recursive-sequence' && !followsSeparator) continue
        const rest = matchesFrom(pattern, followsSeparator, file, position, ti + 1)
        if (rest !== 'sub-pattern-doesnt-match') return rest
      }
      // The sequence took the rest of the text: the remaining tokens see an empty text (as in the crate).
      continue
    }
    if (position >= file.length) return 'entire-pattern-doesnt-match'
    const c = file[position++]
    let ok: boolean
    if (token.kind === 'any-char') ok = true
    else if (token.kind === 'within') ok = inSpecifiers(token.specifiers, c)
    else if (token.kind === 'except') ok = !inSpecifiers(token.specifiers, c)
    else ok = token.c === c
    if (!ok) return 'sub-pattern-doesnt-match'
    followsSeparator = isSeparator(c)
  }
  return position >= file.length ? 'match' : 'sub-pattern-doesnt-match'
}

function patternMatches(pattern: Pattern, text: string): boolean {
  return matchesFrom(pattern, true, [...text], 0, 0) === 'match'
}

/** Whether a file's path string matches an exclude pattern as cargo-pmcp tests it; an invalid pattern matches nothing. */
export function excludeMatches(exclude: string, filePath: string): boolean {
  try {
    return patternMatches(compilePattern(exclude), filePath)
  } catch {
    return false
  }
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory()
  } catch {
    return false
  }
}

function exists(file: string): boolean {
  try {
    fs.statSync(file)
    return true
  } catch {
    return false
  }
}

function children(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort()
  } catch {
    return []
  }
}

/**
 * The paths `glob::glob(<scope>/<pattern>)` yields, scope taken literally: each `/`-separated component is
 * its own pattern, `**` stands for the directory itself and every directory beneath it (so a trailing `**`
 * yields directories only), and a component without metacharacters is joined as written.
 */
export function globPaths(scope: string, pattern: string): string[] {
  compilePattern(pattern) // the whole pattern must be valid first, as in glob_with
  const components = pattern.split('/').filter(component => component !== '')
  const patterns = components.map(compilePattern)
  const found: string[] = []
  const seen = new Set<string>()
  const visitedDirs = new Set<string>()

  const walk = (dir: string, index: number): void => {
    if (index === patterns.length) {
      if (!seen.has(dir)) {
        seen.add(dir)
        found.push(dir)
      }
      return
    }
    const current = patterns[index]
    if (current.isRecursive) {
      let next = index
      while (next + 1 < patterns.length && patterns[next + 1].isRecursive) next += 1
      if (!isDirectory(dir)) return
      // A symlinked directory loop would otherwise never end.
      let real: string
      try {
        real = `${fs.realpathSync(dir)}#${next}`
      } catch {
        return
      }
      if (visitedDirs.has(real)) return
      visitedDirs.add(real)
      // Zero directories: this directory's entries meet the component after `**`; then every subdirectory.
      walk(dir, next + 1)
      for (const name of children(dir)) {
        const child = path.join(dir, name)
        if (isDirectory(child)) walk(child, next)
      }
      return
    }
    if (!current.hasMetachars) {
      const next = path.join(dir, components[index])
      if (exists(next)) walk(next, index + 1)
      return
    }
    for (const name of children(dir)) walkEntry(path.join(dir, name), index)
  }

  /** An entry of a directory, matched by name against the component at `index`. */
  const walkEntry = (entry: string, index: number): void => {
    if (!patternMatches(patterns[index], path.basename(entry))) return
    if (index === patterns.length - 1) walk(entry, index + 1)
    else if (isDirectory(entry)) walk(entry, index + 1)
  }

  if (components.length === 0) return [scope]
  walk(scope, 0)
  return found
}

// ---------------------------------------------------------------------------------------------------------

/** A config-driven single crate (`cargo pmcp new --kind sql-server`), as cargo-pmcp detects it. */
export function isConfigDrivenProject(workingDirectory: string): boolean {
  return configRootManifest(workingDirectory)?.includes('pmcp-server-toolkit') ?? false
}

/** cargo-pmcp's `sanitize_config_bytes_for_deploy`: every `token_secret = …` line becomes the env reference. */
export function sanitizeConfigForDeploy(bytes: Buffer): Buffer {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return bytes
  }
  const lines = text.split('\n')
  if (text.endsWith('\n')) lines.pop()
  const rewritten = lines
    .map(line => line.replace(/\r$/, ''))
    .map(line => {
      const trimmed = line.trimStart()
      if (!(trimmed.startsWith('token_secret') && line.includes('='))) return line
      return `${line.slice(0, line.length - trimmed.length)}token_secret = "\${CODE_MODE_SECRET}"`
    })
    .join('\n')
  return Buffer.from(text.endsWith('\n') ? `${rewritten}\n` : rewritten, 'utf8')
}

export interface ResolvedAssets {
  files: AssetFile[]
  /** Things cargo-pmcp passes over in silence that probably are not what the user meant. */
  warnings: string[]
}

const joinLikeRust = (base: string, relative: string): string =>
  path.isAbsolute(relative) ? relative : `${base.replace(/\/+$/, '')}/${relative}`

/**
 * The files `[assets]` packages and where each goes, in destination order. Throws an ActionError for a pattern
 * the `glob` crate rejects, or a file that would land outside the package or on `bootstrap`.
 */
export function resolveAssets(workingDirectory: string, assets: AssetsConfig, configFile?: string): ResolvedAssets {
  const base = assets.baseDir === undefined ? workingDirectory : joinLikeRust(workingDirectory, assets.baseDir)
  const warnings: string[] = []
  const candidates: string[] = []
  for (const pattern of assets.include) {
    let matched: string[]
    try {
      matched = globPaths(path.isAbsolute(pattern) ? '/' : base, pattern)
    } catch (error) {
      throw new ActionError(
        'Invalid [assets] pattern',
        `[assets] include lists ${JSON.stringify(pattern)}: ${(error as Error).message}. ` +
          'Use `*`, `?`, `[...]` and `**` as a whole path component (e.g. "resources/**/*.md").',
        { file: configFile }
      )
    }
    const files = matched.filter(file => {
      try {
        return fs.statSync(file).isFile()
      } catch {
        return false
      }
    })
    if (files.length === 0 && !compilePattern(pattern).hasMetachars) {
      throw new ActionError(
        '[assets] file missing',
        `[assets] include names ${JSON.stringify(pattern)}, which is not a file under ${base}. The server reads its assets at ` +
          `run time (pmcp::assets, from /var/task/${ASSETS_DIR}/), so nothing is built or deployed without it. ` +
          'Commit the file (or create it in a step before this action), correct the path (it is relative to base_dir, else to ' +
          'the directory of .pmcp/), or remove it from include.',
        { file: configFile, line: assets.includeLine }
      )
    }
    if (files.length === 0) {
      const hint = /(^|\/)\*\*$/.test(pattern) ? ` A trailing \`**\` matches directories only; write "${pattern}/*" for the files.` : ''
      warnings.push(`[assets] include ${JSON.stringify(pattern)} matches no file under ${base}; nothing is packaged for it.${hint}`)
    }
    candidates.push(...files)
  }

  const kept = candidates.filter(file => !assets.exclude.some(exclude => excludeMatches(exclude, file)))
  for (const exclude of assets.exclude) {
    const hitsAbsolute = candidates.some(file => excludeMatches(exclude, file))
    const hitsRelative = candidates.some(file => excludeMatches(exclude, path.relative(base, file).split(path.sep).join('/')))
    if (!hitsAbsolute && hitsRelative) {
      warnings.push(
        `[assets] exclude ${JSON.stringify(exclude)} excludes nothing: cargo-pmcp matches exclude patterns against the whole ` +
          `absolute path of each file. Write "**/${exclude.replace(/^\/+/, '')}" to exclude what it names.`
      )
    }
  }

  const byDestination = new Map<string, AssetFile>()
  const packageRoot = path.resolve(base) // only for the relative computation
  for (const file of kept) {
    const relative = path.relative(packageRoot, path.resolve(file)).split(path.sep).join('/')
    const destination = path.posix.normalize(`${ASSETS_DIR}/${relative}`)
    if (destination === '..' || destination.startsWith('../') || destination === 'bootstrap' || path.posix.isAbsolute(destination)) {
      throw new ActionError(
        '[assets] file outside the package',
        `${file} would be packaged as ${destination}, outside the function package or over its bootstrap. ` +
          '[assets] files must be under the base directory (base_dir, else the working directory); move the file or set base_dir.',
        { file: configFile }
      )
    }
    // Two patterns naming one file package it once.
    if (!byDestination.has(destination))
      byDestination.set(destination, { source: path.resolve(file), destination, sizeBytes: fs.statSync(file).size })
  }
  const files = [...byDestination.values()].sort((a, b) => (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0))
  if (assets.include.length > 0 && files.length === 0 && candidates.length > 0) {
    warnings.push(`[assets] exclude drops every file the include patterns match; no asset is packaged.`)
  }
  return { files, warnings }
}

/** In Lambda's MB (2^20 bytes): its 250 MB limit is 262,144,000 bytes. */
function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`
}

/** Stops a package Lambda would refuse: bootstrap and assets together over 250 MB unpacked. */
export function checkPackageSize(files: AssetFile[], bootstrapBytes: number, configFile?: string): void {
  const total = files.reduce((sum, file) => sum + file.sizeBytes, bootstrapBytes)
  if (total <= LAMBDA_UNZIPPED_LIMIT_BYTES) return
  const largest = [...files]
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, 5)
    .map(file => `${file.destination} (${megabytes(file.sizeBytes)})`)
  throw new ActionError(
    '[assets] too large for Lambda',
    `The function package would be ${megabytes(total)} unpacked ` +
      `(bootstrap ${megabytes(bootstrapBytes)} + ${files.length} asset file(s)); ` +
      `Lambda allows at most ${megabytes(LAMBDA_UNZIPPED_LIMIT_BYTES)} unpacked. Largest assets: ${largest.join(', ')}. ` +
      'Narrow [assets] include or add exclude patterns (e.g. "**/*.bak"), or keep large data in S3 and read it at run time.',
    { file: configFile }
  )
}

/**
 * cargo-pmcp's `resolve_config_toml`: the server configuration packaged at the root of the function's code,
 * `config.toml` beside deploy.toml's project, else the only `*.toml` in its `instances/` directory.
 */
export function serverConfigFile(workingDirectory: string): string | undefined {
  const beside = path.join(workingDirectory, SERVER_CONFIG)
  if (fs.existsSync(beside)) return beside
  const instances = path.join(workingDirectory, 'instances')
  const tomls = children(instances).filter(name => name.endsWith('.toml'))
  return tomls.length === 1 ? path.join(instances, tomls[0]) : undefined
}

/** Copies the server configuration to `<buildDir>/config.toml` (sanitized in a config-driven project); drops one an earlier build left. */
export function packageServerConfig(workingDirectory: string, buildDir: string): AssetFile | undefined {
  const target = path.join(buildDir, SERVER_CONFIG)
  fs.rmSync(target, { force: true })
  const source = serverConfigFile(workingDirectory)
  if (source === undefined) return undefined
  const bytes = fs.readFileSync(source)
  fs.mkdirSync(buildDir, { recursive: true })
  fs.writeFileSync(target, isConfigDrivenProject(workingDirectory) ? sanitizeConfigForDeploy(bytes) : bytes, { mode: 0o644 })
  core.info(`Server configuration ${path.relative(workingDirectory, source)} packaged as /var/task/${SERVER_CONFIG}`)
  return { source, destination: SERVER_CONFIG, sizeBytes: bytes.length }
}

export interface PackageAssetsOptions {
  workingDirectory: string
  assets: AssetsConfig
  /** The CDK project's `.build/` directory, where `bootstrap` already is. */
  buildDir: string
  /** deploy.toml as annotations name it. */
  configFile?: string
}

/**
 * Resolves `[assets]`, checks the package size, and copies the files to `<buildDir>/assets/…` beside
 * `bootstrap` (replacing what an earlier build left there). Returns the packaged files.
 */
export function packageAssets(options: PackageAssetsOptions): AssetFile[] {
  const { files, warnings } = resolveAssets(options.workingDirectory, options.assets, options.configFile)
  for (const warning of warnings) core.warning(warning, annotationProperties('[assets]', { file: options.configFile }))
  const bootstrap = path.join(options.buildDir, 'bootstrap')
  const bootstrapBytes = fs.existsSync(bootstrap) ? fs.statSync(bootstrap).size : 0
  checkPackageSize(files, bootstrapBytes, options.configFile)

  const assetsRoot = path.join(options.buildDir, ASSETS_DIR)
  fs.rmSync(assetsRoot, { recursive: true, force: true })
  const sanitize = isConfigDrivenProject(options.workingDirectory)
  for (const file of files) {
    const target = path.join(options.buildDir, ...file.destination.split('/'))
    fs.mkdirSync(path.dirname(target), { recursive: true })
    if (sanitize && path.basename(file.source) === 'config.toml') {
      fs.writeFileSync(target, sanitizeConfigForDeploy(fs.readFileSync(file.source)))
    } else {
      fs.copyFileSync(file.source, target)
    }
    fs.chmodSync(target, 0o644)
  }
  if (files.length > 0) {
    const total = files.reduce((sum, file) => sum + file.sizeBytes, 0)
    core.info(`[assets]: ${files.length} file(s), ${megabytes(total)}, packaged under /var/task/${ASSETS_DIR}/:`)
    for (const file of files) core.info(`  ${file.destination}`)
  }
  return files
}
