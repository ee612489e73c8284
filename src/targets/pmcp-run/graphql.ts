import * as core from '@actions/core'
import { ActionError, errorMessage } from '../../errors.js'
import { HttpStatusError, httpStatusOf, isTransientError, isTransientStatus } from '../../http.js'
import { deadlines, fetchText, type TextResponse } from '../../net/deadline.js'
import { describeRoute, networkFailureReason } from '../../net/proxy.js'
import { withRetry } from '../../retry.js'
import type { TokenSource } from './auth.js'

/** pmcp.run runs every server on Lambda's custom runtime: cargo pmcp sends this literal. */
export const PMCP_RUN_RUNTIME = 'provided.al2023'
/**
 * What cargo pmcp 0.28 sends as `memorySize` and `timeout`, always: the sizing pmcp.run applies is
 * the one in the uploaded template (`[server] memory_mb` / `timeout_seconds` rendered into it).
 */
export const PMCP_RUN_MEMORY_SIZE = 512
export const PMCP_RUN_TIMEOUT = 30

/** Answer of `getUploadUrls`: presigned S3 PUT URLs and the keys to pass on. */
export interface UploadUrls {
  templateUploadUrl: string
  templateS3Key: string
  bootstrapUploadUrl: string
  bootstrapS3Key: string
  /** Seconds the URLs stay valid. */
  expiresIn: number
}

/** `[composition]` of deploy.toml; what is absent gets cargo pmcp's default. */
export interface CompositionSettings {
  /** ["foundation"] */
  tier?: string
  /** [true] */
  allowComposition?: boolean
  /** [false] */
  internalOnly?: boolean
  /** Sent as `compositionDescription` [null]. */
  description?: string
}

export interface CreateDeploymentInput {
  templateS3Key: string
  bootstrapS3Key: string
  /** The project on pmcp.run: the server name, or `<name>-pr<N>` for a preview. */
  projectName: string
  /** The crate's version [null]. */
  serverVersion?: string
  composition?: CompositionSettings
}

export interface DeploymentInfo {
  deploymentId: string
  status: string
  projectName?: string | null
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
  executionArn?: string | null
  updatedAt?: string | null
}

/** Arguments of `configureServerOAuth`; what is not given is sent as null (the service's default). */
export interface ConfigureServerOAuthInput {
  serverId: string
  enabled: boolean
  scopes?: string[] | null
  dcrEnabled?: boolean | null
  publicClientPatterns?: string[] | null
  sharedPoolName?: string | null
}

/** Answer of `configureServerOAuth`. */
export interface ServerOAuthConfig {
  serverId: string
  oauthEnabled: boolean
  userPoolId?: string | null
  userPoolRegion?: string | null
  discoveryUrl?: string | null
  registrationEndpoint?: string | null
  authorizationEndpoint?: string | null
  tokenEndpoint?: string | null
}

/** Answer of `fetchServerOAuthEndpoints`. */
export interface ServerOAuthEndpoints extends ServerOAuthConfig {
  provider?: string | null
  scopes?: string[] | null
  dcrEnabled?: boolean | null
}

