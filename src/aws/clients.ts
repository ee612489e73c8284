import type { NodeHttpHandler } from '@smithy/node-http-handler'
import { isTransientStatus } from '../http.js'
import { awsRequestHandler } from '../net/proxy.js'
import { withRetry, type RetryOptions } from '../retry.js'

/** Retry tuning a caller may override (tests inject a fast sleep). */
export type RetryTuning = Partial<Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'>>

/** Where AWS calls go: every module of src/aws takes one of these. */
export interface AwsContext {
  region: string
  retry?: RetryTuning
}

interface ClientConfig {
  region: string
  maxAttempts: number
  requestHandler?: NodeHttpHandler
}

/**
 * The one factory for AWS SDK clients. Endpoints are not set here on purpose: SDK v3 already
 * honours `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` from the environment (as does the CDK
 * CLI, which is built on the same SDK), so emulators work the same way for both. The SDK's own
 * retries are off because every call goes through `withRetry`. With HTTPS_PROXY / HTTP_PROXY set,
 * requests go through the proxy unless NO_PROXY (or a loopback endpoint) exempts the host.
 */
export function awsClient<Client>(ClientClass: new (config: ClientConfig) => Client, context: AwsContext): Client {
  const requestHandler = awsRequestHandler()
  return new ClientClass({ region: context.region, maxAttempts: 1, ...(requestHandler && { requestHandler }) })
}

interface AwsErrorShape {
  name?: string
  $retryable?: unknown
  $metadata?: { httpStatusCode?: number }
}

const TRANSIENT_ERROR_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalFailure',
  'IDPCommunicationError'
])

/** Throttling, 5xx and network errors are worth another attempt; a rejected request is not. */
export function isTransientAwsError(error: unknown): boolean {
  const shape = (error ?? {}) as AwsErrorShape
  if (shape.name && TRANSIENT_ERROR_NAMES.has(shape.name)) return true
  if (shape.$retryable) return true
  const status = shape.$metadata?.httpStatusCode
  if (status === undefined) return !isCredentialsMissing(error)
  return isTransientStatus(status)
}

/** The SDK found no credentials anywhere in its provider chain. */
export function isCredentialsMissing(error: unknown): boolean {
  return (error as AwsErrorShape | undefined)?.name === 'CredentialsProviderError'
}

export function awsErrorName(error: unknown): string | undefined {
  return (error as AwsErrorShape | undefined)?.name
}

/** One AWS call with the shared retry policy. */
export function awsCall<T>(label: string, context: AwsContext, call: () => Promise<T>, isRetryable = isTransientAwsError): Promise<T> {
  return withRetry(() => call(), { label, isRetryable, ...context.retry })
}
