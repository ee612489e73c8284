import { ActionError } from '../errors.js'
import type { Plan } from '../plan.js'
import type { AwsContext } from './clients.js'
import { configureAwsCredentials } from './credentials.js'

export interface AwsSession {
  aws: AwsContext
  accountId: string
}

/** The plan's region; a command that reaches AWS cannot go on without one. */
export function requireRegion(region: string | undefined): string {
  if (region) return region
  throw new ActionError(
    'No AWS region',
    "No AWS region is configured. Set the 'aws-region' input, '[aws] region' in .pmcp/deploy.toml, or AWS_REGION in the job's environment."
  )
}

/** OIDC (or the environment's credentials) for everything after. */
export async function awsSession(plan: Plan): Promise<AwsSession> {
  const aws: AwsContext = { region: requireRegion(plan.region) }
  const identity = await configureAwsCredentials({
    ...aws,
    roleToAssume: plan.inputs.roleToAssume,
    roleSessionName: plan.inputs.roleSessionName,
    roleDurationSeconds: plan.inputs.roleDurationSeconds,
    audience: plan.inputs.audience,
    // The run context already holds the event: no second read of the event file.
    event: { name: plan.context.eventName, payload: plan.context.event }
  })
  checkExpectedAccount(identity.accountId, plan.config.aws.accountId, plan.config.file)
  return { aws, accountId: identity.accountId }
}

/** `[aws] account_id` pins the account: credentials of any other account stop the run before anything is written. */
export function checkExpectedAccount(actual: string, expected: string | undefined, configFile: string): void {
  if (expected === undefined || expected === actual) return
  throw new ActionError(
    'Wrong AWS account',
    `The credentials belong to AWS account ${actual}, but [aws] account_id in ${configFile} is ${expected}; nothing was deployed. ` +
      "Point 'role-to-assume' at a role in account " +
      `${expected}, or change account_id if the server moved.`,
    { file: configFile }
  )
}
