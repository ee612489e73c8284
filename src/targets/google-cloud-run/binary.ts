/**
 * Which binary runs on Cloud Run: the one cargo-pmcp's `deploy init` would build into the image
 * (google_cloud_run/binary.rs). `[server] binary` when set, else the only binary of the project that
 * is not a Lambda one; with `[layout] kind = "multi-crate-isolated"`, `[server] binary` or else
 * `[server] name`, built from the `[layout] primary` crate. Read from `cargo metadata --no-deps`; only
 * packages inside the project directory count, as only they are in cargo-pmcp's Docker build context.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../../action-error.js'
import { readCargoMetadata, type CargoMetadata } from '../../build/crate.js'
import type { CloudRunConfig, DeployConfig } from '../../config/index.js'
import { DOCKERFILE_SAFE_NAME, MULTI_CRATE_ISOLATED } from '../../config/schema.js'
import { runCommand, type CommandRunner } from '../../process.js'

/** The binary to build, and where cargo finds it: `cargo build --manifest-path <manifestPath> -p <package> --bin <binary>`. */
export interface ServerBinary {
  package: string
  binary: string
  /** The directory of the package's Cargo.toml. */
  packageDir: string
  manifestPath: string
  /** cargo's target directory for the package (the workspace's). */
  targetDirectory: string
  /** Why this binary, for the log. */
  reason: string
}

/** A binary target of a package in the project. */
export interface BinTarget {
  name: string
  package: string
}

/** Where a selection error points: `[server] binary` when written, else `[server]`. */
export interface BinaryKeyLocation {
  file: string
  /** The line of `[server] binary`, when the file has one. */
  binaryLine?: number
  serverLine?: number
}

/** `bootstrap` (the name Lambda's custom runtime needs) or a name with a `lambda` word (`my-lambda`, `lambda_handler`). */
export function isLambdaBinary(name: string): boolean {
  return name === 'bootstrap' || name.split(/[-_]/).some(word => word.toLowerCase() === 'lambda')
}

const byNameThenPackage = (a: BinTarget, b: BinTarget): number =>
  a.name === b.name ? (a.package < b.package ? -1 : a.package > b.package ? 1 : 0) : a.name < b.name ? -1 : 1

function listed(bins: readonly BinTarget[]): string {
  return [...bins]
    .sort(byNameThenPackage)
    .map(bin => `${bin.name} (package ${bin.package})`)
    .join(', ')
}

function selectionError(where: BinaryKeyLocation, title: string, message: string): ActionError {
  const line = where.binaryLine ?? where.serverLine
  return new ActionError(`${where.file}: ${title}`, `${message}${line === undefined ? '' : ` (${where.file} line ${line})`}`, {
    file: where.file,
    line
  })
}

/** The fix every selection error ends with. */
function setBinary(where: BinaryKeyLocation, example = '<name>'): string {
  return `Set binary = "${example}" under [server] in ${where.file}`
}

/** cargo-pmcp writes both names into a Dockerfile `RUN` line; a name that would not fit there is refused as it refuses it. */
function checkedName(name: string, where: BinaryKeyLocation): string {
  if (DOCKERFILE_SAFE_NAME.test(name)) return name
  throw selectionError(
    where,
    'binary name not usable',
    `${JSON.stringify(name)} cannot be built as cargo-pmcp builds it: binary and package names must be ASCII letters, digits, - or _`
  )
}

/**
 * cargo-pmcp's `select_binary`: a declared binary must exist in exactly one package (a Lambda-looking
 * one too, when declared); else the one binary that is not a Lambda binary.
 */
export function selectServerBinary(
  bins: readonly BinTarget[],
  declared: string | undefined,
  where: BinaryKeyLocation
): BinTarget & { why: string } {
  if (declared !== undefined) {
    checkedName(declared, where)
    const matches = bins.filter(bin => bin.name === declared)
    if (matches.length === 1) {
      checkedName(matches[0].package, where)
      return { ...matches[0], why: `[server] binary = "${declared}"` }
    }
    if (matches.length === 0) {
      const available = bins.length === 0 ? 'this project has no binary targets' : `its binaries: ${listed(bins)}`
      throw selectionError(
        where,
        '[server] binary not found',
        `[server] binary = "${declared}" is not a binary of this project (${available}). ${setBinary(where)} to one of them`
      )
    }
    throw selectionError(
      where,
      '[server] binary in several packages',
      `[server] binary = "${declared}" is a binary of several packages (${matches.map(bin => bin.package).join(', ')}), ` +
        'so the build cannot tell which to run. Rename one of the binaries'
    )
  }
  const candidates = bins.filter(bin => !isLambdaBinary(bin.name)).sort(byNameThenPackage)
  if (candidates.length === 1) {
    const [only] = candidates
    checkedName(only.name, where)
    checkedName(only.package, where)
    const skipped = bins.filter(bin => isLambdaBinary(bin.name))
    return {
      ...only,
      why: `the only binary that is not a Lambda binary${skipped.length > 0 ? ` (not ${skipped.map(bin => bin.name).join(', ')})` : ''}`
    }
  }
  const serve = 'Add a binary that serves MCP over HTTP on 0.0.0.0:$PORT'
  if (candidates.length === 0 && bins.length === 0) {
    throw selectionError(
      where,
      'no binary to run',
      `This project has no binary targets, so there is nothing to run on Cloud Run. ${serve}. ${setBinary(where)}`
    )
  }
  if (candidates.length === 0) {
    throw selectionError(
      where,
      'no binary to run',
      `No binary to run on Cloud Run: every binary is a Lambda binary (bootstrap, or a name with a "lambda" word): ${listed(bins)}. ` +
        `${serve}. ${setBinary(where)}`
    )
  }
  throw selectionError(
    where,
    'several binaries',
    `Cannot tell which binary is the MCP server; candidates: ${listed(candidates)}. ` +
      `${setBinary(where, candidates[0].name)}, or to another of them`
  )
}

