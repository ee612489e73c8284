import * as path from 'node:path'
import type { CdkProject } from '../cdk/project.js'
import type { Plan } from '../plan.js'
import { saveCargoCache, type ToolchainResult } from '../toolchain/index.js'
import { packageAssets, type AssetFile, type AssetsConfig } from './assets.js'
import { buildBootstrap, type BuildResult } from './index.js'

export interface ServerBuildResult extends BuildResult {
  /** The `[assets]` files packaged beside bootstrap (none without `[assets] include`). */
  assets: AssetFile[]
}

export interface BuildServerOptions {
  /** Packages `[assets]` beside bootstrap [`packageAssets`]; a parameter so tests can watch it. */
  packageAssets?: typeof packageAssets
}

/**
 * Builds the server's `bootstrap` into the CDK project's `.build/`, packages `[assets]` beside it (the
 * directory is the function's code, unpacked to /var/task), then saves the cargo cache (only a build that
 * worked is worth caching).
 */
export async function buildServer(
  plan: Plan,
  project: CdkProject,
  toolchain: ToolchainResult,
  options: BuildServerOptions = {}
): Promise<ServerBuildResult> {
  const { inputs, config } = plan
  const result = await buildBootstrap({
    workingDirectory: inputs.workingDirectory,
    architecture: plan.architecture,
    serverName: config.server.name,
    features: config.build.features,
    noDefaultFeatures: config.build.noDefaultFeatures,
    configFile: config.file,
    buildCommand: inputs.buildCommand,
    binaryPath: inputs.binaryPath,
    cdkDir: path.relative(inputs.workingDirectory, project.dir)
  })
  // cargo-pmcp bundles assets only when `include` lists something (AssetsConfig::has_assets).
  const assetsConfig: AssetsConfig = config.assets
  const assets =
    assetsConfig.include.length > 0
      ? (options.packageAssets ?? packageAssets)({
          workingDirectory: inputs.workingDirectory,
          assets: assetsConfig,
          buildDir: path.dirname(result.bootstrapPath),
          configFile: config.file
        })
      : []
  await saveCargoCache(toolchain.cargoCache)
  return { ...result, assets }
}