export interface PmcpRunApiOptions {
  graphqlUrl: string
  tokens: TokenSource
  /** Per request [input request-timeout]. */
  timeoutMs?: number
  sleep?: (ms: number) => Promise<void>
  /**
   * The GraphQL URL discovery advertises now, read afresh; undefined when it cannot move (given by
   * PMCP_RUN_GRAPHQL_URL) or cannot be read. Asked once when the endpoint does not know an operation
   * (a stale URL); without it such an error stands.
   */
  rediscover?: () => Promise<string | undefined>
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

/**
 * cargo pmcp's `looks_like_unknown_schema`: the endpoint does not know the operation, which it says
 * (AppSync, graphql-java) with these words, case-sensitive, in an error message or an HTTP error body.
 */
export function looksLikeUnknownSchema(text: string): boolean {
  return text.includes('FieldUndefined') || text.includes('UnknownType') || text.includes('Validation error')
}

/** The operations of cargo-pmcp 0.28 (pmcp_run/graphql.rs), word for word; only the indentation differs. */
export const QUERIES = {
  getUploadUrls: `
mutation GetUploadUrls(
    $projectName: String!,
    $templateSize: Int!,
    $bootstrapSize: Int!
) {
    getUploadUrls(
        projectName: $projectName,
        templateSize: $templateSize,
        bootstrapSize: $bootstrapSize
    ) {
        templateUploadUrl
        templateS3Key
        bootstrapUploadUrl
        bootstrapS3Key
        expiresIn
    }
}
`,
  createDeploymentFromS3: `
mutation CreateDeploymentFromS3(
    $templateS3Key: String!,
    $bootstrapS3Key: String!,
    $projectName: String!,
    $runtime: String,
    $memorySize: Int,
    $timeout: Int,
    $serverVersion: String,
    $tier: String,
    $allowComposition: Boolean,
    $internalOnly: Boolean,
    $compositionDescription: String
) {
    createDeploymentFromS3(
        templateS3Key: $templateS3Key,
        bootstrapS3Key: $bootstrapS3Key,
        projectName: $projectName,
        runtime: $runtime,
        memorySize: $memorySize,
        timeout: $timeout,
        serverVersion: $serverVersion,
        tier: $tier,
        allowComposition: $allowComposition,
        internalOnly: $internalOnly,
        compositionDescription: $compositionDescription
    ) {
        deploymentId
        status
        projectName
        createdAt
    }
}
`,
  getDeployment: `
query GetDeployment($id: ID!) {
    getDeployment(id: $id) {
        id
        status
        url
        projectName
        errorMessage
        createdAt
        completedAt
    }
}
`,
  listDeployments: `
query ListDeployments {
    listDeployments {
        items {
            id
            projectName
            status
            url
        }
    }
}
`,
  destroyDeployment: `
mutation DestroyDeployment($id: ID!) {
    destroyDeployment(id: $id) {
        id
        stackName
        status
        message
        executionArn
    }
}
`,
  getDeploymentOperationStatus: `
query GetDeploymentOperationStatus($id: ID!) {
    getDeploymentOperationStatus(id: $id) {
        id
        status
        message
        executionArn
        updatedAt
    }
}
`,
  configureServerOAuth: `
mutation ConfigureServerOAuth(
    $serverId: String!
    $enabled: Boolean!
    $scopes: [String]
    $dcrEnabled: Boolean
    $publicClientPatterns: [String]
    $sharedPoolName: String
) {
    configureServerOAuth(
        serverId: $serverId
        enabled: $enabled
        scopes: $scopes
        dcrEnabled: $dcrEnabled
        publicClientPatterns: $publicClientPatterns
        sharedPoolName: $sharedPoolName
    ) {
        serverId
        oauthEnabled
        userPoolId
        userPoolRegion
        discoveryUrl
        registrationEndpoint
        authorizationEndpoint
        tokenEndpoint
    }
}
`,
  fetchServerOAuthEndpoints: `
query FetchServerOAuthEndpoints($serverId: String!) {
    fetchServerOAuthEndpoints(serverId: $serverId) {
        serverId
        oauthEnabled
        provider
        userPoolId
        userPoolRegion
        scopes
        dcrEnabled
        discoveryUrl
        registrationEndpoint
        authorizationEndpoint
        tokenEndpoint
    }
}
`
} as const

export type Operation = keyof typeof QUERIES

/**
 * The variables of `createDeploymentFromS3` as cargo pmcp 0.28 sends them: every one, an unknown
 * value as null; runtime, memory and timeout as its literals; composition with its defaults.
 */
export function createDeploymentVariables(input: CreateDeploymentInput): Record<string, unknown> {
  const composition = input.composition ?? {}
  return {
    templateS3Key: input.templateS3Key,
    bootstrapS3Key: input.bootstrapS3Key,
    projectName: input.projectName,
    runtime: PMCP_RUN_RUNTIME,
    memorySize: PMCP_RUN_MEMORY_SIZE,
    timeout: PMCP_RUN_TIMEOUT,
    serverVersion: input.serverVersion ?? null,
    tier: composition.tier ?? 'foundation',
    allowComposition: composition.allowComposition ?? true,
    internalOnly: composition.internalOnly ?? false,
    compositionDescription: composition.description ?? null
  }
}

interface CallOptions {
  /** Transient failures are retried [true]. */
  retry?: boolean
  /** A null result is an answer (the operation's root is nullable upstream) rather than an error [false]. */
  nullable?: boolean
}

/**
 * The pmcp.run GraphQL API (AppSync). The token goes in `Authorization` as it is, without `Bearer `:
 * that is what the service accepts (cargo-pmcp sends it the same way). A token the service rejects
 * as expired or unauthorized is replaced once by a fresh one; a second rejection is an ActionError.
 * An endpoint that does not know an operation is asked to discovery once more (see `rediscover`).
 */
export class PmcpRunApi {
  private url: string

  constructor(private readonly options: PmcpRunApiOptions) {
    this.url = options.graphqlUrl
  }

  /** The GraphQL URL in use: the one given, or the one discovery advertised after a schema error. */
  get graphqlUrl(): string {
    return this.url
  }

  async getUploadUrls(projectName: string, templateSize: number, bootstrapSize: number): Promise<UploadUrls> {
    return this.call<UploadUrls>('getUploadUrls', { projectName, templateSize, bootstrapSize })
  }

  /** Not retried on a transient failure: a second attempt could start a second deployment. */
  async createDeploymentFromS3(input: CreateDeploymentInput): Promise<DeploymentInfo> {
    return this.call<DeploymentInfo>('createDeploymentFromS3', createDeploymentVariables(input), { retry: false })
  }

