import * as core from '@actions/core'
import { CloudWatchLogsClient, paginateFilterLogEvents, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs'
import { errorMessage } from '../errors.js'
import type { FunctionLogs } from '../types.js'
import { awsCall, awsClient, awsErrorName, type AwsContext } from './clients.js'

export interface FunctionLogsOptions {
  logGroupName: string
  /** Epoch ms: only events from here on (the start of the deploy). */
  since: number
  /** How many of the newest lines to keep. */
  maxLines?: number
  aws: AwsContext
}

const DEFAULT_MAX_LINES = 50
/** A failing function can log a lot; reading stops after this many pages (10,000 events each). */
const MAX_PAGES = 5

function formatEvent(event: FilteredLogEvent): string {
  const time = event.timestamp === undefined ? '' : new Date(event.timestamp).toISOString()
  return `${time} ${(event.message ?? '').replace(/\s+$/, '')}`.trim()
}

/**
 * The newest lines the function logged since the deploy began, for a failure report. Reading logs
 * must never hide the failure being reported, so any problem here is a warning and undefined. The
 * lines are as the function logged them: the report is redacted as a whole when it is written.
 */
export async function recentFunctionLogs(options: FunctionLogsOptions): Promise<FunctionLogs | undefined> {
  const { logGroupName, aws } = options
  const maxLines = options.maxLines ?? DEFAULT_MAX_LINES
  const client = awsClient(CloudWatchLogsClient, aws)
  let events: FilteredLogEvent[]
  try {
    // The SDK's paginator follows nextToken; the whole read is retried (it is idempotent).
    events = await awsCall(`Reading log group ${logGroupName}`, aws, async () => {
      const read: FilteredLogEvent[] = []
      let pages = 0
      for await (const response of paginateFilterLogEvents({ client }, { logGroupName, startTime: options.since })) {
        read.push(...(response.events ?? []))
        if (++pages >= MAX_PAGES) break
      }
      return read
    })
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') {
      core.info(`No function logs to show: log group ${logGroupName} does not exist (the function never ran).`)
    } else {
      core.warning(
        `Could not read the function's logs from ${logGroupName} (the role needs logs:FilterLogEvents on it): ${errorMessage(error)}`
      )
    }
    return undefined
  }
  const lines = events
    .sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0))
    .slice(-maxLines)
    .map(formatEvent)
  return { logGroupName, lines, since: new Date(options.since).toISOString() }
}
