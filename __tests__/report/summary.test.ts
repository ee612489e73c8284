import * as fs from 'node:fs'
import * as path from 'node:path'
import { SUMMARY_LIMIT_BYTES, renderSummary, writeSummary } from '../../src/report/summary.js'
import { deployedReport, hugeSmokeRun } from './sample.js'
import { runnerFiles } from './files.js'

const files = runnerFiles()
const savedSummary = process.env.GITHUB_STEP_SUMMARY

function written(): string {
  return fs.readFileSync(files.summaryFile, 'utf8')
}

beforeEach(() => {
  process.env.GITHUB_STEP_SUMMARY = files.summaryFile
  fs.writeFileSync(files.summaryFile, '')
})

afterAll(() => {
  if (savedSummary === undefined) delete process.env.GITHUB_STEP_SUMMARY
  else process.env.GITHUB_STEP_SUMMARY = savedSummary
  files.remove()
})

describe('job summary', () => {
  it('rejects a summary file that is not there, leaving nothing buffered', async () => {
    process.env.GITHUB_STEP_SUMMARY = path.join(files.dir, 'missing', 'summary.md')
    await expect(writeSummary(deployedReport())).rejects.toThrow('Unable to access summary file')
    process.env.GITHUB_STEP_SUMMARY = files.summaryFile
    await writeSummary(deployedReport({ stackName: 'second-stack' }))
    expect(written()).not.toContain('weather-pr12-stack')
  })

  it('writes stack, environment, commit, outputs and smoke tables, phases and console links', async () => {
    expect(await writeSummary(deployedReport())).toBe(true)

    const text = written()
    expect(text).toContain('## ✅ Preview <code>weather-pr12-stack</code> deployed (version 7)')
    expect(text).toContain('| Stack | weather-pr12-stack |')
    expect(text).toContain('| Environment | preview |')
    expect(text).toContain('| Commit | [0123456789ab](https://github.com/acme/weather/commit/0123456789abcdef0123456789abcdef01234567) |')
    expect(text).toContain('| Output | Value |')
    expect(text).toContain(
      '| McpUrl | [https://abc123.execute-api.us-east-1.amazonaws.com/mcp](https://abc123.execute-api.us-east-1.amazonaws.com/mcp) |'
    )
    expect(text).toContain('| AliasArn | arn:aws:lambda:us-east-1:123456789012:function:weather-pr12:live |')
    expect(text).toContain('| Test | Category | Status | Duration | Error |')
    expect(text).toContain('| tools/list | Tools | ✅ Passed | 1.5 s |  |')
    expect(text).toContain('| build | 1m 35s |')
    expect(text).toContain('| <code>total</code> | 2m 49s |')
    expect(text).toContain(
      '[CloudFormation stack](https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks' +
        '?filteringText=weather-pr12-stack&filteringStatus=active&viewNested=true)'
    )
    expect(text).toContain('#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fweather-pr12')
  })

  it('says what failed and where for a failed deploy', async () => {
    await writeSummary(
      deployedReport({
        status: 'failed',
        outputs: {},
        smoke: undefined,
        functionVersion: undefined,
        failure: {
          phase: 'deploy',
          message: 'weather-pr12-stack failed: UPDATE_ROLLBACK_COMPLETE',
          events: [{ logicalId: 'Api', resourceType: 'AWS::ApiGatewayV2::Api', status: 'CREATE_FAILED', reason: 'Rate | exceeded <b>' }],
          logLines: Array.from({ length: 500 }, (_, index) => `cdk line ${index}`)
        }
      })
    )

    const text = written()
    expect(text).toContain('## ❌ Preview <code>weather-pr12-stack</code>: deploy failed during deploy')
    expect(text).toContain('### ❌ Failed during deploy')
    expect(text).toContain('weather-pr12-stack failed: UPDATE_ROLLBACK_COMPLETE')
    expect(text).toContain('| Api | AWS::ApiGatewayV2::Api | CREATE\\_FAILED | Rate \\| exceeded &lt;b&gt; |')
    expect(text).toContain('**Last 200 lines of output**')
    expect(text).toContain('cdk line 499')
    expect(text).not.toContain('cdk line 299\n')
    expect(text).not.toContain('### Outputs')
    expect(text).not.toContain('### Smoke test')
  })

  it('lists the Lambda versions with the live and previous marks for a rollback', async () => {
    await writeSummary(
      deployedReport({
        command: 'rollback',
        status: 'rolled back',
        smoke: undefined,
        functionVersion: '5',
        previousVersion: '7',
        versions: [
          { version: '7', commit: '1111111111111111', date: '2024-05-02T10:00:00Z', previous: true },
          { version: '6', commit: '2222222222222222', date: '2024-05-01T10:00:00Z' },
          { version: '5', commit: '3333333333333333', date: '2024-04-30T10:00:00Z', current: true }
        ]
      })
    )

    const text = written()
    expect(text).toContain('## ↩️ Preview <code>weather-pr12-stack</code> rolled back to version 5')
    expect(text).toContain('| Version | Commit | Published | Alias |')
    expect(text).toContain('| 7 | <code>111111111111</code> | 2024-05-02T10:00:00Z | previous |')
    expect(text).toContain('| 5 | <code>333333333333</code> | 2024-04-30T10:00:00Z | live |')
  })

  it('reports a removed stack without outputs', async () => {
    await writeSummary(deployedReport({ command: 'destroy', status: 'removed', outputs: {}, smoke: undefined, functionVersion: undefined }))

    const text = written()
    expect(text).toContain('## 🗑️ Preview <code>weather-pr12-stack</code> removed')
    expect(text).not.toContain('### Outputs')
  })

  it('cuts a 2 MB smoke report below the summary limit, failures first', async () => {
    await writeSummary(deployedReport({ smoke: hugeSmokeRun(2_000_000) }))

    const size = fs.statSync(files.summaryFile).size
    expect(size).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES + 1)
    expect(size).toBeGreaterThan(SUMMARY_LIMIT_BYTES * 0.9)
    const text = written()
    expect(text).toMatch(/_… [\d,]+ more tests not shown: a job summary holds at most 1 MiB\._/)
    expect(text.indexOf('❌ Failed')).toBeLessThan(text.indexOf('✅ Passed |'))
    expect(text).toContain('### Time per phase')
  })

  it('shows a passing smoke test with its counts and a failing one with its errors', () => {
    const text = renderSummary(
      deployedReport({
        smoke: {
          engine: 'builtin',
          url: 'https://x.example/mcp',
          outcome: 'failed',
          report: {
            tests: [
              { name: 'call weather', category: 'Tools', status: 'Failed', duration: { secs: 2, nanos: 0 }, error: 'timeout\nafter 2s' }
            ],
            summary: { total: 1, passed: 0, failed: 1, warnings: 0, skipped: 0 }
          }
        }
      })
    )
    expect(text).toContain('## ⚠️ Preview <code>weather-pr12-stack</code> deployed (version 7), but the smoke test failed')
    expect(text).toContain('❌ **Smoke test failed** (builtin): 0 passed, 1 failed, 0 warnings, 0 skipped of 1')
    expect(text).toContain('| call weather | Tools | ❌ Failed | 2.0 s | timeout<br>after 2s |')
  })

  it('skips the summary outside a runner', async () => {
    delete process.env.GITHUB_STEP_SUMMARY
    expect(await writeSummary(deployedReport())).toBe(false)
  })
})
