/**
 * Lambda's rules for a function's environment variables, which `[environment]` and
 * `[lambda.environment]` become on both targets (the aws-lambda stack sets them on the function;
 * pmcp-run merges them into every function of the template), checked before anything is built:
 *
 * - a name is a letter, then at least one letter, digit or _ (`[a-zA-Z][a-zA-Z0-9_]+`);
 * - the runtime's own variables are reserved: Lambda refuses a function configuration that sets one
 *   ("Defined runtime environment variables" in the Lambda developer guide; `AWS_LAMBDA_EXEC_WRAPPER`,
 *   `TZ`, `LANG` and the like are not reserved and stay allowed);
 * - all the function's variables together, names and values, hold at most 4 KB: counted here with
 *   what the stack adds beside `[environment]`, each at its longest when it is known only at deploy time.
 */
import { secretArnVariable, secretId, OAUTH_ENVIRONMENT_VARIABLES } from './server-environment.js'
import type { Target } from '../types.js'

export const LAMBDA_VARIABLE_NAME = /^[a-zA-Z][a-zA-Z0-9_]+$/

export const RESERVED_LAMBDA_VARIABLES: readonly string[] = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR'
]

/** Lambda's limit on a function's variables: the bytes of every name and value together. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096

/** The longest AWS region name (ap-southeast-5, ap-northeast-3): the length assumed when deploy.toml names none. */
const LONGEST_REGION = 'ap-southeast-5'
/** A Cognito user pool id is `<region>_` and nine characters; an app client id 26. */
const POOL_ID_SUFFIX_LENGTH = 9
const CLIENT_ID_LENGTH = 26
/** Lambda's longest function name: a preview's name is cut to it. */
const FUNCTION_NAME_MAX = 64
const ACCOUNT_ID_LENGTH = 12

export interface StackEnvironmentFacts {
  target: Target
  serverName: string
  region?: string
  /** `[auth]` enabled with provider cognito: the aws-lambda stack then sets the OAuth variables. */
  cognitoAuth: boolean
  existingUserPoolId?: string
  secrets: readonly string[]
  /** `[environment]` then `[lambda.environment]`, as declared. */
  declared: Readonly<Record<string, string>>
}

/**
 * Every variable the function of `target`'s rendered stack gets: what deploy.toml declares over
 * the stack's own defaults, and what the stack derives (OAuth, secret ARNs). A value known only at
 * deploy time is a placeholder of its longest length. pmcp-run merges `[environment]` without the
 * `[secrets]` names, which pmcp.run injects itself (see targets/pmcp-run/template.ts).
 */
export function functionVariables(facts: StackEnvironmentFacts): Record<string, string> {
  const declared = Object.entries(facts.declared).filter(([name]) => facts.target !== 'pmcp-run' || !facts.secrets.includes(name))
  return { ...variablesTheStackAdds(facts), ...Object.fromEntries(declared) }
}

/** What the stack sets on the function beside `[environment]`, by name. */
export function variablesTheStackAdds(facts: StackEnvironmentFacts): Record<string, string> {
  const region = facts.region ?? LONGEST_REGION
  const placeholder = (length: number): string => 'x'.repeat(length)
  if (facts.target === 'pmcp-run') {
    return {
      RUST_LOG: 'info',
      PMCP_ORGANIZATION_ID: 'default-org',
      PMCP_SERVER_ID: placeholder(FUNCTION_NAME_MAX),
      MCP_SERVERS_TABLE: 'McpServer'
    }
  }
  const added: Record<string, string> = { RUST_LOG: 'info' }
  if (facts.cognitoAuth) {
    const poolId = facts.existingUserPoolId ?? `${region}_${placeholder(POOL_ID_SUFFIX_LENGTH)}`
    const values: Record<(typeof OAUTH_ENVIRONMENT_VARIABLES)[number], string> = {
      OAUTH_ISSUER: `https://cognito-idp.${region}.amazonaws.com/${poolId}`,
      OAUTH_AUDIENCE: `${placeholder(CLIENT_ID_LENGTH)},${placeholder(CLIENT_ID_LENGTH)}`,
      COGNITO_USER_POOL_ID: poolId,
      COGNITO_CLIENT_ID: placeholder(CLIENT_ID_LENGTH),
      COGNITO_MACHINE_CLIENT_ID: placeholder(CLIENT_ID_LENGTH)
    }
    Object.assign(added, values)
  }
  const partition = facts.region === undefined ? 'aws-us-gov' : partitionOf(facts.region)
  for (const name of facts.secrets) {
    const arn = `arn:${partition}:secretsmanager:${region}:${placeholder(ACCOUNT_ID_LENGTH)}:secret:${secretId(facts.serverName, name)}`
    added[secretArnVariable(name)] = arn
  }
  return added
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn'
  if (region.startsWith('us-gov-')) return 'aws-us-gov'
  return 'aws'
}

/** The bytes Lambda counts for these variables: every name and value, UTF-8. */
export function environmentBytes(variables: Readonly<Record<string, string>>): number {
  return Object.entries(variables).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value), 0)
}
