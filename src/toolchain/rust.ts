import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { ActionError, errorMessage } from '../errors.js'
import type { Architecture } from '../types.js'
import type { CommandResult, CommandRunner } from '../process.js'

/** The toolchain file rustup would honour in a directory, read the way rustup reads it. */
export interface ToolchainFile {
  file: string
  /** `channel`, or the whole content of a one-line legacy `rust-toolchain` file. */
  channel?: string
  /** A custom toolchain directory (`path = …`): used as it is, never installed. */
  toolchainPath?: string
  components: string[]
  targets: string[]
}

export interface RustToolchain {
  /** What rustup resolves in the working directory: a channel, a version or a path. */
  toolchain: string
  /** The toolchain file that chose it, if any. */
  toolchainFile?: string
  /** `rustc 1.95.0 (59807616e 2026-04-14)`: the action output. */
  rustcVersion: string
  /** Full `rustc -vV` output, hashed into the cargo cache key. */
  rustcVerbose: string
}

export interface RustSetupOptions {
  workingDirectory: string
  /** Upper bound of the upward search for toolchain files (the repository root). */
  searchRoot: string
  /** The `rust-toolchain` input, used when no toolchain file exists. */
  requested: string
  /** Extra targets the build needs (the Lambda target for cargo-lambda builds). */
  targets: string[]
  run: CommandRunner
}

export const TOOLCHAIN_FILE_NAMES = ['rust-toolchain', 'rust-toolchain.toml'] as const

/** The Rust target a Lambda architecture builds for (cargo-lambda's default, glibc-based). */
export function lambdaTarget(architecture: Architecture): string {
  return architecture === 'arm64' ? 'aarch64-unknown-linux-gnu' : 'x86_64-unknown-linux-gnu'
}

/** Directories from `from` up to and including `stopAt` (only `from` when it is not inside `stopAt`). */
export function directoriesUp(from: string, stopAt: string): string[] {
  const start = path.resolve(from)
  const root = path.resolve(stopAt)
  const relative = path.relative(root, start)
  if (relative.startsWith('..') || path.isAbsolute(relative)) return [start]
  const dirs: string[] = []
  for (let dir = start; ; dir = path.dirname(dir)) {
    dirs.push(dir)
    if (dir === root || dir === path.dirname(dir)) return dirs
  }
}

/** The nearest existing file with this relative name, searching upwards. */
export function findUp(relativeName: string, from: string, stopAt: string): string | undefined {
  for (const dir of directoriesUp(from, stopAt)) {
    const candidate = path.join(dir, relativeName)
    if (fs.existsSync(candidate)) return candidate
  }
  return undefined
}

/** rustup prefers `rust-toolchain` over `rust-toolchain.toml` when a directory has both. */
export function findToolchainFile(workingDirectory: string, searchRoot: string): ToolchainFile | undefined {
  for (const dir of directoriesUp(workingDirectory, searchRoot)) {
    for (const name of TOOLCHAIN_FILE_NAMES) {
      const file = path.join(dir, name)
      if (fs.existsSync(file)) return readToolchainFile(file)
    }
  }
  return undefined
}

export function readToolchainFile(file: string): ToolchainFile {
  const text = fs.readFileSync(file, 'utf8')
  const trimmed = text.trim()
  if (path.basename(file) === 'rust-toolchain' && !trimmed.includes('\n') && !trimmed.startsWith('[')) {
    return { file, channel: trimmed, components: [], targets: [] }
  }
  let table: Record<string, unknown>
  try {
    table = parseToml(text)
  } catch (error) {
    throw new ActionError('Invalid toolchain file', `${file} is not valid TOML: ${errorMessage(error)}`, { file })
  }
  const toolchain = (table.toolchain ?? {}) as Record<string, unknown>
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [])
  const channel = typeof toolchain.channel === 'string' ? toolchain.channel : undefined
  const toolchainPath = typeof toolchain.path === 'string' ? path.resolve(path.dirname(file), toolchain.path) : undefined
  if (!channel && !toolchainPath) {
    throw new ActionError('Invalid toolchain file', `${file} has no [toolchain] channel (or path). Add e.g. channel = "stable".`, { file })
  }
  return { file, channel, toolchainPath, components: strings(toolchain.components), targets: strings(toolchain.targets) }
}

