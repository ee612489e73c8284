import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ActionError } from '../errors.js'
import { runCommand, type CommandResult, type CommandRunner } from '../process.js'
import { currentHost, type HostArch, type HostPlatform } from '../toolchain/command.js'
import { lambdaTarget } from '../toolchain/rust.js'
import type { Architecture } from '../types.js'
import { cargoLambdaOutput, chooseLambdaCrate, lambdaWrapperDir, readCargoMetadata, type LambdaCrate } from './crate.js'

export { chooseLambdaCrate, readCargoMetadata, cargoLambdaOutput, type CargoMetadata, type LambdaCrate } from './crate.js'

/** The problem matcher that turns rustc errors into annotations; shipped beside the bundle. */
export const PROBLEM_MATCHER_FILE = 'rust-problem-matcher.json'
const PROBLEM_MATCHER_OWNER = 'pmcp-rustc'

export interface BuildOptions {
  /** Absolute directory of the server. */
  workingDirectory: string
  architecture: Architecture
  /** `[server] name`: picks the crate. */
  serverName: string
  /** `[build] features` */
  features: string[]
  /** deploy.toml as annotations name it (relative to the repository). */
  configFile?: string
  /** `[build] no_default_features` */
  noDefaultFeatures?: boolean
  /** Replaces the cargo-lambda build; run through bash in workingDirectory. */
  buildCommand?: string
  /** Where the built binary is (relative to workingDirectory) [cargo-lambda's target/lambda/<bin>/bootstrap]. */
  binaryPath?: string
  /** The CDK project; the binary goes to `<cdkDir>/.build/bootstrap` (relative to workingDirectory). */
  cdkDir: string
  run?: CommandRunner
  host?: HostPlatform
  /** [the JSON file beside this module] */
  problemMatcherPath?: string
  /** Where cargo-zigbuild keeps its zigcc wrappers [$XDG_CACHE_HOME or ~/.cache, + /cargo-zigbuild]. */
  zigbuildCacheDir?: string
}

export interface BuildResult {
  bootstrapPath: string
  sizeBytes: number
  /** The command line that built it (program first). */
  command: string[]
}

/**
 * cargo-pmcp refuses `[build] features` entries cargo would split or read as a flag (builder.rs
 * `validate_build_config`): empty, starting with '-', or containing a comma or whitespace.
 */
export function checkFeatures(features: string[], configFile?: string): void {
  const bad = features.find(feature => feature === '' || feature.startsWith('-') || /[,\s]/.test(feature))
  if (bad === undefined) return
  throw new ActionError(
    'Invalid [build] features',
    `[build] features in .pmcp/deploy.toml lists ${JSON.stringify(bad)}, which is not a cargo feature name ` +
      "(empty, starts with '-', or contains a comma or whitespace). " +
      'List one feature per string, e.g. features = ["a", "b"]; nothing was built.',
    { file: configFile }
  )
}

export function cargoLambdaArgs(crate: LambdaCrate, architecture: Architecture, features: string[], noDefaultFeatures = false): string[] {
  const args = ['lambda', 'build', '--release', architecture === 'arm64' ? '--arm64' : '--x86-64']
  if (noDefaultFeatures) args.push('--no-default-features')
  // One argument, `--features=a,b`, exactly as cargo pmcp deploy passes it.
  if (features.length > 0) args.push(`--features=${features.join(',')}`)
  if (crate.selectPackage) args.push('-p', crate.package)
  if (crate.selectBinary) args.push('--bin', crate.binary)
  return args
}

function hostArchOf(architecture: Architecture): HostArch {
  return architecture === 'arm64' ? 'aarch64' : 'x86_64'
}