  /** Null: pmcp.run knows no deployment with this id. */
  async getDeployment(id: string): Promise<Deployment | null> {
    return this.call<Deployment>('getDeployment', { id }, { nullable: true })
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

  async configureServerOAuth(input: ConfigureServerOAuthInput): Promise<ServerOAuthConfig> {
    return this.call<ServerOAuthConfig>('configureServerOAuth', {
      serverId: input.serverId,
      enabled: input.enabled,
      scopes: input.scopes ?? null,
      dcrEnabled: input.dcrEnabled ?? null,
      publicClientPatterns: input.publicClientPatterns ?? null,
      sharedPoolName: input.sharedPoolName ?? null
    })
  }

  /** Null: OAuth is not configured for this server. */
  async fetchServerOAuthEndpoints(serverId: string): Promise<ServerOAuthEndpoints | null> {
    return this.call<ServerOAuthEndpoints>('fetchServerOAuthEndpoints', { serverId }, { nullable: true })
  }

  private call<T>(operation: Operation, variables: Record<string, unknown>, options: CallOptions & { nullable: true }): Promise<T | null>
  private call<T>(operation: Operation, variables: Record<string, unknown>, options?: CallOptions): Promise<T>
  private async call<T>(operation: Operation, variables: Record<string, unknown>, options: CallOptions = {}): Promise<T | null> {
    const { tokens } = this.options
    let token = await tokens.token()
    let refreshed = false
    let moved = false
    for (;;) {
      const outcome = await this.send<Record<Operation, T | null>>(operation, variables, token, options.retry ?? true)
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
        const text = outcome.messages.join('; ')
        if (!moved && looksLikeUnknownSchema(text) && (await this.moveToRediscoveredUrl(operation, text))) {
          moved = true
          continue
        }
        throw new ActionError(`pmcp.run ${operation} failed`, `pmcp.run answered ${operation} with an error: ${text}`)
      }
      const result = outcome.data[operation]
      if (result === null || result === undefined) {
        if (options.nullable) return null
        throw new ActionError(`pmcp.run ${operation} failed`, `pmcp.run answered ${operation} without a result (no error message given).`)
      }
      return result
    }
  }

  /**
   * cargo pmcp's single retry after a schema error: pmcp.run merges several source APIs, and a URL
   * that points at one of them (a stale one) knows only part of the schema. When discovery now
   * advertises another URL, that one is used from then on.
   */
  private async moveToRediscoveredUrl(operation: Operation, reason: string): Promise<boolean> {
    const fresh = await this.options.rediscover?.()
    if (fresh === undefined || fresh === this.url) return false
    core.info(
      `pmcp.run at ${this.url} does not know ${operation} (${reason.slice(0, 200)}); ` +
        `discovery now advertises ${fresh}: retrying ${operation} there once, and using it from now on`
    )
    this.url = fresh
    return true
  }

  private async send<T>(operation: Operation, variables: Record<string, unknown>, token: string, retry: boolean): Promise<Outcome<T>> {
    try {
      return await withRetry(() => this.post<T>(operation, variables, token), {
        label: `pmcp.run ${operation}`,
        attempts: retry ? 4 : 1,
        isRetryable: isTransientError,
        deadlineMs: deadlines().budgetMs,
        sleep: this.options.sleep
      })
    } catch (error) {
      if (isTransientError(error)) {
        throw new ActionError(
          'pmcp.run API unavailable',
          `pmcp.run ${operation} at ${this.url} failed: ${errorMessage(error)}. ` +
            (retry ? 'Try the run again later.' : 'It was not repeated (it could start a second deployment); try the run again later.') +
            (httpStatusOf(error) === undefined ? ` ${describeRoute(this.url)}` : '')
        )
      }
      throw error
    }
  }

  private async post<T>(operation: Operation, variables: Record<string, unknown>, token: string): Promise<Outcome<T>> {
    const url = this.url
    let response: TextResponse
    try {
      response = await fetchText(
        url,
        {
          method: 'POST',
          headers: { authorization: token, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query: QUERIES[operation], variables }),
          timeoutMs: this.options.timeoutMs
        },
        `pmcp.run ${operation}`
      )
    } catch (error) {
      // No HTTP status: the shared rule takes it for the network, worth another attempt.
      throw new Error(`could not reach the API: ${networkFailureReason(error)}`, { cause: error })
    }
    const text = response.text
    let body: { data?: T | null; errors?: GraphqlError[] } | undefined
    try {
      body = JSON.parse(text) as typeof body
    } catch {
      body = undefined
    }
    const errors = Array.isArray(body?.errors) ? body.errors : []
    const reason =
      errors.map(error => error.message ?? error.errorType ?? 'unknown error').join('; ') ||
      text.trim().slice(0, 200) ||
      `HTTP ${response.status}`
    if (isTransientStatus(response.status)) throw new HttpStatusError(response.status, url, `HTTP ${response.status}: ${reason}`)
    if (response.status === 401 || errors.some(isUnauthorized)) return { kind: 'unauthorized', reason }
    if (!response.ok) return { kind: 'errors', messages: [`HTTP ${response.status}: ${reason}`] }
    // As cargo pmcp: any error message fails the call, even beside partial data.
    if (errors.length > 0) return { kind: 'errors', messages: errors.map(error => error.message ?? error.errorType ?? 'unknown error') }
    if (!body?.data) return { kind: 'errors', messages: [`no data in the answer (${reason})`] }
    return { kind: 'data', data: body.data }
  }
}
