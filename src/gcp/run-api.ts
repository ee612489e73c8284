/**
 * The Cloud Run Admin API v2 over REST (https://cloud.google.com/run/docs/reference/rest/v2): the
 * few calls the action makes on one project and region. Create, update and delete answer with a
 * long-running operation, which `waitOperation` follows to its end.
 */
import * as core from '@actions/core'
import { ActionError } from '../action-error.js'
import { deadlines, formatSeconds } from '../net/deadline.js'
import { gcpEndpoints, type GcpEndpoints } from './endpoints.js'
import type { GcpCall } from './permissions.js'
import { GcpApiError, googleJson, type AccessTokenSource, type RetryTuning } from './rest.js'
import type { IamPolicy, Operation, Revision, RunService } from './run-types.js'

export interface CloudRunApiOptions {
  project: string
  region: string
  credentials: AccessTokenSource
  /** [from the environment: `gcpEndpoints()`] */
  endpoints?: GcpEndpoints
  retry?: RetryTuning
  /** How long `waitOperation` follows an operation before giving up [10 minutes]. */
  operationTimeoutMs?: number
}

/** An operation that ended with an error: its message is what Cloud Run says went wrong (a revision's condition). */
export class OperationFailedError extends ActionError {
  constructor(
    readonly operation: Operation,
    what: string
  ) {
    const error = operation.error ?? { code: 0, message: '(no message)' }
    super('Cloud Run operation failed', `${what} failed: ${error.message} (operation ${operation.name}, code ${error.code})`)
  }
}

const DEFAULT_OPERATION_TIMEOUT_MS = 10 * 60_000

/** Revisions asked for per page: the API's maximum is larger, but a page this size keeps answers small and fast. */
const REVISIONS_PAGE_SIZE = 100

interface RevisionPage {
  revisions?: Revision[]
  nextPageToken?: string
}

export class CloudRunApi {
  private readonly endpoints: GcpEndpoints

  constructor(private readonly options: CloudRunApiOptions) {
    this.endpoints = options.endpoints ?? gcpEndpoints()
  }

  /** `projects/<project>/locations/<region>` */
  get parent(): string {
    return `projects/${this.options.project}/locations/${this.options.region}`
  }

  /** `projects/<project>/locations/<region>/services/<serviceId>` */
  serviceName(serviceId: string): string {
    return `${this.parent}/services/${serviceId}`
  }

  /** The service, or undefined when it does not exist (yet). */
  async getService(serviceId: string): Promise<RunService | undefined> {
    return this.orUndefinedIfMissing(this.request<RunService>('getService', 'GET', this.serviceName(serviceId)))
  }

  /** Starts creating `serviceId`; `service.name` is ignored by the API (the name comes from the query). */
  async createService(serviceId: string, service: RunService): Promise<Operation> {
    return this.request<Operation>('createService', 'POST', `${this.parent}/services?serviceId=${encodeURIComponent(serviceId)}`, service)
  }

  /**
   * Starts replacing the service with `service`, which names it (`name`) and carries the `etag` it
   * was read with: the API refuses the update (409) when someone changed the service since.
   */
  async updateService(service: RunService): Promise<Operation> {
    if (!service.name) throw new Error('updateService needs the service as read (with its name)')
    return this.request<Operation>('updateService', 'PATCH', service.name, service)
  }

  /** Starts deleting the service; undefined when it does not exist. */
  async deleteService(serviceId: string): Promise<Operation | undefined> {
    return this.orUndefinedIfMissing(this.request<Operation>('deleteService', 'DELETE', this.serviceName(serviceId)))
  }

  /**
   * Follows `operation` until it is done (`POST …:wait`, which holds each request until the
   * operation ends or its timeout passes). An operation that ends with an error is an
   * OperationFailedError carrying Cloud Run's message; one still running after the operation timeout
   * is an ActionError.
   */
  async waitOperation(operation: Operation, what = 'The Cloud Run operation'): Promise<Operation> {
    const timeoutMs = this.options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS
    const started = Date.now()
    let current = operation
    while (!current.done) {
      const remainingMs = timeoutMs - (Date.now() - started)
      if (remainingMs <= 0) {
        throw new ActionError(
          'Cloud Run operation timed out',
          `${what} was still running after ${formatSeconds(timeoutMs)} (operation ${current.name}). ` +
            `Follow it in the Cloud Run console; run the job again once it has ended.`
        )
      }
      // The server may hold a :wait as long as its timeout: that must end well inside this request's own deadline.
      const waitSeconds = Math.max(1, Math.min(Math.floor(remainingMs / 1000), Math.floor(deadlines().requestMs / 2000)))
      current = await this.request<Operation>('waitOperation', 'POST', `${current.name}:wait`, { timeout: `${waitSeconds}s` })
      if (!current.done) core.info(`${what}: still running after ${formatSeconds(Date.now() - started)}`)
    }
    if (current.error) throw new OperationFailedError(current, what)
    return current
  }

  /** Every revision of the service (all pages), as the API orders them: newest first. */
  async listRevisions(serviceId: string): Promise<Revision[]> {
    const revisions: Revision[] = []
    let pageToken: string | undefined
    do {
      const query = new URLSearchParams({ pageSize: String(REVISIONS_PAGE_SIZE) })
      if (pageToken) query.set('pageToken', pageToken)
      const page = await this.request<RevisionPage>('listRevisions', 'GET', `${this.serviceName(serviceId)}/revisions?${query.toString()}`)
      revisions.push(...(page.revisions ?? []))
      pageToken = page.nextPageToken || undefined
    } while (pageToken)
    return revisions
  }

  /** A revision by its short name (`<service>-00004-xyz`) or full name; undefined when it does not exist. */
  async getRevision(serviceId: string, revision: string): Promise<Revision | undefined> {
    const name = revision.includes('/') ? revision : `${this.serviceName(serviceId)}/revisions/${revision}`
    return this.orUndefinedIfMissing(this.request<Revision>('getRevision', 'GET', name))
  }

  /** The service's IAM policy, at version 3 so that conditional bindings are read (and written back) whole. */
  async getIamPolicy(serviceId: string): Promise<IamPolicy> {
    return this.request<IamPolicy>(
      'getServiceIamPolicy',
      'GET',
      `${this.serviceName(serviceId)}:getIamPolicy?options.requestedPolicyVersion=3`
    )
  }

  /** Replaces the service's IAM policy; the policy's `etag` makes it fail (409 ABORTED) if the policy changed since it was read. */
  async setIamPolicy(serviceId: string, policy: IamPolicy): Promise<IamPolicy> {
    return this.request<IamPolicy>('setServiceIamPolicy', 'POST', `${this.serviceName(serviceId)}:setIamPolicy`, { policy })
  }

  private async orUndefinedIfMissing<T>(pending: Promise<T>): Promise<T | undefined> {
    try {
      return await pending
    } catch (error) {
      if (error instanceof GcpApiError && error.kind === 'not-found') return undefined
      throw error
    }
  }

  private request<T>(call: GcpCall, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const { credentials } = this.options
    return googleJson<T>({
      api: 'run',
      call,
      method,
      url: `${this.endpoints.run}/v2/${path}`,
      token: () => credentials.accessToken(),
      body,
      grant: { serviceAccount: credentials.serviceAccount, project: this.options.project },
      retry: this.options.retry
    })
  }
}
