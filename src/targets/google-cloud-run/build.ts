import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  buildFailure,
  cargoLambdaEnv,
  checkExecutable,
  defaultProblemMatcherPath,
  defaultZigbuildCacheDir,
  withProblemMatcher
} from '../../build/index.js'
import type { CloudRunConfig } from '../../config/types.js'
import { ActionError } from '../../errors.js'
import type { Plan } from '../../plan.js'
import { runCommand, type CommandRunner } from '../../process.js'
import { currentHost, type HostPlatform } from '../../toolchain/command.js'
import { saveCargoCache, type ToolchainResult } from '../../toolchain/index.js'
import type { ServerBinary } from './binary.js'
import { baseGlibc, checkGlibc, type GlibcCheck } from './glibc.js'
import { cloudRunSettings } from './session.js'

/** glibc a binary is linked for when the base's is unknown: the oldest Rust supports, so it starts on any glibc base. */
const OLDEST_GLIBC = '2.17'

export interface CloudRunBuild {
  /** The server's executable, as it goes into the image. */
  binaryPath: string
  sizeBytes: number
  /** The command line that built it (program first). */
  command: string[]
  glibc: GlibcCheck
}

export interface CloudRunBuildOptions {
  run?: CommandRunner
  host?: HostPlatform
}

/**
 * The target cargo-lambda (cargo-zigbuild underneath) links for: x86_64 Linux with the base's glibc
 * as the version suffix, so a binary built on a newer runner (ubuntu-latest) still starts on the
 * base (Debian 12's glibc 2.36 for cargo-pmcp's distroless default).
 */
export function linkTarget(base: string): { target: string; why: string } {
  const known = baseGlibc(base)
  if (known?.glibc) return { target: `x86_64-unknown-linux-gnu.${known.glibc}`, why: `glibc ${known.glibc}, the base's (${known.name})` }
  if (known) {
    // cargo-lambda links against glibc: its binary could never start on a base without a C library.
    throw new ActionError(
      'Base has no C library',
      `[runtime] base ${base} (${known.name}) has no C library, so the server cargo-lambda builds (linked against glibc) ` +
        "could not start there. Set [runtime] base in deploy.toml to gcr.io/distroless/cc-debian12 (cargo-pmcp's default), " +
        "or build a static binary yourself with 'build-command' (e.g. for x86_64-unknown-linux-musl) and give it with 'binary-path'."
    )
  }
  return {
    target: `x86_64-unknown-linux-gnu.${OLDEST_GLIBC}`,
    why: `glibc ${OLDEST_GLIBC}, the oldest Rust supports: the glibc of base ${base} is not known to the action`
  }
}

/**
 * `cargo lambda build` of the server's binary for Cloud Run. Default features, as cargo-pmcp's
 * Dockerfile builds it (`[build]` is reported as not applied on this target).
 */
export function cloudRunCargoArgs(binary: ServerBinary, target: string): string[] {
  return [
    'lambda',
    'build',
    '--release',
    '--target',
    target,
    '--manifest-path',
    binary.manifestPath,
    '-p',
    binary.package,
    '--bin',
    binary.binary
  ]
}

/** Where cargo-lambda leaves a binary it built (it names every binary `bootstrap`, in a directory of its own). */
function cargoLambdaOutput(binary: ServerBinary): string {
  return path.join(binary.targetDirectory, 'lambda', binary.binary, 'bootstrap')
}

async function compile(plan: Plan, binary: ServerBinary, cloudRun: CloudRunConfig, run: CommandRunner, host: HostPlatform) {
  const { inputs } = plan
  if (inputs.buildCommand) {
    core.info(`Building with build-command in ${inputs.workingDirectory}: ${inputs.buildCommand}`)
    const result = await run('bash', ['-c', inputs.buildCommand], { cwd: inputs.workingDirectory })
    if (result.exitCode !== 0) throw buildFailure(inputs.buildCommand, result, "Input 'build-command'")
    const built = inputs.binaryPath
      ? path.resolve(inputs.workingDirectory, inputs.binaryPath)
      : path.join(binary.targetDirectory, 'release', binary.binary)
    return { built, command: ['bash', '-c', inputs.buildCommand] }
  }
  const { target, why } = linkTarget(cloudRun.base)
  const args = cloudRunCargoArgs(binary, target)
  core.info(`Building ${binary.binary} of ${binary.package} (${binary.reason}), linked for ${why}: cargo ${args.join(' ')}`)
  const result = await run('cargo', args, {
    cwd: binary.packageDir,
    env: cargoLambdaEnv('x86_64', host, defaultZigbuildCacheDir())
  })
  if (result.exitCode !== 0) throw buildFailure(`cargo ${args.join(' ')}`, result)
  return {
    built: inputs.binaryPath ? path.resolve(inputs.workingDirectory, inputs.binaryPath) : cargoLambdaOutput(binary),
    command: ['cargo', ...args]
  }
}

/**
 * Builds the binary cargo-pmcp would put in the image (binary.ts picks it), on the runner with the
 * cargo cache, for x86_64 and the base's glibc; checks it starts on the base; saves the cargo cache
 * (only a build that worked, unless `cache-on-failure`).
 */
export async function buildCloudRunBinary(
  plan: Plan,
  toolchain: ToolchainResult,
  binary: ServerBinary,
  options: CloudRunBuildOptions = {}
): Promise<CloudRunBuild> {
  const run = options.run ?? runCommand
  const host = options.host ?? currentHost()
  const cloudRun = cloudRunSettings(plan)
  core.startGroup('Build')
  try {
    let built: string
    let command: string[]
    try {
      ;({ built, command } = await withProblemMatcher(defaultProblemMatcherPath(), () => compile(plan, binary, cloudRun, run, host)))
    } catch (error) {
      if (plan.inputs.cacheOnFailure) await saveCargoCache(toolchain.cargoCache)
      throw error
    }
    if (!fs.existsSync(built) || !fs.statSync(built).isFile()) {
      throw new ActionError(
        'Built binary not found',
        `The build succeeded but ${built} does not exist. Set 'binary-path' to where your build puts the server's executable.`
      )
    }
    checkExecutable(built, 'x86_64')
    const glibc = await checkGlibc(built, cloudRun.base)
    core.info(`Server binary: ${glibc.summary}`)
    const sizeBytes = fs.statSync(built).size
    await saveCargoCache(toolchain.cargoCache)
    return { binaryPath: built, sizeBytes, command, glibc }
  } finally {
    core.endGroup()
  }
}
