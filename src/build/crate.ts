import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import type { CommandRunner } from '../process.js'

/** The parts of `cargo metadata --no-deps --format-version 1` this action reads. */
export interface CargoMetadata {
  packages: Array<{
    name: string
    manifest_path: string
    targets: Array<{ name: string; kind: string[] }>
  }>
  workspace_root: string
  target_directory: string
}

/** The package that becomes the Lambda function and how cargo-lambda is pointed at it. */
export interface LambdaCrate {
  package: string
  /** The binary target that becomes `bootstrap`. */
  binary: string
  /** Directory of the package's Cargo.toml: cargo-lambda runs there (as cargo-pmcp does). */
  packageDir: string
  /** Pass `--bin`: the package has more than one binary. */
  selectBinary: boolean
  /** Pass `-p`: the package dir is a workspace root that has other members too. */
  selectPackage: boolean
  targetDirectory: string
  /** Why this crate was chosen, for the log. */
  reason: string
}

export async function readCargoMetadata(workingDirectory: string, run: CommandRunner): Promise<CargoMetadata> {
  const result = await run('cargo', ['metadata', '--no-deps', '--format-version', '1', '--offline'], {
    cwd: workingDirectory,
    silent: true
  })
  if (result.exitCode !== 0) {
    throw new ActionError(
      'cargo metadata failed',
      `\`cargo metadata\` failed in ${workingDirectory}: ${result.stderr.trim().split('\n').slice(-5).join('\n')}\n` +
        "Check that 'working-directory' points at the Cargo project of the server."
    )
  }
  return JSON.parse(result.stdout) as CargoMetadata
}

const binaries = (pkg: CargoPackage): string[] => pkg.targets.filter(target => target.kind.includes('bin')).map(target => target.name)

type CargoPackage = CargoMetadata['packages'][number]

const sameDir = (a: string, b: string): boolean => path.resolve(a) === path.resolve(b)

/**
 * Whether the working directory is a config-driven single crate (`cargo pmcp new --kind sql-server`), which
 * cargo-pmcp builds in place: its Cargo.toml declares a `[package]` and `config.toml` and `schema.sql` sit
 * beside it (builder.rs `is_single_crate_config_root`, the same text test).
 */
function isSingleCrateConfigRoot(workingDirectory: string): boolean {
  return configRootManifest(workingDirectory)?.includes('[package]') ?? false
}

/**
 * The Cargo.toml text of a config-driven project root (config.toml and schema.sql beside it), else
 * undefined: cargo-pmcp tests that text for `[package]` when it builds and for `pmcp-server-toolkit`
 * when it packages assets.
 */
export function configRootManifest(workingDirectory: string): string | undefined {
  if (!fs.existsSync(path.join(workingDirectory, 'config.toml')) || !fs.existsSync(path.join(workingDirectory, 'schema.sql')))
    return undefined
  try {
    return fs.readFileSync(path.join(workingDirectory, 'Cargo.toml'), 'utf8')
  } catch {
    return undefined
  }
}

/** The `<name>-lambda` directory cargo-pmcp looks for first: a direct subdirectory with a Cargo.toml. */
export function lambdaWrapperDir(workingDirectory: string, serverName: string): string | undefined {
  const dir = path.join(workingDirectory, `${serverName}-lambda`)
  return fs.existsSync(path.join(dir, 'Cargo.toml')) ? dir : undefined
}

interface Choice {
  pkg: CargoPackage
  binary: string
  /** Built as cargo-pmcp builds it: in the package directory, without `-p` or `--bin`. */
  asCargoPmcp: boolean
  reason: string
}

/**
 * cargo-pmcp's own order (builder.rs `find_lambda_package_dir`), where the binary is always the `bootstrap`
 * that `cargo lambda build` (run in the package directory, no `-p`/`--bin`) leaves in target/lambda/bootstrap/:
 * 1. the `<name>-lambda/` directory beside deploy.toml (`cargo pmcp deploy init`), whatever its package is named;
 * 2. the first package (by name, as cargo metadata lists them) whose name ends in `-lambda` with a `bootstrap` binary;
 * 3. the working directory's own crate when it is a config-driven single crate (Cargo.toml + config.toml + schema.sql).
 */
