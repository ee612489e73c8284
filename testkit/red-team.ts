/**
 * The contract every red-team case holds the action to (issue 19): a fault or a bad input ends in
 * exit 1 (or the documented success) with exactly one `::error` that names the file/line/key, the
 * input or the call; no stack trace, no "unexpected error", no hang, the job summary written, and no
 * secret anywhere the action writes. `expectHandledFault` checks all of it at once and fails with
 * the classes of what went wrong, so a failing case says at a glance which class it is in.
 */
import { parseAnnotations, type Annotation } from './annotations.js'
import { runAction, type ActionRun } from './runner.js'

export type FailureClass = 'crash' | 'wrong message' | 'hang' | 'leak' | 'accepted bad input' | 'no report'

export interface TimedRun extends ActionRun {
  /** Wall-clock time of the run. */
  ms: number
  /** The run did not end by itself within `killAfterMs` and was stopped. */
  killed: boolean
}

export interface RunOptions {
  /** Stop the run (SIGTERM) after this long; it then counts as a hang [60 s]. */
  killAfterMs?: number
}

/** runAction with a clock and a limit: a run that never ends is stopped and reported as a hang, not a jest timeout. */
export async function runTimed(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  options: RunOptions = {}
): Promise<TimedRun> {
  const killAfterMs = options.killAfterMs ?? 60_000
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), killAfterMs)
  const started = Date.now()
  try {
    const run = await runAction(inputs, env, { signal: controller.signal })
    return { ...run, ms: Date.now() - started, killed: controller.signal.aborted }
  } finally {
    clearTimeout(timer)
  }
}

export interface HandledFaultExpectations {
  /** 1 (the default) or the documented success, 0. */
  exitCode?: 0 | 1
  /** What the one `::error` says (exit 1). With exit 0 there must be no `::error` at all. */
  error?: RegExp
  /** The annotation's `file` property (relative to the workspace) and `line` (one of them, when the problem spans lines). */
  file?: string
  line?: number | number[]
  /** A `::warning` that must be there (e.g. a PR comment that could not be written). */
  warning?: RegExp
  /** Values that must not appear in stdout (except `::add-mask::` lines), stderr, outputs, summary or `written`. */
  secrets?: string[]
  /** Everything else the action wrote that a secret must not reach: PR comment bodies, files. */
  written?: string[]
  /** The job summary must be written [true]. */
  summary?: boolean
  /** The run must end within this long (deadlines) [no limit besides the kill]. */
  maxMs?: number
  /** Things that happened although the problem was knowable before (a stack in moto, a CDK project rendered). */
  sideEffects?: string[]
}

export interface Problem {
  class: FailureClass
  detail: string
}

