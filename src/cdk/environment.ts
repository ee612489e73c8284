import type { DeployConfig } from '../config/index.js'
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
 * The environment every CDK app the action runs receives, rendered or the user's own: a user's stack
 * reads its names and settings from it.
 */
export function cdkEnvironment(options: CdkEnvironmentOptions): Record<string, string> {
  const { config, names } = options
  const env: Record<string, string> = {
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
