import * as path from 'node:path'
import { readCargoMetadata, type CargoMetadata } from '../../build/crate.js'
import { runCommand, type CommandRunner } from '../../process.js'

/** `cargo metadata` reports each package's version; CargoMetadata leaves it out. */
interface VersionedMetadata extends Omit<CargoMetadata, 'packages'> {
  packages: Array<CargoMetadata['packages'][number] & { version?: string }>
}

/**
 * The version pmcp.run shows for the server, chosen as cargo-pmcp does: the workspace root
 * package's, else the first package's. Undefined when cargo cannot tell.
 */
export async function serverVersion(workingDirectory: string, run: CommandRunner = runCommand): Promise<string | undefined> {
  let metadata: VersionedMetadata
  try {
    metadata = await readCargoMetadata(workingDirectory, run)
  } catch {
    return undefined
  }
  const rootManifest = path.join(metadata.workspace_root, 'Cargo.toml')
  const root = metadata.packages.find(pkg => path.resolve(pkg.manifest_path) === rootManifest && pkg.version)
  return root?.version ?? metadata.packages.find(pkg => pkg.version)?.version
}
