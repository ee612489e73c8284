import * as core from '@actions/core'
import { cdkEnvironment } from '../cdk/environment.js'
import { installCdkDependencies, prepareCdkProject } from '../cdk/project.js'
import { logSynthSummary, synthesize, type SynthResult } from '../cdk/synth.js'
import { loadConfig, type DeployConfig } from '../config/index.js'
import { resolvePreviewId, resolveStage, type RunContext } from '../context.js'
import type { ActionInputs } from '../inputs.js'
import { resourceNames, type ResourceNames } from '../names.js'
import type { Architecture } from '../types.js'

export interface Prepared {
  config: DeployConfig
  names: ResourceNames
  architecture: Architecture
  region?: string
}

/** Steps shared by every command: config, names, architecture and region. */
export function prepare(inputs: ActionInputs, context: RunContext): Prepared {
  const config = loadConfig({ workingDirectory: inputs.workingDirectory, config: inputs.config, workspace: context.workspace })
  const names = resourceNames(config.server.name, resolveStage(inputs, context), resolvePreviewId(inputs, context))
  const region = inputs.awsRegion ?? config.aws.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
  return { config, names, architecture: inputs.architecture ?? config.architecture ?? 'arm64', region }
}

/** `command: synth`: render (or take the repository's CDK project), install, `cdk synth`. */
export async function synthCommand(inputs: ActionInputs, context: RunContext): Promise<SynthResult> {
  const { config, names, architecture, region } = prepare(inputs, context)
  core.info(`Server ${config.server.name}: stack ${names.stackName}, function ${names.functionName} (${names.stage}, ${architecture})`)
  const project = prepareCdkProject({ workingDirectory: inputs.workingDirectory, config, names, architecture, region, commitSha: context.commitSha, runId: context.runId })
  await installCdkDependencies(project.dir)
  const result = await synthesize(project, names.stackName, cdkEnvironment({ config, names, region }))
  logSynthSummary(names.stackName, result)
  core.setOutput('stack-name', names.stackName)
  core.setOutput('template-path', result.templatePath)
  return result
}
