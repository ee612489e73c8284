/**
 * pmcp.run on 127.0.0.1 at a random port: the Cognito token endpoint (`/oauth2/token`, client
 * credentials), the discovery document (`/.well-known/pmcp-config`), the GraphQL API (`/graphql`,
 * AppSync-like: the raw token in `Authorization`, 401 `UnauthorizedException` for a bad or expired
 * one) and the presigned S3 upload URLs (`/upload/...`, PUT without `Authorization`).
 *
 * It holds cargo pmcp 0.28's contract the way AppSync would: each GraphQL document is parsed and
 * checked against a schema of the operations served (root field, arguments and their types, the
 * fields selected, the variables declared, sent and their JSON types) and rejected with AppSync's
 * `ValidationError` answer when it does not fit. It also checks what reaches it otherwise: upload
 * sizes against what `getUploadUrls` was told, upload content types and bodies (a zip is a zip, a
 * raw bootstrap is not), that `createDeploymentFromS3` names objects uploaded for its project, that
 * presigned PUTs carry no token. Tests read back the uploaded template and server package.
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
  'getDeploymentOperationStatus',
  'configureServerOAuth',
  'fetchServerOAuthEndpoints'
] as const
export type OperationName = (typeof OPERATIONS)[number]

// ---------------------------------------------------------------------------------------------
// The schema served: each root field's arguments with their GraphQL types, and each object type's fields.

interface RootField {
  args: Record<string, string>
  /** The return type, e.g. `DeploymentInfo` or `UploadUrls!`. */
  type: string
}

const ROOT_FIELDS: Record<'Query' | 'Mutation', Record<string, RootField>> = {
  Mutation: {
    getUploadUrls: { args: { projectName: 'String!', templateSize: 'Int!', bootstrapSize: 'Int!' }, type: 'UploadUrls!' },
    createDeploymentFromS3: {
      args: {
        templateS3Key: 'String!',
        bootstrapS3Key: 'String!',
        projectName: 'String!',
        runtime: 'String',
        memorySize: 'Int',
        timeout: 'Int',
        serverVersion: 'String',
        tier: 'String',
        allowComposition: 'Boolean',
        internalOnly: 'Boolean',
        compositionDescription: 'String'
      },
      type: 'DeploymentInfo'
    },
    destroyDeployment: { args: { id: 'ID!' }, type: 'DestroyResult' },
    configureServerOAuth: {
      args: {
        serverId: 'String!',
        enabled: 'Boolean!',
        scopes: '[String]',
        dcrEnabled: 'Boolean',
        publicClientPatterns: '[String]',
        sharedPoolName: 'String'
      },
      type: 'OAuthConfig!'
    }
  },
  Query: {
    getDeployment: { args: { id: 'ID!' }, type: 'Deployment' },
    listDeployments: { args: {}, type: 'DeploymentConnection!' },
    getDeploymentOperationStatus: { args: { id: 'ID!' }, type: 'OperationStatus' },
    fetchServerOAuthEndpoints: { args: { serverId: 'String!' }, type: 'OAuthEndpoints' }
  }
}

