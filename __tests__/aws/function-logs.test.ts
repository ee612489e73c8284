import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { awsClient, type AwsContext } from '../../src/aws/clients.js'
import { recentFunctionLogs } from '../../src/aws/logs.js'
import { renderComment } from '../../src/report/comment.js'
import { renderSummary } from '../../src/report/summary.js'
import { captureStdout } from '../../testkit/annotations.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { deployedReport } from '../report/sample.js'

const aws: AwsContext = { region: 'us-east-1', retry: { sleep: async () => {} } }
const GROUP = '/aws/lambda/weather-pr12'

describeWithMoto('the function logs of a failed run (CloudWatch Logs on moto)', () => {
  let moto: MotoServer
  let restoreEnvironment: () => void
  let since: number

  beforeAll(async () => {
    moto = await startMoto()
    restoreEnvironment = useMotoEnvironment(moto)
    const logs = awsClient(CloudWatchLogsClient, aws)
    await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }))
    since = Date.now() - 60_000
    const put = async (stream: string, events: [number, string][]): Promise<void> => {
      await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: stream }))
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: GROUP,
          logStreamName: stream,
          logEvents: events.map(([timestamp, message]) => ({ timestamp, message }))
        })
      )
    }
    // Two streams (two cold starts), interleaved in time; one line from before the deploy.
    await put('2026/11/21/[1]old', [[since - 5_000, 'INFO from the previous deploy']])
    await put('2026/11/21/[2]a', [
      [since + 1_000, 'INIT_START Runtime Version: provided:al2023'],
      [since + 3_000, 'ERROR config: API_KEY=sk-live-12345 rejected by upstream\n']
    ])
    await put('2026/11/21/[3]b', [
      [since + 2_000, 'INFO listening'],
      [since + 4_000, 'thread main panicked at src/main.rs:42:5: missing DB_URL']
    ])
  })

  afterAll(async () => {
    restoreEnvironment?.()
    await moto?.stop()
  })

  it('returns the lines logged since the deploy began, oldest first, across streams', async () => {
    const logs = await recentFunctionLogs({ logGroupName: GROUP, since, aws })
    expect(logs?.since).toBe(new Date(since).toISOString())
    expect(logs?.lines).toEqual([
      `${new Date(since + 1_000).toISOString()} INIT_START Runtime Version: provided:al2023`,
      `${new Date(since + 2_000).toISOString()} INFO listening`,
      `${new Date(since + 3_000).toISOString()} ERROR config: API_KEY=sk-live-12345 rejected by upstream`,
      `${new Date(since + 4_000).toISOString()} thread main panicked at src/main.rs:42:5: missing DB_URL`
    ])
  })

  it('keeps only the newest lines', async () => {
    const logs = await recentFunctionLogs({ logGroupName: GROUP, since, maxLines: 2, aws })
    expect(logs?.lines.map(line => line.slice(25))).toEqual([
      'ERROR config: API_KEY=sk-live-12345 rejected by upstream',
      'thread main panicked at src/main.rs:42:5: missing DB_URL'
    ])
  })

  it('has nothing to show, without failing, when the function never ran', async () => {
    const { result, output } = await captureStdout(() => recentFunctionLogs({ logGroupName: '/aws/lambda/never-ran', since, aws }))
    expect(result).toBeUndefined()
    expect(output).toContain('log group /aws/lambda/never-ran does not exist (the function never ran)')
  })

  it('puts the lines in the job summary and, folded open, in the PR comment', async () => {
    const functionLogs = await recentFunctionLogs({ logGroupName: GROUP, since, aws })
    const report = deployedReport({ status: 'failed', failure: { phase: 'smoke test', message: 'initialize failed' }, functionLogs })
    const summary = renderSummary(report)
    expect(summary).toContain('### Function logs')
    expect(summary).toContain(`Last 4 lines of <code>${GROUP}</code>`)
    expect(summary).toContain('missing DB_URL')
    expect(summary.indexOf('### Function logs')).toBeLessThan(summary.indexOf('### Outputs'))
    const comment = renderComment(report)
    expect(comment).toContain('<details open><summary>Function logs</summary>')
    expect(comment).toContain('missing DB_URL')
  })
})
