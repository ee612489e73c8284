import {
  GetAliasCommand,
  GetFunctionCommand,
  LambdaClient,
  paginateListVersionsByFunction,
  UpdateAliasCommand,
  type FunctionConfiguration
} from '@aws-sdk/client-lambda'
import { ActionError } from '../errors.js'
import { commitOfVersionDescription } from '../lifecycle/version-description.js'
import { awsCall, awsClient, awsErrorName, type AwsContext } from './clients.js'

/**
 * The alias API Gateway invokes the function through: a deploy publishes a version and points `live`
 * at it, and a rollback points it back, which is why a rollback takes seconds.
 */
export const LIVE_ALIAS = 'live'

export interface PublishedVersion {
  version: string
  number: number
  /** The commit SHA at the start of the version description (`<sha> run <runId>`), lower case. */
  commit?: string
  /** ISO 8601 time the version was published. */
  date?: string
}

function publishedVersionOf(config: FunctionConfiguration): PublishedVersion | undefined {
  const version = config.Version
  if (!version || !/^\d+$/.test(version)) return undefined // $LATEST
  const commit = commitOfVersionDescription(config.Description)
  // Lambda writes `2024-05-01T10:00:00.000+0000`, which not every parser takes.
  const date = config.LastModified ? new Date(config.LastModified.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : undefined
  return {
    version,
    number: Number(version),
    commit,
    date: date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined
  }
}

function isNotFound(error: unknown): boolean {
  return awsErrorName(error) === 'ResourceNotFoundException'
}

/** Every published version of the function (all pages, $LATEST left out), oldest first. */
export async function listPublishedVersions(functionName: string, aws: AwsContext): Promise<PublishedVersion[]> {
  const lambda = awsClient(LambdaClient, aws)
  // The SDK's paginator follows NextMarker; the whole listing is retried (it is idempotent).
  const versions = await awsCall(`Listing versions of ${functionName}`, aws, async () => {
    const found: PublishedVersion[] = []
    for await (const page of paginateListVersionsByFunction({ client: lambda, pageSize: 50 }, { FunctionName: functionName })) {
      for (const config of page.Versions ?? []) {
        const published = publishedVersionOf(config)
        if (published) found.push(published)
      }
    }
    return found
  })
  return versions.sort((a, b) => a.number - b.number)
}

/** The version alias `live` points at; undefined when the function or the alias does not exist. */
export async function currentAliasVersion(functionName: string, aws: AwsContext): Promise<string | undefined> {
  const lambda = awsClient(LambdaClient, aws)
  try {
    const alias = await awsCall(`Reading alias ${LIVE_ALIAS} of ${functionName}`, aws, () =>
      lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: LIVE_ALIAS }))
    )
    return alias.FunctionVersion
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** Whether the function exists at all (to tell a missing alias from a missing function). */
export async function functionExists(functionName: string, aws: AwsContext): Promise<boolean> {
  const lambda = awsClient(LambdaClient, aws)
  try {
    await awsCall(`Reading function ${functionName}`, aws, () => lambda.send(new GetFunctionCommand({ FunctionName: functionName })))
    return true
  } catch (error) {
    if (isNotFound(error)) return false
    throw error
  }
}

/**
 * Points alias `live` at `version` (all traffic: any weighted routing is cleared), then reads the
 * alias back to confirm the move landed.
 */
export async function moveAlias(functionName: string, version: string, aws: AwsContext): Promise<void> {
  const lambda = awsClient(LambdaClient, aws)
  await awsCall(`Moving alias ${LIVE_ALIAS} of ${functionName} to version ${version}`, aws, () =>
    lambda.send(
      new UpdateAliasCommand({
        FunctionName: functionName,
        Name: LIVE_ALIAS,
        FunctionVersion: version,
        RoutingConfig: { AdditionalVersionWeights: {} }
      })
    )
  )
  const now = await currentAliasVersion(functionName, aws)
  if (now !== version) {
    throw new ActionError(
      'Alias did not move',
      `Alias ${LIVE_ALIAS} of ${functionName} points at version ${now ?? '(none)'} after moving it to ${version}. ` +
        'Another deploy may have changed it at the same time; check the function in the Lambda console and run the job again.'
    )
  }
}
