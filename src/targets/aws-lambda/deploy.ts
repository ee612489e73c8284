import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { AwsContext } from '../../aws/clients.js'
import { currentAliasVersion, LIVE_ALIAS, moveAlias } from '../../aws/lambda.js'
import { recentFunctionLogs } from '../../aws/logs.js'
import { checkSecretsDeclared, parseSecretsInput, syncSecrets } from '../../aws/secrets.js'
import { awsSession, type AwsSession } from '../../aws/session.js'
import { buildServer } from '../../build/server.js'
import { deployStack } from '../../cdk/deploy.js'
import { destructiveChangesError, diffUnavailable, logInfraDiff, productionDiff } from '../../cdk/diff.js'
import { cdkEnvironment } from '../../cdk/environment.js'
import { withMcpUrl } from '../../cdk/mcp-endpoint.js'
import { cdkProjectFor } from '../../cdk/project.js'
import { CDK_OUT, findTemplate, previewRenaming, synthesize } from '../../cdk/synth.js'
import { ActionError, errorMessage } from '../../errors.js'
import type { ActionInputs } from '../../inputs.js'
import { functionNameOf, versionTable } from '../../lifecycle/rollback.js'
import { versionDescription } from '../../lifecycle/version-description.js'
import type { CommandPipeline, Phase, ReportFacts } from '../../pipeline.js'
import { resourceNames } from '../../names.js'
import type { Plan } from '../../plan.js'
import { smokeTestDeployment } from '../../smoke/index.js'
import { smokeTestToken } from '../../smoke/token.js'
import { cargoCacheHit, toolchainFor } from '../../toolchain/index.js'
import type { SmokeRun, Stage } from '../../types.js'

/** `hotswap: auto` hotswaps previews only; production always goes through CloudFormation. */
export function useHotswap(setting: ActionInputs['hotswap'], stage: Stage): boolean {
  return setting === 'true' || (setting === 'auto' && stage === 'preview')
}

/** Where the function's logs are read from after a failure: set once the deploy phase begins. */
interface LogWindow {
  session: AwsSession
  /** Epoch ms the deploy phase began. */
  since: number
}

/**
 * `command: deploy`: toolchain, render, build, credentials, secrets, `cdk deploy`, smoke test, and
 * on a failed smoke test the alias moved back to the version before.
 */
export function deployCommand(plan: Plan): CommandPipeline {
  const { config, names, inputs, context } = plan
  let secretValues = new Map<string, string>()
  let logWindow: LogWindow | undefined
  let rolledBack = false
  return {
    async run({ phase, facts }) {
      secretValues = parseSecretsInput(inputs.secrets ?? '')
      checkSecretsDeclared(secretValues.keys(), config.secrets, config.file)
      const toolchain = await phase('toolchain', () => toolchainFor(plan))
      facts.rustcVersion = toolchain.rustcVersion
      facts.cacheHit = cargoCacheHit(toolchain.cargoCache)
      const project = await phase('render', () => cdkProjectFor(plan))
      await phase('build', () => buildServer(plan, project, toolchain))
      const session = await phase('credentials', () => awsSession(plan))
      const { aws, accountId } = session
      facts.awsAccountId = accountId
      if (config.secrets.length > 0) {
        await phase('secrets', () =>
          syncSecrets({ serverName: config.server.name, declared: config.secrets, values: secretValues, configFile: config.file, aws })
        )
      }
      logWindow = { session, since: Date.now() }
      const outputs = await phase('deploy', async () => {
        facts.previousVersion = await currentAliasVersion(names.functionName, aws)
        const env = cdkEnvironment({
          config,
          names,
          region: aws.region,
          account: accountId,
          versionDescription: versionDescription(context)
        })
        // A preview of a project of the user's own that names its stack itself is made from production's synthesis.
        const renaming = project.rendered ? undefined : previewRenaming(names, config.server.name)
        const preview = renaming ? (await synthesize(project, names.stackName, env, { renaming })).preview : undefined
        if (names.stage === 'preview') {
          facts.infraDiff = await previewInfraDiff({ plan, project, accountId, aws, synthesized: preview !== undefined })
          logInfraDiff(facts.infraDiff)
          // Stricter and simpler than failing afterwards: a change that would destroy production's data is not even previewed.
          const destructive = inputs.failOnDestructiveChanges ? destructiveChangesError(facts.infraDiff) : undefined
          if (destructive) throw destructive
        }
        const result = await deployStack({
          ...aws,
          cdkDir: project.dir,
          stackName: names.stackName,
          account: accountId,
          env,
          app: preview?.assemblyDir,
          cdkArgs: inputs.cdkArgs,
          hotswap: useHotswap(inputs.hotswap, names.stage),
          cdkBootstrap: inputs.cdkBootstrap
        })
        facts.outputs = withMcpUrl(result.outputs, config.server.mcpPath)
        facts.deployMethod = result.deployMethod === 'hotswap' ? 'hotswap' : 'cloudformation'
        facts.functionVersion = await currentAliasVersion(functionNameOf(result.outputs, names), aws)
        core.info(`Deployed ${names.stackName}: ${result.deployMethod === 'hotswap' ? 'hotswap' : 'full CloudFormation deploy'}`)
        return facts.outputs
      })
      let token: string | undefined
      const runSmoke = (): Promise<SmokeRun> => smokeTestDeployment(inputs, outputs, toolchain.mcpTesterPath, token)
      facts.smoke = await phase('smoke test', async () => {
        if (inputs.smokeTest !== 'none') token = await smokeTestToken({ given: inputs.smokeTestToken, outputs, aws })
        return runSmoke()
      })
      if (facts.smoke.outcome === 'failed') {
        const onMoved = (): void => {
          rolledBack = true
        }
        const afterRollback = inputs.rollbackOnFailure
          ? await rollbackOnFailure(functionNameOf(outputs, names), facts, { runSmoke, onMoved, aws, phase })
          : undefined
        throw new ActionError('Smoke test failed', smokeFailureMessage(facts, afterRollback, rolledBack))
      }
      return 'deployed'
    },
    // A stack that deployed but failed its smoke test is live (or rolled back), not "failed to deploy".
    statusAfterFailure: facts => (rolledBack ? 'rolled back' : facts.smoke?.outcome === 'failed' ? 'deployed' : 'failed'),
    async explainFailure(facts) {
      if (!logWindow) return
      facts.functionLogs = await recentFunctionLogs({
        logGroupName: facts.outputs.LogGroupName ?? `/aws/lambda/${facts.outputs.FunctionName ?? names.functionName}`,
        since: logWindow.since,
        aws: logWindow.session.aws
      })
    }
  }
}