const OBJECT_TYPES: Record<string, Record<string, string>> = {
  UploadUrls: {
    templateUploadUrl: 'String!',
    templateS3Key: 'String!',
    bootstrapUploadUrl: 'String!',
    bootstrapS3Key: 'String!',
    expiresIn: 'Int!'
  },
  DeploymentInfo: { deploymentId: 'String!', status: 'String!', projectName: 'String', createdAt: 'String!' },
  Deployment: {
    id: 'ID!',
    status: 'String!',
    url: 'String',
    projectName: 'String!',
    errorMessage: 'String',
    createdAt: 'String!',
    completedAt: 'String'
  },
  DeploymentConnection: { items: '[DeploymentSummary!]!', nextToken: 'String' },
  DeploymentSummary: { id: 'ID!', projectName: 'String!', status: 'String!', url: 'String' },
  DestroyResult: { id: 'ID!', stackName: 'String', status: 'String!', message: 'String', executionArn: 'String' },
  OperationStatus: { id: 'ID!', status: 'String!', message: 'String', executionArn: 'String', updatedAt: 'String' },
  OAuthConfig: {
    serverId: 'String!',
    oauthEnabled: 'Boolean!',
    userPoolId: 'String',
    userPoolRegion: 'String',
    discoveryUrl: 'String',
    registrationEndpoint: 'String',
    authorizationEndpoint: 'String',
    tokenEndpoint: 'String'
  },
  OAuthEndpoints: {
    serverId: 'String!',
    oauthEnabled: 'Boolean!',
    provider: 'String',
    userPoolId: 'String',
    userPoolRegion: 'String',
    scopes: '[String]',
    dcrEnabled: 'Boolean',
    discoveryUrl: 'String',
    registrationEndpoint: 'String',
    authorizationEndpoint: 'String',
    tokenEndpoint: 'String'
  }
}

/** AppSync's scalars (cargo pmcp's `declared_variable_types_are_known_scalars` list). */
const SCALARS = new Set([
  'String',
  'Boolean',
  'Int',
  'Float',
  'ID',
  'AWSJSON',
  'AWSDate',
  'AWSTime',
  'AWSDateTime',
  'AWSTimestamp',
  'AWSEmail',
  'AWSURL',
  'AWSPhone',
  'AWSIPAddress'
])

// ---------------------------------------------------------------------------------------------
// A GraphQL document, as far as the stand-in needs it: one operation, its variables, its fields.

interface GqlType {
  name?: string
  of?: GqlType
  nonNull: boolean
}

interface VariableDefinition {
  name: string
  type: GqlType
}

interface Argument {
  name: string
  /** The variable it takes, or undefined for a literal. */
  variable?: string
}

interface Field {
  name: string
  args: Argument[]
  selection?: Field[]
}

export interface ParsedOperation {
  kind: 'query' | 'mutation'
  name?: string
  variables: VariableDefinition[]
  fields: Field[]
}

class GraphqlSyntaxError extends Error {}

const TOKEN =
  /[\s,\uFEFF]+|#[^\n]*|(\.\.\.|[{}():![\]$=@])|([_A-Za-z][_0-9A-Za-z]*)|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|("(?:[^"\\\n]|\\.)*")/y

function tokenize(source: string): string[] {
  const tokens: string[] = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < source.length) {
    const at = TOKEN.lastIndex
    const match = TOKEN.exec(source)
    if (!match) throw new GraphqlSyntaxError(`Invalid Syntax : offending token '${source[at]}' at offset ${at}`)
    const token = match[1] ?? match[2] ?? match[3] ?? match[4]
    if (token !== undefined) tokens.push(token)
  }
  return tokens
}