/** The newest cargo-zigbuild cache folder's zigcc wrapper and ar for a target, if cargo-lambda created them. */
function zigccWrappers(cacheDir: string, target: string): Record<string, string> {
  if (!fs.existsSync(cacheDir)) return {}
  const newest = fs
    .readdirSync(cacheDir, { withFileTypes: true })
    .filter(entry => entry.isDirectory())
    .map(entry => entry.name)
    .sort()
    .pop()
  if (!newest) return {}
  const dir = path.join(cacheDir, newest)
  const suffix = target.replaceAll('-', '_')
  const env: Record<string, string> = {}
  const wrapper = fs.readdirSync(dir).find(name => name.startsWith(`zigcc-${target}-`) && name.endsWith('.sh'))
  if (wrapper) env[`CC_${suffix}`] = path.join(dir, wrapper)
  if (fs.existsSync(path.join(dir, 'ar'))) env[`AR_${suffix}`] = path.join(dir, 'ar')
  return env
}

/**
 * cargo-pmcp's build environment: aws-lc-sys through cmake and without jitter entropy (zig rejects
 * the flags otherwise), and, when cross-compiling, cargo-zigbuild's zigcc wrapper as the C compiler
 * of the target (bare zig cannot parse the --target the cc crate passes). Values the user already
 * set win.
 */
export function cargoLambdaEnv(
  architecture: Architecture,
  host: HostPlatform,
  zigbuildCacheDir: string,
  inherited: NodeJS.ProcessEnv = process.env
): Record<string, string> {
  const wanted: Record<string, string> = {
    AWS_LC_SYS_CMAKE_BUILDER: '1',
    AWS_LC_SYS_NO_JITTER_ENTROPY: '1',
    // Plain output, so the problem matcher sees `error[E…]:` lines.
    CARGO_TERM_COLOR: 'never'
  }
  if (hostArchOf(architecture) !== host.arch) Object.assign(wanted, zigccWrappers(zigbuildCacheDir, lambdaTarget(architecture)))
  return Object.fromEntries(Object.entries(wanted).filter(([name]) => inherited[name] === undefined))
}

export function defaultZigbuildCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'cargo-zigbuild')
}

export function defaultProblemMatcherPath(): string {
  // Not `new URL(file, import.meta.url)`: ncc rewrites that pattern into an asset reference that
  // does not resolve in the bundle. dist/ ships the file beside index.js.
  return path.join(path.dirname(fileURLToPath(import.meta.url)), PROBLEM_MATCHER_FILE)
}

/** The compiler's error lines (with their ` --> file:line` pointers), for the failure message. */
export function compilerErrors(output: string, limit = 20): string[] {
  const lines = output.split('\n')
  const picked: string[] = []
  lines.forEach((line, index) => {
    if (!/^error(\[E\d+\])?:/.test(line)) return
    picked.push(line)
    const pointer = lines[index + 1]
    if (pointer !== undefined && /^\s+-->\s/.test(pointer)) picked.push(pointer)
  })
  return picked.slice(0, limit)
}

