import * as core from '@actions/core'
import { cdkEnvironment } from '../cdk/environment.js'
import { logSynthSummary, synthesize } from '../cdk/synth.js'
import type { RunContext } from '../context.js'
import { ActionError } from '../errors.js'
import type { ActionInputs } from '../inputs.js'
import { checkDestroyAllowed } from '../lifecycle/destroy.js'
import { connectPmcpRun, DASHBOARD_URL, deployToPmcpRun, destroyPmcpRunDeployment, serverVersion, type PmcpRunDeployment, type PmcpRunSession } from '../targets/pmcp-run/index.js'
import type { RunReport } from '../report/index.js'
import { buildServer, cdkProjectFor, toolchainFor, failureOf, PhaseClock, prepare, report, reportBase, smokeTest, untrustedRunNotice, type Prepared } from './common.js'

function connect(inputs: ActionInputs): Promise<PmcpRunSession> {
  return connectPmcpRun({ clientId: inputs.pmcpClientId, clientSecret: inputs.pmcpClientSecret, accessToken: inputs.pmcpAccessToken })
}

/** The stack outputs of an AWS deploy, as a pmcp.run deployment has them: `McpUrl` drives output `mcp-url` and the smoke test. */
export function deploymentOutputs(deployment: PmcpRunDeployment): Record<string, string> {
  return { McpUrl: deployment.mcpUrl, DeploymentId: deployment.deploymentId, ProjectName: deployment.projectName, DashboardUrl: DASHBOARD_URL }
}

/** pmcp.run deploys arm64 (cargo pmcp builds nothing else for it); another architecture is the user's explicit choice. */
function warnAboutArchitecture(prepared: Prepared): void {
  if (prepared.architecture === 'arm64') return
  core.warning(
    `pmcp.run servers run on arm64 (cargo pmcp builds arm64 for it); this deploy builds ${prepared.architecture} because 'architecture' ` +
      '(or [lambda] architecture) asks for it, and the template declares the same.'
  )
}

/**
 * What only an AWS deploy applies: the `secrets` input writes to the user's Secrets Manager, which a
 * pmcp.run deploy has no credentials for; `[auth]` builds a Cognito pool in the user's account.
 */
function rejectAwsOnlySettings(inputs: ActionInputs, prepared: Prepared): void {
  if (inputs.secrets?.trim()) {
    throw new ActionError(
      'secrets input not used by pmcp-run',
      "The 'secrets' input writes to AWS Secrets Manager in your account and applies to target aws-lambda only; pmcp.run keeps a server's secrets itself. " +
        "Remove 'secrets' from the step (the names in [secrets] of deploy.toml stay as they are), and set the values in pmcp.run."
    )
  }
  if (prepared.config.auth.enabled) {
    core.warning(
      `[auth] of ${prepared.config.file} creates a Cognito user pool for target aws-lambda only; pmcp.run puts its own authentication in front of the server, so nothing of [auth] is deployed.`,
      { title: '[auth] not applied on pmcp.run', file: prepared.config.file }
    )
  }
}

/** `command: deploy` with `target: pmcp-run`: build, synthesize the pmcp.run stack (templates/pmcp-run), then hand both to pmcp.run. */
export async function pmcpRunDeployCommand(inputs: ActionInputs, context: RunContext): Promise<void> {
  const skip = untrustedRunNotice(context)
  if (skip) {
    core.notice(skip, { title: 'Deploy skipped' })
    return
  }
  const prepared = prepare(inputs, context)
  const { config, names, architecture } = prepared
  rejectAwsOnlySettings(inputs, prepared)
  warnAboutArchitecture(prepared)
  const clock = new PhaseClock()
  // No region: pmcp.run owns the AWS account, so the report links to no AWS console.
  const base = reportBase('deploy', names, undefined, context)
  const state: Partial<Pick<RunReport, 'outputs' | 'smoke'>> = {}
  try {
    const toolchain = await clock.time('toolchain', () => toolchainFor(inputs, context, architecture))
    const project = await clock.time('render', () => cdkProjectFor(inputs, context, prepared, 'pmcp-run'))
    const build = await clock.time('build', () => buildServer(inputs, prepared, project, toolchain))
    const synth = await clock.time('synth', () => synthesize(project, names.stackName, cdkEnvironment({ config, names })))
    logSynthSummary(names.stackName, synth)
    const session = await clock.time('credentials', () => connect(inputs))
    const deployment = await clock.time('deploy', async () =>
      deployToPmcpRun({
        api: session.api,
        projectName: names.functionName,
        templatePath: synth.templatePath,
        bootstrapPath: build.bootstrapPath,
        memoryMb: config.server.memoryMb,
        timeoutSeconds: config.server.timeoutSeconds,
        serverVersion: await serverVersion(inputs.workingDirectory),
        mcpBaseUrl: session.endpoints.mcpBaseUrl
      })
    )
    state.outputs = deploymentOutputs(deployment)
    core.info(`Deployed ${names.functionName} to pmcp.run: ${deployment.mcpUrl}`)
    state.smoke = await clock.time('smoke test', () => smokeTest(inputs, state.outputs ?? {}, toolchain.mcpTesterPath))
    if (state.smoke.outcome === 'failed') {
      const failed = state.smoke.report.tests.filter(test => test.status === 'Failed')
      throw new ActionError(
        'Smoke test failed',
        `The smoke test of pmcp.run deployment ${deployment.deploymentId} failed: ${failed.map(t => `${t.name}${t.error ? ` (${t.error})` : ''}`).join('; ')}. ` +
          'The deployment stays live (pmcp.run has no rollback through this action).'
      )
    }
    await report(inputs, context, { ...base, ...state, status: 'deployed', phases: clock.timings })
  } catch (error) {
    // A deployment that is live but failed its smoke test is "deployed", not "failed to deploy".
    const status = state.smoke?.outcome === 'failed' ? 'deployed' : 'failed'
    await report(inputs, context, { ...base, ...state, status, phases: clock.timings, failure: failureOf(error, clock) })
    throw error
  }
}

/** `command: destroy` with `target: pmcp-run`: the project's deployment, found by name (a production one only with `confirm-destroy`). */
export async function pmcpRunDestroyCommand(inputs: ActionInputs, context: RunContext): Promise<void> {
  const skip = untrustedRunNotice(context)
  if (skip) {
    core.notice(skip, { title: 'Destroy skipped' })
    return
  }
  const { names } = prepare(inputs, context)
  checkDestroyAllowed({ stackName: names.stackName, stage: names.stage, confirmDestroy: inputs.confirmDestroy })
  const clock = new PhaseClock()
  const base = reportBase('destroy', names, undefined, context)
  try {
    const session = await clock.time('credentials', () => connect(inputs))
    const result = await clock.time('destroy', () => destroyPmcpRunDeployment({ api: session.api, projectName: names.functionName }))
    await report(inputs, context, { ...base, status: result.status, phases: clock.timings })
  } catch (error) {
    await report(inputs, context, { ...base, status: 'failed', phases: clock.timings, failure: failureOf(error, clock) })
    throw error
  }
}
