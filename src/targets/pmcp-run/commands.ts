import * as core from '@actions/core'
import { buildServer } from '../../build/server.js'
import { cdkEnvironment } from '../../cdk/environment.js'
import { cdkProjectFor } from '../../cdk/project.js'
import { logSynthSummary, synthesize } from '../../cdk/synth.js'
import { ActionError } from '../../errors.js'
import type { ActionInputs } from '../../inputs.js'
import { checkDestroyAllowed } from '../../lifecycle/destroy.js'
import type { CommandPipeline } from '../../pipeline.js'
import type { Plan } from '../../plan.js'
import { smokeTestDeployment } from '../../smoke/index.js'
import { toolchainFor } from '../../toolchain/index.js'
import type { TargetModule } from '../index.js'
import { synthCommand } from '../cdk-synth.js'
import {
  connectPmcpRun,
  DASHBOARD_URL,
  deployToPmcpRun,
  destroyPmcpRunDeployment,
  serverVersion,
  type PmcpRunDeployment,
  type PmcpRunSession
} from './index.js'

function connect(inputs: ActionInputs): Promise<PmcpRunSession> {
  return connectPmcpRun({ clientId: inputs.pmcpClientId, clientSecret: inputs.pmcpClientSecret, accessToken: inputs.pmcpAccessToken })
}

/** The stack outputs of an AWS deploy, as a pmcp.run deployment has them: `McpUrl` drives output `mcp-url` and the smoke test. */
export function deploymentOutputs(deployment: PmcpRunDeployment): Record<string, string> {
  return {
    McpUrl: deployment.mcpUrl,
    DeploymentId: deployment.deploymentId,
    ProjectName: deployment.projectName,
    DashboardUrl: DASHBOARD_URL
  }
}

/** pmcp.run deploys arm64 (cargo pmcp builds nothing else for it); another architecture is the user's explicit choice. */
function warnAboutArchitecture(plan: Plan): void {
  if (plan.architecture === 'arm64') return
  core.warning(
    `pmcp.run servers run on arm64 (cargo pmcp builds arm64 for it); this deploy builds ${plan.architecture} because 'architecture' ` +
      '(or [lambda] architecture) asks for it, and the template declares the same.'
  )
}

/**
 * What only an AWS deploy applies: the `secrets` input writes to the user's Secrets Manager, which a
 * pmcp.run deploy has no credentials for; `[auth]` builds a Cognito pool in the user's account.
 */
function rejectAwsOnlySettings(plan: Plan): void {
  if (plan.inputs.secrets?.trim()) {
    throw new ActionError(
      'secrets input not used by pmcp-run',
      "The 'secrets' input writes to AWS Secrets Manager in your account and applies to target aws-lambda only; " +
        "pmcp.run keeps a server's secrets itself. " +
        "Remove 'secrets' from the step (the names in [secrets] of deploy.toml stay as they are), and set the values in pmcp.run."
    )
  }
  if (plan.config.auth.enabled) {
    core.warning(
      `[auth] of ${plan.config.file} creates a Cognito user pool for target aws-lambda only; ` +
        'pmcp.run puts its own authentication in front of the server, so nothing of [auth] is deployed.',
      { title: '[auth] not applied on pmcp.run', file: plan.config.file }
    )
  }
}

/** `command: deploy` with `target: pmcp-run`: build, synthesize the pmcp.run stack (templates/pmcp-run), then hand both to pmcp.run. */
export function pmcpRunDeployCommand(plan: Plan): CommandPipeline {
  const { config, names, inputs } = plan
  return {
    async run({ phase, facts }) {
      rejectAwsOnlySettings(plan)
      warnAboutArchitecture(plan)
      const toolchain = await phase('toolchain', () => toolchainFor(plan))
      facts.rustcVersion = toolchain.rustcVersion
      const project = await phase('render', () => cdkProjectFor(plan))
      const build = await phase('build', () => buildServer(plan, project, toolchain))
      const synth = await phase('synth', () => synthesize(project, names.stackName, cdkEnvironment({ config, names })))
      logSynthSummary(names.stackName, synth)
      const session = await phase('credentials', () => connect(inputs))
      const deployment = await phase('deploy', async () =>
        deployToPmcpRun({
          api: session.api,
          projectName: names.functionName,
          templatePath: synth.templatePath,
          bootstrapPath: build.bootstrapPath,
          memoryMb: config.server.memoryMb,
          timeoutSeconds: config.server.timeoutSeconds,
          serverVersion: await serverVersion(inputs.workingDirectory),
          mcpBaseUrl: session.endpoints.mcpBaseUrl,
          onCreated: deploymentId => {
            facts.outputs = { ...facts.outputs, DeploymentId: deploymentId }
          }
        })
      )
      facts.outputs = deploymentOutputs(deployment)
      core.info(`Deployed ${names.functionName} to pmcp.run: ${deployment.mcpUrl}`)
      facts.smoke = await phase('smoke test', () => smokeTestDeployment(inputs, facts.outputs, toolchain.mcpTesterPath))
      if (facts.smoke.outcome === 'failed') {
        const failed = facts.smoke.report.tests.filter(test => test.status === 'Failed')
        throw new ActionError(
          'Smoke test failed',
          `The smoke test of pmcp.run deployment ${deployment.deploymentId} failed: ` +
            `${failed.map(t => `${t.name}${t.error ? ` (${t.error})` : ''}`).join('; ')}. ` +
            'The deployment stays live (pmcp.run has no rollback through this action).'
        )
      }
      return 'deployed'
    },
    // A deployment that is live but failed its smoke test is "deployed", not "failed to deploy".
    statusAfterFailure: facts => (facts.smoke?.outcome === 'failed' ? 'deployed' : 'failed')
  }
}

/** `command: destroy` with `target: pmcp-run`: the project's deployment, found by name (a production one only with `confirm-destroy`). */
export function pmcpRunDestroyCommand(plan: Plan): CommandPipeline {
  const { names, inputs } = plan
  return {
    async run({ phase }) {
      checkDestroyAllowed({ stackName: names.stackName, stage: names.stage, confirmDestroy: inputs.confirmDestroy })
      const session = await phase('credentials', () => connect(inputs))
      const result = await phase('destroy', () => destroyPmcpRunDeployment({ api: session.api, projectName: names.functionName }))
      return result.status
    }
  }
}

/** pmcp.run managed hosting: deploy, synth (the template pmcp.run receives) and destroy. */
export const pmcpRun: TargetModule = {
  commands: { deploy: pmcpRunDeployCommand, synth: synthCommand, destroy: pmcpRunDestroyCommand },
  whyNot: {
    rollback:
      "command 'rollback' moves a Lambda alias of your own AWS account; pmcp.run deployments have none. " +
      'Redeploy the earlier commit instead.'
  },
  // pmcp.run owns the AWS account, so the report links to no AWS console.
  reportsAwsRegion: false
}