/** rustup's own error line (its output may end in a backtrace), else the last line. */
function failureSummary(result: CommandResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean)
  return lines.find(line => line.startsWith('error')) ?? lines.pop() ?? `exit code ${result.exitCode}`
}

/** Installs (or updates) the toolchain with rustup; offline runners fall back to what is installed. */
async function installToolchain(toolchain: string, components: string[], targets: string[], options: RustSetupOptions): Promise<void> {
  const args = ['toolchain', 'install', toolchain, '--profile', 'minimal', '--no-self-update']
  for (const component of components) args.push('--component', component)
  for (const target of targets) args.push('--target', target)
  const install = await options.run('rustup', args, { cwd: options.workingDirectory })
  if (install.exitCode === 0) return

  const probe = await options.run('rustup', ['run', toolchain, 'rustc', '--version'], { cwd: options.workingDirectory, silent: true })
  if (probe.exitCode !== 0) {
    throw new ActionError(
      `Rust toolchain ${toolchain} is not available`,
      `rustup could not install '${toolchain}' (${failureSummary(install)}) and it is not installed on this runner. ` +
        'Check the rust-toolchain input or toolchain file, and that the runner can reach static.rust-lang.org.'
    )
  }
  const installed = await options.run('rustup', ['target', 'list', '--installed', '--toolchain', toolchain], {
    cwd: options.workingDirectory,
    silent: true
  })
  const present = new Set(installed.stdout.split('\n').map(line => line.trim()))
  const missing = targets.filter(target => !present.has(target))
  if (missing.length > 0) {
    throw new ActionError(
      `Rust target ${missing.join(', ')} is not installed`,
      `rustup could not reach its server (${failureSummary(install)}) and '${toolchain}' lacks the target ${missing.join(', ')}. ` +
        'Preinstall it on the runner (rustup target add) or allow access to static.rust-lang.org.'
    )
  }
  core.warning(
    `rustup could not install or update '${toolchain}' (${failureSummary(install)}); ` +
      `using the toolchain already installed: ${probe.stdout.trim()}.`
  )
}

/**
 * The toolchain from rust-toolchain(.toml) when present, else the `rust-toolchain` input (selected for
 * every later cargo call through RUSTUP_TOOLCHAIN), installed with the minimal profile plus the targets
 * the build needs.
 */
export async function setupRust(options: RustSetupOptions): Promise<RustToolchain> {
  const file = findToolchainFile(options.workingDirectory, options.searchRoot)
  const targets = [...new Set([...(file?.targets ?? []), ...options.targets])]
  let toolchain: string
  if (file?.toolchainPath) {
    toolchain = file.toolchainPath
    core.info(`Using the custom toolchain at ${toolchain} (from ${file.file})`)
  } else {
    toolchain = file?.channel ?? options.requested
    core.info(file ? `Rust toolchain ${toolchain} (from ${file.file})` : `Rust toolchain ${toolchain} (input rust-toolchain)`)
    await installToolchain(toolchain, file?.components ?? [], targets, options)
  }
  if (!file) core.exportVariable('RUSTUP_TOOLCHAIN', toolchain)

  const verbose = await options.run('rustc', ['-vV'], { cwd: options.workingDirectory, silent: true })
  if (verbose.exitCode !== 0) {
    throw new ActionError('rustc does not run', `\`rustc -vV\` failed in ${options.workingDirectory}: ${failureSummary(verbose)}`)
  }
  const rustcVerbose = verbose.stdout.trim()
  const rustcVersion = rustcVerbose.split('\n')[0].trim()
  core.info(rustcVersion)
  return { toolchain, toolchainFile: file?.file, rustcVersion, rustcVerbose }
}
