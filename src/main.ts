import { readRunContext, type RunContext } from './context.js'
import { maskSecretsInput } from './aws/secrets.js'
import { ActionError, errorMessage, reportError } from './errors.js'
import { inputsSetByUser, readInputs, type ActionInputs, type InputName } from './inputs.js'
import { maskSecret } from './masking.js'
import { setRequestTimeout } from './net/deadline.js'
import { installProxySupport } from './net/proxy.js'
import { runPipeline, type PipelineOptions } from './pipeline.js'
import { writeNoteSummary } from './report/summary.js'

/** What `run` reads from the runner and where it reports; tests replace any of them. */
export interface RunSeams {
  readInputs: () => ActionInputs
  inputsSetByUser: () => InputName[]
  readRunContext: () => RunContext
  publish?: PipelineOptions['publish']
}

const RUNNER: RunSeams = { readInputs: () => readInputs(), inputsSetByUser, readRunContext: () => readRunContext() }

function maskSecrets(inputs: ActionInputs): void {
  for (const secret of [inputs.smokeTestToken, inputs.pmcpClientSecret, inputs.pmcpAccessToken, inputs.githubToken]) {
    if (secret) maskSecret(secret)
  }
  // Masked on every command and target, not only where a deploy reads it, so any report redacts it.
  maskSecretsInput(inputs.secrets ?? '')
}

/** Reads the inputs and the run, then runs the command in the pipeline; every failure ends as annotations and exit code 1. */
export async function run(seams: RunSeams = RUNNER): Promise<void> {
  // The pipeline publishes its own report, failure included; before it starts there is none yet.
  let pipelineStarted = false
  try {
    installProxySupport()
    const inputs = seams.readInputs()
    setRequestTimeout(inputs.requestTimeoutSeconds)
    maskSecrets(inputs)
    const context = seams.readRunContext()
    const setByUser = seams.inputsSetByUser()
    pipelineStarted = true
    await runPipeline(inputs, context, { setByUser, publish: seams.publish })
  } catch (error) {
    reportError(error)
    process.exitCode = 1
    if (!pipelineStarted) {
      await writeNoteSummary(`❌ ${error instanceof ActionError ? error.title : 'pmcp/deploy-action could not start'}`, errorMessage(error))
    }
  }
}
