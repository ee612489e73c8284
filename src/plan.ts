import * as core from '@actions/core'
import { loadConfig, type DeployConfig } from './config/index.js'
import type { RunContext } from './context.js'
import { insideWorkspace, type ActionInputs, type InputName } from './inputs.js'
import { noPreviewId, resolvePreviewId, resolveStage, resourceNames, type ResourceNames } from './names.js'

import { loadScenario, readScenarioDocument } from './smoke/scenario.js'
import { ActionError } from './action-error.js'
import type { Architecture, Command, Stage, Target } from './types.js'

/**
 * Everything a command needs to know before it does anything, decided once from the inputs, the
 * run and deploy.toml. Later steps read it and never decide these things again.
 */
export interface Plan {
  command: Command
  target: Target
  config: DeployConfig
  /** Stage, stack name and function name. */
  names: ResourceNames
  /** What the preview is named after (PR number or `preview-id`); undefined in production. */
  previewId?: string
  architecture: Architecture
  /** Input, else `[aws] region`, else the environment; undefined when none is set (a command that reaches AWS fails then). */
  region?: string
  inputs: ActionInputs
  context: RunContext
}

/** The `target` input when the user set it, else deploy.toml's `[target] type` (which defaults to aws-lambda). */
export function targetOf(inputTarget: Target, inputSetByUser: boolean, configTarget: Target): Target {
  return inputSetByUser ? inputTarget : configTarget
}

/** The region: the `aws-region` input, else `[aws] region`, else AWS_REGION, else AWS_DEFAULT_REGION; undefined when none is set. */
export function regionOf(input: string | undefined, configRegion: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return input?.trim() || configRegion || env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined
}

export interface PlanOptions {
  /** The inputs whose value differs from action.yml's default: what the user really set. */
  setByUser: readonly InputName[]
  env?: NodeJS.ProcessEnv
}

/** The commands that smoke-test an endpoint after they change it. */
const SMOKE_TESTING_COMMANDS: readonly Command[] = ['deploy', 'rollback']

/**
 * The `smoke-test-scenario` of a command that will run it, checked before anything is built or
 * deployed: inside the workspace, present, and parsed. The builtin engine runs it, so it must be a
 * scenario it can run; mcp-tester reads the file itself, so it must at least be YAML (or JSON).
 */
export function checkSmokeScenario(inputs: ActionInputs, workspace: string): void {
  if (!inputs.smokeTestScenario || inputs.smokeTest === 'none' || !SMOKE_TESTING_COMMANDS.includes(inputs.command)) return
  const file = insideWorkspace('smoke-test-scenario', inputs.smokeTestScenario, inputs.workingDirectory, workspace)
  if (inputs.smokeTest === 'builtin') loadScenario(file)
  else readScenarioDocument(file)
}

/**
 * Cloud Run keeps production and every preview in one service named after the server (previews are
 * revision tags, not services of their own), so the report, outputs and PR comment name the service.
 */
function cloudRunNames(config: DeployConfig, stage: Stage, previewId: string | undefined): ResourceNames {
  if (stage === 'preview' && !previewId) throw noPreviewId()
  // deploy.toml's loader has checked the name against Cloud Run's service-name rule.
  return { stage, stackName: config.server.name, functionName: config.server.name }
}

/** Cloud Run runs linux/amd64 only: an `architecture` input asking for arm64 is a mistake worth stopping for. */
function cloudRunArchitecture(input: Architecture | undefined): Architecture {
  if (input === 'arm64') {
    throw new ActionError(
      'Cloud Run runs x86_64 only',
      "Input 'architecture' is arm64, but Cloud Run runs linux/amd64 containers only. Remove 'architecture' from the step (or set x86_64)."
    )
  }
  return 'x86_64'
}

/** Reads deploy.toml (the only place that does) and settles target, names, architecture and region. */
export function resolvePlan(inputs: ActionInputs, context: RunContext, options: PlanOptions): Plan {
  const env = options.env ?? process.env
  const targetInput = options.setByUser.includes('target') ? inputs.target : undefined
  const config = loadConfig({
    workingDirectory: inputs.workingDirectory,
    config: inputs.config,
    workspace: context.workspace,
    target: targetInput
  })
  checkSmokeScenario(inputs, context.workspace)
  const target = targetOf(inputs.target, targetInput !== undefined, config.target.type)
  const stage = resolveStage(inputs.environment, context.eventName)
  const previewId = stage === 'preview' ? resolvePreviewId(inputs, context.prNumber) : undefined
  const names =
    target === 'google-cloud-run' ? cloudRunNames(config, stage, previewId) : resourceNames(config.server.name, stage, previewId)
  const region = regionOf(inputs.awsRegion, config.aws.region, env)
  if (target !== 'aws-lambda') core.info(`Target: ${target}`)
  if (target === 'google-cloud-run') {
    core.info(
      `Server ${config.server.name}: Cloud Run service ${names.stackName} (${names.stage}${previewId ? `, preview ${previewId}` : ''})`
    )
  } else {
    core.info(`Server ${config.server.name}: stack ${names.stackName}, function ${names.functionName} (${names.stage})`)
  }
  return {
    command: inputs.command,
    target,
    config,
    names,
    previewId,
    architecture:
      target === 'google-cloud-run' ? cloudRunArchitecture(inputs.architecture) : (inputs.architecture ?? config.architecture ?? 'arm64'),
    region,
    inputs: { ...inputs, target },
    context
  }
}
