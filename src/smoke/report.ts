import type { SmokeOutcome, SmokeReport, SmokeTestResult, SmokeTestStatus } from '../types.js'

export const TEST_STATUSES: readonly SmokeTestStatus[] = ['Passed', 'Failed', 'Warning', 'Skipped']

/** A duration the way mcp-tester serialises Rust's `std::time::Duration`. */
export function toDuration(ms: number): SmokeTestResult['duration'] {
  const nanosTotal = Math.max(0, Math.round(ms * 1e6))
  return { secs: Math.floor(nanosTotal / 1e9), nanos: nanosTotal % 1e9 }
}

/** Milliseconds since `startedAt` (a `performance.now()` reading). */
export function elapsedSince(startedAt: number): SmokeTestResult['duration'] {
  return toDuration(performance.now() - startedAt)
}

export function reportOf(tests: SmokeTestResult[]): SmokeReport {
  const count = (status: SmokeTestStatus): number => tests.filter(test => test.status === status).length
  return {
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

/** One report from several runs (mcp-tester `test` + `scenario`); the summary is recounted. */
export function mergeReports(...reports: SmokeReport[]): SmokeReport {
  return reportOf(reports.flatMap(report => report.tests))
}

export function outcomeOf(report: SmokeReport): SmokeOutcome {
  return report.tests.some(test => test.status === 'Failed') ? 'failed' : 'passed'
}
