/** Progress lines per phase (`▶ 1/7 … ` then `✔ 1/7 … 8.2 s`) and cleanup of what the demo started. */

export class PhaseFailed extends Error {
  constructor(
    readonly phase: string,
    reason: string
  ) {
    super(reason)
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** Indents detail lines under the phase they belong to. */
export function detail(...lines: string[]): void {
  for (const line of lines) console.log(line === '' ? '' : `    ${line}`)
}

export class Progress {
  private done = 0

  constructor(readonly total: number) {}

  /** Runs one phase; a failure becomes PhaseFailed naming the phase. */
  async phase<T>(title: string, work: () => Promise<T> | T): Promise<T> {
    const label = `${++this.done}/${this.total} ${title}`
    console.log(`▶ ${label} …`)
    const started = performance.now()
    try {
      const result = await work()
      console.log(`✔ ${label}  ${seconds(performance.now() - started)}`)
      return result
    } catch (error) {
      console.log(`✘ ${label}  failed after ${seconds(performance.now() - started)}`)
      throw new PhaseFailed(label, error instanceof Error ? error.message : String(error))
    }
  }

  /** A phase that cannot run here (a tool is missing): said so, and the demo goes on. */
  skip(title: string, reason: string): void {
    console.log(`– ${++this.done}/${this.total} ${title}  skipped: ${reason}`)
  }
}

/**
 * What has to be stopped or removed, last started first. `run` is idempotent, so the normal end and
 * an interrupt (Ctrl-C, SIGTERM) can both call it.
 */
export class Cleanup {
  private readonly steps: Array<() => unknown> = []
  private running: Promise<void> | undefined

  add(step: () => unknown): void {
    this.steps.push(step)
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step()
        } catch (error) {
          console.error(`cleanup: ${error instanceof Error ? error.message : String(error)}`)
        }
      }
    })()
    return this.running
  }
}
