/**
 * What a run checks once its plan is known and before the target's command runs (src/pipeline.ts
 * calls `guardRun` once, for every target):
 *
 * - a preview deploy of a pull request reads the pull request's state: a closed or merged one gets
 *   no deploy, and its preview is removed instead (the target's own destroy command). This covers the
 *   late `synchronize` run that GitHub starts after the `closed` one, and `command: deploy` on a
 *   `closed` event;
 * - a production deploy or rollback runs only from the production branch (input `production-branch`,
 *   else the repository's default branch).
 */
import * as core from '@actions/core'
import { PULL_REQUEST_EVENTS } from '../context.js'
import { ActionError } from '../errors.js'
import { explainGitHubFailure, githubClient, readPullRequest } from '../github/client.js'
import type { Plan } from '../plan.js'

export interface GuardOptions {
  /** GITHUB_REF, GITHUB_API_URL and GITHUB_REPOSITORY [process.env]. */
  env?: NodeJS.ProcessEnv
}

/** What the GitHub API (or, failing it, the event payload) says of a pull request. */
export interface PullRequestState {
  state: 'open' | 'closed'
  merged: boolean
  /** Where the answer came from. */
  source: 'api' | 'event'
}

/**
 * The plan the pipeline runs: the given one, or, for a preview deploy of a closed or merged pull
 * request, the same plan with the target's `destroy` command. Throws an ActionError for a production
 * deploy or rollback from another ref than the production branch.
 */
export async function guardRun(plan: Plan, options: GuardOptions = {}): Promise<Plan> {
  const env = options.env ?? process.env
  if (plan.names.stage === 'production' && (plan.command === 'deploy' || plan.command === 'rollback')) {
    await checkProductionRef(plan, env)
    return plan
  }
  if (plan.names.stage === 'preview' && plan.command === 'deploy') return (await previewOfClosedPullRequest(plan, env)) ?? plan
  return plan
}

// ---------------------------------------------------------------------------------------------------
// Previews of closed pull requests

async function previewOfClosedPullRequest(plan: Plan, env: NodeJS.ProcessEnv): Promise<Plan | undefined> {
  const prNumber = plan.inputs.prNumber ?? plan.context.prNumber
  if (prNumber === undefined) return undefined
  const pr = await pullRequestState(plan, prNumber, env)
  if (!pr || pr.state !== 'closed') return undefined
  const what = pr.merged ? 'merged' : 'closed'
  core.notice(
    `Pull request #${prNumber} is ${what}${pr.source === 'event' ? ' (by the event payload)' : ''}: its preview is not deployed, ` +
      `and ${plan.names.stackName} is removed if it exists.`,
    { title: 'Deploy skipped' }
  )
  return { ...plan, command: 'destroy', inputs: { ...plan.inputs, command: 'destroy' } }
}

/** The payload's pull request, when it is the one being deployed. */
function payloadPullRequest(plan: Plan, prNumber: number): { state?: unknown; merged?: unknown } | undefined {
  const pullRequest: { number?: number; state?: unknown; merged?: unknown } | undefined = plan.context.event.pull_request
  if (!pullRequest || !PULL_REQUEST_EVENTS.includes(plan.context.eventName)) return undefined
  return pullRequest.number === undefined || pullRequest.number === prNumber ? pullRequest : undefined
}

/**
 * The pull request's state: a `closed` event is closed as it stands; else the GitHub API's answer;
 * else (no token, 403/404, network) a warning and the event payload's `pull_request.state`.
 */
export async function pullRequestState(plan: Plan, prNumber: number, env: NodeJS.ProcessEnv): Promise<PullRequestState | undefined> {
  const payload = payloadPullRequest(plan, prNumber)
  if (payload && plan.context.event.action === 'closed') return { state: 'closed', merged: payload.merged === true, source: 'event' }
  const repository = plan.context.repository ?? env.GITHUB_REPOSITORY
  let why: string
  if (!plan.inputs.githubToken) why = 'no github-token is given'
  else if (!repository?.includes('/')) why = 'the repository is not known (GITHUB_REPOSITORY)'
  else {
    try {
      const client = await githubClient({ token: plan.inputs.githubToken, apiUrl: env.GITHUB_API_URL })
      return { ...(await readPullRequest(client, repository, prNumber)), source: 'api' }
    } catch (error) {
      why = explainGitHubFailure(error, { permission: 'pull-requests: read' })
    }
  }
  const state = payload?.state
  const fallback = state === 'closed' || state === 'open' ? `going by the event payload, which says it is ${state}` : 'deploying'
  core.warning(`Could not read the state of pull request #${prNumber} from the GitHub API (${why}); ${fallback}.`, {
    title: 'Pull request state unknown'
  })
  if (state !== 'closed' && state !== 'open') return undefined
  return { state, merged: payload?.merged === true, source: 'event' }
}

// ---------------------------------------------------------------------------------------------------
// Production only from the production branch

/** Refuses a production deploy or rollback whose GITHUB_REF is not the production branch; outside a runner (no GITHUB_REF) it allows. */
async function checkProductionRef(plan: Plan, env: NodeJS.ProcessEnv): Promise<void> {
  const ref = env.GITHUB_REF?.trim()
  if (!ref) return
  const branch = await productionBranch(plan, env)
  if (ref === `refs/heads/${branch.name}`) return
  const verb = plan.command === 'deploy' ? 'deploy' : 'rollback'
  throw new ActionError(
    `Production ${verb} refused: ${ref} is not the production branch`,
    `A production ${verb} runs only from the production branch ${branch.name} (${branch.source}); this run is on ${ref}, ` +
      'so nothing was built or deployed. To deploy production from this ref, set the input ' +
      `'production-branch: ${refName(ref)}'; to deploy a preview of it, set 'environment: preview' (with 'preview-id').`
  )
}

function refName(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, '')
}

/** The `production-branch` input, else the payload's `repository.default_branch`, else `GET /repos/{owner}/{repo}`. */
async function productionBranch(plan: Plan, env: NodeJS.ProcessEnv): Promise<{ name: string; source: string }> {
  if (plan.inputs.productionBranch) return { name: plan.inputs.productionBranch, source: "input 'production-branch'" }
  const repository = plan.context.event.repository as { default_branch?: unknown } | undefined
  if (typeof repository?.default_branch === 'string' && repository.default_branch !== '') {
    return { name: repository.default_branch, source: "the repository's default branch" }
  }
  const fullName = plan.context.repository ?? env.GITHUB_REPOSITORY
  let why = 'the repository is not known (GITHUB_REPOSITORY)'
  if (!plan.inputs.githubToken) why = 'no github-token is given'
  else if (fullName?.includes('/')) {
    try {
      const client = await githubClient({ token: plan.inputs.githubToken, apiUrl: env.GITHUB_API_URL })
      const [owner, repo] = fullName.split('/')
      const { data } = await client.rest.repos.get({ owner, repo })
      if (typeof data.default_branch === 'string' && data.default_branch !== '') {
        return { name: data.default_branch, source: "the repository's default branch" }
      }
      why = 'its answer names no default branch'
    } catch (error) {
      why = explainGitHubFailure(error, { permission: 'contents: read' })
    }
  }
  throw new ActionError(
    'Production branch unknown',
    `The production branch could not be read: the event payload names no default branch and the GitHub API could not be asked (${why}). ` +
      "Set the input 'production-branch' (e.g. 'production-branch: main'); nothing was built or deployed."
  )
}
