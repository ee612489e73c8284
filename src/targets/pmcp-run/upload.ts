import { ActionError, errorMessage } from '../../errors.js'
import { HttpStatusError, isTransientError } from '../../http.js'
import { deadlines, fetchText, type TextResponse } from '../../net/deadline.js'
import { networkFailureReason } from '../../net/proxy.js'
import { withRetry } from '../../retry.js'

export interface UploadOptions {
  /** What is uploaded, for messages: the presigned URL itself is never logged (it carries a signature). */
  label: string
  url: string
  body: Uint8Array
  contentType: string
  /** Per attempt [input request-timeout, plus 1 s per 100 KB]. */
  timeoutMs?: number
  sleep?: (ms: number) => Promise<void>
}

/** S3 answers 400 RequestTimeout when the body arrived too slowly: worth another try, like a 5xx. */
class SlowBodyError extends HttpStatusError {}

const isRetryableUpload = (error: unknown): boolean => error instanceof SlowBodyError || isTransientError(error)

/** S3 answers errors in XML: `<Code>AccessDenied</Code>`; anything else is shown in short. */
function s3Reason(status: number, text: string): string {
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1]
  const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1]
  const detail = code ? `${code}${message ? `: ${message}` : ''}` : text.trim().slice(0, 200)
  return `HTTP ${status}${detail ? ` (${detail})` : ''}`
}

/** The request timeout, plus 1 s per 100 KB of body (an upload at 100 KB/s still ends). */
export function uploadTimeoutMs(bytes: number): number {
  return deadlines().requestMs + Math.ceil(bytes / 100)
}

async function put(options: UploadOptions): Promise<void> {
  // The query string carries the signature: it stays out of every message.
  const unsignedUrl = options.url.split('?')[0]
  let response: TextResponse
  try {
    response = await fetchText(
      options.url,
      {
        method: 'PUT',
        headers: { 'content-type': options.contentType },
        body: options.body,
        timeoutMs: options.timeoutMs ?? uploadTimeoutMs(options.body.byteLength)
      },
      `PUT ${unsignedUrl}`
    )
  } catch (error) {
    // fetch's messages name the failure, not the URL; the URL must stay out of the log.
    // No HTTP status: the shared rule takes it for the network, worth another attempt.
    throw new Error(`network error: ${networkFailureReason(error)}`, { cause: error })
  }
  const text = response.text
  if (response.ok) return
  const reason = s3Reason(response.status, text)
  if (/<Code>RequestTimeout<\/Code>/.test(text)) throw new SlowBodyError(response.status, unsignedUrl, reason)
  throw new HttpStatusError(response.status, unsignedUrl, reason)
}

/** PUTs a file to a presigned S3 URL; network errors, timeouts and 5xx are retried. */
export async function uploadToPresignedUrl(options: UploadOptions): Promise<void> {
  try {
    await withRetry(() => put(options), {
      label: `Upload of the ${options.label}`,
      attempts: 5,
      isRetryable: isRetryableUpload,
      deadlineMs: 2 * (options.timeoutMs ?? uploadTimeoutMs(options.body.byteLength)),
      sleep: options.sleep
    })
  } catch (error) {
    if (isRetryableUpload(error)) {
      throw new ActionError(
        `pmcp.run upload of the ${options.label} failed`,
        `The upload of the ${options.label} kept failing: ${errorMessage(error)}. Try the run again later.`
      )
    }
    if (error instanceof HttpStatusError) {
      throw new ActionError(
        `pmcp.run upload of the ${options.label} failed`,
        `The upload of the ${options.label} to its presigned URL was refused: ${error.message}. ` +
          'The URL may have expired (they last a few minutes); run the deploy again.'
      )
    }
    throw error
  }
}