/** A frame of a JavaScript stack trace (`    at fn (file:///…/index.js:1:2)`, `    at node:internal/…`), not another program's. */
const STACK_FRAME = /^\s*at (?:.*?[(\s])?(?:file:\/\/|node:|\/\S*\.[cm]?[jt]s:)\S*:\d+(?::\d+)?\)?$/
/** The same inside a workflow command, where core escapes newlines as %0A. */
const ESCAPED_STACK_FRAME = /%0A\s*at (?:.*?[(\s])?(?:file:\/\/|node:|\/\S*\.[cm]?[jt]s:)\S*:\d+/

/** Stack frames outside `::debug::` lines (where the action may put them on purpose). */
function stackFrames(text: string): string[] {
  return text.split('\n').filter(line => !line.startsWith('::debug::') && (STACK_FRAME.test(line) || ESCAPED_STACK_FRAME.test(line)))
}

function errorsOf(annotations: Annotation[]): Annotation[] {
  return annotations.filter(annotation => annotation.level === 'error')
}

function describeAnnotation(annotation: Annotation): string {
  const where = annotation.properties.file ? ` file=${annotation.properties.file}:${annotation.properties.line ?? '?'}` : ''
  return `${annotation.properties.title ?? ''}${where}: ${annotation.message}`
}

/** Everything wrong with a run against the contract, each with its class. */
export function problemsOf(run: TimedRun, expected: HandledFaultExpectations): Problem[] {
  const problems: Problem[] = []
  const add = (problemClass: FailureClass, detail: string): number => problems.push({ class: problemClass, detail })
  const exitCode = expected.exitCode ?? 1
  const annotations = parseAnnotations(run.stdout)
  const errors = errorsOf(annotations)

  if (run.killed) add('hang', `still running after ${run.ms} ms; stopped`)
  else if (expected.maxMs !== undefined && run.ms > expected.maxMs)
    add('hang', `took ${run.ms} ms, more than the ${expected.maxMs} ms allowed`)

  const frames = [...stackFrames(run.stdout), ...stackFrames(run.stderr)]
  if (frames.length > 0) add('crash', `stack trace: ${frames.slice(0, 2).join(' | ').trim()}`)
  const unexpected = /unexpected error|This is unexpected/i.exec(run.stdout + run.stderr)
  if (unexpected) add('crash', `"${unexpected[0]}": ${errors.map(describeAnnotation).join(' / ')}`)
  if (!run.killed && run.exitCode !== 0 && run.exitCode !== 1) add('crash', `exit code ${run.exitCode}: ${run.stderr.slice(-300)}`)

  if (!run.killed) {
    if (exitCode === 1 && run.exitCode === 0) add('accepted bad input', `exit 0 where 1 was expected`)
    if (exitCode === 0 && run.exitCode === 1) add('wrong message', `exit 1 where the documented success is exit 0`)
  }
  for (const effect of expected.sideEffects ?? []) add('accepted bad input', effect)

  if (!run.killed) {
    if (exitCode === 1) {
      if (errors.length !== 1) {
        add(
          'wrong message',
          `${errors.length} ::error annotations, expected 1${errors.length ? `: ${errors.map(describeAnnotation).join(' / ')}` : ''}`
        )
      }
      const [error] = errors
      if (error && expected.error && !expected.error.test(`${error.properties.title ?? ''}: ${error.message}`)) {
        add('wrong message', `::error does not match ${expected.error}: ${describeAnnotation(error)}`)
      }
      if (error && expected.file !== undefined && error.properties.file !== expected.file) {
        add('wrong message', `::error file=${error.properties.file ?? '(none)'}, expected ${expected.file}`)
      }
      const lines = [expected.line ?? []].flat().map(String)
      if (error && lines.length > 0 && !lines.includes(error.properties.line ?? '')) {
        add('wrong message', `::error line=${error.properties.line ?? '(none)'}, expected ${lines.join(' or ')}`)
      }
    } else if (errors.length > 0) {
      add('wrong message', `::error where none was expected: ${errors.map(describeAnnotation).join(' / ')}`)
    }
    if (expected.warning) {
      const warnings = annotations.filter(annotation => annotation.level === 'warning')
      if (!warnings.some(warning => expected.warning?.test(`${warning.properties.title ?? ''}: ${warning.message}`))) {
        add(
          'wrong message',
          `no ::warning matches ${expected.warning}${warnings.length ? `: ${warnings.map(describeAnnotation).join(' / ')}` : ''}`
        )
      }
    }
    if ((expected.summary ?? true) && run.summary.trim() === '') add('no report', 'the job summary is empty')
  }

  const places: Record<string, string> = {
    stdout: run.stdout.replace(/^::add-mask::.*$/gm, ''),
    stderr: run.stderr,
    outputs: JSON.stringify(run.outputs),
    summary: run.summary
  }
  ;(expected.written ?? []).forEach((text, i) => (places[`written[${i}]`] = text))
  // What the action masked itself (the AWS session credentials, tokens it obtained) counts as secret too.
  const masked = [...run.stdout.matchAll(/^::add-mask::(.+)$/gm)].map(match => match[1]).filter(value => value.length >= 8)
  for (const secret of new Set([...(expected.secrets ?? []), ...masked])) {
    for (const [place, text] of Object.entries(places)) {
      if (text.includes(secret)) add('leak', `secret ${secret.slice(0, 4)}… in ${place}`)
    }
  }
  return problems
}

/**
 * Asserts the contract; on failure the error starts with the classes, e.g.
 * `[crash, no report] …`, followed by each problem and the end of the run's output.
 */
export function expectHandledFault(run: TimedRun, expected: HandledFaultExpectations = {}): void {
  const problems = problemsOf(run, expected)
  if (problems.length === 0) return
  const classes = [...new Set(problems.map(problem => problem.class))]
  const tail = run.stdout
    .split('\n')
    .filter(line => !line.startsWith('::debug::'))
    .slice(-12)
    .join('\n')
  throw new Error(
    `[${classes.join(', ')}] ${problems.map(problem => `${problem.class}: ${problem.detail}`).join('\n')}\n` +
      `--- exit ${run.exitCode} after ${run.ms} ms; stdout ends:\n${tail}\n--- stderr ends:\n${run.stderr.slice(-600)}`
  )
}