function realPath(target: string): string {
  try {
    return fs.realpathSync(target)
  } catch {
    return path.resolve(target)
  }
}

function isInside(dir: string, root: string): boolean {
  const relative = path.relative(root, dir)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

type CargoPackage = CargoMetadata['packages'][number]

/** The packages whose manifest lies inside `root` (the Docker build context cargo-pmcp builds in). */
function packagesInside(metadata: CargoMetadata, root: string): CargoPackage[] {
  const realRoot = realPath(root)
  return metadata.packages.filter(pkg => isInside(realPath(path.dirname(pkg.manifest_path)), realRoot))
}

function binTargets(packages: readonly CargoPackage[]): BinTarget[] {
  return packages.flatMap(pkg =>
    pkg.targets.filter(target => target.kind.includes('bin')).map(target => ({ name: target.name, package: pkg.name }))
  )
}

function located(metadata: CargoMetadata, packages: readonly CargoPackage[], chosen: BinTarget, reason: string): ServerBinary {
  const pkg = packages.find(candidate => candidate.name === chosen.package) as CargoPackage
  return {
    package: pkg.name,
    binary: chosen.name,
    packageDir: path.dirname(pkg.manifest_path),
    manifestPath: pkg.manifest_path,
    targetDirectory: metadata.target_directory,
    reason
  }
}

export interface ChooseServerBinaryOptions {
  /** The project directory: where deploy.toml's project is (cargo-pmcp's project root). */
  workingDirectory: string
  config: Pick<DeployConfig, 'file' | 'server'> & { cloudRun: CloudRunConfig }
  run?: CommandRunner
}

/** The binary cargo-pmcp would build into the image, located by `cargo metadata`. */
export async function chooseServerBinary(options: ChooseServerBinaryOptions): Promise<ServerBinary> {
  const { workingDirectory, config } = options
  const run = options.run ?? runCommand
  const cloudRun = config.cloudRun
  const where: BinaryKeyLocation = { file: config.file, binaryLine: cloudRun.lines.binary, serverLine: cloudRun.lines.server }
  const layout = cloudRun.layout
  if (layout?.kind === MULTI_CRATE_ISOLATED) return isolatedCrateBinary(workingDirectory, config, layout.primary, where, run)
  const metadata = await readCargoMetadata(workingDirectory, run)
  const packages = packagesInside(metadata, workingDirectory)
  const chosen = selectServerBinary(binTargets(packages), cloudRun.binary, where)
  return located(metadata, packages, chosen, `${chosen.why}: ${chosen.name} of package ${chosen.package}`)
}

/**
 * The multi-crate isolated layout: cargo-pmcp builds `--manifest-path <primary>/Cargo.toml --bin
 * <[server] binary, else [server] name>`, so the binary is looked for in the primary crate only.
 */
async function isolatedCrateBinary(
  workingDirectory: string,
  config: ChooseServerBinaryOptions['config'],
  primary: string,
  where: BinaryKeyLocation,
  run: CommandRunner
): Promise<ServerBinary> {
  const primaryDir = path.join(workingDirectory, primary)
  const layoutWhere = { ...where, binaryLine: where.binaryLine ?? config.cloudRun.lines.layout }
  if (!fs.existsSync(path.join(primaryDir, 'Cargo.toml'))) {
    throw selectionError(
      layoutWhere,
      '[layout] primary not found',
      `[layout] primary = "${primary}" names no crate: ${path.join(primaryDir, 'Cargo.toml')} does not exist. ` +
        `Set primary to the directory (beside the working directory's others) of the crate to deploy`
    )
  }
  const metadata = await readCargoMetadata(primaryDir, run)
  const packages = packagesInside(metadata, primaryDir)
  const declared = config.cloudRun.binary ?? config.server.name
  const source =
    config.cloudRun.binary !== undefined ? '[server] binary' : '[server] name, as cargo-pmcp builds it when [server] binary is unset'
  const bins = binTargets(packages)
  const chosen = bins.find(bin => bin.name === declared)
  if (!chosen) {
    throw selectionError(
      layoutWhere,
      '[server] binary not found',
      `"${declared}" (${source}) is not a binary of the [layout] primary crate ${primary} ` +
        `(${bins.length === 0 ? 'it has no binary targets' : `its binaries: ${listed(bins)}`}). ${setBinary(where, bins[0]?.name)}`
    )
  }
  checkedName(chosen.name, where)
  return located(metadata, packages, chosen, `[layout] ${MULTI_CRATE_ISOLATED}: ${chosen.name} (${source}) of crate ${primary}`)
}