/** Parses `query|mutation Name($x: Type, ...) { field(arg: $x) { a b items { c } } }`. */
export function parseOperation(source: string): ParsedOperation {
  const tokens = tokenize(source)
  let at = 0
  const peek = (): string | undefined => tokens[at]
  const next = (): string => {
    const token = tokens[at++]
    if (token === undefined) throw new GraphqlSyntaxError('Invalid Syntax : unexpected end of document')
    return token
  }
  const expect = (token: string): void => {
    const got = next()
    if (got !== token) throw new GraphqlSyntaxError(`Invalid Syntax : expected '${token}', found '${got}'`)
  }
  const name = (): string => {
    const token = next()
    if (!/^[_A-Za-z]/.test(token)) throw new GraphqlSyntaxError(`Invalid Syntax : expected a name, found '${token}'`)
    return token
  }
  const type = (): GqlType => {
    let result: GqlType
    if (peek() === '[') {
      next()
      result = { of: type(), nonNull: false }
      expect(']')
    } else {
      result = { name: name(), nonNull: false }
    }
    if (peek() === '!') {
      next()
      result.nonNull = true
    }
    return result
  }
  const skipValue = (): void => {
    const token = next()
    if (token === '[' || token === '{') throw new GraphqlSyntaxError('Invalid Syntax : the stand-in takes no list or object literals')
  }
  const selectionSet = (): Field[] => {
    expect('{')
    const fields: Field[] = []
    while (peek() !== '}') {
      if (peek() === '...') throw new GraphqlSyntaxError('Invalid Syntax : the stand-in takes no fragments')
      let fieldName = name()
      if (peek() === ':') {
        next()
        fieldName = name()
      }
      const args: Argument[] = []
      if (peek() === '(') {
        next()
        while (peek() !== ')') {
          const argName = name()
          expect(':')
          if (peek() === '$') {
            next()
            args.push({ name: argName, variable: name() })
          } else {
            skipValue()
            args.push({ name: argName })
          }
        }
        next()
      }
      fields.push({ name: fieldName, args, selection: peek() === '{' ? selectionSet() : undefined })
    }
    next()
    if (fields.length === 0) throw new GraphqlSyntaxError('Invalid Syntax : empty selection set')
    return fields
  }

  let kind: 'query' | 'mutation' = 'query'
  let operationName: string | undefined
  const variables: VariableDefinition[] = []
  if (peek() !== '{') {
    const keyword = next()
    if (keyword !== 'query' && keyword !== 'mutation') throw new GraphqlSyntaxError(`Invalid Syntax : offending token '${keyword}'`)
    kind = keyword
    if (peek() !== '(' && peek() !== '{') operationName = name()
    if (peek() === '(') {
      next()
      while (peek() !== ')') {
        expect('$')
        const variableName = name()
        expect(':')
        variables.push({ name: variableName, type: type() })
        if (peek() === '=') {
          next()
          skipValue()
        }
      }
      next()
    }
  }
  const fields = selectionSet()
  if (at !== tokens.length) throw new GraphqlSyntaxError(`Invalid Syntax : offending token '${tokens[at]}' after the operation`)
  return { kind, name: operationName, variables, fields }
}

function parseType(text: string): GqlType {
  const operation = parseOperation(`query($t: ${text}) { x }`)
  return operation.variables[0].type
}

function typeText(type: GqlType): string {
  return `${type.of ? `[${typeText(type.of)}]` : type.name}${type.nonNull ? '!' : ''}`
}

function baseName(type: GqlType): string {
  return type.of ? baseName(type.of) : (type.name as string)
}

/** A variable may be passed where its type fits: the same type, or a non-null one where null is allowed (GraphQL's rule). */
function fits(variable: GqlType, argument: GqlType): boolean {
  if (argument.nonNull && !variable.nonNull) return false
  if (variable.of || argument.of) return Boolean(variable.of && argument.of && fits(variable.of, argument.of))
  return variable.name === argument.name
}

function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (Number.isInteger(value)) return 'integer'
  return typeof value
}

/** Why a JSON value does not fit a declared type, if it does not. */
function valueProblem(value: unknown, type: GqlType): string | undefined {
  if (value === null || value === undefined) return type.nonNull ? `has coerced Null value for NonNull type '${typeText(type)}'` : undefined
  if (type.of) {
    if (!Array.isArray(value)) return `has an invalid value: Expected type '${typeText(type)}' but was '${jsonType(value)}'.`
    for (const item of value) {
      const problem = valueProblem(item, type.of)
      if (problem) return problem
    }
    return undefined
  }
  const ok: Record<string, (v: unknown) => boolean> = {
    String: v => typeof v === 'string',
    ID: v => typeof v === 'string',
    Int: v => Number.isInteger(v) && Math.abs(v as number) <= 2 ** 31 - 1,
    Float: v => typeof v === 'number',
    Boolean: v => typeof v === 'boolean'
  }
  const check = ok[type.name as string] ?? ((v: unknown) => typeof v === 'string')
  return check(value) ? undefined : `has an invalid value: Expected type '${type.name}' but was '${jsonType(value)}'.`
}

