import * as core from '@actions/core'
import type { AwsContext } from '../aws/clients.js'
import { recentFunctionLogs } from '../aws/logs.js'
import { checkSecretsDeclared, maskSecretsInput, parseSecretsInput, syncSecrets } from '../aws/secrets.js'
import { deployStack } from '../cdk/deploy.js'
import { cdkEnvironment } from '../cdk/environment.js'
import { versionDescription, type RunContext } from '../context.js'
import { ActionError, errorMessage } from '../errors.js'
import type { ActionInputs } from '../inputs.js'
import { currentAliasVersion, functionNameOf, LIVE_ALIAS, moveAlias, versionTable } from '../lifecycle/rollback.js'
import type { RunReport } from '../report/index.js'
import type { ResourceNames } from '../names.js'
import { smokeTestToken } from '../smoke/token.js'
import type { FunctionLogs, SmokeRun, Stage } from '../types.js'
import { awsSession, buildServer, cdkProjectFor, toolchainFor, failureOf, PhaseClock, prepare, report, reportBase, smokeTest, untrustedRunNotice, type AwsSession } from './common.js'

/** `hotswap: auto` hotswaps previews only; production always goes through CloudFormation. */
export function useHotswap(setting: ActionInputs['hotswap'], stage: Stage): boolean {
  return setting === 'true' || (setting === 'auto' && stage === 'preview')
}

type DeployState = Partial<Pick<RunReport, 'outputs' | 'functionVersion' | 'previousVersion' | 'smoke' | 'deployMethod' | 'versions'>> & { rolledBack?: boolean }

/** Where the function's logs are read from after a failure: set once the deploy phase begins. */
interface LogWindow {
  session: AwsSession
  /** Epoch ms the deploy phase began. */
  since: number
}

/** `command: deploy`: the whole pipeline of DESIGN section 2. */
export async function deployCommand(inputs: ActionInputs, context: RunContext): Promise<void> {
  const skip = untrustedRunNotice(context)
  if (skip) {
    core.notice(skip, { title: 'Deploy skipped' })
    return
  }
  maskSecretsInput(inputs.secrets ?? '')
  const secretValues = parseSecretsInput(inputs.secrets ?? '')
  const prepared = prepare(inputs, context)
  const { config, names, architecture, region } = prepared
  checkSecretsDeclared(secretValues.keys(), config.secrets, config.file)
  const clock = new PhaseClock()
  const base = reportBase('deploy', names, region, context)
  const state: DeployState = {}
  let logWindow: LogWindow | undefined
  try {
    const toolchain = await clock.time('toolchain', () => toolchainFor(inputs, context, architecture))
    const project = await clock.time('render', () => cdkProjectFor(inputs, context, prepared))
    await clock.time('build', () => buildServer(inputs, prepared, project, toolchain))
    const session = await clock.time('credentials', () => awsSession(inputs, region))
    const { aws, accountId } = session
    if (config.secrets.length > 0) {
      await clock.time('secrets', () => syncSecrets({ serverName: config.server.name, declared: config.secrets, values: secretValues, configFile: config.file, aws }))
    }
    logWindow = { session, since: Date.now() }
    const outputs = await clock.time('deploy', async () => {
      state.previousVersion = await currentAliasVersion(names.functionName, aws)
      const result = await deployStack({
        ...aws,
        cdkDir: project.dir,
        stackName: names.stackName,
        account: accountId,
        env: cdkEnvironment({ config, names, region: aws.region, account: accountId, versionDescription: versionDescription(context) }),
        cdkArgs: inputs.cdkArgs,
        hotswap: useHotswap(inputs.hotswap, names.stage),
        cdkBootstrap: inputs.cdkBootstrap
      })
      state.outputs = result.outputs
      state.deployMethod = result.deployMethod === 'hotswap' ? 'hotswap' : 'cloudformation'
      state.functionVersion = await currentAliasVersion(functionNameOf(result.outputs, names), aws)
      core.info(`Deployed ${names.stackName}: ${result.deployMethod === 'hotswap' ? 'hotswap' : 'full CloudFormation deploy'}`)
      return result.outputs
    })
    let token: string | undefined
    const runSmoke = (): Promise<SmokeRun> => smokeTest(inputs, outputs, toolchain.mcpTesterPath, token)
    state.smoke = await clock.time('smoke test', async () => {
      if (inputs.smokeTest !== 'none') token = await smokeTestToken({ given: inputs.smokeTestToken, outputs, aws })
      return runSmoke()
    })
    if (state.smoke.outcome === 'failed') {
      const afterRollback = await rollbackOnFailure(inputs, clock, functionNameOf(outputs, names), state, runSmoke, aws)
      throw new ActionError('Smoke test failed', smokeFailureMessage(state, afterRollback))
    }
    await report(inputs, context, { ...base, ...state, status: 'deployed', phases: clock.timings })
  } catch (error) {
    // A stack that deployed but failed its smoke test is live (or rolled back), not "failed to deploy".
    const status = state.rolledBack ? 'rolled back' : state.smoke?.outcome === 'failed' ? 'deployed' : 'failed'
    const functionLogs = logWindow && (await functionLogsAfterFailure(logWindow, state, names, [...secretValues.values()]))
    await report(inputs, context, { ...base, ...state, status, phases: clock.timings, failure: failureOf(error, clock), functionLogs })
    throw error
  }
}

