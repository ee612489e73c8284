import * as core from '@actions/core'
import { deployCommand } from './commands/deploy.js'
import { destroyCommand } from './commands/destroy.js'
import { rollbackCommand } from './commands/rollback.js'
import { synthCommand } from './commands/synth.js'
import { readRunContext } from './context.js'
import { ActionError, reportError } from './errors.js'
import { inputsSetByUser, readInputs, type ActionInputs, type InputName } from './inputs.js'

/** Inputs declared in action.yml whose feature is not built yet: setting one fails, never silently. */
const NOT_YET_AVAILABLE: readonly InputName[] = ['secrets', 'pmcp-client-id', 'pmcp-client-secret', 'pmcp-access-token']

function maskSecrets(inputs: ActionInputs): void {
  for (const secret of [inputs.smokeTestToken, inputs.pmcpClientSecret, inputs.pmcpAccessToken, inputs.githubToken]) {
    if (secret) core.setSecret(secret)
  }
}

function rejectUnavailable(inputs: ActionInputs): void {
  const unavailable = inputsSetByUser().filter(name => NOT_YET_AVAILABLE.includes(name))
  if (unavailable.length > 0) {
    throw new ActionError(
      'Input not available yet',
      `This version of pmcp/deploy-action does not implement ${unavailable.map(n => `'${n}'`).join(', ')} yet; remove it from the step's 'with:' block.`
    )
  }
  if (inputs.target !== 'aws-lambda') {
    throw new ActionError('Target not available yet', `target '${inputs.target}' is not implemented yet in this version; use target 'aws-lambda'.`)
  }
}

/** Reads the inputs and dispatches to the command; every failure ends as annotations and exit code 1. */
export async function run(): Promise<void> {
  try {
    const inputs = readInputs()
    maskSecrets(inputs)
    rejectUnavailable(inputs)
    const context = readRunContext()
    const commands = { deploy: deployCommand, synth: synthCommand, rollback: rollbackCommand, destroy: destroyCommand }
    await commands[inputs.command](inputs, context)
  } catch (error) {
    reportError(error)
    process.exitCode = 1
  }
}