/** `what`: where the command comes from, e.g. "input 'build-command'" (shown before it). */
export function buildFailure(command: string, result: CommandResult, what?: string): ActionError {
  const errors = compilerErrors(`${result.stdout}\n${result.stderr}`)
  const details = errors.length > 0 ? errors.join('\n') : `${result.stderr}`.trim().split('\n').slice(-10).join('\n')
  return new ActionError(
    'Build failed',
    `${what ? `${what} (\`${command}\`)` : `\`${command}\``} exited with code ${result.exitCode}.\n${details}\n` +
      'Fix the errors above (they are annotated on the source lines), then push again.'
  )
}

const ELF_MACHINE: Record<number, HostArch> = { 0x3e: 'x86_64', 0xb7: 'aarch64' }

/** Lambda runs Linux executables of one architecture: catch a wrong binary before it is deployed. */
export function checkExecutable(file: string, architecture: Architecture): void {
  const header = Buffer.alloc(20)
  const fd = fs.openSync(file, 'r')
  try {
    fs.readSync(fd, header, 0, 20, 0)
  } finally {
    fs.closeSync(fd)
  }
  if (header.readUInt32BE(0) !== 0x7f454c46) {
    throw new ActionError(
      'Not a Linux executable',
      `${file} is not an ELF executable; the server must be a Linux binary (Lambda and Cloud Run run Linux). Check 'binary-path'.`
    )
  }
  const machine = ELF_MACHINE[header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18)]
  if (machine !== hostArchOf(architecture)) {
    throw new ActionError(
      'Binary built for the wrong architecture',
      `${file} is a ${machine ?? 'unknown'} executable but the server runs on ${architecture}. ` +
        "Build for the right target, or set 'architecture' (or [lambda] architecture) to match."
    )
  }
}

export async function withProblemMatcher<T>(matcherPath: string, body: () => Promise<T>): Promise<T> {
  process.stdout.write(`::add-matcher::${matcherPath}${os.EOL}`)
  try {
    return await body()
  } finally {
    process.stdout.write(`::remove-matcher owner=${PROBLEM_MATCHER_OWNER}::${os.EOL}`)
  }
}

/**
 * Reads the workspace from the `<name>-lambda/` directory when there is one (it need not be a member of a
 * workspace at the working directory: cargo-pmcp just builds in it), else from the working directory.
 */
async function findCrate(options: BuildOptions, run: CommandRunner): Promise<LambdaCrate> {
  const wrapperDir = lambdaWrapperDir(options.workingDirectory, options.serverName)
  const metadata = await readCargoMetadata(wrapperDir ?? options.workingDirectory, run)
  return chooseLambdaCrate(metadata, options.serverName, options.workingDirectory)
}

async function runBuild(options: BuildOptions, run: CommandRunner, host: HostPlatform): Promise<{ binary: string; command: string[] }> {
  const binaryFromInput = options.binaryPath ? path.resolve(options.workingDirectory, options.binaryPath) : undefined
  if (options.buildCommand) {
    const shell = fs.existsSync('/bin/bash') ? 'bash' : 'sh'
    const command = [shell, '-c', options.buildCommand]
    core.info(`Building with build-command in ${options.workingDirectory}: ${options.buildCommand}`)
    const result = await run(shell, ['-c', options.buildCommand], { cwd: options.workingDirectory })
    if (result.exitCode !== 0) throw buildFailure(options.buildCommand, result, "Input 'build-command'")
    const binary = binaryFromInput ?? cargoLambdaOutput(await findCrate(options, run))
    return { binary, command }
  }
  checkFeatures(options.features, options.configFile)
  const crate = await findCrate(options, run)
  const args = cargoLambdaArgs(crate, options.architecture, options.features, options.noDefaultFeatures)
  const env = cargoLambdaEnv(options.architecture, host, options.zigbuildCacheDir ?? defaultZigbuildCacheDir())
  core.info(`Building ${crate.package} (${crate.reason}) in ${crate.packageDir}: cargo ${args.join(' ')}`)
  const result = await run('cargo', args, { cwd: crate.packageDir, env })
  if (result.exitCode !== 0) throw buildFailure(`cargo ${args.join(' ')}`, result)
  return { binary: binaryFromInput ?? cargoLambdaOutput(crate), command: ['cargo', ...args] }
}

/** Builds the server and puts an executable `bootstrap` where the CDK project takes it. */
export async function buildBootstrap(options: BuildOptions): Promise<BuildResult> {
  const run = options.run ?? runCommand
  const host = options.host ?? currentHost()
  core.startGroup('Build')
  try {
    const { binary, command } = await withProblemMatcher(options.problemMatcherPath ?? defaultProblemMatcherPath(), () =>
      runBuild(options, run, host)
    )
    if (!fs.existsSync(binary) || !fs.statSync(binary).isFile()) {
      throw new ActionError(
        'Built binary not found',
        `The build succeeded but ${binary} does not exist. Set 'binary-path' to where your build puts the executable.`
      )
    }
    checkExecutable(binary, options.architecture)
    const bootstrapPath = path.join(path.resolve(options.workingDirectory, options.cdkDir), '.build', 'bootstrap')
    fs.mkdirSync(path.dirname(bootstrapPath), { recursive: true })
    fs.copyFileSync(binary, bootstrapPath)
    fs.chmodSync(bootstrapPath, 0o755)
    const sizeBytes = fs.statSync(bootstrapPath).size
    core.info(`bootstrap: ${bootstrapPath} (${(sizeBytes / 1048576).toFixed(2)} MiB, from ${binary})`)
    return { bootstrapPath, sizeBytes, command }
  } finally {
    core.endGroup()
  }
}
