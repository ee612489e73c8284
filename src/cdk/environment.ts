import * as core from '@actions/core'
import { secretArnVariable, secretId, type DeployConfig } from '../config/index.js'
import type { ResourceNames } from '../names.js'

export interface CdkEnvironmentOptions {
  config: DeployConfig
  names: ResourceNames
  region?: string
  account?: string
  /** `<commit> run <run id>`: for a CDK project of the user's own to put on the version it publishes. */
  versionDescription?: string
}

/**
 * `[environment]` keys the CDK process keeps its own value of: what runs the CLI and the app (PATH, HOME,
 * Node, npm), the credentials and settings of the AWS SDK and CDK, the runner's, and the action's own.
 */
const PROCESS_VARIABLE =
  /^(PATH|HOME|PWD|SHELL|USER|TMPDIR|TMP|TEMP|CI|SERVER_NAME|(NODE|NPM|npm|CDK|JSII|AWS|PMCP|GITHUB|RUNNER|ACTIONS)_.*)$/

/** One `[secrets]` entry as a CDK app of the user's own sees it: never its value. */
export interface SecretReference {
  name: string
  /** The Secrets Manager secret the action writes (`<server>/<name>`). */
  secretId: string
  /** The function variable that carries its ARN in the action's stack. */
  arnVariable: string
  /** The secret's partial ARN, when region and account are known (deploy). */
  arn?: string
}

/**
 * `[environment]` and `[secrets]` as `cargo pmcp deploy` hands them to a CDK project of the user's own:
 * each `[environment]` key as a variable of the `cdk` process, which the stack reads with
 * `process.env.<KEY>` (cargo-pmcp: DeployExecutor::cdk_command, DeployConfig::deploy_env_vars). Secrets
 * go by name only: PMCP_SECRETS lists them, and each one's ARN variable holds the secret's ARN once
 * the account is known; the secret's value never reaches the CDK app or the template.
 */
export function deployTomlEnvironment(options: Pick<CdkEnvironmentOptions, 'config' | 'region' | 'account'>): Record<string, string> {
  const { config, region, account } = options
  const env: Record<string, string> = {}
  const kept: string[] = []
  for (const [key, value] of Object.entries(config.environment)) {
    if (PROCESS_VARIABLE.test(key)) kept.push(key)
    else env[key] = value
  }
  if (kept.length > 0) {
    core.info(
      `[environment] ${kept.join(', ')}: not set on the cdk process (the CLI and the app need their own value); ` +
        'a stack of your own finds them in PMCP_CONFIG_JSON (.environment)'
    )
  }
  const secrets: SecretReference[] = config.secrets.map(name => {
    const id = secretId(config.server.name, name)
    const partition = region?.startsWith('cn-') ? 'aws-cn' : region?.startsWith('us-gov-') ? 'aws-us-gov' : 'aws'
    const arn = region && account ? `arn:${partition}:secretsmanager:${region}:${account}:secret:${id}` : undefined
    return { name, secretId: id, arnVariable: secretArnVariable(name), ...(arn ? { arn } : {}) }
  })
  env.PMCP_SECRETS = JSON.stringify(secrets)
  for (const secret of secrets) if (secret.arn) env[secret.arnVariable] = secret.arn
  return env
}

/**
 * The environment every CDK app the action runs receives, rendered or the user's own: a user's stack
 * reads its names and settings from it, and deploy.toml's `[environment]` as cargo pmcp gives it.
 */
export function cdkEnvironment(options: CdkEnvironmentOptions): Record<string, string> {
  const { config, names } = options
  const env: Record<string, string> = {
    ...deployTomlEnvironment(options),
    PMCP_STACK_NAME: names.stackName,
    PMCP_SERVER_NAME: config.server.name,
    PMCP_FUNCTION_NAME: names.functionName,
    PMCP_ENVIRONMENT: names.stage,
    PMCP_CONFIG_JSON: JSON.stringify(config),
    SERVER_NAME: config.server.name
  }
  if (options.region) Object.assign(env, { AWS_REGION: options.region, CDK_DEFAULT_REGION: options.region })
  if (options.account) env.CDK_DEFAULT_ACCOUNT = options.account
  if (options.versionDescription) env.PMCP_VERSION_DESCRIPTION = options.versionDescription
  return env
}