function cargoPmcpChoice(metadata: CargoMetadata, serverName: string, workingDirectory: string): Choice | undefined {
  const packages = metadata.packages
  const wrapperDir = lambdaWrapperDir(workingDirectory, serverName)
  const wrapper = wrapperDir ? packages.find(pkg => sameDir(path.dirname(pkg.manifest_path), wrapperDir)) : undefined
  if (wrapper && binaries(wrapper).includes('bootstrap')) {
    return { pkg: wrapper, binary: 'bootstrap', asCargoPmcp: true, reason: `the ${serverName}-lambda crate (cargo pmcp deploy init)` }
  }
  const lambdaPackage = [...packages]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .find(pkg => pkg.name.endsWith('-lambda') && binaries(pkg).includes('bootstrap'))
  if (lambdaPackage) {
    return {
      pkg: lambdaPackage,
      binary: 'bootstrap',
      asCargoPmcp: true,
      reason: `${lambdaPackage.name} is a -lambda package with a bootstrap binary`
    }
  }
  const root = packages.find(pkg => sameDir(path.dirname(pkg.manifest_path), workingDirectory))
  if (root && binaries(root).includes('bootstrap') && isSingleCrateConfigRoot(workingDirectory)) {
    return { pkg: root, binary: 'bootstrap', asCargoPmcp: true, reason: 'the config-driven crate in the working directory' }
  }
  return undefined
}

/** Where cargo-pmcp finds nothing (its deploy fails there), this action still tries these. */
function fallbackChoice(metadata: CargoMetadata, serverName: string, workingDirectory: string): Choice | undefined {
  const packages = metadata.packages
  const wrapperDir = lambdaWrapperDir(workingDirectory, serverName)
  const wrapper =
    packages.find(pkg => wrapperDir !== undefined && sameDir(path.dirname(pkg.manifest_path), wrapperDir)) ??
    packages.find(pkg => pkg.name === `${serverName}-lambda`)
  if (wrapper && binaries(wrapper).length > 0) {
    return {
      pkg: wrapper,
      binary: binaries(wrapper)[0],
      asCargoPmcp: false,
      reason: `the ${wrapper.name} crate (its binary is not named bootstrap)`
    }
  }
  const withBootstrap = packages.find(pkg => binaries(pkg).includes('bootstrap'))
  if (withBootstrap) {
    return {
      pkg: withBootstrap,
      binary: 'bootstrap',
      asCargoPmcp: false,
      reason: `package ${withBootstrap.name} has a binary named bootstrap`
    }
  }
  const namedAfterServer = packages.find(pkg => binaries(pkg).includes(serverName))
  if (namedAfterServer) {
    return {
      pkg: namedAfterServer,
      binary: serverName,
      asCargoPmcp: false,
      reason: `package ${namedAfterServer.name} has a binary named after the server`
    }
  }
  return undefined
}

/**
 * The crate to build. First exactly as `cargo pmcp deploy` 0.28 chooses it (see {@link cargoPmcpChoice});
 * only where that finds nothing: a `<name>-lambda` crate whose binary has another name, any package with a
 * `bootstrap` binary, then the package whose binary is named after the server.
 */
export function chooseLambdaCrate(metadata: CargoMetadata, serverName: string, workingDirectory = metadata.workspace_root): LambdaCrate {
  const chosen = cargoPmcpChoice(metadata, serverName, workingDirectory) ?? fallbackChoice(metadata, serverName, workingDirectory)
  if (!chosen) {
    const found = metadata.packages.flatMap(pkg => binaries(pkg).map(bin => `${pkg.name}:${bin}`))
    throw new ActionError(
      'No Lambda binary found',
      `None of the packages in ${metadata.workspace_root} is '${serverName}-lambda' or has a binary named 'bootstrap' or '${serverName}' ` +
        `(binaries found: ${found.join(', ') || 'none'}). Run \`cargo pmcp deploy init\`, ` +
        "name the binary 'bootstrap' or after [server] name, " +
        "or set 'build-command' and 'binary-path'."
    )
  }
  const packageDir = path.dirname(chosen.pkg.manifest_path)
  const bins = binaries(chosen.pkg)
  return {
    package: chosen.pkg.name,
    binary: chosen.binary,
    packageDir,
    selectBinary: !chosen.asCargoPmcp && bins.length > 1,
    selectPackage: !chosen.asCargoPmcp && sameDir(packageDir, metadata.workspace_root) && metadata.packages.length > 1,
    targetDirectory: metadata.target_directory,
    reason: chosen.reason
  }
}

/** Where cargo-lambda puts a binary. */
export function cargoLambdaOutput(crate: LambdaCrate): string {
  return path.join(crate.targetDirectory, 'lambda', crate.binary, 'bootstrap')
}
