/**
 * pmcp.run on 127.0.0.1 at a random port: the Cognito token endpoint (`/oauth2/token`, client
 * credentials), the discovery document (`/.well-known/pmcp-config`), the GraphQL API (`/graphql`,
 * AppSync-like: the raw token in `Authorization`, 401 `UnauthorizedException` for a bad or expired
 * one) and the presigned S3 upload URLs (`/upload/...`, PUT without `Authorization`).
 *
 * It checks what reaches it: upload sizes against what `getUploadUrls` was told, that
 * `createDeploymentFromS3` names uploaded objects, that presigned PUTs carry no token. Tests read
 * back the uploaded template and bootstrap zip (with each entry's Unix mode).
 */
import { unzipSync } from 'fflate'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTokenHandler, readBody, TOKEN_PATH, type TokenHandler } from './oauth-token-endpoint.js'

export const OPERATIONS = [
  'getUploadUrls',
  'createDeploymentFromS3',
  'getDeployment',
  'listDeployments',
  'destroyDeployment',
  'getDeploymentOperationStatus'
] as const
export type OperationName = (typeof OPERATIONS)[number]

export interface PmcpRunServiceOptions {
  clientId?: string
  clientSecret?: string
  /** Tokens accepted besides the issued ones (what a `pmcp-access-token` would be). */
  staticTokens?: string[]
  /** Tokens rejected as expired. */
  expiredTokens?: string[]
  /** The first N issued tokens are expired by the time they are used. */
  expireIssued?: number
  /** What `getDeployment` answers, one per read, the last one repeated [validating, deploying, success]. */
  statuses?: string[]
  /** `url` of a successful deployment [null: the client falls back to `<mcp base>/<id>/mcp`]. */
  deploymentUrl?: string
  /** `errorMessage` of a failed deployment. */
  errorMessage?: string
  /** Operations answered with a GraphQL error with this message. */
  graphqlErrors?: Partial<Record<OperationName, string>>
  /** `destroyDeployment`'s status, then what `getDeploymentOperationStatus` answers [initiated, deleting, deleted]. */
  destroyStatuses?: string[]
  /** Deployments that exist before the test (for destroy). */
  existing?: Array<{ id: string; projectName: string }>
}

export interface GraphqlCall {
  operation: OperationName | 'unknown'
  variables: Record<string, unknown>
  authorization?: string
  answeredWith: number
}

export interface Upload {
  key: string
  body: Buffer
  contentType?: string
  authorization?: string
}

export interface ZipEntry {
  name: string
  /** "Version made by" high byte: 3 is Unix. */
  os: number
  /** Unix mode from the external attributes (e.g. 0o100755). */
  mode: number
  data: Uint8Array
}

interface DeploymentRecord {
  id: string
  projectName: string
  reads: number
  destroyReads: number
  removed: boolean
}

