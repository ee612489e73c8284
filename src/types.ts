/** Types shared between modules. Each module owns its own options; these cross module lines. */

/**
 * The value lists inputs, deploy.toml and the types are all built from: a new target, architecture
 * or smoke engine is one entry here.
 */
export const COMMANDS = ['deploy', 'synth', 'rollback', 'destroy', 'cleanup'] as const
export const TARGETS = ['aws-lambda', 'pmcp-run', 'google-cloud-run'] as const
/** Targets cargo-pmcp 0.28 deploys to that this action does not deploy yet: deploy.toml names them, the run stops. */
export const NOT_YET_SUPPORTED_TARGETS = ['azure-container-apps', 'cloudflare-workers'] as const
export const STAGES = ['production', 'preview'] as const
export const ARCHITECTURES = ['arm64', 'x86_64'] as const
export const SMOKE_ENGINES = ['mcp-tester', 'builtin', 'none'] as const

export type Command = (typeof COMMANDS)[number]
export type Target = (typeof TARGETS)[number]
export type Stage = (typeof STAGES)[number]
export type Architecture = (typeof ARCHITECTURES)[number]
export type SmokeEngine = (typeof SMOKE_ENGINES)[number]

/** mcp-tester's JSON report; the builtin engine produces the same shape, so reporting reads one. */
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
  engine: Exclude<SmokeEngine, 'none'>
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
  /** Oldest first, each `<ISO time> <message>`, as logged: masked values are redacted when the report is written. */
  lines: string[]
  /** Start of the window read (ISO 8601): the beginning of the deploy. */
  since: string
}
