import * as core from '@actions/core'
import { buildServer } from '../../build/server.js'
import { cdkProjectFor } from '../../cdk/project.js'
import { ActionError } from '../../errors.js'
import type { ActionInputs } from '../../inputs.js'
import {
  cleanupPreviews,
  cleanupSummaryLine,
  githubPullRequestReader,
  previewPrNumber,
  type CleanupRow,
  type PullRequestReader
} from '../../lifecycle/cleanup.js'
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
  credentialKind,
  DASHBOARD_URL,
  deployToPmcpRun,
  destroyPmcpRunDeployment,
  serverVersion,
  type PmcpRunCredentials,
  type PmcpRunDeployment,
  type PmcpRunDestroyOptions,
  type PmcpRunSession
} from './index.js'

function credentialsOf(inputs: ActionInputs): PmcpRunCredentials {
  return { clientId: inputs.pmcpClientId, clientSecret: inputs.pmcpClientSecret, accessToken: inputs.pmcpAccessToken }
}

function connect(inputs: ActionInputs): Promise<PmcpRunSession> {
  return connectPmcpRun(credentialsOf(inputs))
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
      // Missing or half-given credentials are known now: refuse them before anything is built.
      credentialKind(credentialsOf(inputs))
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

export interface PmcpRunCleanupOptions {
  api: PmcpRunSession['api']
  serverName: string
  readPullRequest: PullRequestReader
  maxAgeDays?: number
  /** Passed to each destroy (tests make the polling fast). */
  destroy?: Omit<PmcpRunDestroyOptions, 'api' | 'projectName'>
}

/**
 * The server's pmcp.run previews (projects `<name>-pr<N>`, from `listDeployments`) whose pull request is
 * closed or merged, destroyed. pmcp.run's list gives no creation time, so `max-preview-age` does not apply here.
 */
export async function cleanupPmcpRunPreviews(options: PmcpRunCleanupOptions): Promise<CleanupRow[]> {
  const deployments = await options.api.listDeployments()
  const names = [...new Set(deployments.map(item => item.projectName))]
  const candidates = names.flatMap(name => {
    const prNumber = previewPrNumber(options.serverName, name)
    // Only this account's deployments are listed, all made through pmcp.run: every match is ours.
    return prNumber === undefined ? [] : [{ name, prNumber, ours: true }]
  })
  core.info(`Found ${candidates.length} pmcp.run preview(s) of ${options.serverName}`)
  if (options.maxAgeDays !== undefined && candidates.length > 0) {
    core.info('max-preview-age does not apply to pmcp.run previews: pmcp.run does not say when a deployment was created.')
  }
  return cleanupPreviews({
    candidates,
    readPullRequest: options.readPullRequest,
    destroy: async projectName => (await destroyPmcpRunDeployment({ ...options.destroy, api: options.api, projectName })).status
  })
}

/** `command: cleanup` with `target: pmcp-run`: previews whose pull request is closed or merged are destroyed. */
export function pmcpRunCleanupCommand(plan: Plan): CommandPipeline {
  const { config, inputs, context } = plan
  return {
    async run({ phase, facts }) {
      const session = await phase('credentials', () => connect(inputs))
      const rows = await phase('destroy', () =>
        cleanupPmcpRunPreviews({
          api: session.api,
          serverName: config.server.name,
          readPullRequest: githubPullRequestReader({ token: inputs.githubToken, repository: context.repository }),
          maxAgeDays: inputs.maxPreviewAgeDays
        })
      )
      facts.cleanup = rows
      core.info(`Cleanup of ${config.server.name} on pmcp.run: ${cleanupSummaryLine(rows)}`)
      const failed = rows.filter(row => row.action === 'failed')
      if (failed.length > 0) {
        throw new ActionError('Cleanup could not remove every preview', failed.map(row => `${row.name}: ${row.reason}`).join('\n'))
      }
      return 'cleaned'
    }
  }
}

/** pmcp.run managed hosting: deploy, synth (the template pmcp.run receives), destroy and cleanup. */
export const pmcpRun: TargetModule = {
  commands: { deploy: pmcpRunDeployCommand, synth: pmcpRunSynthCommand, destroy: pmcpRunDestroyCommand, cleanup: pmcpRunCleanupCommand },
  whyNot: {
    rollback:
      "command 'rollback' moves a Lambda alias of your own AWS account; pmcp.run deployments have none. " +
      'Redeploy the earlier commit instead.'
  },
  // pmcp.run owns the AWS account, so the report links to no AWS console.
  reportsAwsRegion: false
}
