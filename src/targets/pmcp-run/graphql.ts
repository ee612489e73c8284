import * as core from '@actions/core'
import { ActionError, errorMessage } from '../../errors.js'
import { HttpStatusError, isTransientError, isTransientStatus } from '../../http.js'
import { withRetry } from '../../retry.js'
import type { TokenSource } from './auth.js'

/** Answer of `getUploadUrls`: presigned S3 PUT URLs and the keys to pass on. */
export interface UploadUrls {
  templateUploadUrl: string
  templateS3Key: string
  bootstrapUploadUrl: string
  bootstrapS3Key: string
  /** Seconds the URLs stay valid. */
  expiresIn: number
}

export interface CreateDeploymentInput {
  templateS3Key: string
  bootstrapS3Key: string
  projectName: string
  runtime: string
  memorySize: number
  timeout: number
  serverVersion?: string
}

export interface DeploymentInfo {
  deploymentId: string
  status: string
  createdAt: string
}

/** Status: pending → validating → deploying → success | failed. */
export interface Deployment {
  id: string
  status: string
  url?: string | null
  projectName?: string | null
  errorMessage?: string | null
  createdAt?: string | null
  completedAt?: string | null
}

export interface DeploymentListItem {
  id: string
  projectName: string
  status?: string | null
  url?: string | null
}

/** Answer of `destroyDeployment`: initiated | deleting (then poll) | deleted | success | failed | delete_failed. */
export interface DestroyAnswer {
  id: string
  stackName?: string | null
  status: string
  message?: string | null
  executionArn?: string | null
}

export interface OperationStatus {
  id: string
  status: string
  message?: string | null
  updatedAt?: string | null
}

export interface PmcpRunApiOptions {
  graphqlUrl: string
  tokens: TokenSource
  /** Per request [30 s]. */
  timeoutMs?: number
  sleep?: (ms: number) => Promise<void>
}

type Outcome<T> = { kind: 'data'; data: T } | { kind: 'unauthorized'; reason: string } | { kind: 'errors'; messages: string[] }

interface GraphqlError {
  message?: string
  errorType?: string
}

const EXPIRED_OR_UNAUTHORIZED = /unauthori[sz]ed|not authori[sz]ed|expired|invalid token|valid authorization header/i

function isUnauthorized(error: GraphqlError): boolean {
  return error.errorType === 'UnauthorizedException' || EXPIRED_OR_UNAUTHORIZED.test(error.message ?? '')
}

const QUERIES = {
  getUploadUrls: `mutation GetUploadUrls($projectName: String!, $templateSize: Int!, $bootstrapSize: Int!) {
  getUploadUrls(projectName: $projectName, templateSize: $templateSize, bootstrapSize: $bootstrapSize) {
    templateUploadUrl templateS3Key bootstrapUploadUrl bootstrapS3Key expiresIn
  }
}`,
  createDeploymentFromS3:
    'mutation CreateDeploymentFromS3($templateS3Key: String!, $bootstrapS3Key: String!, $projectName: String!, ' +
    `$runtime: String, $memorySize: Int, $timeout: Int, $serverVersion: String) {
  createDeploymentFromS3(templateS3Key: $templateS3Key, bootstrapS3Key: $bootstrapS3Key, projectName: $projectName, ` +
    `runtime: $runtime, memorySize: $memorySize, timeout: $timeout, serverVersion: $serverVersion) {
    deploymentId status createdAt
  }
}`,
  getDeployment: `query GetDeployment($id: ID!) {
  getDeployment(id: $id) { id status url projectName errorMessage createdAt completedAt }
}`,
  listDeployments: `query ListDeployments {
  listDeployments { items { id projectName status url } }
}`,
  destroyDeployment: `mutation DestroyDeployment($id: ID!) {
  destroyDeployment(id: $id) { id stackName status message executionArn }
}`,
  getDeploymentOperationStatus: `query GetDeploymentOperationStatus($id: ID!) {
  getDeploymentOperationStatus(id: $id) { id status message updatedAt }
}`
} as const

type Operation = keyof typeof QUERIES

/**
 * The pmcp.run GraphQL API (AppSync). The token goes in `Authorization` as it is, without `Bearer `:
 * that is what the service accepts (cargo-pmcp sends it the same way). A token the service rejects
 * as expired or unauthorized is replaced once by a fresh one; a second rejection is an ActionError.
 */
export class PmcpRunApi {
  constructor(private readonly options: PmcpRunApiOptions) {}

  async getUploadUrls(projectName: string, templateSize: number, bootstrapSize: number): Promise<UploadUrls> {
    return this.call<UploadUrls>('getUploadUrls', { projectName, templateSize, bootstrapSize })
  }

