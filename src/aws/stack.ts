import * as core from '@actions/core'
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  paginateDescribeStackEvents,
  waitUntilStackDeleteComplete,
  type StackEvent
} from '@aws-sdk/client-cloudformation'
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { ActionError, errorMessage } from '../errors.js'
import { deadlines } from '../net/deadline.js'
import { classifyAwsFault } from '../net/faults.js'
import type { FailedStackEvent } from '../types.js'
import { awsCall, awsClient, awsErrorName, isTransientAwsError, type AwsContext } from './clients.js'

export interface StackState {
  name: string
  stackId: string
  status: string
  statusReason?: string
  outputs: Record<string, string>
}

/** The CDK's default bootstrap qualifier; `cdk bootstrap` writes its version under it. */
export const BOOTSTRAP_QUALIFIER = 'hnb659fds'

const SUCCESS_STATUSES = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE'])

/** A stack a deploy may leave behind as its result: anything else means the deploy did not land. */
export function isDeployedStatus(status: string): boolean {
  return SUCCESS_STATUSES.has(status)
}

function isStackMissing(error: unknown): boolean {
  return awsErrorName(error) === 'ValidationError' && /does not exist/.test(errorMessage(error))
}

/** DescribeStacks, the source of truth for a stack's status and outputs; undefined when there is none. */
export async function readStack(nameOrId: string, context: AwsContext): Promise<StackState | undefined> {
  const cloudFormation = awsClient(CloudFormationClient, context)
  try {
    const response = await awsCall(`Reading stack ${nameOrId}`, context, () =>
      cloudFormation.send(new DescribeStacksCommand({ StackName: nameOrId }))
    )
    const stack = response.Stacks?.[0]
    if (!stack?.StackName || !stack.StackStatus) return undefined
    const outputs: Record<string, string> = {}
    for (const output of stack.Outputs ?? []) {
      if (output.OutputKey) outputs[output.OutputKey] = output.OutputValue ?? ''
    }
    return {
      name: stack.StackName,
      stackId: stack.StackId ?? stack.StackName,
      status: stack.StackStatus,
      statusReason: stack.StackStatusReason,
      outputs
    }
  } catch (error) {
    if (isStackMissing(error)) return undefined
    throw error
  }
}

const MAX_EVENT_PAGES = 10

/** The stack-level event that starts an operation (CREATE/UPDATE/DELETE/IMPORT_IN_PROGRESS, "User Initiated"). */
function startsOperation(event: StackEvent, stackName: string): boolean {
  return (
    event.LogicalResourceId === stackName &&
    event.ResourceType === 'AWS::CloudFormation::Stack' &&
    /^(CREATE|UPDATE|DELETE|IMPORT)_IN_PROGRESS$/.test(event.ResourceStatus ?? '') &&
    event.ResourceStatusReason === 'User Initiated'
  )
}

function isCancellation(event: FailedStackEvent): boolean {
  return /cancelled/i.test(event.reason)
}

/**
 * The `*_FAILED` events of the stack's latest operation, oldest first (the root cause usually comes
 * first). "Resource creation cancelled" follow-ups are dropped when a real cause is present.
 */
export async function failedStackEvents(nameOrId: string, context: AwsContext): Promise<FailedStackEvent[]> {
  const cloudFormation = awsClient(CloudFormationClient, context)
  // The SDK's paginator follows NextToken; the whole read is retried (it is idempotent and short).
  const failed = await awsCall(`Reading events of stack ${nameOrId}`, context, async () => {
    const found: FailedStackEvent[] = []
    let stackName: string | undefined
    let pages = 0
    pages: for await (const response of paginateDescribeStackEvents({ client: cloudFormation }, { StackName: nameOrId })) {
      for (const event of response.StackEvents ?? []) {
        stackName ??= event.StackName
        if (event.ResourceStatus?.endsWith('_FAILED')) {
          found.push({
            logicalId: event.LogicalResourceId ?? '',
            resourceType: event.ResourceType ?? '',
            status: event.ResourceStatus,
            reason: event.ResourceStatusReason ?? ''
          })
        }
        if (stackName && startsOperation(event, stackName)) break pages
      }
      if (++pages >= MAX_EVENT_PAGES) break
    }
    return found
  })
  failed.reverse()
  const causes = failed.filter(event => !isCancellation(event))
  return causes.length > 0 ? causes : failed
}

export function formatFailedEvents(events: FailedStackEvent[]): string {
  return events.map(event => `- ${event.logicalId} (${event.resourceType}) ${event.status}: ${event.reason}`).join('\n')
}

export interface DeleteStackOptions {
  /** Give up waiting after this long. Default 30 minutes. */
  timeoutMs?: number
  /** The shortest time between status checks (the SDK waiter backs off from it to `maxPollMs`). Default 5 s. */
  pollMs?: number
  /** The longest time between status checks. Default 30 s. */
  maxPollMs?: number
}

/**
 * Deletes a stack and waits until it is gone. A stack that does not exist is fine (returns false).
 * A delete that fails reports the resources that could not be deleted.
 */
