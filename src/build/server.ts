import * as path from 'node:path'
import type { CdkProject } from '../cdk/project.js'
import type { Plan } from '../plan.js'
import { saveCargoCache, type ToolchainResult } from '../toolchain/index.js'
import { buildBootstrap, type BuildResult } from './index.js'

/**
 * Builds the server's `bootstrap` into the CDK project's `.build/`, then saves the cargo cache (only a
 * build that worked is worth caching).
 */
export async function buildServer(plan: Plan, project: CdkProject, toolchain: ToolchainResult): Promise<BuildResult> {
  const { inputs, config } = plan
  const result = await buildBootstrap({
    workingDirectory: inputs.workingDirectory,
    architecture: plan.architecture,
    serverName: config.server.name,
    features: config.build.features,
    noDefaultFeatures: config.build.noDefaultFeatures,
    buildCommand: inputs.buildCommand,
    binaryPath: inputs.binaryPath,
    cdkDir: path.relative(inputs.workingDirectory, project.dir)
  })
  await saveCargoCache(toolchain.cargoCache)
  return result
}