/** Every problem AppSync would report for this document and these variables (none: it runs). */
export function validateOperation(operation: ParsedOperation, variables: Record<string, unknown>): string[] {
  const problems: string[] = []
  const rootType = operation.kind === 'mutation' ? 'Mutation' : 'Query'
  // Used anywhere in the document, whether the schema knows the field or argument or not.
  const used = new Set<string>()
  const collect = (fields: Field[]): void => {
    for (const field of fields) {
      for (const argument of field.args) if (argument.variable !== undefined) used.add(argument.variable)
      if (field.selection) collect(field.selection)
    }
  }
  collect(operation.fields)
  for (const variable of operation.variables) {
    const base = baseName(variable.type)
    if (!SCALARS.has(base)) problems.push(`Validation error of type UnknownType: Unknown type ${base}`)
  }
  const checkSelection = (typeName: string, fields: Field[], path: string): void => {
    const known = OBJECT_TYPES[typeName]
    for (const field of fields) {
      const fieldType = known[field.name]
      const fieldPath = `${path}/${field.name}`
      if (!fieldType) {
        problems.push(`Validation error of type FieldUndefined: Field '${field.name}' in type '${typeName}' is undefined @ '${fieldPath}'`)
        continue
      }
      if (field.args.length > 0)
        problems.push(`Validation error of type UnknownArgument: Unknown field argument ${field.args[0].name} @ '${fieldPath}'`)
      checkSubSelection(parseType(fieldType), field, fieldPath)
    }
  }
  const checkSubSelection = (type: GqlType, field: Field, path: string): void => {
    const base = baseName(type)
    if (OBJECT_TYPES[base]) {
      if (!field.selection)
        problems.push(
          `Validation error of type SubSelectionRequired: Sub selection required for type ${base} of field ${field.name} @ '${path}'`
        )
      else checkSelection(base, field.selection, path)
    } else if (field.selection) {
      problems.push(
        `Validation error of type SubSelectionNotAllowed: Sub selection not allowed on leaf type ${base} of field ${field.name} @ '${path}'`
      )
    }
  }
  if (operation.fields.length !== 1) problems.push('Validation error: the stand-in serves one root field per request')
  for (const field of operation.fields) {
    const definition = ROOT_FIELDS[rootType][field.name]
    if (!definition) {
      problems.push(`Validation error of type FieldUndefined: Field '${field.name}' in type '${rootType}' is undefined @ '${field.name}'`)
      continue
    }
    for (const argument of field.args) {
      const argumentType = definition.args[argument.name]
      if (!argumentType) {
        problems.push(`Validation error of type UnknownArgument: Unknown field argument ${argument.name} @ '${field.name}'`)
        continue
      }
      if (argument.variable === undefined) {
        problems.push(`Validation error: the stand-in takes arguments as variables only (${argument.name}) @ '${field.name}'`)
        continue
      }
      const declared = operation.variables.find(v => v.name === argument.variable)
      if (!declared) {
        problems.push(`Validation error of type UndefinedVariable: Undefined variable ${argument.variable} @ '${field.name}'`)
      } else if (!fits(declared.type, parseType(argumentType))) {
        problems.push(
          `Validation error of type VariableTypeMismatch: Variable type '${typeText(declared.type)}' ` +
            `doesn't match expected type '${argumentType}' @ '${field.name}'`
        )
      }
    }
    for (const [argumentName, argumentType] of Object.entries(definition.args)) {
      if (argumentType.endsWith('!') && !field.args.some(a => a.name === argumentName))
        problems.push(`Validation error of type MissingFieldArgument: Missing field argument ${argumentName} @ '${field.name}'`)
    }
    checkSubSelection(parseType(definition.type), field, field.name)
  }
  for (const variable of operation.variables) {
    if (!used.has(variable.name)) problems.push(`Validation error of type UnusedVariable: Unused variable ${variable.name}`)
  }
  if (problems.length > 0) return problems
  // The values, once the document is valid (as graphql-java coerces them).
  for (const variable of operation.variables) {
    const problem = valueProblem(variables[variable.name], variable.type)
    if (problem) problems.push(`Variable '${variable.name}' ${problem}`)
  }
  for (const name of Object.keys(variables)) {
    if (!operation.variables.some(v => v.name === name))
      problems.push(
        `Variable '${name}' is not declared by the operation (AppSync ignores it; this stand-in holds the client to its documents)`
      )
  }
  return problems
}

