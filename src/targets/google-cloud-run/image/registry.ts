/**
 * A client of the registry HTTP API v2 (the OCI distribution spec): manifests, blobs and blob
 * uploads of one registry, with Docker's token authentication, the action's deadlines, retries of
 * transient faults, and registry errors (`{"errors":[{"code","message"}]}`) turned into messages
 * that name the registry URL, the operation, the code and what to check.
 */
import { createHash } from 'node:crypto'
import { ActionError } from '../../../action-error.js'
import { HttpStatusError, isTransientError, isTransientStatus } from '../../../http.js'
import { DeadlineError, deadlines } from '../../../net/deadline.js'
import { classifyNetworkFault, excerpt, FaultError, safeUrl } from '../../../net/faults.js'
import { withRetry } from '../../../retry.js'
import { errorCodes, RegistryAuth, type RegistryCredentials } from './auth.js'
import { registryUrl, type RegistryEndpoint } from './reference.js'

/** The manifest types the action reads: Docker schema 2 and OCI, single images and lists. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

/**
 * The slowest transfer a blob request is allowed before its deadline: a request may take the
 * request timeout plus one second per MiB, so a 300 MiB base layer gets five minutes, not 30 s.
 */
const MIN_BYTES_PER_SECOND = 1024 * 1024

/** How long a request that moves `bytes` may take. */
export function transferTimeoutMs(bytes: number): number {
  return deadlines().requestMs + Math.ceil(bytes / MIN_BYTES_PER_SECOND) * 1000
}

const MAX_REDIRECTS = 5

/** What a refused call was, for the advice of the caller. */
export interface RegistryFailure {
  status: number
  /** The first error code of the answer (`DENIED`, `NAME_UNKNOWN`, …), or UNAUTHORIZED for a 401 without one. */
  code?: string
  operation: string
}

/** A registry's error answer, kept with its status and codes for callers that act on them. */
export class RegistryAnswerError extends ActionError {
  constructor(
    title: string,
    message: string,
    readonly status: number,
    readonly codes: string[]
  ) {
    super(title, message)
  }
}

export interface RegistryClientOptions {
  registry: RegistryEndpoint
  credentials?: RegistryCredentials
  /** Every token is asked for these (`repository:<name>:pull` or `:pull,push`). */
  scopes: string[]
  /** What to check, by the failure: differs for the base (pull) and the destination (push). */
  advise: (failure: RegistryFailure) => string
  /** What to check when the token service refuses the credentials. */
  credentialAdvice: string
  sleep?: (ms: number) => Promise<void>
}

interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH'
  /** Absolute, or a path under the registry. */
  url: string
  /** For messages: `reading the manifest of debian:bookworm`. */
  operation: string
  headers?: Record<string, string>
  body?: Buffer
  timeoutMs?: number
  /** Statuses that are answers rather than failures. */
  expect: number[]
  /** Repeat on a transient fault. False for requests that change an upload's state. */
  retry?: boolean
}

export interface RegistryResponse {
  status: number
  headers: Headers
  body: Buffer
  url: string
}

export interface Manifest {
  mediaType: string
  bytes: Buffer
  /** sha256 of the bytes. */
  digest: string
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/** The fetch of one request, its answer read whole, within its deadline; a DeadlineError names the call otherwise. */
async function fetchBuffer(url: string, init: RequestInit, timeoutMs: number, call: string): Promise<RegistryResponse> {
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    const response = await fetch(url, { ...init, signal, redirect: 'manual' })
    const body = init.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await response.arrayBuffer())
    return { status: response.status, headers: response.headers, body, url }
  } catch (error) {
    if (signal.aborted) throw new DeadlineError(call, timeoutMs)
    throw error
  }
}

/** One registry, spoken to with one set of credentials. */
export class RegistryClient {
  readonly baseUrl: string
  private readonly auth: RegistryAuth

  constructor(private readonly options: RegistryClientOptions) {
    this.baseUrl = registryUrl(options.registry)
    this.auth = new RegistryAuth({
      host: options.registry.host,
      credentials: options.credentials,
      scopes: options.scopes,
      refusalAdvice: options.credentialAdvice
    })
  }

  get host(): string {
    return this.options.registry.host
  }

