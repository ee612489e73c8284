import * as core from '@actions/core'
import { deployCommand } from './commands/deploy.js'
import { destroyCommand } from './commands/destroy.js'
import { pmcpRunDeployCommand, pmcpRunDestroyCommand } from './commands/pmcp-run.js'
import { rollbackCommand } from './commands/rollback.js'
import { synthCommand } from './commands/synth.js'
import { readRunContext, type RunContext } from './context.js'
import { ActionError, reportError } from './errors.js'
import { inputsSetByUser, readInputs, type ActionInputs, type Target } from './inputs.js'
import { resolveTarget } from './targets/pmcp-run/target.js'
import type { Command } from './types.js'

type CommandRun = (inputs: ActionInputs, context: RunContext) => Promise<void>

async function rollbackUnsupported(): Promise<void> {
  throw new ActionError(
    'Rollback is not supported for pmcp-run',
    "command 'rollback' moves a Lambda alias of your own AWS account; pmcp.run deployments have none. Redeploy the earlier commit instead."
  )
}

/** Every command of every target; `synth` is the same for both (the template pmcp.run receives). */
const COMMANDS: Record<Target, Record<Command, CommandRun>> = {
  'aws-lambda': { deploy: deployCommand, synth: synthCommand, rollback: rollbackCommand, destroy: destroyCommand },
  'pmcp-run': { deploy: pmcpRunDeployCommand, synth: synthCommand, rollback: rollbackUnsupported, destroy: pmcpRunDestroyCommand }
}

function maskSecrets(inputs: ActionInputs): void {
  for (const secret of [inputs.smokeTestToken, inputs.pmcpClientSecret, inputs.pmcpAccessToken, inputs.githubToken]) {
    if (secret) core.setSecret(secret)
  }
}

/** Reads the inputs and dispatches to the command of the target; every failure ends as annotations and exit code 1. */
export async function run(): Promise<void> {
  try {
    const inputs = readInputs()
    maskSecrets(inputs)
    const target = resolveTarget(inputs, inputsSetByUser())
    if (target !== 'aws-lambda') core.info(`Target: ${target}`)
    const context = readRunContext()
    await COMMANDS[target][inputs.command]({ ...inputs, target }, context)
  } catch (error) {
    reportError(error)
    process.exitCode = 1
  }
}
