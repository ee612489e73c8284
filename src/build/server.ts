import * as path from 'node:path'
import type { CdkProject } from '../cdk/project.js'
import type { Plan } from '../plan.js'
import { saveCargoCache, type ToolchainResult } from '../toolchain/index.js'
import { packageAssets, packageServerConfig, resolveAssets, type AssetFile, type AssetsConfig } from './assets.js'
import { buildBootstrap, type BuildResult } from './index.js'

export interface ServerBuildResult extends BuildResult {
  /** The `[assets]` files packaged beside bootstrap (none without `[assets] include`). */
  assets: AssetFile[]
  /** Everything packaged beside bootstrap: the assets and the server's `config.toml`, when it has one. */
  packaged: AssetFile[]
}

export interface BuildServerOptions {
  /** Packages `[assets]` beside bootstrap [`packageAssets`]; a parameter so tests can watch it. */
  packageAssets?: typeof packageAssets
}

/**
 * Builds the server's `bootstrap` into the CDK project's `.build/`, packages `[assets]` and the server's
 * config.toml beside it (the directory is the function's code, unpacked to /var/task), then saves the cargo
 * cache (only a build that worked is worth caching, unless `cache-on-failure` asks for it). `[assets]` is
 * checked before the build, so a missing file stops the run before minutes of compiling.
 */
export async function buildServer(
  plan: Plan,
  project: CdkProject,
  toolchain: ToolchainResult,
  options: BuildServerOptions = {}
): Promise<ServerBuildResult> {
  const { inputs, config } = plan
  // cargo-pmcp bundles assets only when `include` lists something (AssetsConfig::has_assets).
  const assetsConfig: AssetsConfig = config.assets
  const hasAssets = assetsConfig.include.length > 0
  if (hasAssets) resolveAssets(inputs.workingDirectory, assetsConfig, config.file)
  let result: BuildResult
  try {
    result = await buildBootstrap({
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
  } catch (error) {
    // What compiled before the failure is still worth keeping when asked (rust-cache's cache-on-failure).
    if (inputs.cacheOnFailure) await saveCargoCache(toolchain.cargoCache)
    throw error
  }
  const buildDir = path.dirname(result.bootstrapPath)
  const assets = hasAssets
    ? (options.packageAssets ?? packageAssets)({
        workingDirectory: inputs.workingDirectory,
        assets: assetsConfig,
        buildDir,
        configFile: config.file
      })
    : []
  const serverConfig = packageServerConfig(inputs.workingDirectory, buildDir)
  await saveCargoCache(toolchain.cargoCache)
  return { ...result, assets, packaged: serverConfig ? [...assets, serverConfig] : assets }
}