export async function deleteStack(name: string, context: AwsContext, options: DeleteStackOptions = {}): Promise<boolean> {
  const stack = await readStack(name, context)
  if (!stack) return false
  const cloudFormation = awsClient(CloudFormationClient, context)
  await awsCall(`Deleting stack ${name}`, context, () => cloudFormation.send(new DeleteStackCommand({ StackName: stack.stackId })))
  await waitForDelete(name, stack.stackId, cloudFormation, context, options)
  return true
}

/**
 * The SDK's StackDeleteComplete waiter, by id (a deleted stack is still found by its id, with status
 * DELETE_COMPLETE). The waiter retries every error it does not expect; an error that waiting cannot
 * cure (AccessDenied, say) ends the wait at once instead, as the polling it replaces did.
 */
async function waitForDelete(
  name: string,
  stackId: string,
  cloudFormation: CloudFormationClient,
  context: AwsContext,
  options: DeleteStackOptions
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30 * 60_000
  const minDelay = (options.pollMs ?? 5000) / 1000
  const maxDelay = Math.max(minDelay, (options.maxPollMs ?? 30_000) / 1000)
  const abortController = new AbortController()
  let fatal: Error | undefined
  // A transient failure (a hang, a dropped connection) that lasts longer than the retry budget is
  // fatal too: the waiter would otherwise retry it for all of timeoutMs.
  let failingSince: number | undefined
  const watched = {
    config: cloudFormation.config,
    send: async (command: DescribeStacksCommand) => {
      try {
        const answer = await cloudFormation.send(command)
        failingSince = undefined
        return answer
      } catch (error) {
        failingSince ??= Date.now()
        const persistent = Date.now() - failingSince > deadlines().budgetMs
        if (persistent || (awsErrorName(error) !== 'ValidationError' && !isTransientAwsError(error))) {
          fatal = error instanceof Error ? error : new Error(errorMessage(error))
          abortController.abort()
        }
        throw error
      }
    }
  } as unknown as CloudFormationClient
  try {
    await waitUntilStackDeleteComplete(
      { client: watched, maxWaitTime: Math.max(timeoutMs / 1000, minDelay + 1), minDelay, maxDelay, abortController },
      { StackName: stackId }
    )
  } catch (error) {
    if (fatal) throw classifyAwsFault(fatal, `Waiting for stack ${name} to be deleted`, { all: true }) ?? fatal
    const current = await readStack(stackId, context)
    if (!current || current.status === 'DELETE_COMPLETE') return
    if (current.status === 'DELETE_FAILED') {
      const events = await failedStackEvents(stackId, context)
      throw new ActionError(
        `Could not delete stack ${name}`,
        `CloudFormation could not delete stack ${name} (DELETE_FAILED${current.statusReason ? `: ${current.statusReason}` : ''}).\n` +
          (events.length > 0 ? `Resources that failed to delete:\n${formatFailedEvents(events)}\n` : '') +
          'Remove or fix those resources in the AWS console, then run the job again.'
      )
    }
    if (awsErrorName(error) === 'TimeoutError') {
      throw new ActionError(
        `Stack ${name} is still being deleted`,
        `Stack ${name} is still ${current.status} after ${Math.round(timeoutMs / 1000)} s.`
      )
    }
    throw new ActionError(
      `Could not delete stack ${name}`,
      `Stack ${name} is ${current.status} while it was being deleted: ${errorMessage(error)}`
    )
  }
}

/**
 * A stack whose first create failed sits in ROLLBACK_COMPLETE and can only be deleted, so it is
 * deleted here (and said so) before the next deploy re-creates it.
 */
export async function ensureStackDeployable(name: string, context: AwsContext, options: DeleteStackOptions = {}): Promise<void> {
  const stack = await readStack(name, context)
  if (stack?.status !== 'ROLLBACK_COMPLETE') return
  const events = await failedStackEvents(stack.stackId, context)
  core.info(
    `Stack ${name} is in ROLLBACK_COMPLETE: its first create failed, and CloudFormation cannot update such a stack. ` +
      'Deleting it before deploying again.' +
      (events.length > 0 ? `\nThat create failed with:\n${formatFailedEvents(events)}` : '')
  )
  await deleteStack(name, context, options)
  core.info(`Deleted stack ${name}`)
}

/** Whether `cdk bootstrap` has been run for this account and region (its SSM version parameter exists). */
export async function isBootstrapped(context: AwsContext, qualifier = BOOTSTRAP_QUALIFIER): Promise<boolean> {
  const ssm = awsClient(SSMClient, context)
  const parameter = `/cdk-bootstrap/${qualifier}/version`
  try {
    await awsCall(`Reading ${parameter}`, context, () => ssm.send(new GetParameterCommand({ Name: parameter })))
    return true
  } catch (error) {
    const name = awsErrorName(error)
    if (name === 'ParameterNotFound') return false
    if (name === 'AccessDeniedException') {
      // The deploying role may not read SSM; the CDK CLI then reports a missing bootstrap itself.
      core.warning(`Could not read ${parameter} to check the CDK bootstrap (${errorMessage(error)}); assuming it is there.`)
      return true
    }
    throw error
  }
}
