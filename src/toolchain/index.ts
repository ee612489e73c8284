import * as core from '@actions/core'
import * as path from 'node:path'
import type { Plan } from '../plan.js'
import type { Architecture, SmokeEngine } from '../types.js'
import { actionsCache, cacheSavePolicy, withSavePolicy, type CacheService } from './cache-service.js'
import { cargoCacheKey, cargoCachePaths, restoreCargoCache, type CargoCacheState } from './cargo-cache.js'
import { runCommand, type CommandRunner } from '../process.js'
import { currentHost, type HostPlatform } from './command.js'
import { lambdaTarget, setupRust } from './rust.js'
import { installCargoLambda, installMcpTester, installZig, type InstalledTool, type ToolRequest } from './tools.js'

export { saveCargoCache, cargoCacheHit, cargoCacheKey, type CargoCacheState } from './cargo-cache.js'
export type { HostPlatform } from './command.js'
export { actionsCache, cacheSavePolicy, withSavePolicy, type CacheService } from './cache-service.js'
export type { ToolRequest, InstalledTool } from './tools.js'

export interface ToolchainOptions {
  /** Absolute directory of the server (where cargo runs). */
  workingDirectory: string
  /** Upper bound for toolchain/lock/config file lookups [GITHUB_WORKSPACE, else workingDirectory]. */
  repositoryRoot?: string
  architecture: Architecture
  /** The `rust-toolchain` input; a rust-toolchain(.toml) file wins over it. */
  rustToolchain: string
  /** Set: the user builds; no cargo-lambda or zig is installed. */
  buildCommand?: string
  /** False: nothing is compiled on the runner (a Docker build does it): no cargo-lambda or zig either. */
  compilesOnRunner?: boolean
  /** mcp-tester is installed only for 'mcp-tester' (pass 'none' when nothing is smoke-tested). */
  smokeEngine: SmokeEngine
  /** `cache: false` turns every cache (tools and cargo) off. */
  cache: boolean
  /** Input `cache-key`: an extra part of the cargo cache key. */
  cacheKey?: string
  cargoLambda: ToolRequest
  /** sha256: required for a zig version whose checksum is not pinned (unless the mirror serves .sha256). */
  zig: ToolRequest & { sha256?: string }
  mcpTester: ToolRequest
  /** [CARGO_HOME, else ~/.cargo] */
  cargoHome?: string
  run?: CommandRunner
  cacheService?: CacheService
  host?: HostPlatform
}

export interface ToolchainResult {
  /** `rustc 1.95.0 (59807616e 2026-04-14)`: the `rust-version` output. */
  rustcVersion: string
  toolchain: string
  cargoLambda?: string
  zig?: string
  mcpTester?: string
  /** The mcp-tester executable, when the smoke test uses it. */
  mcpTesterPath?: string
  tools: InstalledTool[]
  /** Pass to saveCargoCache after a successful build; undefined when caching is off. */
  cargoCache?: CargoCacheState
}

