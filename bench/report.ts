/**
 * What the bench scripts share: timing, medians, and the figure lines `bench/all.ts` collects.
 * A line that states a goal ends with `: met` or `: NOT met`.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await fn()
  return performance.now() - started
}

/** The middle value (the upper one of the two middles for an even count). */
export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/**
 * The median of the per-round ratios `numerator[i] / denominator[i]`: runs of one round are
 * neighbours in time, so the load other processes put on the machine cancels out better than in a
 * ratio of medians.
 */
export function pairedRatio(numerator: number[], denominator: number[]): number {
  return median(numerator.map((value, round) => value / denominator[round]))
}

/** Every run, in milliseconds, for the reader to judge the noise. */
export const list = (values: number[]): string => `[${values.map(ms => ms.toFixed(0)).join(', ')}]`

export const verdict = (met: boolean): string => (met ? 'met' : 'NOT met')

export interface Goal {
  /** e.g. `≤ 1.10 (issue 9)`, `< 500 ms (ours)`. */
  text: string
  met: boolean
}

/** `  label ........ value   goal ≤ 1.10 (issue 9): met` */
export function figureLine(label: string, value: string, goal?: Goal): string {
  const line = `  ${label.padEnd(50)} ${value}`
  return goal ? `${line.padEnd(80)} goal ${goal.text}: ${verdict(goal.met)}` : line
}

/** How many timed runs a script does: `BENCH_RUNS` when set, else its own default. */
export function runCount(fallback: number): number {
  const runs = Number(process.env.BENCH_RUNS)
  return Number.isInteger(runs) && runs > 0 ? runs : fallback
}

/** Total bytes of the files under dir. */
export function directoryBytes(dir: string): number {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile())
    .reduce((sum, entry) => sum + fs.statSync(path.join(entry.parentPath, entry.name)).size, 0)
}

/** Runs fn with this process's stdout (the action's log) swallowed, so only the figures are printed. */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = () => true
  try {
    return await fn()
  } finally {
    process.stdout.write = write
  }
}
