import type { NodeHttpHandler } from '@smithy/node-http-handler'
import type { HandlerExecutionContext, MiddlewareStack } from '@smithy/types'
import { isTransientStatus } from '../http.js'
import { deadlines } from '../net/deadline.js'
import { classifyAwsFault, FaultError, type AwsCallSite } from '../net/faults.js'
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
  requestHandler: NodeHttpHandler
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- every client's stack, whatever its input and output types
type AnyMiddlewareStack = MiddlewareStack<any, any>

/**
 * The one factory for AWS SDK clients. Endpoints are not set here on purpose: SDK v3 already
 * honours `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` from the environment (as does the CDK
 * CLI, which is built on the same SDK), so emulators work the same way for both. The SDK's own
 * retries are off because every call goes through `withRetry`. Every request has the deadlines of
 * src/net/deadline.ts; with HTTPS_PROXY / HTTP_PROXY set, requests go through the proxy unless
 * NO_PROXY (or a loopback endpoint) exempts the host. Every error of a call carries `pmcpCall`
 * (client, command, endpoint), for the message that explains it.
 */
export function awsClient<Client extends { middlewareStack: AnyMiddlewareStack }>(
  ClientClass: new (config: ClientConfig) => Client,
  context: AwsContext
): Client {
  const client = new ClientClass({ region: context.region, maxAttempts: 1, requestHandler: awsRequestHandler() })
  client.middlewareStack.add(
    (next, handlerContext: HandlerExecutionContext) => async args => {
      try {
        return await next(args)
      } catch (error) {
        if (error !== null && typeof error === 'object') {
          const endpoint = (handlerContext as { endpointV2?: { url?: URL } }).endpointV2?.url
          const site: AwsCallSite = {
            clientName: handlerContext.clientName ?? ClientClass.name,
            commandName: handlerContext.commandName ?? 'call',
            endpoint: endpoint?.href
          }
          Object.defineProperty(error, 'pmcpCall', { value: site, enumerable: false, configurable: true })
        }
        throw error
      }
    },
    { step: 'initialize', name: 'pmcpCallSite', priority: 'high' }
  )
  return client
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
  return awsErrorName(error) === 'CredentialsProviderError'
}

/** The name of an AWS error, also of one `awsCall` has explained already (a FaultError keeps it as its cause). */
export function awsErrorName(error: unknown): string | undefined {
  const original = error instanceof FaultError ? error.cause : error
  return (original as AwsErrorShape | undefined)?.name
}

/**
 * One AWS call with the shared retry policy, within the retry budget of src/net/deadline.ts. A
 * fault (a refused permission, expired credentials, throttling, 5xx, the network, the deadline, an
 * answer that is not AWS's) ends as a FaultError that names the call, the permission and what to
 * do; any other answer of the service (ValidationError, ResourceNotFoundException, …) is thrown
 * as it is, for the caller to interpret.
 */
export async function awsCall<T>(
  label: string,
  context: AwsContext,
  call: () => Promise<T>,
  isRetryable = isTransientAwsError
): Promise<T> {
  try {
    return await withRetry(() => call(), { label, isRetryable, deadlineMs: deadlines().budgetMs, ...context.retry })
  } catch (error) {
    throw classifyAwsFault(error, label) ?? error
  }
}
