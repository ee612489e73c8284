/** Running the real action (`node dist/index.js`) for the demo, and reading what it reported. */
import type { ActionRun } from '../testkit/runner.js'

/** `::error title=T::message` → `error: T: message`; warnings likewise (what a runner shows as annotations). */
export function annotations(run: ActionRun, levels: Array<'error' | 'warning'> = ['error', 'warning']): string[] {
  const unescape = (text: string): string =>
    text.replace(/%0A/g, ' ').replace(/%0D/g, '').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')
  return run.stdout
    .split('\n')
    .map(line => /^::(error|warning)(?: ([^:]*))?::(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && levels.includes(match[1] as 'error' | 'warning'))
    .map(([, level, properties, message]) => {
      const title = properties
        ?.split(',')
        .find(property => property.startsWith('title='))
        ?.slice('title='.length)
      return `${level}: ${title ? `${unescape(title)}: ` : ''}${unescape(message)}`
    })
}

/** Throws with the action's error annotations (or the end of its log) when the run failed. */
export function requireSuccess(run: ActionRun): ActionRun {
  if (run.exitCode === 0) return run
  const errors = annotations(run, ['error'])
  const tail = `${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-25)
  throw new Error(`node dist/index.js exited with ${run.exitCode}:\n${(errors.length > 0 ? errors : tail).join('\n')}`)
}
