import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { HttpStatusError, httpStatusOf, isTransientError, REQUEST_TIMEOUT } from '../http.js'
import { withRetry } from '../retry.js'

export interface DownloadOptions {
  /** Injected by tests to skip the backoff waits. */
  sleep?: (ms: number) => Promise<void>
  attempts?: number
}

/** The shared rule, and a 408 too: a release host that timed out on one GET usually serves the next. */
const isRetryable = (error: unknown): boolean => httpStatusOf(error) === REQUEST_TIMEOUT || isTransientError(error)

async function get(url: string): Promise<Response> {
  const response = await fetch(url, { redirect: 'follow' })
  if (!response.ok) {
    await response.body?.cancel()
    throw new HttpStatusError(response.status, url, `GET ${url} answered HTTP ${response.status}`)
  }
  return response
}

/** Downloads url to dest, retrying transient failures (network errors, 5xx) with jittered backoff. */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  await withRetry(
    async () => {
      const response = await get(url)
      if (!response.body) throw new Error(`GET ${url} returned no body`)
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), fs.createWriteStream(dest))
    },
    { label: `Download of ${url}`, isRetryable, sleep: options.sleep, attempts: options.attempts }
  )
}

export async function downloadText(url: string, options: DownloadOptions = {}): Promise<string> {
  return withRetry(async () => (await get(url)).text(), {
    label: `Download of ${url}`,
    isRetryable,
    sleep: options.sleep,
    attempts: options.attempts
  })
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(fs.createReadStream(file), hash)
  return hash.digest('hex')
}

/** The digest in a `.sha256` file: `<hex>` or `<hex>  <name>` (sha256sum / shasum -a 256 output). */
export function parseSha256File(text: string): string | undefined {
  const match = /^\s*([0-9a-fA-F]{64})(?:\s|$)/.exec(text)
  return match?.[1].toLowerCase()
}
