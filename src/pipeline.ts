import * as core from '@actions/core'
import type { RunContext } from './context.js'
import { ActionError, errorMessage } from './errors.js'
import type { ActionInputs, InputName } from './inputs.js'
import { guardRun } from './lifecycle/guards.js'
import { untrustedRunNotice } from './lifecycle/routing.js'
import { resolvePlan, type Plan } from './plan.js'
import { publishReport, type RunFailure, type RunReport, type RunStatus } from './report/index.js'
import { writeNoteSummary } from './report/summary.js'
import { targetModule } from './targets/index.js'
import { resolveStage } from './names.js'
import type { Command, PhaseTiming } from './types.js'

export type Phase = PhaseTiming['phase']

/** What the report says beyond the run's identity: phases fill it in as they learn it, so a failure still reports it. */
export type ReportFacts = Omit<
  RunReport,
  'command' | 'target' | 'status' | 'stackName' | 'stage' | 'region' | 'commitSha' | 'commitUrl' | 'runUrl' | 'phases' | 'failure'
>

/** One command run, as its phases see it. */
export interface PipelineRun {
  readonly plan: Plan
  readonly facts: ReportFacts
  /** Runs one timed phase; a failure inside it is reported as that phase's. */
  phase: <T>(name: Phase, work: () => Promise<T> | T) => Promise<T>
}

/** A command of a target: its phases, and what a failure leaves behind. */
export interface CommandPipeline {
  /** Runs the phases in order and says how the run ended; a throw is a failure. */
  run(run: PipelineRun): Promise<RunStatus>
  /** The status a failure ends in (default `failed`): a deploy that is live but failed its smoke test is still `deployed`. */
  statusAfterFailure?(facts: ReportFacts): RunStatus
  /** Reads what explains a failure (the function's logs) into the facts; never throws. */
  explainFailure?(facts: ReportFacts): Promise<void>
}

/** Deploy and destroy never run for a fork's pull request or pull_request_target: they get a notice with this title. */
const UNTRUSTED_SKIP_TITLES: Partial<Record<Command, string>> = {
  deploy: 'Deploy skipped',
  destroy: 'Destroy skipped',
  cleanup: 'Cleanup skipped'
}

/** Times the phases for the summary, and knows which one a failure happened in. */
class PhaseClock {
  readonly timings: PhaseTiming[] = []
  current?: Phase

  async time<T>(phase: Phase, work: () => Promise<T> | T): Promise<T> {
    this.current = phase
    const started = Date.now()
    try {
      return await work()
    } finally {
      this.timings.push({ phase, ms: Date.now() - started })
    }
  }
}

export interface PipelineOptions {
  /** The inputs the user set (not left at their default): decides whether the `target` input or deploy.toml picks the target. */
  setByUser: readonly InputName[]
  /** Where the report goes (outputs, summary, PR comment); tests inject one. */
  publish?: (report: RunReport, inputs: ActionInputs, context: RunContext) => Promise<void>
}

async function publishToRunner(report: RunReport, inputs: ActionInputs, context: RunContext): Promise<void> {
  await publishReport(report, {
    comment: inputs.comment,
    githubToken: inputs.githubToken,
    prNumber: inputs.prNumber,
    event: { name: context.eventName, payload: context.event }
  })
}

/**
 * The one skeleton every command of every target runs in: the untrusted-run check, the plan, the
 * target's phases (timed), and one report at the end, success or failure. This is the only place
 * that publishes a report, so the only place that sets action outputs.
 */
export async function runPipeline(inputs: ActionInputs, context: RunContext, options: PipelineOptions): Promise<void> {
  const skipTitle = UNTRUSTED_SKIP_TITLES[inputs.command]
  const skip = skipTitle && untrustedRunNotice(context)
  if (skip) {
    core.notice(skip, { title: skipTitle })
    // No report (and no PR comment: the run has no permission to write one), but the run's page says why.
    await writeNoteSummary(`⏭️ ${skipTitle}`, skip)
    return
  }
  const publish = options.publish ?? publishToRunner
  let plan: Plan
  try {
    plan = resolvePlan(inputs, context, { setByUser: options.setByUser })
  } catch (error) {
    await publish(configFailureReport(inputs, context, error), inputs, context)
    throw error
  }
  const target = targetModule(plan.target)
  const clock = new PhaseClock()
  const facts: ReportFacts = { outputs: {} }
  const identity = {
    command: plan.command,
    target: plan.target,
    stackName: plan.names.stackName,
    stage: plan.names.stage,
    region: target.reportsAwsRegion ? plan.region : undefined,
    commitSha: context.commitSha,
    runUrl: context.runUrl,
    commitUrl: context.commitUrl
  }
  let pipeline: CommandPipeline | undefined
  try {
    // The preview of a closed pull request is removed instead; production runs only from its branch.
    const guarded = await guardRun(plan)
    pipeline = commandOf(guarded)
    const status = await pipeline.run({ plan: guarded, facts, phase: (name, work) => clock.time(name, work) })
    await publish({ ...identity, ...facts, status, phases: clock.timings }, plan.inputs, context)
  } catch (error) {
    const status = pipeline?.statusAfterFailure?.(facts) ?? 'failed'
    await pipeline?.explainFailure?.(facts)
    await publish(
      { ...identity, ...facts, status, phases: clock.timings, failure: failureOf(error, clock.current ?? 'inputs') },
      plan.inputs,
      context
    )
    throw error
  }
}

/** The target's command, or an error that says which commands the target has. */
function commandOf(plan: Plan): CommandPipeline {
  const { commands, whyNot } = targetModule(plan.target)
  const command = commands[plan.command]
  if (command) return command(plan)
  const available = Object.keys(commands).join(', ')
  const verb = plan.command[0].toUpperCase() + plan.command.slice(1)
  throw new ActionError(
    `${verb} is not supported for ${plan.target}`,
    `command '${plan.command}' is not available for target ${plan.target} (it has: ${available}). ${whyNot?.[plan.command] ?? ''}`.trim()
  )
}

/** A failure as the report shows it: the phase it happened in and the message users act on. */
function failureOf(error: unknown, phase: RunFailure['phase']): RunFailure {
  return { phase, message: errorMessage(error) }
}

/**
 * The report of a run whose deploy.toml could not be read: no stack name is known yet, so the
 * report (and its PR comment) is named after the configuration file, which is what needs fixing.
 */
function configFailureReport(inputs: ActionInputs, context: RunContext, error: unknown): RunReport {
  return {
    command: inputs.command,
    status: 'failed',
    stackName: inputs.config,
    stage: resolveStage(inputs.environment, context.eventName),
    commitSha: context.commitSha,
    runUrl: context.runUrl,
    commitUrl: context.commitUrl,
    outputs: {},
    phases: [],
    failure: failureOf(error, 'config')
  }
}
