import type { CleanupRow } from '../lifecycle/cleanup.js'
import type { Command, FailedStackEvent, FunctionLogs, PhaseTiming, SmokeOutcome, SmokeRun, Stage, Target } from '../types.js'

/**
 * What a command ended with:
 * - deploy: `deployed` (smoke test passed, skipped, or failed without rollback), `rolled back` (smoke test
 *   failed and the alias was moved back), `failed`;
 * - rollback: `rolled back`, `failed`; destroy: `removed`, `nothing to remove`, `failed`;
 * - synth: `synthesized`, `failed`; cleanup: `cleaned` (whatever it removed or kept), `failed`.
 */
export type RunStatus = 'deployed' | 'failed' | 'rolled back' | 'removed' | 'nothing to remove' | 'synthesized' | 'cleaned'

/** Where a failed run stopped: a timed pipeline phase, or a step before any of them. */
export type FailurePhase = PhaseTiming['phase'] | 'inputs' | 'config' | 'outputs'

export interface RunFailure {
  phase: FailurePhase
  message: string
  /** Failed CloudFormation resources from the stack events. */
  events?: FailedStackEvent[]
  /** The last lines of the failing tool's output. */
  logLines?: string[]
}

/** One published Lambda version, for the rollback table. */
export interface VersionRow {
  version: string
  commit?: string
  /** ISO 8601 time the version was published. */
  date?: string
  /** The alias `live` points here after the run. */
  current?: boolean
  /** The alias `live` pointed here before the run. */
  previous?: boolean
}

/** Everything reporting needs from one run; the pipeline runner builds it at the end of every command. */
export interface RunReport {
  command: Command
  /** Where it ran (unset before deploy.toml was read): words and console links follow it. */
  target?: Target
  status: RunStatus
  stackName: string
  stage: Stage
  region?: string
  commitSha: string
  /** Link to the commit, when the repository is known. */
  commitUrl?: string
  /** Link to the workflow run (where the job summary is). */
  runUrl?: string
  /** Every stack output by its key (ApiUrl, McpUrl, FunctionName, AliasArn, LogGroupName, …). */
  outputs: Record<string, string>
  /** The Lambda version this run published (deploy) or moved the alias to (rollback). */
  functionVersion?: string
  /** The version the alias pointed at before this run. */
  previousVersion?: string
  smoke?: SmokeRun
  phases: PhaseTiming[]
  failure?: RunFailure
  versions?: VersionRow[]
  deployMethod?: 'hotswap' | 'cloudformation'
  /** The function's latest log lines, read when a deploy or its smoke test failed. */
  functionLogs?: FunctionLogs
  /** `rustc --version` of the toolchain that built the server. */
  rustcVersion?: string
  /** The cargo cache was restored with its exact key; undefined when caching is off. */
  cacheHit?: boolean
  /** The AWS account the run signed in to. */
  awsAccountId?: string
  /** The synthesized CloudFormation template (synth). */
  templatePath?: string
  /** Every preview `command: cleanup` found: removed or kept, and why. */
  cleanup?: CleanupRow[]
  /** A preview deploy: what this change would do to the production stack (src/cdk/diff.ts). */
  infraDiff?: InfraDiff
}

/** How one resource of production's stack changes; `may be replaced` depends on values known only at deploy time. */
export type InfraChange = 'added' | 'changed' | 'replaced' | 'may be replaced' | 'removed' | 'orphaned' | 'imported'

export interface InfraDiffResource {
  logicalId: string
  type: string
  change: InfraChange
  /** The properties that change (for `changed` and the replacements). */
  properties: string[]
  /** Replacement or removal of a resource that holds data (user pool, log group, secret, table, bucket, …). */
  destructive: boolean
}

/** The production stack's deployed template against the one this change would deploy to production. */
export interface InfraDiff {
  productionStack: string
  /** `compared`; `no production` (the stack does not exist yet); `unavailable` (not readable: `reason` says why). */
  state: 'compared' | 'no production' | 'unavailable'
  reason?: string
  /** Changed resources only, destructive first. */
  resources: InfraDiffResource[]
  /** IAM statement changes: the header row, then one row per statement (`+` or `-` first). */
  iamStatements: string[][]
  /** Managed policy attachment changes: header row first. */
  iamManagedPolicies: string[][]
  /** Security-group rule changes: header row first. */
  securityGroups: string[][]
  /** The IAM changes widen permissions. */
  permissionsBroadened: boolean
  /** Changed stack outputs, by key. */
  outputsChanged: string[]
}

/** The `smoke-test` output: the run's outcome; a deploy without a smoke run counts as skipped. */
export function smokeOutcome(report: RunReport): SmokeOutcome | undefined {
  if (report.smoke) return report.smoke.outcome
  return report.command === 'deploy' ? 'skipped' : undefined
}

/** What one deployed build is called on the target: a Cloud Run revision, else a Lambda version. */
export function versionNoun(report: Pick<RunReport, 'target'>): 'revision' | 'version' {
  return report.target === 'google-cloud-run' ? 'revision' : 'version'
}

/** The server name as an MCP client config key: the stack name without its `-stack` suffix. */
export function serverKey(stackName: string): string {
  return stackName.replace(/-stack$/, '') || stackName
}
