import * as core from '@actions/core'
import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStacks,
  type Stack,
  type StackSummary
} from '@aws-sdk/client-cloudformation'
import { awsCall, awsClient, type AwsContext } from '../../aws/clients.js'
import type { DeleteStackOptions } from '../../aws/stack.js'
import { ActionError } from '../../errors.js'
import {
  cleanupPreviews,
  cleanupSummaryLine,
  githubPullRequestReader,
  previewPrNumber,
  type CleanupRow,
  type PreviewCandidate,
  type PullRequestReader
} from '../../lifecycle/cleanup.js'
import { destroy } from '../../lifecycle/destroy.js'
import { awsSession } from '../../aws/session.js'
import type { CommandPipeline } from '../../pipeline.js'
import type { Plan } from '../../plan.js'

/** The description src/render gives every stack it renders: `MCP server <name> (<stage>), deployed by pmcp/deploy-action`. */
export const OUR_DESCRIPTION_MARK = 'deployed by pmcp/deploy-action'
/** Tags that mark a stack as the action's (`managed-by`), as the pmcp-run template sets them. */
export const OUR_TAG = { key: 'managed-by', values: ['pmcp', 'pmcp/deploy-action'] }

/** Statuses of a stack that exists: not deleted, not being deleted. */
function isActive(status: string | undefined): boolean {
  return Boolean(status) && status !== 'DELETE_COMPLETE' && status !== 'DELETE_IN_PROGRESS'
}

/** The stack carries the action's mark: its tag `managed-by`, or the description the action renders. */
export function isOurStack(stack: Pick<Stack, 'Tags' | 'Description'>): boolean {
  const tagged = (stack.Tags ?? []).some(tag => tag.Key === OUR_TAG.key && OUR_TAG.values.includes(tag.Value ?? ''))
  return tagged || (stack.Description ?? '').includes(OUR_DESCRIPTION_MARK)
}

/**
 * This server's preview stacks (`<name>-pr<N>-stack`, active), each marked ours or not. The names come
 * from ListStacks: DescribeStacks without a stack name needs the deploy role to read every stack of
 * the account (resource `*`), ListStacks only shows names and statuses. Each match is then described
 * by name, within the role's `<name>-*-stack` resources, for its tags.
 */
export async function listPreviewStacks(serverName: string, aws: AwsContext): Promise<PreviewCandidate[]> {
  const client = awsClient(CloudFormationClient, aws)
  const summaries = await awsCall('ListStacks', aws, async () => {
    const all: StackSummary[] = []
    for await (const page of paginateListStacks({ client }, {})) all.push(...(page.StackSummaries ?? []))
    return all
  })
  const candidates: PreviewCandidate[] = []
  for (const summary of summaries) {
    if (!summary.StackName || !isActive(summary.StackStatus)) continue
    const prNumber = previewPrNumber(serverName, summary.StackName, '-stack')
    if (prNumber === undefined) continue
    const described = await awsCall(`DescribeStacks ${summary.StackName}`, aws, () =>
      client.send(new DescribeStacksCommand({ StackName: summary.StackName }))
    )
    const stack: Stack | undefined = described.Stacks?.[0]
    candidates.push({
      name: summary.StackName,
      prNumber,
      createdAt: summary.CreationTime,
      ours: isOurStack({ Tags: stack?.Tags, Description: stack?.Description ?? summary.TemplateDescription })
    })
  }
  return candidates
}

export interface AwsCleanupOptions {
  serverName: string
  aws: AwsContext
  readPullRequest: PullRequestReader
  maxAgeDays?: number
  now?: () => Date
  /** Polling of each delete (tests pass a short poll interval). */
  wait?: DeleteStackOptions
  /** Lists the preview stacks [listPreviewStacks]; tests wrap it to age a stack moto stamped with the current time. */
  listStacks?: typeof listPreviewStacks
}

/** Lists the server's preview stacks and destroys those whose pull request is closed or that are too old. */
export async function cleanupAwsPreviews(options: AwsCleanupOptions): Promise<CleanupRow[]> {
  const candidates = await (options.listStacks ?? listPreviewStacks)(options.serverName, options.aws)
  core.info(`Found ${candidates.length} preview stack(s) of ${options.serverName}`)
  return cleanupPreviews({
    candidates,
    readPullRequest: options.readPullRequest,
    maxAgeDays: options.maxAgeDays,
    now: options.now,
    destroy: async stackName => (await destroy({ stackName, stage: 'preview', aws: options.aws, wait: options.wait })).status
  })
}

/** Fails the run when a destroy failed; the table is in the facts already, so the summary still shows every stack. */
export function throwIfCleanupFailed(rows: CleanupRow[]): void {
  const failed = rows.filter(row => row.action === 'failed')
  if (failed.length === 0) return
  throw new ActionError('Cleanup could not remove every preview', failed.map(row => `${row.name}: ${row.reason}`).join('\n'))
}

/** `command: cleanup`: removes this server's preview stacks whose pull request is closed or merged, or older than `max-preview-age`. */
export function cleanupCommand(plan: Plan): CommandPipeline {
  const { config, inputs, context } = plan
  return {
    async run({ phase, facts }) {
      const session = await phase('credentials', () => awsSession(plan))
      facts.awsAccountId = session.accountId
      const rows = await phase('destroy', () =>
        cleanupAwsPreviews({
          serverName: config.server.name,
          aws: session.aws,
          readPullRequest: githubPullRequestReader({ token: inputs.githubToken, repository: context.repository }),
          maxAgeDays: inputs.maxPreviewAgeDays
        })
      )
      facts.cleanup = rows
      core.info(`Cleanup of ${config.server.name}: ${cleanupSummaryLine(rows)}`)
      throwIfCleanupFailed(rows)
      return 'cleaned'
    }
  }
}
