import * as core from '@actions/core'
import { buildServer } from '../../build/server.js'
import { cdkProjectFor } from '../../cdk/project.js'
import { ActionError } from '../../errors.js'
import type { ActionInputs } from '../../inputs.js'
import { checkDestroyAllowed } from '../../lifecycle/destroy.js'
import type { CommandPipeline } from '../../pipeline.js'
import type { Plan } from '../../plan.js'
import { smokeTestDeployment } from '../../smoke/index.js'
import { cargoCacheHit, toolchainFor } from '../../toolchain/index.js'
import type { TargetModule } from '../index.js'
import { serverPackage } from './package.js'
import { pmcpRunSynthCommand, pmcpRunTemplate } from './synth.js'
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

/**
 * The stack outputs of an AWS deploy, as a pmcp.run deployment has them: `McpUrl` drives output `mcp-url`
 * and the smoke test; the OAuth endpoints carry the names the aws-lambda stack gives its own.
 */
export function deploymentOutputs(deployment: PmcpRunDeployment): Record<string, string> {
  const oauth = deployment.oauth ?? {}
  const outputs: Record<string, string | undefined> = {
    McpUrl: deployment.mcpUrl,
    HealthUrl: deployment.healthUrl,
    DeploymentId: deployment.deploymentId,
    ProjectName: deployment.projectName,
    DashboardUrl: DASHBOARD_URL,
    OAuthDiscoveryUrl: oauth.discoveryUrl,
    OAuthRegistrationUrl: oauth.registrationEndpoint,
    OAuthAuthorizationUrl: oauth.authorizationEndpoint,
    OAuthTokenUrl: oauth.tokenEndpoint,
    UserPoolId: oauth.userPoolId
  }
  return Object.fromEntries(Object.entries(outputs).filter((entry): entry is [string, string] => Boolean(entry[1])))
}

/** pmcp.run deploys arm64 (cargo pmcp builds nothing else for it); another architecture is the user's explicit choice. */
function warnAboutArchitecture(plan: Plan): void {
  if (plan.architecture === 'arm64') return
  core.warning(
    `pmcp.run servers run on arm64 (cargo pmcp builds arm64 for it); this deploy builds ${plan.architecture} because 'architecture' ` +
      '(or [lambda] architecture) asks for it, and the template declares the same.'
  )
}

/** The `secrets` input writes to the user's Secrets Manager, which a pmcp.run deploy has no credentials for. */
function rejectAwsOnlySettings(plan: Plan): void {
  if (plan.inputs.secrets?.trim()) {
    throw new ActionError(
      'secrets input not used by pmcp-run',
      "The 'secrets' input writes to AWS Secrets Manager in your account and applies to target aws-lambda only; " +
        "pmcp.run keeps a server's secrets itself. " +
        "Remove 'secrets' from the step (the names in [secrets] of deploy.toml stay as they are), and set the values in pmcp.run."
    )
  }
}

/**
 * `command: deploy` with `target: pmcp-run`, as `cargo pmcp deploy --target pmcp-run`: build and package the
 * server, make the template (synth.ts), hand both to pmcp.run with `[composition]`, configure OAuth.
 */
export function pmcpRunDeployCommand(plan: Plan): CommandPipeline {
  const { config, names, inputs } = plan
  return {
    async run({ phase, facts }) {
      rejectAwsOnlySettings(plan)
      warnAboutArchitecture(plan)
      const toolchain = await phase('toolchain', () => toolchainFor(plan))
      facts.rustcVersion = toolchain.rustcVersion
      facts.cacheHit = cargoCacheHit(toolchain.cargoCache)
      const project = await phase('render', () => cdkProjectFor(plan))
      const build = await phase('build', () => buildServer(plan, project, toolchain))
      const { template } = await phase('synth', () => pmcpRunTemplate(plan, project))
      const session = await phase('credentials', () => connect(inputs))
      const deployment = await phase('deploy', async () =>
        deployToPmcpRun({
          api: session.api,
          projectName: names.functionName,
          template,
          serverPackage: serverPackage(build),
          composition: config.composition,
          oauth: config.auth.enabled
            ? {
                enabled: true,
                dcrEnabled: config.auth.dcr.enabled,
                defaultScopes: config.auth.dcr.defaultScopes,
                publicClientPatterns: config.auth.dcr.publicClientPatterns
              }
            : undefined,
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
  commands: { deploy: pmcpRunDeployCommand, synth: pmcpRunSynthCommand, destroy: pmcpRunDestroyCommand },
  whyNot: {
    rollback:
      "command 'rollback' moves a Lambda alias of your own AWS account; pmcp.run deployments have none. " +
      'Redeploy the earlier commit instead.'
  },
  // pmcp.run owns the AWS account, so the report links to no AWS console.
  reportsAwsRegion: false
}