  /** A manifest or index by tag or digest, its bytes as served; a digest reference must match them. */
  async getManifest(repository: string, reference: string, operation: string): Promise<Manifest> {
    const response = await this.request({
      method: 'GET',
      url: `/v2/${repository}/manifests/${reference}`,
      operation,
      headers: { accept: MANIFEST_ACCEPT },
      expect: [200]
    })
    const digest = sha256Digest(response.body)
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new ActionError(
        'Manifest does not match its digest',
        `${this.host} served ${repository}@${reference} (${operation}) with bytes whose digest is ${digest}. ` +
          'A registry or proxy altered the answer: check the route to the registry.'
      )
    }
    let mediaType = response.headers.get('content-type')?.split(';')[0].trim() ?? ''
    try {
      const declared = (JSON.parse(response.body.toString('utf8')) as { mediaType?: unknown }).mediaType
      if (typeof declared === 'string') mediaType = declared
    } catch {
      throw new ActionError(
        'Manifest is not JSON',
        `${this.host} answered ${operation} (GET ${this.baseUrl}/v2/${repository}/manifests/${reference}) with something that ` +
          `is not a JSON manifest: ${excerpt(response.body.toString('utf8'))}`
      )
    }
    return { mediaType, bytes: response.body, digest }
  }

  /** A small blob (an image config), read whole and checked against its digest. */
  async getBlob(repository: string, digest: string, operation: string): Promise<Buffer> {
    const response = await this.followRedirects({ method: 'GET', url: `/v2/${repository}/blobs/${digest}`, operation, expect: [200] })
    const actual = sha256Digest(response.body)
    if (actual !== digest) {
      throw new ActionError(
        'Blob does not match its digest',
        `${this.host} served ${repository} blob ${digest} (${operation}) with bytes whose digest is ${actual}: ` +
          'check the route to the registry.'
      )
    }
    return response.body
  }

  /**
   * A blob as a stream, read as the caller consumes it (a base layer is never held whole in memory).
   * The whole transfer has the deadline of its size, twice over: the stream is read while its chunks
   * are uploaded elsewhere. A transient fault is thrown explained (`isRegistryFault` knows it), for
   * the caller to start the transfer over.
   */
  async *streamBlob(repository: string, digest: string, size: number, operation: string): AsyncGenerator<Buffer> {
    const timeoutMs = 2 * transferTimeoutMs(size)
    const signal = AbortSignal.timeout(timeoutMs)
    const request: RegistryRequest = { method: 'GET', url: `/v2/${repository}/blobs/${digest}`, operation, expect: [200] }
    const call = `GET ${safeUrl(this.absolute(request.url))}`
    try {
      const { response, url } = await this.openStream(this.absolute(request.url), signal)
      if (response.status !== 200 || !response.body) {
        const answer = { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()), url }
        if (isTransientStatus(response.status)) throw new HttpStatusError(response.status, call, `${call}: HTTP ${response.status}`)
        throw this.refusal(request, answer)
      }
      for await (const chunk of response.body) yield Buffer.from(chunk as Uint8Array)
    } catch (error) {
      throw explainRegistryFault(this.host, call, operation, signal.aborted ? new DeadlineError(call, timeoutMs) : error)
    }
  }

  /** GET with the registry's credentials, following redirects to storage without them. */
  private async openStream(start: string, signal: AbortSignal): Promise<{ response: Response; url: string }> {
    let target = start
    for (let redirects = 0; ; redirects++) {
      const ours = new URL(target).host === new URL(this.baseUrl).host
      const get = async (): Promise<Response> => {
        const authorization = ours ? await this.auth.authorization() : undefined
        return fetch(target, { headers: authorization ? { authorization } : {}, redirect: 'manual', signal })
      }
      let response = await get()
      if (response.status === 401 && ours && (await this.auth.answer(response.headers.get('www-authenticate')))) {
        await response.body?.cancel()
        response = await get()
      }
      const location = response.headers.get('location')
      if (response.status < 300 || response.status >= 400 || !location || redirects >= MAX_REDIRECTS) {
        return { response, url: target }
      }
      await response.body?.cancel()
      target = new URL(location, target).toString()
    }
  }

  /** Whether the repository has the blob (HEAD; a redirect to storage means it has). */
  async hasBlob(repository: string, digest: string, operation: string): Promise<boolean> {
    const response = await this.request({
      method: 'HEAD',
      url: `/v2/${repository}/blobs/${digest}`,
      operation,
      expect: [200, 301, 302, 303, 307, 308, 404]
    })
    return response.status !== 404
  }

  /**
   * Asks the registry to link a blob of another repository into this one. Mounted: true. Otherwise
   * the registry has started an upload instead (its location is returned), as the spec allows.
   */
  async mountBlob(repository: string, digest: string, from: string, operation: string): Promise<{ mounted: true } | { location: string }> {
    const query = new URLSearchParams({ mount: digest, from })
    const response = await this.request({
      method: 'POST',
      url: `/v2/${repository}/blobs/uploads/?${query.toString()}`,
      operation,
      expect: [201, 202]
    })
    if (response.status === 201) return { mounted: true }
    return { location: this.location(response, operation) }
  }

  /** Starts an upload session; its location. */
  async startUpload(repository: string, operation: string): Promise<string> {
    const response = await this.request({ method: 'POST', url: `/v2/${repository}/blobs/uploads/`, operation, expect: [202] })
    return this.location(response, operation)
  }

  /** The whole blob in one PUT (small blobs). */
  async putBlob(location: string, digest: string, body: Buffer, operation: string): Promise<void> {
    await this.request({
      method: 'PUT',
      url: withDigest(location, digest),
      operation,
      headers: { 'content-type': 'application/octet-stream' },
      body,
      timeoutMs: transferTimeoutMs(body.length),
      expect: [201],
      retry: false
    })
  }

  /** One chunk at `offset`; the location for the next request. */
  async patchChunk(location: string, offset: number, chunk: Buffer, operation: string): Promise<string> {
    const response = await this.request({
      method: 'PATCH',
      url: location,
      operation,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
      body: chunk,
      timeoutMs: transferTimeoutMs(chunk.length),
      expect: [202],
      retry: false
    })
    return this.location(response, operation)
  }

  /**
   * How much of an upload the registry holds (`Range: 0-<last byte>`), and the location to go on
   * with; undefined when the session is gone or unusable (the upload must start over).
   */
  async uploadStatus(location: string, operation: string): Promise<{ offset: number; location: string } | undefined> {
    let response: RegistryResponse
    try {
      response = await this.request({ method: 'GET', url: location, operation, expect: [204] })
    } catch (error) {
      if (error instanceof RegistryAnswerError && error.status >= 400 && error.status < 500) return undefined
      throw error
    }
    const range = /^(?:bytes=)?0-(\d+)$/.exec(response.headers.get('range') ?? '')
    const last = range ? Number(range[1]) : -1
    return { offset: last > 0 ? last + 1 : 0, location: response.headers.get('location') ? this.location(response, operation) : location }
  }

  /** Ends a chunked upload: the registry checks the digest of what it received. */
  async finishUpload(location: string, digest: string, operation: string): Promise<void> {
    await this.request({
      method: 'PUT',
      url: withDigest(location, digest),
      operation,
      body: Buffer.alloc(0),
      expect: [201],
      retry: false
    })
  }

  /** Puts a manifest under a tag or its digest; the digest the registry reports, checked against ours. */
  async putManifest(repository: string, reference: string, manifest: Manifest, operation: string): Promise<string> {
    const response = await this.request({
      method: 'PUT',
      url: `/v2/${repository}/manifests/${reference}`,
      operation,
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
      expect: [201]
    })
    const reported = response.headers.get('docker-content-digest')
    if (reported && reported !== manifest.digest) {
      throw new ActionError(
        'Registry reports another manifest digest',
        `${this.host} stored the manifest of ${repository} (${reference}) under ${reported}, but its bytes have the digest ` +
          `${manifest.digest}: the registry rewrote the manifest, so the image cannot be deployed by the digest pushed.`
      )
    }
    return manifest.digest
  }

  private location(response: RegistryResponse, operation: string): string {
    const location = response.headers.get('location')
    if (!location) {
      throw new ActionError(
        'Registry answer without Location',
        `${this.host} answered ${operation} (${safeUrl(response.url)}) with HTTP ${response.status} but no Location header: ` +
          'it does not speak the registry API v2 as the OCI distribution spec defines it.'
      )
    }
    return new URL(location, response.url).toString()
  }

  /** A GET that follows redirects to blob storage, without sending the registry's credentials there. */
  private async followRedirects(request: RegistryRequest): Promise<RegistryResponse> {
    let response = await this.request({ ...request, expect: [...request.expect, 301, 302, 303, 307, 308] })
    for (let redirects = 0; response.status >= 300 && response.status < 400; redirects++) {
      const location = response.headers.get('location')
      if (!location || redirects >= MAX_REDIRECTS) throw this.refusal(request, response)
      const target = new URL(location, response.url).toString()
      response = await this.retrying(request, async () => {
        const answer = await fetchBuffer(target, { method: 'GET' }, request.timeoutMs ?? deadlines().requestMs, `GET ${safeUrl(target)}`)
        if (isTransientStatus(answer.status)) throw new HttpStatusError(answer.status, safeUrl(target) ?? '', `HTTP ${answer.status}`)
        return answer
      })
    }
    if (!request.expect.includes(response.status)) throw this.refusal(request, response)
    return response
  }

  /** A request with authentication, retried on transient faults (unless it changes an upload's state). */
  async request(request: RegistryRequest): Promise<RegistryResponse> {
    return this.retrying(request, () => this.authenticated(request))
  }

  private async retrying(request: RegistryRequest, attempt: () => Promise<RegistryResponse>): Promise<RegistryResponse> {
    const timeoutMs = request.timeoutMs ?? deadlines().requestMs
    try {
      return await withRetry(attempt, {
        label: `${request.method} ${safeUrl(this.absolute(request.url))} (${request.operation})`,
        attempts: request.retry === false ? 1 : 4,
        isRetryable: isTransientError,
        deadlineMs: deadlines().budgetMs + timeoutMs,
        sleep: this.options.sleep
      })
    } catch (error) {
      throw this.explainFault(request, error)
    }
  }

  private async authenticated(request: RegistryRequest): Promise<RegistryResponse> {
    let response = await this.send(request, await this.auth.authorization())
    if (response.status === 401 && (await this.auth.answer(response.headers.get('www-authenticate')))) {
      response = await this.send(request, await this.auth.authorization())
    }
    if (isTransientStatus(response.status)) {
      const { text } = errorCodes(response.body)
      throw new HttpStatusError(response.status, safeUrl(response.url) ?? '', `HTTP ${response.status}${text ? `: ${text}` : ''}`)
    }
    if (!request.expect.includes(response.status)) throw this.refusal(request, response)
    return response
  }

  private send(request: RegistryRequest, authorization: string | undefined): Promise<RegistryResponse> {
    const url = this.absolute(request.url)
    const headers: Record<string, string> = { ...request.headers }
    if (authorization) headers.authorization = authorization
    return fetchBuffer(
      url,
      { method: request.method, headers, body: request.body },
      request.timeoutMs ?? deadlines().requestMs,
      `${request.method} ${safeUrl(url)}`
    )
  }

  private absolute(url: string): string {
    return new URL(url, this.baseUrl).toString()
  }

  /** A registry's refusal as an error naming the URL, the operation, the code and what to check. */
  private refusal(request: RegistryRequest, response: RegistryResponse): RegistryAnswerError {
    const { codes, text } = errorCodes(response.body)
    const code = codes[0] ?? (response.status === 401 ? 'UNAUTHORIZED' : undefined)
    const advice = this.options.advise({ status: response.status, code, operation: request.operation })
    const anonymous = response.status === 401 && !this.auth.hasCredentials ? ' (no credentials were sent)' : ''
    const answer = codes.length > 0 ? ` ${text}` : `${code ? ` ${code}` : ''}${text ? `: ${text}` : ''}`
    return new RegistryAnswerError(
      `${this.host} refused ${request.operation}`,
      `${request.method} ${safeUrl(response.url)} (${request.operation}) answered HTTP ${response.status}${answer}${anonymous}.` +
        (advice ? ` ${advice}` : ''),
      response.status,
      codes
    )
  }

  /** A fault that outlasted the retries (5xx, network, deadline), as an error naming the call. */
  private explainFault(request: RegistryRequest, error: unknown): unknown {
    if (error instanceof ActionError) return error
    const url = safeUrl(this.absolute(request.url))
    return explainRegistryFault(this.host, `${request.method} ${url}`, request.operation, error)
  }
}

/**
 * A transient fault that outlasted its retries (5xx, network, deadline) as a FaultError naming the
 * call; callers that can resume (a chunk upload) recognise it with `isRegistryFault`. Anything else
 * (a bug of ours) is left as it is.
 */
function explainRegistryFault(host: string, call: string, operation: string, error: unknown): unknown {
  if (error instanceof ActionError) return error
  if (error instanceof HttpStatusError) {
    return new FaultError(
      `${host} unavailable`,
      `${call} (${operation}) failed: ${error.message}. The registry has an outage or is overloaded: run the job again later.`,
      'unavailable',
      error
    )
  }
  return classifyNetworkFault(error, { service: `Registry ${host}`, call, doing: operation }) ?? error
}

/** Whether an error is a transient fault of the registry (explained or not), as opposed to a refusal. */
export function isRegistryFault(error: unknown): boolean {
  if (error instanceof FaultError) return error.kind === 'network' || error.kind === 'deadline' || error.kind === 'unavailable'
  return isTransientError(error)
}

/** The upload location with `digest=` added to its query (it may carry the registry's own state there). */
function withDigest(location: string, digest: string): string {
  const url = new URL(location)
  url.searchParams.set('digest', digest)
  return url.toString()
}

/** For log lines: `12.3 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}