function json(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

function s3Error(response: http.ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { 'content-type': 'application/xml' })
  response.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`)
}

function operationOf(query: string): OperationName | 'unknown' {
  return (
    OPERATIONS.find(name => new RegExp(`\\b${name}\\s*[({]`).test(query.replace(/^\s*(query|mutation)\s+\w+(\([^)]*\))?/, ''))) ?? 'unknown'
  )
}

/** Each entry of a zip with its name, Unix mode (central directory) and content. */
export function readZip(zip: Uint8Array): ZipEntry[] {
  const buffer = Buffer.from(zip)
  const end = buffer.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  if (end < 0) throw new Error('not a zip: no end of central directory')
  const count = buffer.readUInt16LE(end + 10)
  let offset = buffer.readUInt32LE(end + 16)
  const contents = unzipSync(zip)
  const entries: ZipEntry[] = []
  for (let i = 0; i < count; i++) {
    if (buffer.readUInt32LE(offset) !== 0x02014b50) throw new Error('corrupt central directory')
    const nameLength = buffer.readUInt16LE(offset + 28)
    const extraLength = buffer.readUInt16LE(offset + 30)
    const commentLength = buffer.readUInt16LE(offset + 32)
    const name = buffer.toString('utf8', offset + 46, offset + 46 + nameLength)
    entries.push({ name, os: buffer[offset + 5], mode: buffer.readUInt32LE(offset + 38) >>> 16, data: contents[name] })
    offset += 46 + nameLength + extraLength + commentLength
  }
  return entries
}

export class PmcpRunService {
  readonly graphqlCalls: GraphqlCall[] = []
  readonly uploads = new Map<string, Upload>()
  readonly deployments = new Map<string, DeploymentRecord>()
  readonly tokens: TokenHandler
  /** Sizes `getUploadUrls` announced, by key. */
  private readonly announced = new Map<string, number>()
  private server?: http.Server
  url = ''

  private constructor(readonly options: PmcpRunServiceOptions) {
    this.tokens = createTokenHandler({
      clientId: options.clientId ?? 'pmcp-ci-client',
      clientSecret: options.clientSecret ?? 'pmcp-ci-secret'
    })
    for (const existing of options.existing ?? [])
      this.deployments.set(existing.id, { ...existing, reads: 0, destroyReads: 0, removed: false })
  }

  static async start(options: PmcpRunServiceOptions = {}): Promise<PmcpRunService> {
    const service = new PmcpRunService(options)
    service.server = http.createServer((request, response) => {
      void readBody(request).then(body => service.route(request, body, response))
    })
    await new Promise<void>(resolve => service.server?.listen(0, '127.0.0.1', resolve))
    service.url = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`
    return service
  }

  get clientId(): string {
    return this.options.clientId ?? 'pmcp-ci-client'
  }

  get clientSecret(): string {
    return this.options.clientSecret ?? 'pmcp-ci-secret'
  }

  /** Endpoints given explicitly, as PMCP_RUN_COGNITO_DOMAIN / PMCP_RUN_GRAPHQL_URL. */
  env(): Record<string, string> {
    return { PMCP_RUN_COGNITO_DOMAIN: this.url, PMCP_RUN_GRAPHQL_URL: `${this.url}/graphql` }
  }

  /** Endpoints discovered from PMCP_API_URL's `/.well-known/pmcp-config`. */
  discoveryEnv(): Record<string, string> {
    return { PMCP_API_URL: this.url }
  }

  calls(operation: OperationName): GraphqlCall[] {
    return this.graphqlCalls.filter(call => call.operation === operation)
  }

  /** The template uploaded last, parsed. */
  uploadedTemplate(): unknown {
    const upload = [...this.uploads.values()].filter(u => u.key.endsWith('template.json')).pop()
    if (!upload) throw new Error('no template was uploaded')
    return JSON.parse(upload.body.toString('utf8'))
  }

  /** The bootstrap zip uploaded last, entry by entry. */
  uploadedBootstrap(): ZipEntry[] {
    const upload = [...this.uploads.values()].filter(u => u.key.endsWith('bootstrap.zip')).pop()
    if (!upload) throw new Error('no bootstrap was uploaded')
    return readZip(upload.body)
  }

  stop(): Promise<void> {
    return new Promise<void>(resolve => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  private route(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url)
    if (url.pathname === TOKEN_PATH) return this.tokens.handle(request, body.toString('utf8'), response)
    if (url.pathname === '/.well-known/pmcp-config') {
      return json(response, 200, {
        cognito_domain: this.url,
        graphql_url: `${this.url}/graphql`,
        mcp_url: `${this.url}/servers`,
        api_type: 'graphql'
      })
    }
    if (url.pathname === '/graphql' && request.method === 'POST') return this.graphql(request, body, response)
    if (url.pathname.startsWith('/upload/') && request.method === 'PUT') return this.upload(request, url, body, response)
    json(response, 404, { message: 'not found' })
  }

  private authorizationProblem(authorization: string | undefined): string | undefined {
    if (!authorization || authorization.startsWith('Bearer ')) return 'Valid authorization header not provided.'
    const issuedIndex = this.tokens.issued.indexOf(authorization)
    const known = issuedIndex >= 0 || (this.options.staticTokens ?? []).includes(authorization)
    if (!known) return 'Unauthorized'
    const expired =
      (this.options.expiredTokens ?? []).includes(authorization) || (issuedIndex >= 0 && issuedIndex < (this.options.expireIssued ?? 0))
    return expired ? 'Token has expired.' : undefined
  }

  private graphql(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): void {
    const { query, variables } = JSON.parse(body.toString('utf8')) as { query: string; variables?: Record<string, unknown> }
    const operation = operationOf(query)
    const call: GraphqlCall = { operation, variables: variables ?? {}, authorization: request.headers.authorization, answeredWith: 200 }
    this.graphqlCalls.push(call)
    const answer = (status: number, payload: unknown): void => {
      call.answeredWith = status
      json(response, status, payload)
    }
    const problem = this.authorizationProblem(request.headers.authorization)
    if (problem) return answer(401, { errors: [{ errorType: 'UnauthorizedException', message: problem }] })
    if (operation === 'unknown')
      return answer(400, { errors: [{ errorType: 'ValidationError', message: 'Validation error: FieldUndefined' }] })
    const failure = this.options.graphqlErrors?.[operation]
    if (failure)
      return answer(200, { data: { [operation]: null }, errors: [{ path: [operation], errorType: 'Lambda:Unhandled', message: failure }] })
    try {
      answer(200, { data: { [operation]: this.resolve(operation, call.variables) } })
    } catch (error) {
      answer(200, { data: { [operation]: null }, errors: [{ path: [operation], message: (error as Error).message }] })
    }
  }

  private resolve(operation: OperationName, variables: Record<string, unknown>): unknown {
    switch (operation) {
      case 'getUploadUrls': {
        const { projectName, templateSize, bootstrapSize } = variables
        if (typeof projectName !== 'string' || !Number.isInteger(templateSize) || !Number.isInteger(bootstrapSize)) {
          throw new Error('getUploadUrls needs projectName, templateSize and bootstrapSize')
        }
        const prefix = `uploads/${projectName}/${this.announced.size / 2 + 1}`
        this.announced.set(`${prefix}/template.json`, templateSize as number)
        this.announced.set(`${prefix}/bootstrap.zip`, bootstrapSize as number)
        const presign = (key: string): string =>
          `${this.url}/upload/${key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${'ab'.repeat(32)}`
        return {
          templateUploadUrl: presign(`${prefix}/template.json`),
          templateS3Key: `${prefix}/template.json`,
          bootstrapUploadUrl: presign(`${prefix}/bootstrap.zip`),
          bootstrapS3Key: `${prefix}/bootstrap.zip`,
          expiresIn: 900
        }
      }
      case 'createDeploymentFromS3': {
        for (const key of [variables.templateS3Key, variables.bootstrapS3Key]) {
          if (typeof key !== 'string' || !this.uploads.has(key)) throw new Error(`S3 object ${String(key)} not found: upload it first`)
        }
        const id = `dep-${this.deployments.size + 1}`
        this.deployments.set(id, { id, projectName: String(variables.projectName), reads: 0, destroyReads: 0, removed: false })
        return { deploymentId: id, status: 'pending', createdAt: new Date().toISOString() }
      }
      case 'getDeployment': {
        const deployment = this.deployments.get(String(variables.id))
        if (!deployment) return null
        const statuses = this.options.statuses ?? ['validating', 'deploying', 'success']
        const status = statuses[Math.min(deployment.reads++, statuses.length - 1)]
        return {
          id: deployment.id,
          status,
          url: status === 'success' ? (this.options.deploymentUrl ?? null) : null,
          projectName: deployment.projectName,
          errorMessage: status === 'failed' ? (this.options.errorMessage ?? null) : null,
          createdAt: '2025-01-01T00:00:00Z',
          completedAt: status === 'success' || status === 'failed' ? '2025-01-01T00:02:00Z' : null
        }
      }
      case 'listDeployments':
        return {
          items: [...this.deployments.values()]
            .filter(d => !d.removed)
            .map(d => ({ id: d.id, projectName: d.projectName, status: 'success', url: null }))
        }
      case 'destroyDeployment': {
        const deployment = this.deployments.get(String(variables.id))
        if (!deployment) throw new Error(`Deployment ${String(variables.id)} not found`)
        return {
          id: deployment.id,
          stackName: `${deployment.projectName}-stack`,
          status: this.destroyStatus(deployment),
          message: 'Destruction initiated',
          executionArn: 'arn:aws:states:::execution:x'
        }
      }
      case 'getDeploymentOperationStatus': {
        const deployment = this.deployments.get(String(variables.id))
        if (!deployment) return null
        return { id: deployment.id, status: this.destroyStatus(deployment), message: 'Stack deletion', updatedAt: new Date().toISOString() }
      }
    }
  }

  private destroyStatus(deployment: DeploymentRecord): string {
    const statuses = this.options.destroyStatuses ?? ['initiated', 'deleting', 'deleted']
    const status = statuses[Math.min(deployment.destroyReads++, statuses.length - 1)]
    if (status === 'deleted' || status === 'success') deployment.removed = true
    return status
  }

  private upload(request: http.IncomingMessage, url: URL, body: Buffer, response: http.ServerResponse): void {
    const key = decodeURIComponent(url.pathname.slice('/upload/'.length))
    if (!url.searchParams.get('X-Amz-Signature')) return s3Error(response, 403, 'AccessDenied', 'Request has no signature')
    if (request.headers.authorization) return s3Error(response, 400, 'InvalidArgument', 'Only one auth mechanism allowed')
    const announced = this.announced.get(key)
    if (announced === undefined) return s3Error(response, 403, 'SignatureDoesNotMatch', 'No such presigned URL')
    if (announced !== body.length) return s3Error(response, 400, 'BadDigest', `Announced ${announced} bytes, received ${body.length}`)
    this.uploads.set(key, { key, body, contentType: request.headers['content-type'], authorization: request.headers.authorization })
    response.writeHead(200, { etag: '"0"' })
    response.end()
  }
}
