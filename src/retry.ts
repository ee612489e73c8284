import * as core from '@actions/core'

export interface RetryOptions {
  /** What is being tried, for the log line of each retry. */
  label: string
  /** Total attempts, the first included. */
  attempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** Stop retrying when the error is not transient. Default: retry everything. */
  isRetryable?: (error: unknown) => boolean
  /** Give up once this much time has passed since the first attempt (the next wait included). */
  deadlineMs?: number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Full-jitter exponential backoff: a random wait in [0, min(max, base * 2^attempt)). */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt)
  return Math.floor(random() * ceiling)
}

/** The one retry helper: every AWS, token, download and cold-start call goes through it. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = options.attempts ?? 4
  const baseDelayMs = options.baseDelayMs ?? 500
  const maxDelayMs = options.maxDelayMs ?? 8000
  const wait = options.sleep ?? sleep
  const random = options.random ?? Math.random
  const started = Date.now()
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      const last = attempt + 1 >= attempts
      if (last || (options.isRetryable && !options.isRetryable(error))) throw error
      const delay = backoffDelay(attempt, baseDelayMs, maxDelayMs, random)
      if (options.deadlineMs !== undefined && Date.now() - started + delay > options.deadlineMs) throw error
      const reason = error instanceof Error ? error.message : String(error)
      core.info(`${options.label} failed (attempt ${attempt + 1}/${attempts}): ${reason}; retrying in ${delay} ms`)
      await wait(delay)
    }
  }
}

export interface PollOptions<T> {
  /** Between the end of one read and the next. */
  intervalMs: number
  /** Give up rather than start a wait that would end past this long since the start. */
  timeoutMs: number
  /** Whether a state ends the wait. A state that can never end well throws from the read instead. */
  isDone: (state: T) => boolean
  /** The error thrown when the time is up, from the last state read. */
  timeoutError: (state: T, elapsedMs: number) => Error
  /** After each read that does not end the wait, before the next wait. */
  onProgress?: (state: T, elapsedMs: number) => void
  /** Wait one interval before the first read: an operation just started has nothing new to say yet. */
  waitBeforeFirstRead?: boolean
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

export interface Polled<T> {
  state: T
  /** From the start of the polling to the read that ended it. */
  elapsedMs: number
}

/** The one poller: reads a state every interval until it is done, a read throws, or the time is up. */
export async function pollUntil<T>(read: () => Promise<T>, options: PollOptions<T>): Promise<Polled<T>> {
  const now = options.now ?? Date.now
  const wait = options.sleep ?? sleep
  const started = now()
  if (options.waitBeforeFirstRead) await wait(options.intervalMs)
  for (;;) {
    const state = await read()
    const elapsedMs = now() - started
    if (options.isDone(state)) return { state, elapsedMs }
    options.onProgress?.(state, elapsedMs)
    if (elapsedMs + options.intervalMs > options.timeoutMs) throw options.timeoutError(state, elapsedMs)
    await wait(options.intervalMs)
  }
}