  /** Not retried on a transient failure: a second attempt could start a second deployment. */
  async createDeploymentFromS3(input: CreateDeploymentInput): Promise<DeploymentInfo> {
    return this.call<DeploymentInfo>('createDeploymentFromS3', { ...input }, false)
  }

  async getDeployment(id: string): Promise<Deployment> {
    return this.call<Deployment>('getDeployment', { id })
  }

  async listDeployments(): Promise<DeploymentListItem[]> {
    return (await this.call<{ items: DeploymentListItem[] }>('listDeployments', {})).items
  }

  async destroyDeployment(id: string): Promise<DestroyAnswer> {
    return this.call<DestroyAnswer>('destroyDeployment', { id })
  }

  async getDeploymentOperationStatus(id: string): Promise<OperationStatus> {
    return this.call<OperationStatus>('getDeploymentOperationStatus', { id })
  }

  private async call<T>(operation: Operation, variables: Record<string, unknown>, retry = true): Promise<T> {
    const { tokens } = this.options
    let token = await tokens.token()
    let refreshed = false
    for (;;) {
      const outcome = await this.send<Record<Operation, T | null>>(operation, variables, token, retry)
      if (outcome.kind === 'unauthorized') {
        if (refreshed) {
          throw new ActionError(
            'pmcp.run rejected the access token',
            `pmcp.run rejected a freshly issued token for ${operation} too: ${outcome.reason}. ` +
              `Check that ${tokens.description} may use the pmcp.run API.`
          )
        }
        const fresh = await tokens.refresh()
        if (fresh === undefined) {
          throw new ActionError(
            'pmcp.run rejected the access token',
            `pmcp.run rejected ${tokens.description} (${operation}): ${outcome.reason}. ` +
              'The token has probably expired: pass a fresh one, ' +
              "or set 'pmcp-client-id' and 'pmcp-client-secret' so the action can request new tokens itself."
          )
        }
        core.info(`pmcp.run rejected the access token (${outcome.reason}); retrying ${operation} once with a new token`)
        token = fresh
        refreshed = true
        continue
      }
      if (outcome.kind === 'errors') {
        throw new ActionError(
          `pmcp.run ${operation} failed`,
          `pmcp.run answered ${operation} with an error: ${outcome.messages.join('; ')}`
        )
      }
      const result = outcome.data[operation]
      if (result === null || result === undefined) {
        throw new ActionError(`pmcp.run ${operation} failed`, `pmcp.run answered ${operation} without a result (no error message given).`)
      }
      return result
    }
  }

  private async send<T>(operation: Operation, variables: Record<string, unknown>, token: string, retry: boolean): Promise<Outcome<T>> {
    try {
      return await withRetry(() => this.post<T>(operation, variables, token), {
        label: `pmcp.run ${operation}`,
        attempts: retry ? 4 : 1,
        isRetryable: isTransientError,
        sleep: this.options.sleep
      })
    } catch (error) {
      if (isTransientError(error)) {
        throw new ActionError(
          'pmcp.run API unavailable',
          `pmcp.run ${operation} at ${this.options.graphqlUrl} failed: ${errorMessage(error)}. Try the run again later.`
        )
      }
      throw error
    }
  }

  private async post<T>(operation: Operation, variables: Record<string, unknown>, token: string): Promise<Outcome<T>> {
    let response: Response
    try {
      response = await fetch(this.options.graphqlUrl, {
        method: 'POST',
        headers: { authorization: token, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: QUERIES[operation], variables }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000)
      })
    } catch (error) {
      // No HTTP status: the shared rule takes it for the network, worth another attempt.
      throw new Error(`could not reach the API: ${errorMessage(error)}`, { cause: error })
    }
    const text = await response.text()
    let body: { data?: T | null; errors?: GraphqlError[] } | undefined
    try {
      body = JSON.parse(text) as typeof body
    } catch {
      body = undefined
    }
    const errors = body?.errors ?? []
    const reason =
      errors.map(error => error.message ?? error.errorType ?? 'unknown error').join('; ') ||
      text.trim().slice(0, 200) ||
      `HTTP ${response.status}`
    if (isTransientStatus(response.status))
      throw new HttpStatusError(response.status, this.options.graphqlUrl, `HTTP ${response.status}: ${reason}`)
    if (response.status === 401 || errors.some(isUnauthorized)) return { kind: 'unauthorized', reason }
    if (!response.ok) return { kind: 'errors', messages: [`HTTP ${response.status}: ${reason}`] }
    if (errors.length > 0) return { kind: 'errors', messages: errors.map(error => error.message ?? error.errorType ?? 'unknown error') }
    if (!body?.data) return { kind: 'errors', messages: [`no data in the answer (${reason})`] }
    return { kind: 'data', data: body.data }
  }
}
