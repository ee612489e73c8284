import type { CommandPipeline } from '../pipeline.js'
import type { Plan } from '../plan.js'
import type { Command, Target } from '../types.js'
import { awsLambda } from './aws-lambda/index.js'
import { googleCloudRun } from './google-cloud-run/index.js'
import { pmcpRun } from './pmcp-run/commands.js'

/** What a target is to the pipeline: its commands, each a set of phases built from the plan. */
export interface TargetModule {
  commands: Partial<Record<Command, (plan: Plan) => CommandPipeline>>
  /** Why a command the target lacks makes no sense there, told to the user who asked for it. */
  whyNot?: Partial<Record<Command, string>>
  /** True when the deployment lives in the user's AWS account, so the report links to its console in the plan's region. */
  reportsAwsRegion: boolean
}

/** Every target the action deploys to, by the value of the `target` input and `[target] type`. */
const TARGET_MODULES: Record<Target, TargetModule> = {
  'aws-lambda': awsLambda,
  'pmcp-run': pmcpRun,
  'google-cloud-run': googleCloudRun
}

export function targetModule(target: Target): TargetModule {
  return TARGET_MODULES[target]
}