// ---------------------------------------------------------------------------------------------

export interface PmcpRunServiceOptions {
  clientId?: string
  clientSecret?: string
  /** Tokens accepted besides the issued ones (what a `pmcp-access-token` would be). */
  staticTokens?: string[]
  /** Tokens rejected as expired. */
  expiredTokens?: string[]
  /** The first N issued tokens are expired by the time they are used. */
  expireIssued?: number
  /** What `getDeployment` answers, one per read, the last one repeated [validating, deploying, success]. Any string goes. */
  statuses?: string[]
  /** `url` of a successful deployment [null: the client falls back to `<mcp base>/<id>/mcp`]. */
  deploymentUrl?: string
  /** `errorMessage` of a failed deployment. */
  errorMessage?: string
  /** Operations answered with a GraphQL error with this message. */
  graphqlErrors?: Partial<Record<OperationName, string>>
  /** Operations answered with this HTTP status (e.g. 503), the first `times` calls [all]. */
  httpErrors?: Partial<Record<OperationName, { status: number; times?: number }>>
  /** `destroyDeployment`'s status, then what `getDeploymentOperationStatus` answers [initiated, deleting, deleted]. */
  destroyStatuses?: string[]
  /** Deployments that exist before the test (for destroy). */
  existing?: Array<{ id: string; projectName: string }>
  /**
   * Servers (by serverId) `fetchServerOAuthEndpoints` reports with OAuth on; others are off, unless
   * configureServerOAuth enabled them.
   */
  oauthEnabledServers?: string[]
  /**
   * The discovery document: `api_type` (null leaves it out) [graphql], an HTTP status to answer
   * instead (with an error body), `graphql_url` [`<url>/graphql`].
   */
  discovery?: { api_type?: string | null; status?: number; graphqlUrl?: string }
  /**
   * `/graphql` knows none of the operations (each is FieldUndefined there, as a single source API
   * behind a stale URL). 'moved': discovery advertises `/graphql` the first time and the working
   * `/merged/graphql` after that; 'same': it keeps advertising `/graphql`.
   */
  staleGraphql?: 'moved' | 'same'
}

export interface GraphqlCall {
  operation: OperationName | 'unknown'
  /** The path asked: `/graphql` or `/merged/graphql`. */
  path: string
  query: string
  variables: Record<string, unknown>
  authorization?: string
  answeredWith: number
  /** The messages of a rejected document. */
  rejected?: string[]
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

export interface UploadedPackage {
  contentType: string
  body: Buffer
  /** When it is a zip (application/zip). */
  entries?: ZipEntry[]
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

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04])
const EMPTY_ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x05, 0x06])