interface InfraDiffSteps {
  plan: Plan
  project: Awaited<ReturnType<typeof cdkProjectFor>>
  accountId: string
  aws: AwsContext
  /** The app names its stack itself and was synthesized already: production's template is in cdk.out. */
  synthesized: boolean
}

/**
 * The preview's infrastructure diff: production's deployed template (GetTemplate on `<name>-stack`)
 * against the template this change would deploy to production. That template is production's own
 * synthesis, never the preview's with names mapped back: for an app that names its stack itself it
 * is already in cdk.out; a rendered project is synthesized once more with production's names and
 * settings (one `cdk synth`, no AWS). Never throws: a diff that cannot be made is a line in the report.
 */
async function previewInfraDiff(steps: InfraDiffSteps): ReturnType<typeof productionDiff> {
  const { plan, project, accountId, aws } = steps
  const { config, context } = plan
  const production = resourceNames(config.server.name, 'production')
  let templatePath: string | undefined
  try {
    if (steps.synthesized) {
      templatePath = findTemplate(path.join(project.dir, CDK_OUT), production.stackName)
    } else {
      const productionEnv = cdkEnvironment({
        config,
        names: production,
        region: aws.region,
        account: accountId,
        versionDescription: versionDescription(context)
      })
      templatePath = (await synthesize(project, production.stackName, productionEnv)).templatePath
    }
  } catch (error) {
    core.warning(`No infrastructure diff: production's stack ${production.stackName} could not be synthesized: ${errorMessage(error)}`)
    return diffUnavailable(production.stackName, `production's stack could not be synthesized: ${errorMessage(error)}`)
  }
  if (!templatePath) return diffUnavailable(production.stackName, `the CDK app does not define production's stack ${production.stackName}`)
  const template = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as Record<string, unknown>
  return productionDiff(production.stackName, template, aws)
}

interface RollbackOnFailureSteps {
  runSmoke: () => Promise<SmokeRun>
  /** Called once the alias has moved back, whatever happens after. */
  onMoved: () => void
  aws: AwsContext
  phase: <T>(name: Phase, work: () => Promise<T>) => Promise<T>
}

/**
 * A failed smoke test with `rollback-on-failure`: alias `live` goes back to the version it pointed
 * at before this deploy, and that version is smoke-tested in turn. Returns that second run
 * (undefined when there was no version to go back to, or the run could not happen).
 */
async function rollbackOnFailure(functionName: string, facts: ReportFacts, steps: RollbackOnFailureSteps): Promise<SmokeRun | undefined> {
  const { runSmoke, onMoved, aws, phase } = steps
  const previous = facts.previousVersion
  if (previous === undefined || previous === facts.functionVersion) {
    core.warning(`Smoke test failed and there is no earlier version of ${functionName} to move alias ${LIVE_ALIAS} back to (first deploy).`)
    return undefined
  }
  return phase('rollback', async () => {
    await moveAlias(functionName, previous, aws)
    onMoved()
    facts.versions = await versionTable(functionName, aws, { current: previous, previous: facts.functionVersion })
    core.warning(
      `Smoke test of version ${facts.functionVersion} failed: alias ${LIVE_ALIAS} of ${functionName} moved back to version ${previous}`
    )
    try {
      return await runSmoke()
    } catch (error) {
      core.warning(`Smoke test of version ${previous} after the rollback could not run: ${errorMessage(error)}`)
      return undefined
    }
  })
}

function smokeFailureMessage(facts: ReportFacts, afterRollback: SmokeRun | undefined, rolledBack: boolean): string {
  const failed = facts.smoke?.report.tests.filter(test => test.status === 'Failed') ?? []
  const lines = [
    `The smoke test of version ${facts.functionVersion ?? '?'} failed: ` +
      `${failed.map(t => `${t.name}${t.error ? ` (${t.error})` : ''}`).join('; ')}.`
  ]
  if (rolledBack) {
    const verdict = afterRollback ? `its smoke test ${afterRollback.outcome}` : 'its smoke test could not run'
    lines.push(`Alias ${LIVE_ALIAS} was moved back to version ${facts.previousVersion}; ${verdict}.`)
  } else {
    lines.push(`Alias ${LIVE_ALIAS} still points at version ${facts.functionVersion ?? '?'}.`)
  }
  return lines.join(' ')
}
