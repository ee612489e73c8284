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

const binaries = (pkg: CargoMetadata['packages'][number]): string[] =>
  pkg.targets.filter(target => target.kind.includes('bin')).map(target => target.name)

/**
 * The crate to build: the `<name>-lambda` crate `cargo pmcp deploy init` creates, else the package
 * whose binary is `bootstrap` (a `-lambda` package first), else the one whose binary is named after
 * the server.
 */
export function chooseLambdaCrate(metadata: CargoMetadata, serverName: string): LambdaCrate {
  const packages = metadata.packages
  const byName = packages.find(pkg => pkg.name === `${serverName}-lambda` && binaries(pkg).length > 0)
  const withBootstrap = packages
    .filter(pkg => binaries(pkg).includes('bootstrap'))
    .sort((a, b) => Number(b.name.endsWith('-lambda')) - Number(a.name.endsWith('-lambda')))[0]
  const namedAfterServer = packages.find(pkg => binaries(pkg).includes(serverName))

  let chosen: { pkg: CargoMetadata['packages'][number]; binary: string; reason: string } | undefined
  if (byName) {
    const bins = binaries(byName)
    chosen = {
      pkg: byName,
      binary: bins.includes('bootstrap') ? 'bootstrap' : bins[0],
      reason: `the ${byName.name} crate (cargo pmcp deploy init)`
    }
  } else if (withBootstrap) {
    chosen = { pkg: withBootstrap, binary: 'bootstrap', reason: `package ${withBootstrap.name} has a binary named bootstrap` }
  } else if (namedAfterServer) {
    chosen = { pkg: namedAfterServer, binary: serverName, reason: `package ${namedAfterServer.name} has a binary named after the server` }
  }
  if (!chosen) {
    const found = packages.flatMap(pkg => binaries(pkg).map(bin => `${pkg.name}:${bin}`))
    throw new ActionError(
      'No Lambda binary found',
      `None of the packages in ${metadata.workspace_root} is '${serverName}-lambda' or has a binary named 'bootstrap' or '${serverName}' ` +
        `(binaries found: ${found.join(', ') || 'none'}). Run \`cargo pmcp deploy init\`, ` +
        "name the binary 'bootstrap' or after [server] name, " +
        "or set 'build-command' and 'binary-path'."
    )
  }
  const packageDir = path.dirname(chosen.pkg.manifest_path)
  return {
    package: chosen.pkg.name,
    binary: chosen.binary,
    packageDir,
    selectBinary: binaries(chosen.pkg).length > 1,
    selectPackage: path.resolve(packageDir) === path.resolve(metadata.workspace_root) && packages.length > 1,
    targetDirectory: metadata.target_directory,
    reason: chosen.reason
  }
}

/** Where cargo-lambda puts a binary. */
export function cargoLambdaOutput(crate: LambdaCrate): string {
  return path.join(crate.targetDirectory, 'lambda', crate.binary, 'bootstrap')
}
