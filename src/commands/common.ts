import * as core from '@actions/core'
import * as path from 'node:path'
import type { AwsContext } from '../aws/clients.js'
import { installCdkDependencies, prepareCdkProject, type CdkProject } from '../cdk/project.js'
import { resolveRegion } from '../aws/clients.js'
import { configureAwsCredentials } from '../aws/credentials.js'
import { loadConfig, type DeployConfig } from '../config/index.js'
import { resolvePreviewId, resolveStage, type RunContext } from '../context.js'
import { errorMessage } from '../errors.js'
import type { ActionInputs, Target } from '../inputs.js'
import { routingEventOf, skipMessage, untrustedEventReason } from '../lifecycle/routing.js'
import { resourceNames, type ResourceNames } from '../names.js'
import { githubRunLinks, publishReport, type RunReport } from '../report/index.js'
import { pickSmokeTestUrl, runSmokeTest, skippedSmokeRun } from '../smoke/index.js'
import { saveCargoCache, setupToolchain, type ToolchainResult } from '../toolchain/index.js'
import { buildBootstrap, type BuildResult } from '../build/index.js'
import type { Architecture, Command, PhaseTiming, SmokeRun } from '../types.js'

export interface Prepared {
  config: DeployConfig
  names: ResourceNames
  architecture: Architecture
  /** Input, else `[aws] region`, else the environment; commands that reach AWS require it. */
  region?: string
}

/** Steps shared by every command: config, names, architecture and region. */
export function prepare(inputs: ActionInputs, context: RunContext): Prepared {
  const config = loadConfig({ workingDirectory: inputs.workingDirectory, config: inputs.config, workspace: context.workspace })
  const names = resourceNames(config.server.name, resolveStage(inputs, context), resolvePreviewId(inputs, context))
  const region = inputs.awsRegion ?? config.aws.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
  core.info(`Server ${config.server.name}: stack ${names.stackName}, function ${names.functionName} (${names.stage})`)
  return { config, names, architecture: inputs.architecture ?? config.architecture ?? 'arm64', region }
}

/** The CDK project of the target (rendered, or the repository's own) with its dependencies installed. */
export async function cdkProjectFor(inputs: ActionInputs, context: RunContext, prepared: Prepared, target: Target = inputs.target): Promise<CdkProject> {
  const { config, names, architecture, region } = prepared
  const project = prepareCdkProject({ workingDirectory: inputs.workingDirectory, config, names, architecture, region, target, commitSha: context.commitSha, runId: context.runId })
  await installCdkDependencies(project.dir)
  return project
}

/** Rust, cargo-lambda, zig and mcp-tester as the inputs pin them; sets the `rustc-version` output. */
export async function toolchainFor(inputs: ActionInputs, context: RunContext, architecture: Architecture): Promise<ToolchainResult> {
  const toolchain = await setupToolchain({
    workingDirectory: inputs.workingDirectory,
    repositoryRoot: context.workspace,
    architecture,
    rustToolchain: inputs.rustToolchain,
    buildCommand: inputs.buildCommand,
    smokeEngine: inputs.smokeTest,
    cache: inputs.cache,
    cargoLambda: { version: inputs.cargoLambdaVersion, urlTemplate: inputs.cargoLambdaUrl },
    zig: { version: inputs.zigVersion, urlTemplate: inputs.zigUrl },
    mcpTester: { version: inputs.mcpTesterVersion, urlTemplate: inputs.mcpTesterUrl }
  })
  core.setOutput('rustc-version', toolchain.rustcVersion)
  return toolchain
}

/** Builds the server's `bootstrap` into the CDK project's `.build/`, then saves the cargo cache. */
export async function buildServer(inputs: ActionInputs, prepared: Prepared, project: CdkProject, toolchain: ToolchainResult): Promise<BuildResult> {
  const result = await buildBootstrap({
    workingDirectory: inputs.workingDirectory,
    architecture: prepared.architecture,
    serverName: prepared.config.server.name,
    features: prepared.config.build.features,
    buildCommand: inputs.buildCommand,
    binaryPath: inputs.binaryPath,
    cdkDir: path.relative(inputs.workingDirectory, project.dir)
  })
  await saveCargoCache(toolchain.cargoCache)
  return result
}

/** Times the pipeline's phases for the summary, and knows which one a failure happened in. */
export class PhaseClock {
  readonly timings: PhaseTiming[] = []
  current?: PhaseTiming['phase']

  async time<T>(phase: PhaseTiming['phase'], work: () => Promise<T> | T): Promise<T> {
    this.current = phase
    const started = Date.now()
    try {
      return await work()
    } finally {
      this.timings.push({ phase, ms: Date.now() - started })
    }
  }
}

/** Why this run must not touch AWS (a fork's pull request, pull_request_target), as a notice; else undefined. */
export function untrustedRunNotice(context: RunContext): string | undefined {
  const event = routingEventOf(context)
  const reason = untrustedEventReason(event)
  return reason ? skipMessage(reason, event) : undefined
}

export interface AwsSession {
  aws: AwsContext
  accountId: string
}

/** OIDC (or the environment's credentials) for everything after; sets `aws-account-id`. */
export async function awsSession(inputs: ActionInputs, region: string | undefined): Promise<AwsSession> {
  const aws: AwsContext = { region: resolveRegion(region) }
  const identity = await configureAwsCredentials({
    ...aws,
    roleToAssume: inputs.roleToAssume,
    roleSessionName: inputs.roleSessionName,
    roleDurationSeconds: inputs.roleDurationSeconds
  })
  core.setOutput('aws-account-id', identity.accountId)
  return { aws, accountId: identity.accountId }
}

/**
 * The smoke test the inputs ask for, against `smoke-test-url` or the stack's `McpUrl`, with
 * `token` (default: the `smoke-test-token` input).
 */
export async function smokeTest(
  inputs: ActionInputs,
  stackOutputs: Record<string, string>,
  mcpTesterPath?: string,
  token = inputs.smokeTestToken
): Promise<SmokeRun> {
  if (inputs.smokeTest === 'none') return skippedSmokeRun(inputs.smokeTestUrl ?? stackOutputs.McpUrl ?? '')
  return runSmokeTest({
    engine: inputs.smokeTest,
    url: pickSmokeTestUrl(inputs.smokeTestUrl, stackOutputs),
    token,
    scenarioPath: inputs.smokeTestScenario ? path.resolve(inputs.workingDirectory, inputs.smokeTestScenario) : undefined,
    timeoutSeconds: inputs.smokeTestTimeoutSeconds,
    mcpTesterPath
  })
}

/** The fields every command's report starts from. */
export function reportBase(command: Command, names: ResourceNames, region: string | undefined, context: RunContext): Omit<RunReport, 'status'> {
  return { command, stackName: names.stackName, stage: names.stage, region, commitSha: context.commitSha, ...githubRunLinks(context.commitSha), outputs: {}, phases: [] }
}

export async function report(inputs: ActionInputs, context: RunContext, runReport: RunReport): Promise<void> {
  await publishReport(runReport, {
    comment: inputs.comment,
    githubToken: inputs.githubToken,
    prNumber: inputs.prNumber,
    event: { name: context.eventName, payload: context.event }
  })
}

/** A failure as the report shows it: the phase it happened in and the message users act on. */
export function failureOf(error: unknown, clock: PhaseClock): NonNullable<RunReport['failure']> {
  return { phase: clock.current ?? 'inputs', message: errorMessage(error) }
}
