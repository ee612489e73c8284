/**
 * The Artifact Registry Docker repository the image is pushed to, created on the first deploy as
 * cargo-pmcp creates it (`gcloud artifacts repositories create <id> --repository-format=docker`).
 */
import * as core from '@actions/core'
import { ActionError } from '../action-error.js'
import { pollUntil, type PollOptions } from '../retry.js'
import { gcpEndpoints, type GcpEndpoints } from './endpoints.js'
import type { GcpCall } from './permissions.js'
import { GcpApiError, googleJson, type AccessTokenSource, type RetryTuning } from './rest.js'
import type { Operation } from './run-types.js'

export interface DockerRepository {
  project: string
  /** The repository's location: the Cloud Run region. */
  region: string
  /** The repository id (`[gcp] repository`). */
  repository: string
}

export interface EnsureRepositoryOptions {
  endpoints?: GcpEndpoints
  retry?: RetryTuning
  /** Between reads of the create operation [1 s]. */
  pollIntervalMs?: number
  /** How long creating may take [2 minutes]. */
  timeoutMs?: number
  sleep?: PollOptions<Operation>['sleep']
}

export const REPOSITORY_DESCRIPTION = 'MCP server images deployed by pmcp/deploy-action'

/** Artifact Registry's rule for a repository id: lower-case letters, digits and hyphens, a letter first, at most 63. */
const REPOSITORY_ID = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/

function repositoryName({ project, region, repository }: DockerRepository): string {
  return `projects/${project}/locations/${region}/repositories/${repository}`
}

/** The command that creates the repository by hand, as cargo-pmcp runs it. */
export function createRepositoryCommand({ project, region, repository }: DockerRepository): string {
  return (
    `gcloud artifacts repositories create ${repository} --repository-format=docker --location=${region} ` +
    `--project=${project} --description="${REPOSITORY_DESCRIPTION}"`
  )
}

/**
 * Makes sure the Docker repository exists: 'exists' when it did, 'created' when this run created
 * it (a repository created meanwhile by a parallel run counts as existing). Without the permission
 * to create it, the error says who may and gives the command to create it once.
 */
export async function ensureDockerRepository(
  target: DockerRepository,
  credentials: AccessTokenSource,
  options: EnsureRepositoryOptions = {}
): Promise<'exists' | 'created'> {
  if (!REPOSITORY_ID.test(target.repository)) {
    throw new ActionError(
      'Invalid Artifact Registry repository',
      `'${target.repository}' is not an Artifact Registry repository id: lower-case letters, digits and hyphens, starting ` +
        'with a letter and ending with a letter or digit, at most 63 characters (for example "pmcp").'
    )
  }
  const root = (options.endpoints ?? gcpEndpoints()).artifactRegistry
  const request = <T>(call: GcpCall, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
    googleJson<T>({
      api: 'artifactRegistry',
      call,
      method,
      url: `${root}/v1/${path}`,
      token: () => credentials.accessToken(),
      body,
      grant: { serviceAccount: credentials.serviceAccount, project: target.project },
      retry: options.retry
    })
  const name = repositoryName(target)
  const where = `${target.region}-docker.pkg.dev/${target.project}/${target.repository}`
  try {
    await request('getRepository', 'GET', name)
    return 'exists'
  } catch (error) {
    if (!(error instanceof GcpApiError && error.kind === 'not-found')) throw error
  }
  core.info(`Creating the Artifact Registry repository ${where}`)
  let operation: Operation
  try {
    operation = await request<Operation>(
      'createRepository',
      'POST',
      `projects/${target.project}/locations/${target.region}/repositories?repositoryId=${encodeURIComponent(target.repository)}`,
      { format: 'DOCKER', description: REPOSITORY_DESCRIPTION }
    )
  } catch (error) {
    if (error instanceof GcpApiError && (error.status === 409 || error.googleStatus === 'ALREADY_EXISTS')) return 'exists'
    if (error instanceof GcpApiError && error.kind === 'permission-denied') throw cannotCreate(error, target)
    throw error
  }
  const state = operation.done
    ? operation
    : (
        await pollUntil(() => request<Operation>('createRepository', 'GET', operation.name), {
          intervalMs: options.pollIntervalMs ?? 1000,
          timeoutMs: options.timeoutMs ?? 120_000,
          isDone: current => current.done === true,
          timeoutError: current =>
            new ActionError(
              'Artifact Registry repository not created in time',
              `Creating ${where} was still running (operation ${current.name}).`
            ),
          waitBeforeFirstRead: true,
          sleep: options.sleep
        })
      ).state
  if (state.error) {
    // 6 is ALREADY_EXISTS: a parallel run created it first.
    if (state.error.code === 6) return 'exists'
    throw new ActionError(
      'Could not create the Artifact Registry repository',
      `Creating ${where} failed: ${state.error.message} (code ${state.error.code}). Create it once by hand:\n  ` +
        createRepositoryCommand(target)
    )
  }
  core.info(`Created ${where}`)
  return 'created'
}

function cannotCreate(error: GcpApiError, target: DockerRepository): ActionError {
  return new ActionError(
    'Cannot create the Artifact Registry repository',
    `The repository ${target.repository} does not exist in ${target.project} (${target.region}), and creating it was refused: ` +
      `${error.apiMessage}\nCreating it needs roles/artifactregistry.admin (artifactregistry.repositories.create); ` +
      `the deploy itself only needs to push to it (roles/artifactregistry.writer). Create it once yourself:\n  ` +
      createRepositoryCommand(target)
  )
}
