import { backoffDelay, pollUntil, withRetry, type PollOptions } from '../../src/retry.js'

const noSleep = async (): Promise<void> => {}

describe('withRetry', () => {
  it('retries a failing call until it succeeds', async () => {
    let calls = 0
    const result = await withRetry(
      async () => {
        calls++
        if (calls < 3) throw new Error(`transient ${calls}`)
        return 'ok'
      },
      { label: 'test call', attempts: 4, sleep: noSleep }
    )
    expect(result).toBe('ok')
    expect(calls).toBe(3)
  })

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0
    await expect(
      withRetry(
        async () => {
          calls++
          throw new Error(`boom ${calls}`)
        },
        { label: 'test call', attempts: 3, sleep: noSleep }
      )
    ).rejects.toThrow('boom 3')
    expect(calls).toBe(3)
  })

  it('does not retry an error that is not retryable', async () => {
    let calls = 0
    await expect(
      withRetry(
        async () => {
          calls++
          throw new Error('AccessDenied')
        },
        { label: 'test call', attempts: 5, sleep: noSleep, isRetryable: e => !(e as Error).message.includes('AccessDenied') }
      )
    ).rejects.toThrow('AccessDenied')
    expect(calls).toBe(1)
  })

  it('stops before a wait that would pass the deadline', async () => {
    let calls = 0
    await expect(
      withRetry(
        async () => {
          calls++
          throw new Error('slow')
        },
        { label: 'test call', attempts: 10, baseDelayMs: 1000, deadlineMs: 500, random: () => 0.99, sleep: noSleep }
      )
    ).rejects.toThrow('slow')
    expect(calls).toBe(1)
  })

  it('waits with full jitter under an exponential, capped ceiling', () => {
    expect(backoffDelay(0, 500, 8000, () => 0.5)).toBe(250)
    expect(backoffDelay(3, 500, 8000, () => 0.5)).toBe(2000)
    expect(backoffDelay(10, 500, 8000, () => 0.999)).toBeLessThan(8000)
    expect(backoffDelay(2, 500, 8000, () => 0)).toBe(0)
  })
})

describe('pollUntil', () => {
  /** A fake clock that sleeping advances, and the reads in order; a read past the last repeats it. */
  function poller(states: string[], extra: Partial<PollOptions<string>> = {}) {
    let clock = 0
    const reads: number[] = []
    const progress: Array<[string, number]> = []
    const read = async (): Promise<string> => {
      reads.push(clock)
      return states[Math.min(reads.length, states.length) - 1]
    }
    const options: PollOptions<string> = {
      intervalMs: 5000,
      timeoutMs: 60_000,
      isDone: state => state === 'done',
      timeoutError: (state, elapsedMs) => new Error(`still ${state} after ${elapsedMs} ms`),
      onProgress: (state, elapsedMs) => progress.push([state, elapsedMs]),
      sleep: async ms => void (clock += ms),
      now: () => clock,
      ...extra
    }
    return { run: () => pollUntil(read, options), reads, progress }
  }

  it('reads until the state is done and says when that was', async () => {
    const p = poller(['pending', 'working', 'done'])
    expect(await p.run()).toEqual({ state: 'done', elapsedMs: 10_000 })
    expect(p.reads).toEqual([0, 5000, 10_000])
    expect(p.progress).toEqual([
      ['pending', 0],
      ['working', 5000]
    ])
  })

  it('gives up rather than start a wait that would end past the deadline', async () => {
    const p = poller(['working'], { timeoutMs: 12_000 })
    await expect(p.run()).rejects.toThrow('still working after 10000 ms')
    expect(p.reads).toEqual([0, 5000, 10_000])
  })

  it('reads one last time at a deadline the interval divides', async () => {
    const p = poller(['working'], { timeoutMs: 15_000 })
    await expect(p.run()).rejects.toThrow('still working after 15000 ms')
    expect(p.reads).toEqual([0, 5000, 10_000, 15_000])
  })

  it('can wait one interval before the first read', async () => {
    const p = poller(['working', 'done'], { waitBeforeFirstRead: true })
    expect(await p.run()).toEqual({ state: 'done', elapsedMs: 10_000 })
    expect(p.reads).toEqual([5000, 10_000])
  })

  it('stops at once when a read throws', async () => {
    let reads = 0
    const failing = pollUntil(
      async () => {
        reads++
        throw new Error('the operation failed')
      },
      { intervalMs: 1, timeoutMs: 1000, isDone: () => false, timeoutError: () => new Error('timed out'), sleep: noSleep }
    )
    await expect(failing).rejects.toThrow('the operation failed')
    expect(reads).toBe(1)
  })
})