/**
 * A failed smoke test with `rollback-on-failure`: alias `live` goes back to the version it pointed
 * at before this deploy, and that version is smoke-tested in turn. Returns that second run.
 */
async function rollbackOnFailure(
  inputs: ActionInputs,
  clock: PhaseClock,
  functionName: string,
  state: DeployState,
  runSmoke: () => Promise<SmokeRun>,
  aws: AwsContext
): Promise<SmokeRun | undefined> {
  const previous = state.previousVersion
  if (!inputs.rollbackOnFailure) return undefined
  if (previous === undefined || previous === state.functionVersion) {
    core.warning(`Smoke test failed and there is no earlier version of ${functionName} to move alias ${LIVE_ALIAS} back to (first deploy).`)
    return undefined
  }
  return clock.time('rollback', async () => {
    await moveAlias(functionName, previous, aws)
    state.rolledBack = true
    state.versions = await versionTable(functionName, aws, { current: previous, previous: state.functionVersion })
    core.warning(`Smoke test of version ${state.functionVersion} failed: alias ${LIVE_ALIAS} of ${functionName} moved back to version ${previous}`)
    try {
      return await runSmoke()
    } catch (error) {
      core.warning(`Smoke test of version ${previous} after the rollback could not run: ${errorMessage(error)}`)
      return undefined
    }
  })
}

/** After a failure once the deploy began: what the function logged since, with secret values redacted. */
async function functionLogsAfterFailure(window: LogWindow, state: DeployState, names: ResourceNames, secrets: string[]): Promise<FunctionLogs | undefined> {
  return recentFunctionLogs({
    logGroupName: state.outputs?.LogGroupName ?? `/aws/lambda/${state.outputs?.FunctionName ?? names.functionName}`,
    since: window.since,
    redact: secrets,
    aws: window.session.aws
  })
}

function smokeFailureMessage(state: DeployState, afterRollback: SmokeRun | undefined): string {
  const failed = state.smoke?.report.tests.filter(test => test.status === 'Failed') ?? []
  const lines = [`The smoke test of version ${state.functionVersion ?? '?'} failed: ${failed.map(t => `${t.name}${t.error ? ` (${t.error})` : ''}`).join('; ')}.`]
  if (state.rolledBack) {
    const verdict = afterRollback ? `its smoke test ${afterRollback.outcome}` : 'its smoke test could not run'
    lines.push(`Alias ${LIVE_ALIAS} was moved back to version ${state.previousVersion}; ${verdict}.`)
  } else {
    lines.push(`Alias ${LIVE_ALIAS} still points at version ${state.functionVersion ?? '?'}.`)
  }
  return lines.join(' ')
}