function looksLikeZip(body: Buffer): boolean {
  return body.subarray(0, 4).equals(ZIP_MAGIC) || body.subarray(0, 4).equals(EMPTY_ZIP_MAGIC)
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

const GRAPHQL_PATHS = ['/graphql', '/merged/graphql']

export class PmcpRunService {
  readonly graphqlCalls: GraphqlCall[] = []
  readonly uploads = new Map<string, Upload>()
  readonly deployments = new Map<string, DeploymentRecord>()
  /** Every request for the discovery document. */
  readonly discoveryRequests: string[] = []
  /** configureServerOAuth's arguments, by serverId, the last one kept. */
  readonly oauthConfigured = new Map<string, Record<string, unknown>>()
  readonly tokens: TokenHandler
  /** Sizes `getUploadUrls` announced, by key. */
  private readonly announced = new Map<string, { size: number; projectName: string }>()
  private server?: http.Server
  url = ''
  /**
   * Base of the presigned upload URLs `getUploadUrls` hands out [url]: e.g. another address of this
   * server (a relay), as S3 is another host than the API.
   */
  uploadUrl?: string

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

  /** Endpoints given explicitly, as PMCP_RUN_COGNITO_DOMAIN / PMCP_RUN_GRAPHQL_URL (no discovery). */
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

  /** The server package uploaded last (to the bootstrap URL): its content type, bytes and, for a zip, its entries. */
  uploadedPackage(): UploadedPackage {
    const upload = [...this.uploads.values()].filter(u => u.key.endsWith('bootstrap.zip')).pop()
    if (!upload) throw new Error('no server package was uploaded')
    const contentType = upload.contentType ?? ''
    return { contentType, body: upload.body, entries: contentType === 'application/zip' ? readZip(upload.body) : undefined }
  }

  /** The entries of the server package uploaded last, which must be a zip (see uploadedPackage for a raw bootstrap). */
  uploadedBootstrap(): ZipEntry[] {
    const uploaded = this.uploadedPackage()
    if (!uploaded.entries) throw new Error(`the server package was uploaded as ${uploaded.contentType}, not a zip: use uploadedPackage()`)
    return uploaded.entries
  }

  stop(): Promise<void> {
    return new Promise<void>(resolve => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  private route(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url)
    if (url.pathname === TOKEN_PATH) return this.tokens.handle(request, body.toString('utf8'), response)
    if (url.pathname === '/.well-known/pmcp-config' && request.method === 'GET') return this.discovery(response)
    if (GRAPHQL_PATHS.includes(url.pathname) && request.method === 'POST') return this.graphql(request, url.pathname, body, response)
    if (url.pathname.startsWith('/upload/') && request.method === 'PUT') return this.upload(request, url, body, response)
    json(response, 404, { message: 'not found' })
  }

  private discovery(response: http.ServerResponse): void {
    this.discoveryRequests.push('/.well-known/pmcp-config')
    const options = this.options.discovery ?? {}
    if (options.status) return json(response, options.status, { message: `discovery answers ${options.status}` })
    let graphqlUrl = options.graphqlUrl ?? `${this.url}/graphql`
    if (this.options.staleGraphql === 'moved' && this.discoveryRequests.length > 1) graphqlUrl = `${this.url}/merged/graphql`
    const document: Record<string, unknown> = {
      cognito_client_id: 'pmcp-cli-client',
      cognito_domain: this.url,
      graphql_url: graphqlUrl,
      mcp_url: `${this.url}/servers`,
      api_type: 'graphql',
      version: '1'
    }
    if (options.api_type === null) delete document.api_type
    else if (options.api_type !== undefined) document.api_type = options.api_type
    json(response, 200, document)
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

  private graphql(request: http.IncomingMessage, path: string, body: Buffer, response: http.ServerResponse): void {
    let query = ''
    let variables: Record<string, unknown> = {}
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { query?: unknown; variables?: unknown }
      query = typeof parsed.query === 'string' ? parsed.query : ''
      if (parsed.variables !== undefined && parsed.variables !== null) variables = parsed.variables as Record<string, unknown>
    } catch {
      // answered below: no query
    }
    const call: GraphqlCall = {
      operation: 'unknown',
      path,
      query,
      variables,
      authorization: request.headers.authorization,
      answeredWith: 200
    }
    this.graphqlCalls.push(call)
    const answer = (status: number, payload: unknown): void => {
      call.answeredWith = status
      json(response, status, payload)
    }
    const reject = (messages: string[]): void => {
      call.rejected = messages
      answer(400, { errors: messages.map(message => ({ errorType: 'ValidationError', message })) })
    }
    let operation: ParsedOperation | undefined
    let syntaxError: string | undefined
    try {
      operation = parseOperation(query)
    } catch (error) {
      syntaxError = (error as Error).message
    }
    const root = operation?.fields[0]?.name ?? ''
    call.operation = (OPERATIONS as readonly string[]).includes(root) ? (root as OperationName) : 'unknown'
    const problem = this.authorizationProblem(request.headers.authorization)
    if (problem) return answer(401, { errors: [{ errorType: 'UnauthorizedException', message: problem }] })
    if (!query) return reject(['Invalid request: no query'])
    if (!operation) return answer(400, { errors: [{ errorType: 'MalformedHttpRequestException', message: syntaxError }] })
    if (this.options.staleGraphql && path === '/graphql') {
      const type = operation.kind === 'mutation' ? 'Mutation' : 'Query'
      return reject([`Validation error of type FieldUndefined: Field '${root}' in type '${type}' is undefined @ '${root}'`])
    }
    const problems = validateOperation(operation, variables)
    if (problems.length > 0) return reject(problems)
    const name = call.operation as OperationName
    const httpError = this.options.httpErrors?.[name]
    if (httpError && (httpError.times === undefined || this.calls(name).length <= httpError.times)) {
      return answer(httpError.status, {
        errors: [{ errorType: 'ServiceUnavailable', message: `${name} unavailable (HTTP ${httpError.status})` }]
      })
    }
    const failure = this.options.graphqlErrors?.[name]
    if (failure) return answer(200, { data: { [name]: null }, errors: [{ path: [name], errorType: 'Lambda:Unhandled', message: failure }] })
    try {
      answer(200, { data: { [name]: this.resolve(name, variables) } })
    } catch (error) {
      answer(200, { data: { [name]: null }, errors: [{ path: [name], errorType: 'Lambda:Unhandled', message: (error as Error).message }] })
    }
  }

  private oauthEndpoints(serverId: string): Record<string, string> {
    const base = `${this.url}/oauth/${encodeURIComponent(serverId)}`
    return {
      userPoolId: `us-west-2_${serverId.replace(/[^A-Za-z0-9]/g, '')}`,
      userPoolRegion: 'us-west-2',
      discoveryUrl: `${base}/.well-known/oauth-authorization-server`,
      registrationEndpoint: `${base}/register`,
      authorizationEndpoint: `${base}/authorize`,
      tokenEndpoint: `${base}/token`
    }
  }

  private resolve(operation: OperationName, variables: Record<string, unknown>): unknown {
    switch (operation) {
      case 'getUploadUrls': {
        const projectName = variables.projectName as string
        const prefix = `uploads/${projectName}/${this.announced.size / 2 + 1}`
        this.announced.set(`${prefix}/template.json`, { size: variables.templateSize as number, projectName })
        this.announced.set(`${prefix}/bootstrap.zip`, { size: variables.bootstrapSize as number, projectName })
        const presign = (key: string): string =>
          `${this.uploadUrl ?? this.url}/upload/${key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${'ab'.repeat(32)}`
        return {
          templateUploadUrl: presign(`${prefix}/template.json`),
          templateS3Key: `${prefix}/template.json`,
          bootstrapUploadUrl: presign(`${prefix}/bootstrap.zip`),
          bootstrapS3Key: `${prefix}/bootstrap.zip`,
          expiresIn: 900
        }
      }
      case 'createDeploymentFromS3': {
        const projectName = variables.projectName as string
        for (const key of [variables.templateS3Key as string, variables.bootstrapS3Key as string]) {
          if (!this.uploads.has(key)) throw new Error(`S3 object ${key} not found: upload it first`)
          if (this.announced.get(key)?.projectName !== projectName) throw new Error(`S3 object ${key} was not uploaded for ${projectName}`)
        }
        const id = `dep-${this.deployments.size + 1}`
        this.deployments.set(id, { id, projectName, reads: 0, destroyReads: 0, removed: false })
        return { deploymentId: id, status: 'pending', projectName, createdAt: new Date().toISOString() }
      }
      case 'getDeployment': {
        const deployment = this.deployments.get(variables.id as string)
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
            .map(d => ({ id: d.id, projectName: d.projectName, status: 'success', url: null })),
          nextToken: null
        }
      case 'destroyDeployment': {
        const deployment = this.deployments.get(variables.id as string)
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
        const deployment = this.deployments.get(variables.id as string)
        if (!deployment) return null
        return {
          id: deployment.id,
          status: this.destroyStatus(deployment),
          message: 'Stack deletion',
          executionArn: 'arn:aws:states:::execution:x',
          updatedAt: new Date().toISOString()
        }
      }
      case 'configureServerOAuth': {
        const serverId = variables.serverId as string
        this.oauthConfigured.set(serverId, { ...variables })
        const enabled = variables.enabled as boolean
        return { serverId, oauthEnabled: enabled, ...(enabled ? this.oauthEndpoints(serverId) : {}) }
      }
      case 'fetchServerOAuthEndpoints': {
        const serverId = variables.serverId as string
        const configured = this.oauthConfigured.get(serverId)
        const enabled = (this.options.oauthEnabledServers ?? []).includes(serverId) || configured?.enabled === true
        if (!enabled) {
          return { serverId, oauthEnabled: false, provider: null, userPoolId: null, userPoolRegion: null, scopes: null, dcrEnabled: null }
        }
        return {
          serverId,
          oauthEnabled: true,
          provider: 'cognito',
          scopes: (configured?.scopes as string[] | null | undefined) ?? ['openid', 'email', 'mcp/read'],
          dcrEnabled: (configured?.dcrEnabled as boolean | null | undefined) ?? true,
          ...this.oauthEndpoints(serverId)
        }
      }
    }
  }

  private destroyStatus(deployment: DeploymentRecord): string {
    const statuses = this.options.destroyStatuses ?? ['initiated', 'deleting', 'deleted']
    const status = statuses[Math.min(deployment.destroyReads++, statuses.length - 1)]
    if (status === 'deleted' || status === 'success') deployment.removed = true
    return status
  }

  /** Why an upload breaks the contract (cargo pmcp's content types and bodies), if it does; S3 itself would take it. */
  private uploadContractProblem(key: string, contentType: string | undefined, body: Buffer): string | undefined {
    if (key.endsWith('template.json')) {
      if (contentType !== 'application/json') return `the template must be uploaded as application/json, not ${contentType ?? 'nothing'}`
      try {
        JSON.parse(body.toString('utf8'))
      } catch {
        return 'the template is not JSON'
      }
      return undefined
    }
    if (contentType === 'application/zip') {
      if (!looksLikeZip(body)) return 'an application/zip upload that is not a zip'
      try {
        readZip(body)
      } catch (error) {
        return `an application/zip upload that does not unzip: ${(error as Error).message}`
      }
      return undefined
    }
    if (contentType === 'application/octet-stream') {
      return looksLikeZip(body) ? 'a zip uploaded as application/octet-stream (send it as application/zip)' : undefined
    }
    return `the server package must be application/zip or application/octet-stream, not ${contentType ?? 'nothing'}`
  }

  private upload(request: http.IncomingMessage, url: URL, body: Buffer, response: http.ServerResponse): void {
    const key = decodeURIComponent(url.pathname.slice('/upload/'.length))
    if (!url.searchParams.get('X-Amz-Signature')) return s3Error(response, 403, 'AccessDenied', 'Request has no signature')
    if (request.headers.authorization) return s3Error(response, 400, 'InvalidArgument', 'Only one auth mechanism allowed')
    const announced = this.announced.get(key)
    if (announced === undefined) return s3Error(response, 403, 'SignatureDoesNotMatch', 'No such presigned URL')
    if (announced.size !== body.length)
      return s3Error(response, 400, 'BadDigest', `Announced ${announced.size} bytes, received ${body.length}`)
    const contentType = request.headers['content-type']
    const problem = this.uploadContractProblem(key, contentType, body)
    if (problem) return s3Error(response, 400, 'ContractViolation', problem)
    this.uploads.set(key, { key, body, contentType, authorization: request.headers.authorization })
    response.writeHead(200, { etag: '"0"' })
    response.end()
  }
}
