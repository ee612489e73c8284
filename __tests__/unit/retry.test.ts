import { backoffDelay, withRetry } from '../../src/retry.js'

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
