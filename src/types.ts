/** Types shared between modules. Each module owns its own options; these cross module lines. */

export type Command = 'deploy' | 'synth' | 'rollback' | 'destroy'
export type Stage = 'production' | 'preview'
export type Architecture = 'arm64' | 'x86_64'

/** mcp-tester's JSON report (DESIGN section 6); the builtin engine produces the same shape. */
export type SmokeTestStatus = 'Passed' | 'Failed' | 'Warning' | 'Skipped'

export interface SmokeTestResult {
  name: string
  category: string
  status: SmokeTestStatus
  duration: { secs: number; nanos: number }
  error?: string | null
  details?: unknown
}

export interface SmokeReport {
  tests: SmokeTestResult[]
  summary: { total: number; passed: number; failed: number; warnings: number; skipped: number }
}

export type SmokeOutcome = 'passed' | 'failed' | 'skipped'

/** A smoke-test run as reporting sees it. */
export interface SmokeRun {
  engine: 'mcp-tester' | 'builtin'
  url: string
  outcome: SmokeOutcome
  report: SmokeReport
}

/** Time spent in one phase of the pipeline, for the job summary. */
export interface PhaseTiming {
  phase: 'toolchain' | 'build' | 'render' | 'synth' | 'credentials' | 'secrets' | 'deploy' | 'smoke test' | 'rollback' | 'destroy'
  ms: number
}

/** A failed CloudFormation resource, as reported from the stack events. */
export interface FailedStackEvent {
  logicalId: string
  resourceType: string
  status: string
  reason: string
}

/** The function's latest CloudWatch log lines, shown when a deploy or its smoke test fails. */
export interface FunctionLogs {
  logGroupName: string
  /** Oldest first, each `<ISO time> <message>`; secret values replaced by `***`. */
  lines: string[]
  /** Start of the window read (ISO 8601): the beginning of the deploy. */
  since: string
}
