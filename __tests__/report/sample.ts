import type { RunReport } from '../../src/report/model.js'
import type { SmokeRun, SmokeTestResult } from '../../src/types.js'

export const STACK = 'weather-pr12-stack'
export const MCP_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/mcp'

export function smokeRun(tests: SmokeTestResult[], outcome: SmokeRun['outcome'] = 'passed'): SmokeRun {
  const count = (status: SmokeTestResult['status']): number => tests.filter(test => test.status === status).length
  return {
    engine: 'mcp-tester',
    url: MCP_URL,
    outcome,
    report: {
      tests,
      summary: {
        total: tests.length,
        passed: count('Passed'),
        failed: count('Failed'),
        warnings: count('Warning'),
        skipped: count('Skipped')
      }
    }
  }
}

export function deployedReport(overrides: Partial<RunReport> = {}): RunReport {
  return {
    command: 'deploy',
    status: 'deployed',
    stackName: STACK,
    stage: 'preview',
    region: 'us-east-1',
    commitSha: '0123456789abcdef0123456789abcdef01234567',
    commitUrl: 'https://github.com/acme/weather/commit/0123456789abcdef0123456789abcdef01234567',
    runUrl: 'https://github.com/acme/weather/actions/runs/42',
    outputs: {
      ApiUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/',
      McpUrl: MCP_URL,
      FunctionName: 'weather-pr12',
      AliasArn: 'arn:aws:lambda:us-east-1:123456789012:function:weather-pr12:live',
      LogGroupName: '/aws/lambda/weather-pr12'
    },
    functionVersion: '7',
    previousVersion: '6',
    smoke: smokeRun([
      { name: 'initialize', category: 'Core', status: 'Passed', duration: { secs: 0, nanos: 120_000_000 } },
      { name: 'tools/list', category: 'Tools', status: 'Passed', duration: { secs: 1, nanos: 500_000_000 } }
    ]),
    phases: [
      { phase: 'toolchain', ms: 12_000 },
      { phase: 'build', ms: 95_000 },
      { phase: 'deploy', ms: 61_500 },
      { phase: 'smoke test', ms: 900 }
    ],
    deployMethod: 'cloudformation',
    ...overrides
  }
}

/** A smoke report of about `bytes` bytes: many tests with long errors. */
export function hugeSmokeRun(bytes: number): SmokeRun {
  const error = 'connection reset by peer while reading the response body; '.repeat(2)
  const count = Math.ceil(bytes / (error.length + 100))
  const tests: SmokeTestResult[] = Array.from({ length: count }, (_, index) => ({
    name: `tool_call_${index}`,
    category: 'Tools',
    status: index % 10 === 0 ? 'Failed' : 'Passed',
    duration: { secs: 0, nanos: 5_000_000 },
    error: `${error}(${index})`
  }))
  return smokeRun(tests, 'failed')
}