/** Rust toolchain, cargo cache restore and the tools this run needs (cargo-lambda and zig to build, mcp-tester to smoke-test). */
export async function setupToolchain(options: ToolchainOptions): Promise<ToolchainResult> {
  const run = options.run ?? runCommand
  const host = options.host ?? currentHost()
  const service = options.cache ? (options.cacheService ?? actionsCache) : undefined
  const searchRoot = options.repositoryRoot ?? process.env.GITHUB_WORKSPACE ?? options.workingDirectory
  const usesCargoLambda = !options.buildCommand && options.compilesOnRunner !== false

  core.startGroup('Rust toolchain')
  let rust
  try {
    rust = await setupRust({
      workingDirectory: options.workingDirectory,
      searchRoot,
      requested: options.rustToolchain,
      targets: usesCargoLambda ? [lambdaTarget(options.architecture)] : [],
      run
    })
  } finally {
    core.endGroup()
  }

  core.startGroup('Tools and caches')
  try {
    const context = { host, cache: service, run }
    const installs: Promise<InstalledTool>[] = []
    // cargo-lambda always links through zig (cargo-zigbuild), so zig goes with it.
    if (usesCargoLambda) installs.push(installCargoLambda(options.cargoLambda, context), installZig(options.zig, context))
    if (options.smokeEngine === 'mcp-tester') installs.push(installMcpTester(options.mcpTester, context))

    const key = cargoCacheKey({
      os: host.os,
      runnerArch: host.arch,
      lambdaArch: options.architecture,
      rustcVerbose: rust.rustcVerbose,
      workingDirectory: options.workingDirectory,
      searchRoot,
      extra: options.cacheKey
    })
    const paths = cargoCachePaths({ cargoHome: options.cargoHome, workingDirectory: options.workingDirectory })
    const restoreCargo = async (): Promise<CargoCacheState | undefined> => {
      if (service) return restoreCargoCache(key, paths, service, { workingDirectory: options.workingDirectory, run })
      core.info(`Cargo cache key: ${key.key} (caching is off: cache: false)`)
      return undefined
    }
    const [tools, cargoCache] = await Promise.all([Promise.all(installs), restoreCargo()])
    const versionOf = (name: InstalledTool['name']): string | undefined => tools.find(t => t.name === name)?.version
    return {
      rustcVersion: rust.rustcVersion,
      toolchain: rust.toolchain,
      cargoLambda: versionOf('cargo-lambda'),
      zig: versionOf('zig'),
      mcpTester: versionOf('mcp-tester'),
      mcpTesterPath: mcpTesterBinary(tools.find(t => t.name === 'mcp-tester')),
      tools,
      cargoCache
    }
  } finally {
    core.endGroup()
  }
}

function mcpTesterBinary(tool: InstalledTool | undefined): string | undefined {
  return tool && path.join(tool.dir, 'mcp-tester')
}

/** mcp-tester alone, for commands that smoke-test without building anything (rollback). */
export async function setupMcpTester(request: ToolRequest, cache: CacheService | undefined): Promise<string> {
  const tool = await installMcpTester(request, { host: currentHost(), cache, run: runCommand })
  return path.join(tool.dir, 'mcp-tester')
}

/**
 * The Actions cache as this run may use it: restored always, saved as `save-cache` says; undefined with
 * `cache: false`. Every cache of the run (tools, cargo, CDK dependencies) goes through it.
 */
export function runCacheService(plan: Plan, env: NodeJS.ProcessEnv = process.env): CacheService | undefined {
  if (!plan.inputs.cache) return undefined
  // One service per run, so the policy is decided and printed once for the tools, cargo and CDK caches.
  if (!runCaches.has(plan)) runCaches.set(plan, newRunCacheService(plan, env))
  return runCaches.get(plan)
}

const runCaches = new WeakMap<Plan, CacheService>()

function newRunCacheService(plan: Plan, env: NodeJS.ProcessEnv): CacheService {
  const repository = plan.context.event.repository as { default_branch?: unknown } | undefined
  const policy = cacheSavePolicy({
    mode: plan.inputs.saveCache,
    eventName: plan.context.eventName,
    ref: env.GITHUB_REF,
    defaultBranch: typeof repository?.default_branch === 'string' ? repository.default_branch : undefined
  })
  return withSavePolicy(actionsCache, policy)
}

/** Rust, cargo-lambda, zig and mcp-tester as the plan's inputs pin them, for the plan's architecture. */
export function toolchainFor(plan: Plan, options: Pick<ToolchainOptions, 'compilesOnRunner'> = {}): Promise<ToolchainResult> {
  const { inputs } = plan
  const cacheService = runCacheService(plan)
  return setupToolchain({
    workingDirectory: inputs.workingDirectory,
    repositoryRoot: plan.context.workspace,
    architecture: plan.architecture,
    rustToolchain: inputs.rustToolchain,
    buildCommand: inputs.buildCommand,
    compilesOnRunner: options.compilesOnRunner,
    smokeEngine: inputs.smokeTest,
    cache: cacheService !== undefined,
    cacheService,
    cacheKey: inputs.cacheKey,
    cargoLambda: { version: inputs.cargoLambdaVersion, urlTemplate: inputs.cargoLambdaUrl },
    zig: { version: inputs.zigVersion, urlTemplate: inputs.zigUrl },
    mcpTester: { version: inputs.mcpTesterVersion, urlTemplate: inputs.mcpTesterUrl }
  })
}
