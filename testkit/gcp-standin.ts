/**
 * Google Cloud on loopback, for tests: GitHub's OIDC token service, the Security Token Service,
 * IAM Service Account Credentials, the Cloud Run Admin API v2, the Artifact Registry API, and the
 * Cloud Run services' own URLs. Each API listens on its own 127.0.0.1 port, so a client that sends
 * a call to the wrong root finds nothing there.
 *
 * It enforces what the real APIs enforce and a client can get wrong: methods and paths, the kind of
 * Bearer token each API takes (STS the GitHub OIDC JWT in the body; IAM credentials the federated
 * token; Run and Artifact Registry the service account's access token), JSON bodies without unknown
 * fields or query parameters, the etag of an update and of setIamPolicy, Cloud Run's traffic rules,
 * revision names, env and label rules. Wrong requests get Google's error JSON (or, for a path no API
 * has, Google's HTML 404 page).
 *
 * Cloud Run behaviour: a template change makes a revision (named by `template.revision`, else
 * `<service>-0000N-xyz`) carrying the template's labels; a traffic-only change makes none; an update
 * replaces the whole service (no `traffic`: all to LATEST, the API's default); a revision
 * `failRevision` refuses never becomes ready, its operation ends with Cloud Run's error and the
 * traffic that serves stays where it was. Service and tag URLs (`<appUrl>/<service>`,
 * `<appUrl>/<tag>---<service>`) proxy to `backendFor(revision)`; a private service (no allUsers
 * invoker) demands an ID token from generateIdToken whose audience is that URL.
 */
import * as crypto from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export type StandinApi = 'oidc' | 'sts' | 'iamcredentials' | 'run' | 'artifactregistry' | 'app'

export interface RecordedRequest {
  api: StandinApi
  method: string
  /** Decoded path, without the query. */
  path: string
  query: Record<string, string>
  /** The Authorization header as sent. */
  authorization?: string
  contentType?: string
  /** The body: parsed JSON, a form as an object, else the text ('' when none). */
  body: unknown
  /** The status answered. */
  status: number
}

/** A revision as the stand-in keeps it (the API's resource). */
export interface StandinRevision {
  /** Full resource name. */
  name: string
  /** `<service>-00001-abc` */
  shortName: string
  serviceId: string
  labels: Record<string, string>
  /** The container image it runs. */
  image: string
  resource: Record<string, unknown>
  ready: boolean
  /** Why it is not ready (from `failRevision`). */
  failure?: string
}

export interface GcpStandinOptions {
  project?: string
  projectNumber?: string
  pool?: string
  provider?: string
  /** The repository the provider's attribute condition admits [octo-org/octo-repo]. */
  allowedRepository?: string
  /** The repository the job's OIDC tokens name (`repository` claim) [allowedRepository]. */
  jobRepository?: string
  /** Audiences the provider accepts [https://iam.googleapis.com/<provider name>]. */
  allowedAudiences?: string[]
  /** The issuer of the job's OIDC tokens, and the one the provider trusts [https://token.actions.githubusercontent.com]. */
  tokenIssuer?: string
  /** What the provider trusts, when the test wants them to differ [tokenIssuer]. */
  trustedIssuer?: string
  /** The deploy service account [pmcp-deploy@<project>.iam.gserviceaccount.com]. */
  serviceAccount?: string
  /** The repository's principal holds roles/iam.workloadIdentityUser on the service account [true]. */
  impersonationAllowed?: boolean
  /** IAM permissions the deploy service account lacks (`run.services.setIamPolicy`, `iam.serviceAccounts.actAs`, …). */
  deniedPermissions?: string[]
  /** APIs not enabled in the project (`run.googleapis.com`, …): every call answers 403 SERVICE_DISABLED. */
  disabledServices?: string[]
  /** Lifetime of the access tokens generateAccessToken issues, whatever was asked [the lifetime asked]. */
  accessTokenLifetimeSeconds?: number
  /** Reads (`:wait` or GET) an operation answers not done before it is done [1]. */
  operationPolls?: number
  /** The largest page listRevisions answers [100]. */
  maxPageSize?: number
  /** The URL a service (or one of its tags) reports [`<appUrl>/<service>`, `<appUrl>/<tag>---<service>`]. */
  serviceUri?: (serviceId: string, tag?: string) => string
  /** Where requests to a revision go (the proxy of the service URLs); undefined: 503. */
  backendFor?: (revision: StandinRevision) => string | undefined
  /** A message makes the revision fail to become ready, with that message. */
  failRevision?: (revision: StandinRevision) => string | undefined
  /** An organization policy (domain restricted sharing) refuses allUsers in IAM policies. */
  orgPolicyRefusesAllUsers?: boolean
  /** Artifact Registry repository ids that exist from the start, in every location. */
  repositories?: string[]
}

export interface InjectedFault {
  status: number
  /** Default: Google's error JSON for the status. */
  body?: string
  contentType?: string
}

export interface GcpStandin {
  oidcUrl: string
  stsUrl: string
  iamCredentialsUrl: string
  runUrl: string
  artifactRegistryUrl: string
  /** Root of the service URLs. */
  appUrl: string
  project: string
  projectNumber: string
  /** `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>` */
  providerName: string
  serviceAccount: string
  requests: RecordedRequest[]
  /** PMCP_GCP_*_URL for the action. */
  env(): Record<string, string>
  /** ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN of the stand-in's GitHub OIDC token service. */
  oidcEnv(): Record<string, string>
  /** An access token of the deploy service account, without the federation dance (for API tests). */
  issueAccessToken(): string
  /** The service as GET returns it; undefined when it does not exist. */
  service(serviceId: string, region?: string): Record<string, unknown> | undefined
  revisions(serviceId: string, region?: string): StandinRevision[]
  iamPolicy(
    serviceId: string,
    region?: string
  ): { version?: number; etag: string; bindings: { role: string; members: string[]; condition?: unknown }[] }
  /** Someone else changes the service's IAM policy (adds `member` to `role`) just before each of the next `times` setIamPolicy calls. */
  interfereWithIamPolicy(serviceId: string, member: string, role: string, times: number, region?: string): void
  /** Someone else updates the service (a new etag) just before the next update. */
  interfereWithService(serviceId: string, region?: string): void
  /** From now on the deploy service account lacks exactly these permissions (replacing `deniedPermissions`). */
  setDeniedPermissions(permissions: string[]): void
  /** The next `count` requests to `api` answer with `fault` (then the API answers normally again). */
  failNext(api: StandinApi, count: number, fault: InjectedFault): void
  repositoryExists(region: string, repository: string): boolean
  stop(): Promise<void>
}

// ---------------------------------------------------------------------------------------------------
// Errors, the way Google writes them

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
    readonly details: unknown[] = []
  ) {
    super(message)
  }
}

/** STS answers OAuth errors: `{"error": "...", "error_description": "..."}`. */
class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string
  ) {
    super(description)
  }
}

const invalid = (message: string): ApiError => new ApiError(400, 'INVALID_ARGUMENT', message)
const notFound = (message = 'Requested entity was not found.'): ApiError => new ApiError(404, 'NOT_FOUND', message)
const MISSING_CREDENTIALS =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid ' +
  'authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'
const INVALID_CREDENTIALS =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid ' +
  'authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'

function permissionDenied(permission: string, resource: string): ApiError {
  return new ApiError(403, 'PERMISSION_DENIED', `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'IAM_PERMISSION_DENIED',
      domain: 'iam.googleapis.com',
      metadata: { permission, resource }
    }
  ])
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE'
}

function googleErrorBody(code: number, status: string, message: string, details: unknown[] = []): string {
  return JSON.stringify({ error: { code, message, status, ...(details.length ? { details } : {}) } })
}

function htmlNotFound(path: string): string {
  return (
    '<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n' +
    `  <p><b>404.</b> <ins>That’s an error.</ins>\n  <p>The requested URL <code>${path}</code> was not found on this server.  ` +
    '<ins>That’s all we know.</ins>\n'
  )
}

class RouteNotFound extends Error {}

// ---------------------------------------------------------------------------------------------------
// Request bodies: Google's JSON parser refuses names it does not know

type Shape = 'scalar' | 'map' | 'any' | { fields: Record<string, Shape> } | { items: Shape }

const obj = (fields: Record<string, Shape>): Shape => ({ fields })
const list = (items: Shape): Shape => ({ items })

const ENV_VAR = obj({
  name: 'scalar',
  value: 'scalar',
  valueSource: obj({ secretKeyRef: obj({ secret: 'scalar', version: 'scalar' }) })
})
const CONTAINER = obj({
  name: 'scalar',
  image: 'scalar',
  command: list('scalar'),
  args: list('scalar'),
  env: list(ENV_VAR),
  resources: obj({ limits: 'map', cpuIdle: 'scalar', startupCpuBoost: 'scalar' }),
  ports: list(obj({ name: 'scalar', containerPort: 'scalar' })),
  volumeMounts: 'any',
  workingDir: 'scalar',
  livenessProbe: 'any',
  startupProbe: 'any',
  dependsOn: list('scalar'),
  baseImageUri: 'scalar',
  buildInfo: 'any'
})
const TEMPLATE = obj({
  revision: 'scalar',
  labels: 'map',
  annotations: 'map',
  scaling: obj({ minInstanceCount: 'scalar', maxInstanceCount: 'scalar' }),
  vpcAccess: 'any',
  timeout: 'scalar',
  serviceAccount: 'scalar',
  containers: list(CONTAINER),
  volumes: 'any',
  executionEnvironment: 'scalar',
  encryptionKey: 'scalar',
  maxInstanceRequestConcurrency: 'scalar',
  serviceMesh: 'any',
  encryptionKeyRevocationAction: 'scalar',
  encryptionKeyShutdownDuration: 'scalar',
  sessionAffinity: 'scalar',
  healthCheckDisabled: 'scalar',
  nodeSelector: 'any',
  gpuZonalRedundancyDisabled: 'scalar'
})
const TRAFFIC = obj({ type: 'scalar', revision: 'scalar', percent: 'scalar', tag: 'scalar' })
/** Every field of a v2 Service: the output-only ones are accepted (a read-modify-write sends them back) and ignored. */
const SERVICE = obj({
  name: 'scalar',
  description: 'scalar',
  uid: 'scalar',
  generation: 'scalar',
  labels: 'map',
  annotations: 'map',
  createTime: 'scalar',
  updateTime: 'scalar',
  deleteTime: 'scalar',
  expireTime: 'scalar',
  creator: 'scalar',
  lastModifier: 'scalar',
  client: 'scalar',
  clientVersion: 'scalar',
  ingress: 'scalar',
  launchStage: 'scalar',
  binaryAuthorization: 'any',
  template: TEMPLATE,
  traffic: list(TRAFFIC),
  scaling: 'any',
  invokerIamDisabled: 'scalar',
  defaultUriDisabled: 'scalar',
  urls: list('scalar'),
  customAudiences: list('scalar'),
  observedGeneration: 'scalar',
  terminalCondition: 'any',
  conditions: 'any',
  latestReadyRevision: 'scalar',
  latestCreatedRevision: 'scalar',
  trafficStatuses: 'any',
  uri: 'scalar',
  satisfiesPzs: 'scalar',
  buildConfig: 'any',
  reconciling: 'scalar',
  etag: 'scalar'
})
const POLICY = obj({
  version: 'scalar',
  bindings: list(obj({ role: 'scalar', members: list('scalar'), condition: 'any' })),
  auditConfigs: 'any',
  etag: 'scalar'
})
const SET_IAM_POLICY = obj({ policy: POLICY, updateMask: 'scalar' })
const WAIT = obj({ timeout: 'scalar' })
const GENERATE_ACCESS_TOKEN = obj({ delegates: list('scalar'), scope: list('scalar'), lifetime: 'scalar' })
const GENERATE_ID_TOKEN = obj({ delegates: list('scalar'), audience: 'scalar', includeEmail: 'scalar' })
const REPOSITORY = obj({
  name: 'scalar',
  format: 'scalar',
  description: 'scalar',
  labels: 'map',
  createTime: 'scalar',
  updateTime: 'scalar',
  kmsKeyName: 'scalar',
  mode: 'scalar',
  cleanupPolicies: 'any',
  sizeBytes: 'scalar',
  satisfiesPzs: 'scalar',
  cleanupPolicyDryRun: 'scalar',
  vulnerabilityScanningConfig: 'any',
  disallowUnspecifiedMode: 'scalar',
  dockerConfig: 'any',
  mavenConfig: 'any',
  virtualRepositoryConfig: 'any',
  remoteRepositoryConfig: 'any'
})

function checkShape(value: unknown, shape: Shape, at: string): void {
  if (shape === 'any' || value === null || value === undefined) return
  if (shape === 'scalar') {
    if (typeof value === 'object')
      throw invalid(`Invalid value at '${at}': a ${Array.isArray(value) ? 'list' : 'message'} is not allowed here.`)
    return
  }
  if (shape === 'map') {
    if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`Invalid value at '${at}': expected a map.`)
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string') throw invalid(`Invalid value at '${at}[${key}]' (TYPE_STRING), ${JSON.stringify(item)}`)
    }
    return
  }
  if ('items' in shape) {
    if (!Array.isArray(value)) throw invalid(`Invalid value at '${at}': expected a list.`)
    value.forEach((item, index) => checkShape(item, shape.items, `${at}[${index}]`))
    return
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`Invalid value at '${at}': expected a message.`)
  for (const [key, item] of Object.entries(value)) {
    const field = shape.fields[key]
    if (!field) throw invalid(`Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`)
    checkShape(item, field, `${at}.${key}`)
  }
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

const randomToken = (prefix: string): string => `${prefix}${crypto.randomBytes(24).toString('base64url')}`
const randomEtag = (): string => crypto.randomBytes(9).toString('base64')
const lowercaseSuffix = (): string => Array.from(crypto.randomBytes(3), byte => 'abcdefghijklmnopqrstuvwxyz'[byte % 26]).join('')
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T
const nowIso = (): string => new Date().toISOString()

/** JSON with sorted keys, to compare two templates by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map(key => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

/** A value of a request for a message: strings as they are, anything else as JSON. */
const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value))

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

function decodeJwt(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const SERVICE_ID = /^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/
const RESERVED_ENV = ['PORT', 'K_SERVICE', 'K_REVISION', 'K_CONFIGURATION']
const MEMBER =
  /^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|deleted:user|deleted:serviceAccount):.+|principal(Set)?:\/\/.+)$/
/** `/v2/projects/<p>/locations/<l>/(services|operations)[/<id>][:verb][/revisions[/<id>]]` */
const RUN_PATH =
  /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/(services|operations)(?:\/([^/:]+))?(?::(\w+))?(?:\/(revisions)(?:\/([^/:]+))?)?$/
const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST'
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION'
const INGRESS = ['INGRESS_TRAFFIC_ALL', 'INGRESS_TRAFFIC_INTERNAL_ONLY', 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER', 'INGRESS_TRAFFIC_NONE']
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform'
/** Fields of a Service the API computes: accepted in a request, never stored from it. */
const OUTPUT_ONLY = [
  'name',
  'uid',
  'generation',
  'createTime',
  'updateTime',
  'deleteTime',
  'expireTime',
  'creator',
  'lastModifier',
  'observedGeneration',
  'terminalCondition',
  'conditions',
  'latestReadyRevision',
  'latestCreatedRevision',
  'trafficStatuses',
  'uri',
  'urls',
  'satisfiesPzs',
  'reconciling',
  'etag'
]

// ---------------------------------------------------------------------------------------------------
// State

interface TokenGrant {
  kind: 'federated' | 'access'
  expiresAt: number
  repository?: string
}

interface Binding {
  role: string
  members: string[]
  condition?: unknown
}

interface Policy {
  version?: number
  etag: string
  bindings: Binding[]
}

interface TrafficEntry {
  type?: string
  revision?: string
  percent?: number
  tag?: string
}

interface ServiceState {
  serviceId: string
  name: string
  region: string
  uid: string
  createTime: string
  updateTime: string
  generation: number
  etag: string
  spec: Record<string, unknown>
  revisions: StandinRevision[]
  /** What serves: the traffic of the last update that succeeded, resolved to revision names. */
  serving: { type: string; revision: string; percent: number; tag?: string }[]
  latestReady?: string
  latestCreated?: string
  failure?: string
  policy: Policy
  interference?: { member: string; role: string; times: number }
  interfereWithUpdate?: boolean
}

interface OperationState {
  name: string
  pollsLeft: number
  metadata: unknown
  result: { response: unknown } | { error: { code: number; message: string } }
}

interface Incoming {
  api: StandinApi
  method: string
  path: string
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  text: string
  body: unknown
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

/** Query parameters every Google API takes besides its own. */
const SYSTEM_PARAMETERS = new Set(['alt', '$alt', 'prettyPrint', 'fields', 'key', 'quotaUser', '$.xgafv'])

function allowQuery(incoming: Incoming, allowed: string[]): void {
  for (const key of incoming.query.keys()) {
    if (!allowed.includes(key) && !SYSTEM_PARAMETERS.has(key)) {
      throw invalid(
        `Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter. ` +
          `Field '${key}' could not be found in request message.`
      )
    }
  }
}

function jsonBody(incoming: Incoming, shape: Shape, at: string): Record<string, unknown> {
  if (!/^application\/json\b/i.test(incoming.headers['content-type'] ?? '')) {
    throw invalid(
      'Invalid JSON payload received. Expected a JSON body with content-type application/json, ' +
        `not ${incoming.headers['content-type'] ?? 'none'}.`
    )
  }
  if (incoming.body === undefined || incoming.body === null || typeof incoming.body !== 'object' || Array.isArray(incoming.body)) {
    throw invalid('Invalid JSON payload received. Unexpected token.')
  }
  checkShape(incoming.body, shape, at)
  return incoming.body as Record<string, unknown>
}

function noBody(incoming: Incoming): void {
  if (incoming.text.trim() !== '') throw invalid('Invalid JSON payload received. The request body must be empty.')
}

// ---------------------------------------------------------------------------------------------------
// The stand-in

export async function startGcpStandin(options: GcpStandinOptions = {}): Promise<GcpStandin> {
  const project = options.project ?? 'pmcp-test'
  const projectNumber = options.projectNumber ?? '123456789012'
  const pool = options.pool ?? 'github'
  const provider = options.provider ?? 'octo-repo'
  const providerName = `projects/${projectNumber}/locations/global/workloadIdentityPools/${pool}/providers/${provider}`
  const allowedRepository = options.allowedRepository ?? 'octo-org/octo-repo'
  const jobRepository = options.jobRepository ?? allowedRepository
  const tokenIssuer = options.tokenIssuer ?? 'https://token.actions.githubusercontent.com'
  const trustedIssuer = options.trustedIssuer ?? tokenIssuer
  const allowedAudiences = options.allowedAudiences ?? [`https://iam.googleapis.com/${providerName}`]
  const serviceAccount = options.serviceAccount ?? `pmcp-deploy@${project}.iam.gserviceaccount.com`
  const denied = new Set(options.deniedPermissions ?? [])
  const disabled = new Set(options.disabledServices ?? [])
  const operationPolls = options.operationPolls ?? 1
  const maxPageSize = options.maxPageSize ?? 100
  const idTokenKey = crypto.randomBytes(32)
  const oidcRequestToken = randomToken('oidc-request-')

  const requests: RecordedRequest[] = []
  const tokens = new Map<string, TokenGrant>()
  const services = new Map<string, ServiceState>()
  const operations = new Map<string, OperationState>()
  const repositories = new Map<string, Record<string, unknown>>()
  const faults = new Map<StandinApi, { count: number; fault: InjectedFault }>()
  const urls: Record<StandinApi, string> = { oidc: '', sts: '', iamcredentials: '', run: '', artifactregistry: '', app: '' }

  const serviceUri = (serviceId: string, tag?: string): string =>
    options.serviceUri?.(serviceId, tag) ?? `${urls.app}/${tag ? `${tag}---` : ''}${serviceId}`

  const isProject = (value: string): boolean => value === project || value === projectNumber
  const location = (region: string): string => `projects/${project}/locations/${region}`

  for (const id of options.repositories ?? []) repositories.set(`*/${id}`, { format: 'DOCKER' })

  // ------------------------------------------------------------------- tokens

  function bearer(incoming: Incoming): string {
    const header = incoming.headers.authorization
    if (!header) throw new ApiError(401, 'UNAUTHENTICATED', MISSING_CREDENTIALS)
    const match = /^Bearer (\S+)$/.exec(header)
    if (!match) throw new ApiError(401, 'UNAUTHENTICATED', INVALID_CREDENTIALS)
    return match[1]
  }

  /** The grant of the Bearer token, which must be known, unexpired and of `kind`; another kind holds no roles here. */
  function requireToken(incoming: Incoming, kind: TokenGrant['kind'], permission: string, resource: string): TokenGrant {
    const grant = tokens.get(bearer(incoming))
    if (!grant || grant.expiresAt <= Date.now()) throw new ApiError(401, 'UNAUTHENTICATED', INVALID_CREDENTIALS)
    if (grant.kind !== kind) throw permissionDenied(permission, resource)
    return grant
  }

  function requireServiceEnabled(service: string): void {
    if (!disabled.has(service)) return
    throw new ApiError(
      403,
      'PERMISSION_DENIED',
      `${service} has not been used in project ${projectNumber} before or it is disabled. Enable it by visiting ` +
        `https://console.developers.google.com/apis/api/${service}/overview?project=${projectNumber} then retry.`,
      [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com', metadata: { service } }]
    )
  }

  /** The deploy service account's access token, and the permission the call needs. */
  function authorize(incoming: Incoming, service: string, permission: string, resource: string): void {
    requireServiceEnabled(service)
    requireToken(incoming, 'access', permission, resource)
    if (denied.has(permission)) throw permissionDenied(permission, resource)
  }

  // ------------------------------------------------------------------- GitHub OIDC token service

  function oidc(incoming: Incoming): unknown {
    if (incoming.method !== 'GET' || incoming.path !== '/_apis/distributedtask/token') throw new RouteNotFound()
    if (incoming.headers.authorization !== `Bearer ${oidcRequestToken}`) throw new ApiError(401, 'UNAUTHENTICATED', 'bad request token')
    const audience = incoming.query.get('audience') ?? 'https://github.com/octo-org'
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: tokenIssuer,
      aud: audience,
      sub: `repo:${jobRepository}:ref:refs/heads/main`,
      repository: jobRepository,
      repository_owner: jobRepository.split('/')[0],
      ref: 'refs/heads/main',
      iat: now,
      nbf: now,
      exp: now + 300
    }
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
    return { value: `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}.${crypto.randomBytes(16).toString('base64url')}` }
  }

  // ------------------------------------------------------------------- STS

  function stsFields(incoming: Incoming): Record<string, unknown> {
    const type = incoming.headers['content-type'] ?? ''
    if (/^application\/x-www-form-urlencoded\b/i.test(type)) {
      // The form takes the OAuth names (grant_type, subject_token, …).
      const form = Object.fromEntries(new URLSearchParams(incoming.text))
      const camel = (key: string): string => key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())
      return Object.fromEntries(Object.entries(form).map(([key, value]) => [camel(key), value]))
    }
    const shape = obj({
      grantType: 'scalar',
      resource: 'scalar',
      audience: 'scalar',
      scope: 'scalar',
      requestedTokenType: 'scalar',
      subjectToken: 'scalar',
      subjectTokenType: 'scalar',
      options: 'scalar'
    })
    return jsonBody(incoming, shape, 'request')
  }

  function sts(incoming: Incoming): unknown {
    if (incoming.method !== 'POST' || incoming.path !== '/v1/token') throw new RouteNotFound()
    allowQuery(incoming, [])
    const body = stsFields(incoming)
    if (body.grantType !== 'urn:ietf:params:oauth:grant-type:token-exchange') {
      throw new OAuthError('unsupported_grant_type', `Unsupported grant type: ${text(body.grantType)}`)
    }
    if (body.requestedTokenType !== 'urn:ietf:params:oauth:token-type:access_token') {
      throw new OAuthError('invalid_request', 'Invalid requested token type, expected urn:ietf:params:oauth:token-type:access_token.')
    }
    if (
      body.subjectTokenType !== 'urn:ietf:params:oauth:token-type:jwt' &&
      body.subjectTokenType !== 'urn:ietf:params:oauth:token-type:id_token'
    ) {
      throw new OAuthError('invalid_request', `Invalid subject token type ${text(body.subjectTokenType)}.`)
    }
    if (body.scope !== undefined && !text(body.scope).split(' ').includes(CLOUD_PLATFORM)) {
      throw new OAuthError('invalid_scope', `Invalid scope ${text(body.scope)}.`)
    }
    const audience = typeof body.audience === 'string' ? body.audience : ''
    if (!/^\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/[^/]+\/providers\/[^/]+$/.test(audience)) {
      throw new OAuthError(
        'invalid_request',
        'Invalid value for "audience". This value should be the full resource name of the Identity Provider. See ' +
          'https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token for the list of possible formats.'
      )
    }
    if (audience !== `//iam.googleapis.com/${providerName}`) {
      throw new OAuthError(
        'invalid_target',
        'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or ' +
          "provider is disabled or deleted or because it doesn't exist."
      )
    }
    const claims = typeof body.subjectToken === 'string' ? decodeJwt(body.subjectToken) : undefined
    if (!claims) throw new OAuthError('invalid_grant', 'Unable to parse the ID Token.')
    if (claims.iss !== trustedIssuer)
      throw new OAuthError('invalid_grant', `The issuer in ID Token ${text(claims.iss)} does not match the expected ones.`)
    const audiences = Array.isArray(claims.aud) ? (claims.aud as unknown[]) : [claims.aud]
    if (!audiences.some(aud => typeof aud === 'string' && allowedAudiences.includes(aud))) {
      throw new OAuthError('invalid_grant', `The audience in ID Token [${audiences.join(', ')}] does not match the expected audience.`)
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) throw new OAuthError('invalid_grant', 'ID Token has expired.')
    if (claims.repository !== allowedRepository) {
      throw new OAuthError('unauthorized_client', 'The given credential is rejected by the attribute condition.')
    }
    const token = randomToken('ya29.fed-')
    tokens.set(token, { kind: 'federated', expiresAt: Date.now() + 3600_000, repository: text(claims.repository) })
    return {
      access_token: token,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 3599
    }
  }

  // ------------------------------------------------------------------- IAM credentials

  function iamCredentials(incoming: Incoming): unknown {
    const match = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):(generateAccessToken|generateIdToken)$/.exec(incoming.path)
    if (!match || incoming.method !== 'POST') throw new RouteNotFound()
    allowQuery(incoming, [])
    requireServiceEnabled('iamcredentials.googleapis.com')
    const [, email, method] = match
    const resource = `projects/-/serviceAccounts/${email}`
    const permission = method === 'generateAccessToken' ? 'iam.serviceAccounts.getAccessToken' : 'iam.serviceAccounts.getOpenIdToken'
    requireToken(incoming, 'federated', permission, resource)
    if (email !== serviceAccount) throw notFound(`Not found; Gaia id not found for email ${email}`)
    if (options.impersonationAllowed === false || denied.has(permission)) throw permissionDenied(permission, resource)
    if (method === 'generateAccessToken') {
      const body = jsonBody(incoming, GENERATE_ACCESS_TOKEN, 'request')
      if (!Array.isArray(body.scope) || body.scope.length === 0) throw invalid('Scope required.')
      if (!body.scope.includes(CLOUD_PLATFORM)) throw invalid(`The requested scopes do not include ${CLOUD_PLATFORM}.`)
      let lifetimeSeconds = 3600
      if (body.lifetime !== undefined) {
        const lifetime = /^(\d+)s$/.exec(text(body.lifetime))
        if (!lifetime) throw invalid(`Invalid value at 'lifetime' (type.googleapis.com/google.protobuf.Duration), "${text(body.lifetime)}"`)
        lifetimeSeconds = Number(lifetime[1])
        if (lifetimeSeconds > 3600) throw invalid('The lifetime of the token exceeds the maximum allowed lifetime of 3600s.')
      }
      lifetimeSeconds = options.accessTokenLifetimeSeconds ?? lifetimeSeconds
      const token = randomToken('ya29.sa-')
      const expiresAt = Date.now() + lifetimeSeconds * 1000
      tokens.set(token, { kind: 'access', expiresAt })
      return { accessToken: token, expireTime: new Date(expiresAt).toISOString().replace(/\.\d+Z$/, 'Z') }
    }
    const body = jsonBody(incoming, GENERATE_ID_TOKEN, 'request')
    if (typeof body.audience !== 'string' || body.audience === '') throw invalid('Audience required.')
    return { token: mintIdToken(body.audience, body.includeEmail === true) }
  }

  function mintIdToken(audience: string, includeEmail: boolean): string {
    const now = Math.floor(Date.now() / 1000)
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
    const claims = {
      aud: audience,
      azp: '104857600000000000000',
      ...(includeEmail ? { email: serviceAccount, email_verified: true } : {}),
      exp: now + 3600,
      iat: now,
      iss: 'https://accounts.google.com',
      sub: '104857600000000000000'
    }
    const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`
    return `${unsigned}.${crypto.createHmac('sha256', idTokenKey).update(unsigned).digest('base64url')}`
  }

  /** The claims of an ID token this stand-in minted (signature and expiry checked); undefined otherwise. */
  function verifyIdToken(token: string): Record<string, unknown> | undefined {
    const [header, payload, signature] = token.split('.')
    if (!header || !payload || !signature) return undefined
    const expected = crypto.createHmac('sha256', idTokenKey).update(`${header}.${payload}`).digest('base64url')
    if (signature !== expected) return undefined
    const claims = decodeJwt(token)
    if (!claims || typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return undefined
    return claims
  }

  // ------------------------------------------------------------------- Cloud Run: validation

  function fillTemplateDefaults(template: Record<string, unknown>): void {
    template.timeout ??= '300s'
    template.maxInstanceRequestConcurrency ??= 80
    template.serviceAccount ??= `${projectNumber}-compute@developer.gserviceaccount.com`
    template.scaling ??= {}
    const scaling = template.scaling as Record<string, unknown>
    scaling.maxInstanceCount ??= 100
    for (const container of (template.containers as Record<string, unknown>[] | undefined) ?? []) {
      container.resources ??= {}
      const resources = container.resources as Record<string, unknown>
      resources.limits ??= { cpu: '1000m', memory: '512Mi' }
      resources.startupCpuBoost ??= true
      container.ports ??= [{ name: 'http1', containerPort: 8080 }]
    }
  }

  function checkLabels(labels: unknown, at: string): void {
    for (const [key, value] of Object.entries((labels as Record<string, string> | undefined) ?? {})) {
      if (!LABEL_KEY.test(key))
        throw invalid(`${at}: label key '${key}' is invalid: lower-case letters, digits, _ and -, starting with a letter, at most 63.`)
      if (!LABEL_VALUE.test(value))
        throw invalid(`${at}: label value '${value}' of '${key}' is invalid: at most 63 lower-case letters, digits, _ and -.`)
    }
  }

  function checkContainer(container: Record<string, unknown>, index: number): void {
    const at = `spec.template.containers[${index}]`
    if (typeof container.image !== 'string' || !container.image || /\s/.test(container.image))
      throw invalid(`${at}.image: an image is required.`)
    const ports = (container.ports as { containerPort?: unknown }[] | undefined) ?? []
    if (ports.length > 1) throw invalid(`${at}.ports: at most one port may be given.`)
    for (const port of ports) {
      if (!Number.isInteger(port.containerPort) || (port.containerPort as number) < 1 || (port.containerPort as number) > 65535) {
        throw invalid(`${at}.ports.containerPort must be an integer between 1 and 65535.`)
      }
    }
    const names = new Set<string>()
    const env = (container.env as Record<string, unknown>[] | undefined) ?? []
    const reserved = env.map(variable => String(variable.name)).filter(name => RESERVED_ENV.includes(name))
    if (reserved.length) {
      throw invalid(
        `The following reserved env names were provided: ${reserved.join(', ')}. These values are automatically set by the system.`
      )
    }
    env.forEach((variable, envIndex) => {
      const name = variable.name
      if (typeof name !== 'string' || !/^[^=\s]+$/.test(name))
        throw invalid(`${at}.env[${envIndex}].name is invalid: ${JSON.stringify(name)}.`)
      if (names.has(name)) throw invalid(`${at}.env: the environment variable ${name} is given more than once.`)
      names.add(name)
      const hasSource = variable.valueSource !== undefined
      if (hasSource && variable.value !== undefined) throw invalid(`${at}.env[${envIndex}]: value and valueSource are mutually exclusive.`)
      if (hasSource) {
        const ref = (variable.valueSource as { secretKeyRef?: { secret?: unknown } }).secretKeyRef
        if (!ref || typeof ref.secret !== 'string' || !ref.secret)
          throw invalid(`${at}.env[${envIndex}].valueSource.secretKeyRef.secret is required.`)
      }
    })
    const limits = (container.resources as { limits?: Record<string, string> } | undefined)?.limits ?? {}
    for (const [key, value] of Object.entries(limits)) {
      if (key === 'memory' && !/^\d+(\.\d+)?(Ki|Mi|Gi|k|M|G)?$/.test(value))
        throw invalid(`${at}.resources.limits.memory: invalid quantity '${value}'.`)
      else if (key === 'cpu' && !/^(\d+(\.\d+)?|\d+m)$/.test(value))
        throw invalid(`${at}.resources.limits.cpu: invalid quantity '${value}'.`)
      else if (key !== 'memory' && key !== 'cpu' && key !== 'nvidia.com/gpu')
        throw invalid(`${at}.resources.limits: unknown resource '${key}'.`)
    }
  }

  function checkSpec(serviceId: string, spec: Record<string, unknown>): void {
    const template = spec.template as Record<string, unknown> | undefined
    if (!template) throw invalid('spec.template: a revision template is required.')
    if (spec.ingress !== undefined && !INGRESS.includes(text(spec.ingress)))
      throw invalid(`spec.ingress: invalid value ${JSON.stringify(spec.ingress)}.`)
    checkLabels(spec.labels, 'spec.labels')
    checkLabels(template.labels, 'spec.template.labels')
    const containers = (template.containers as Record<string, unknown>[] | undefined) ?? []
    if (containers.length === 0) throw invalid('spec.template.containers: at least one container is required.')
    containers.forEach(checkContainer)
    const scaling = (template.scaling ?? {}) as { minInstanceCount?: unknown; maxInstanceCount?: unknown }
    for (const [key, value] of Object.entries(scaling)) {
      if (!Number.isInteger(value) || (value as number) < 0) throw invalid(`spec.template.scaling.${key} must be a non-negative integer.`)
    }
    if ((scaling.minInstanceCount as number | undefined) !== undefined && (scaling.maxInstanceCount as number | undefined) !== undefined) {
      if ((scaling.minInstanceCount as number) > (scaling.maxInstanceCount as number)) {
        throw invalid('spec.template.scaling: minInstanceCount must not be greater than maxInstanceCount.')
      }
    }
    if (template.timeout !== undefined) {
      const seconds = /^(\d+)s$/.exec(text(template.timeout))
      if (!seconds || Number(seconds[1]) > 3600) throw invalid(`spec.template.timeout: '${text(template.timeout)}' must be at most 3600s.`)
    }
    const concurrency = template.maxInstanceRequestConcurrency
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || (concurrency as number) < 1 || (concurrency as number) > 1000)) {
      throw invalid('spec.template.maxInstanceRequestConcurrency must be between 1 and 1000.')
    }
    if (template.revision !== undefined) checkRevisionName(serviceId, text(template.revision), 'spec.template.revision')
  }

  function checkRevisionName(serviceId: string, revision: string, at: string): void {
    if (!revision.startsWith(`${serviceId}-`)) {
      throw invalid(`${at}: revision name '${revision}' must be prefixed with the name of the enclosing Service: '${serviceId}-'.`)
    }
    if (revision.length > 63 || !DNS_LABEL.test(revision)) {
      throw invalid(`${at}: '${revision}' is not a valid revision name: lower-case letters, digits and hyphens, at most 63 characters.`)
    }
  }

  /** The traffic as Cloud Run checks it; `known` are the revisions (short names) that exist or this request creates. */
  function checkTraffic(serviceId: string, traffic: TrafficEntry[], known: string[]): void {
    const tags = new Set<string>()
    let sum = 0
    traffic.forEach((entry, index) => {
      const at = `spec.traffic[${index}]`
      if (entry.type !== LATEST && entry.type !== REVISION) throw invalid(`${at}.type must be ${LATEST} or ${REVISION}.`)
      if (entry.type === LATEST && entry.revision) throw invalid(`${at}: a LATEST traffic target must not name a revision.`)
      if (entry.type === REVISION) {
        if (!entry.revision) throw invalid(`${at}: a REVISION traffic target must name a revision.`)
        checkRevisionName(serviceId, entry.revision, `${at}.revision`)
        if (!known.includes(entry.revision)) throw invalid(`${at}: revision '${entry.revision}' does not exist in service '${serviceId}'.`)
      }
      const percent = entry.percent ?? 0
      if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw invalid(`${at}.percent must be an integer between 0 and 100.`)
      sum += percent
      if (entry.tag !== undefined) {
        if (!DNS_LABEL.test(entry.tag))
          throw invalid(`${at}.tag '${entry.tag}' is not a valid DNS label (lower-case letters, digits, hyphens).`)
        if (`${entry.tag}---${serviceId}`.length > 63)
          throw invalid(`${at}.tag '${entry.tag}' is too long for the service name: tag---service exceeds 63 characters.`)
        if (tags.has(entry.tag)) throw invalid(`${at}: the tag '${entry.tag}' is used more than once.`)
        tags.add(entry.tag)
      }
    })
    if (sum !== 100) throw invalid(`spec.traffic: the percentages must sum to 100, not ${sum}.`)
  }

  // ------------------------------------------------------------------- Cloud Run: state changes

  function newOperation(region: string, metadata: unknown, result: OperationState['result']): Record<string, unknown> {
    const name = `${location(region)}/operations/${crypto.randomUUID()}`
    const state: OperationState = { name, pollsLeft: operationPolls, metadata, result }
    operations.set(name, state)
    return operationView(state)
  }

  function operationView(state: OperationState): Record<string, unknown> {
    const done = state.pollsLeft <= 0
    return { name: state.name, metadata: state.metadata, ...(done ? { done: true, ...state.result } : {}) }
  }

  function revisionResource(state: ServiceState, shortName: string, template: Record<string, unknown>): Record<string, unknown> {
    return {
      name: `${state.name}/revisions/${shortName}`,
      uid: crypto.randomUUID(),
      generation: '1',
      labels: { ...(template.labels ?? {}), 'cloud.googleapis.com/location': state.region },
      annotations: template.annotations,
      createTime: nowIso(),
      updateTime: nowIso(),
      launchStage: 'GA',
      service: state.name,
      scaling: template.scaling,
      containers: template.containers,
      serviceAccount: template.serviceAccount,
      timeout: template.timeout,
      maxInstanceRequestConcurrency: template.maxInstanceRequestConcurrency,
      observedGeneration: '1',
      etag: randomEtag()
    }
  }

  function revisionConditions(revision: StandinRevision): Record<string, unknown>[] {
    const at = nowIso()
    if (revision.ready) {
      return [
        { type: 'Ready', state: 'CONDITION_SUCCEEDED', lastTransitionTime: at },
        { type: 'ContainerHealthy', state: 'CONDITION_SUCCEEDED', lastTransitionTime: at },
        { type: 'ResourcesAvailable', state: 'CONDITION_SUCCEEDED', lastTransitionTime: at }
      ]
    }
    return [
      {
        type: 'Ready',
        state: 'CONDITION_FAILED',
        message: revision.failure,
        reason: 'HEALTH_CHECK_CONTAINER_ERROR',
        lastTransitionTime: at
      },
      {
        type: 'ContainerHealthy',
        state: 'CONDITION_FAILED',
        message: revision.failure,
        reason: 'HEALTH_CHECK_CONTAINER_ERROR',
        lastTransitionTime: at
      },
      { type: 'ResourcesAvailable', state: 'CONDITION_SUCCEEDED', lastTransitionTime: at }
    ]
  }

  /**
   * Applies a create or an update: a changed template makes a revision; the traffic is checked
   * against the revisions that exist then; what serves moves only when nothing it names failed.
   * Returns the operation's result.
   */
  function apply(state: ServiceState, spec: Record<string, unknown>, created: boolean): OperationState['result'] {
    const template = clone(spec.template) as Record<string, unknown>
    fillTemplateDefaults(template)
    const templateChanged = created || canonical(template) !== canonical(state.spec.template)
    let revision: StandinRevision | undefined
    if (templateChanged) {
      const shortName =
        typeof template.revision === 'string'
          ? template.revision
          : `${state.serviceId}-${String(state.revisions.length + 1).padStart(5, '0')}-${lowercaseSuffix()}`
      if (state.revisions.some(existing => existing.shortName === shortName)) {
        throw new ApiError(409, 'ALREADY_EXISTS', `Revision named '${shortName}' with different configuration already exists.`)
      }
      const resource = revisionResource(state, shortName, template)
      const containers = template.containers as { image: string }[]
      revision = {
        name: resource.name as string,
        shortName,
        serviceId: state.serviceId,
        labels: resource.labels as Record<string, string>,
        image: containers[0].image,
        resource,
        ready: true
      }
    }
    const traffic = clone((spec.traffic as TrafficEntry[] | undefined) ?? [{ type: LATEST, percent: 100 }])
    checkTraffic(state.serviceId, traffic, [
      ...state.revisions.map(existing => existing.shortName),
      ...(revision ? [revision.shortName] : [])
    ])
    if (revision) {
      const failure = options.failRevision?.(revision)
      revision.ready = failure === undefined
      revision.failure = failure
      revision.resource.conditions = revisionConditions(revision)
      state.revisions.push(revision)
      state.latestCreated = revision.shortName
      if (revision.ready) state.latestReady = revision.shortName
    }
    state.spec = { ...clone(spec), template, traffic }
    for (const field of OUTPUT_ONLY) delete state.spec[field]
    state.generation++
    state.etag = randomEtag()
    state.updateTime = nowIso()
    const failed = revision && !revision.ready ? revision : failedTarget(state, traffic)
    if (failed) {
      state.failure = `Revision '${failed.shortName}' is not ready and cannot serve traffic. ${failed.failure ?? ''}`.trim()
      return { error: { code: 9, message: state.failure } }
    }
    state.failure = undefined
    state.serving = traffic.map(entry => ({
      type: entry.type ?? LATEST,
      revision: entry.type === LATEST ? (state.latestReady ?? '') : (entry.revision ?? ''),
      percent: entry.percent ?? 0,
      ...(entry.tag ? { tag: entry.tag } : {})
    }))
    return { response: { '@type': 'type.googleapis.com/google.cloud.run.v2.Service', ...serviceView(state) } }
  }

  function failedTarget(state: ServiceState, traffic: TrafficEntry[]): StandinRevision | undefined {
    const names = traffic.filter(entry => entry.type === REVISION).map(entry => entry.revision)
    return state.revisions.find(revision => !revision.ready && names.includes(revision.shortName))
  }

  /** The service as the API shows it: spec, then what Cloud Run made of it; zero percents omitted, as proto3 JSON does. */
  function serviceView(state: ServiceState): Record<string, unknown> {
    const fullRevision = (short: string | undefined): string | undefined => (short ? `${state.name}/revisions/${short}` : undefined)
    const withoutZero = <T extends { percent?: number }>(entry: T): T => {
      const copy = { ...entry }
      if (!copy.percent) delete copy.percent
      return copy
    }
    const at = state.updateTime
    const terminal = state.failure
      ? { type: 'Ready', state: 'CONDITION_FAILED', message: state.failure, reason: 'REVISION_FAILED', lastTransitionTime: at }
      : { type: 'Ready', state: 'CONDITION_SUCCEEDED', lastTransitionTime: at }
    const uri = serviceUri(state.serviceId)
    return {
      ...clone(state.spec),
      name: state.name,
      uid: state.uid,
      generation: String(state.generation),
      createTime: state.createTime,
      updateTime: state.updateTime,
      creator: serviceAccount,
      lastModifier: serviceAccount,
      ingress: state.spec.ingress ?? 'INGRESS_TRAFFIC_ALL',
      launchStage: 'GA',
      traffic: (state.spec.traffic as TrafficEntry[]).map(withoutZero),
      observedGeneration: String(state.generation),
      terminalCondition: terminal,
      conditions: [
        { type: 'RoutesReady', state: state.failure ? 'CONDITION_FAILED' : 'CONDITION_SUCCEEDED', lastTransitionTime: at },
        { type: 'ConfigurationsReady', state: state.failure ? 'CONDITION_FAILED' : 'CONDITION_SUCCEEDED', lastTransitionTime: at }
      ],
      latestReadyRevision: fullRevision(state.latestReady),
      latestCreatedRevision: fullRevision(state.latestCreated),
      trafficStatuses: state.serving.map(entry =>
        withoutZero({ ...entry, ...(entry.tag ? { uri: serviceUri(state.serviceId, entry.tag) } : {}) })
      ),
      uri,
      urls: [uri],
      reconciling: false,
      etag: state.etag
    }
  }

  // ------------------------------------------------------------------- Cloud Run: routes

  function serviceState(region: string, serviceId: string): ServiceState | undefined {
    return services.get(`${location(region)}/services/${serviceId}`)
  }

  function run(incoming: Incoming): unknown {
    const match = RUN_PATH.exec(incoming.path)
    if (!match) throw new RouteNotFound()
    const [, projectId, region, collection, id, verb, sub, subId] = match
    if (!isProject(projectId))
      throw permissionDenied(collection === 'services' ? 'run.services.get' : 'run.operations.get', `projects/${projectId}`)
    if (collection === 'operations') return runOperation(incoming, region, id, verb)
    if (id === undefined) return createService(incoming, region)
    const name = `${location(region)}/services/${id}`
    if (sub === 'revisions') return revisions(incoming, region, id, subId)
    if (verb === 'getIamPolicy' && incoming.method === 'GET') return getIamPolicy(incoming, region, id)
    if (verb === 'setIamPolicy' && incoming.method === 'POST') return setIamPolicy(incoming, region, id)
    if (verb !== undefined) throw new RouteNotFound()
    if (incoming.method === 'GET') {
      allowQuery(incoming, [])
      noBody(incoming)
      authorize(incoming, 'run.googleapis.com', 'run.services.get', name)
      const state = serviceState(region, id)
      if (!state) throw notFound(`Resource '${id}' of kind 'SERVICE' in region '${region}' in project '${projectId}' does not exist.`)
      return serviceView(state)
    }
    if (incoming.method === 'PATCH') return updateService(incoming, region, id)
    if (incoming.method === 'DELETE') return deleteService(incoming, region, id)
    throw new RouteNotFound()
  }

  function requireActAs(template: Record<string, unknown> | undefined): void {
    const runtime = (template?.serviceAccount as string | undefined) ?? `${projectNumber}-compute@developer.gserviceaccount.com`
    if (denied.has('iam.serviceAccounts.actAs')) {
      throw new ApiError(
        403,
        'PERMISSION_DENIED',
        `Permission 'iam.serviceaccounts.actAs' denied on service account ${runtime} (or it may not exist).`
      )
    }
  }

  function createService(incoming: Incoming, region: string): unknown {
    if (incoming.method !== 'POST') throw new RouteNotFound()
    allowQuery(incoming, ['serviceId', 'validateOnly'])
    const serviceId = incoming.query.get('serviceId') ?? ''
    const name = `${location(region)}/services/${serviceId}`
    authorize(incoming, 'run.googleapis.com', 'run.services.create', name)
    const spec = jsonBody(incoming, SERVICE, 'service')
    if (!SERVICE_ID.test(serviceId)) {
      throw invalid(
        `serviceId '${serviceId}' is invalid: lower-case letters, digits and hyphens, starting with a letter, at most 49 characters.`
      )
    }
    if (services.has(name)) throw new ApiError(409, 'ALREADY_EXISTS', `Resource '${serviceId}' already exists.`)
    checkSpec(serviceId, spec)
    requireActAs(spec.template as Record<string, unknown>)
    const state: ServiceState = {
      serviceId,
      name,
      region,
      uid: crypto.randomUUID(),
      createTime: nowIso(),
      updateTime: nowIso(),
      generation: 0,
      etag: '',
      spec: {},
      revisions: [],
      serving: [],
      policy: { version: 1, etag: randomEtag(), bindings: [] }
    }
    const result = apply(state, spec, true)
    services.set(name, state)
    return newOperation(region, { '@type': 'type.googleapis.com/google.cloud.run.v2.Service', ...serviceView(state) }, result)
  }

  function updateService(incoming: Incoming, region: string, serviceId: string): unknown {
    allowQuery(incoming, ['updateMask', 'validateOnly', 'allowMissing'])
    const name = `${location(region)}/services/${serviceId}`
    authorize(incoming, 'run.googleapis.com', 'run.services.update', name)
    const spec = jsonBody(incoming, SERVICE, 'service')
    if (spec.name !== undefined && spec.name !== name) throw invalid(`service.name '${text(spec.name)}' does not match the URL's ${name}.`)
    const state = serviceState(region, serviceId)
    if (!state) throw notFound(`Resource '${serviceId}' of kind 'SERVICE' in region '${region}' in project '${project}' does not exist.`)
    if (state.interfereWithUpdate) {
      state.interfereWithUpdate = false
      state.etag = randomEtag()
    }
    if (spec.etag !== undefined && spec.etag !== state.etag) {
      throw new ApiError(
        409,
        'ABORTED',
        `The etag '${text(spec.etag)}' does not match the current etag of the service: it was changed since it was read.`
      )
    }
    checkSpec(serviceId, spec)
    requireActAs(spec.template as Record<string, unknown>)
    // Checked on a copy: a refused update changes nothing.
    const trial = { ...state, spec: state.spec, revisions: [...state.revisions] }
    const result = apply(trial, spec, false)
    Object.assign(state, trial)
    return newOperation(region, { '@type': 'type.googleapis.com/google.cloud.run.v2.Service', ...serviceView(state) }, result)
  }

  function deleteService(incoming: Incoming, region: string, serviceId: string): unknown {
    allowQuery(incoming, ['etag', 'validateOnly'])
    noBody(incoming)
    const name = `${location(region)}/services/${serviceId}`
    authorize(incoming, 'run.googleapis.com', 'run.services.delete', name)
    const state = serviceState(region, serviceId)
    if (!state) throw notFound(`Resource '${serviceId}' of kind 'SERVICE' in region '${region}' in project '${project}' does not exist.`)
    const etag = incoming.query.get('etag')
    if (etag !== null && etag !== state.etag) throw new ApiError(409, 'ABORTED', 'The etag does not match the current etag of the service.')
    services.delete(name)
    const view = serviceView(state)
    return newOperation(
      region,
      { '@type': 'type.googleapis.com/google.cloud.run.v2.Service', ...view },
      {
        response: { '@type': 'type.googleapis.com/google.cloud.run.v2.Service', ...view }
      }
    )
  }

  function revisions(incoming: Incoming, region: string, serviceId: string, revisionId: string | undefined): unknown {
    if (incoming.method !== 'GET') throw new RouteNotFound()
    noBody(incoming)
    const serviceName = `${location(region)}/services/${serviceId}`
    const state = serviceState(region, serviceId)
    if (revisionId !== undefined) {
      allowQuery(incoming, [])
      authorize(incoming, 'run.googleapis.com', 'run.revisions.get', `${serviceName}/revisions/${revisionId}`)
      const revision = state?.revisions.find(candidate => candidate.shortName === revisionId)
      if (!revision)
        throw notFound(`Resource '${revisionId}' of kind 'REVISION' in region '${region}' in project '${project}' does not exist.`)
      return revision.resource
    }
    allowQuery(incoming, ['pageSize', 'pageToken', 'showDeleted'])
    authorize(incoming, 'run.googleapis.com', 'run.revisions.list', serviceName)
    if (!state) throw notFound(`Resource '${serviceId}' of kind 'SERVICE' in region '${region}' in project '${project}' does not exist.`)
    const requested = Number(incoming.query.get('pageSize') ?? 20)
    if (!Number.isInteger(requested) || requested < 0) throw invalid('pageSize must be a non-negative integer.')
    const size = Math.min(requested || 20, maxPageSize)
    const token = incoming.query.get('pageToken')
    const offset = token
      ? Number(
          Buffer.from(token, 'base64url')
            .toString('utf8')
            .replace(/^offset:/, '')
        )
      : 0
    if (!Number.isInteger(offset) || offset < 0) throw invalid('Invalid page token.')
    const newestFirst = [...state.revisions].reverse()
    const page = newestFirst.slice(offset, offset + size)
    const next = offset + size < newestFirst.length ? Buffer.from(`offset:${offset + size}`).toString('base64url') : undefined
    return { revisions: page.map(revision => revision.resource), ...(next ? { nextPageToken: next } : {}) }
  }

  function runOperation(incoming: Incoming, region: string, id: string | undefined, verb: string | undefined): unknown {
    if (id === undefined) throw new RouteNotFound()
    const name = `${location(region)}/operations/${id}`
    if (verb === 'wait' && incoming.method === 'POST') {
      allowQuery(incoming, [])
      const body = jsonBody(incoming, WAIT, 'request')
      if (body.timeout !== undefined && !/^\d+(\.\d+)?s$/.test(text(body.timeout))) {
        throw invalid(`Invalid value at 'timeout' (type.googleapis.com/google.protobuf.Duration), "${text(body.timeout)}"`)
      }
    } else if (verb === undefined && incoming.method === 'GET') {
      allowQuery(incoming, [])
      noBody(incoming)
    } else throw new RouteNotFound()
    authorize(incoming, 'run.googleapis.com', 'run.operations.get', name)
    const state = operations.get(name)
    if (!state) throw notFound(`Operation ${name} not found.`)
    state.pollsLeft--
    return operationView(state)
  }

  // ------------------------------------------------------------------- Cloud Run: IAM

  function policyView(policy: Policy): Record<string, unknown> {
    return {
      version: policy.version ?? 1,
      etag: policy.etag,
      ...(policy.bindings.length ? { bindings: clone(policy.bindings) } : {})
    }
  }

  function getIamPolicy(incoming: Incoming, region: string, serviceId: string): unknown {
    allowQuery(incoming, ['options.requestedPolicyVersion'])
    noBody(incoming)
    const name = `${location(region)}/services/${serviceId}`
    authorize(incoming, 'run.googleapis.com', 'run.services.getIamPolicy', name)
    const state = serviceState(region, serviceId)
    if (!state) throw notFound(`Resource '${serviceId}' of kind 'SERVICE' in region '${region}' in project '${project}' does not exist.`)
    const requested = incoming.query.get('options.requestedPolicyVersion')
    if (requested !== null && !['0', '1', '3'].includes(requested)) throw invalid(`Invalid requested policy version ${requested}.`)
    return policyView(state.policy)
  }

  function setIamPolicy(incoming: Incoming, region: string, serviceId: string): unknown {
    allowQuery(incoming, [])
    const name = `${location(region)}/services/${serviceId}`
    authorize(incoming, 'run.googleapis.com', 'run.services.setIamPolicy', name)
    const body = jsonBody(incoming, SET_IAM_POLICY, 'request')
    const policy = body.policy as { version?: number; etag?: string; bindings?: Binding[] } | undefined
    if (!policy) throw invalid('policy is required.')
    const state = serviceState(region, serviceId)
    if (!state) throw notFound(`Resource '${serviceId}' of kind 'SERVICE' in region '${region}' in project '${project}' does not exist.`)
    if (state.interference && state.interference.times > 0) {
      const { member, role } = state.interference
      state.interference.times--
      const binding = state.policy.bindings.find(candidate => candidate.role === role && !candidate.condition)
      if (binding) binding.members.push(member)
      else state.policy.bindings.push({ role, members: [member] })
      state.policy.etag = randomEtag()
    }
    if (policy.etag !== undefined && policy.etag !== state.policy.etag) {
      throw new ApiError(
        409,
        'ABORTED',
        'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.'
      )
    }
    const bindings = policy.bindings ?? []
    for (const binding of bindings) {
      if (!/^(roles\/[\w.]+|projects\/[^/]+\/roles\/[\w.]+)$/.test(binding.role ?? ''))
        throw invalid(`Role ${text(binding.role)} is not a valid role.`)
      if (!Array.isArray(binding.members)) throw invalid(`The binding of ${binding.role} has no members list.`)
      for (const member of binding.members) {
        if (!MEMBER.test(member)) throw invalid(`Invalid member ${member} in the binding of ${binding.role}.`)
      }
      if (binding.condition !== undefined && policy.version !== 3) {
        throw invalid(
          'Policies with conditional role bindings must be set with version 3; send the version read with requestedPolicyVersion=3.'
        )
      }
    }
    const publicMembers = bindings
      .flatMap(binding => binding.members)
      .filter(member => member === 'allUsers' || member === 'allAuthenticatedUsers')
    if (options.orgPolicyRefusesAllUsers && publicMembers.length > 0) {
      throw new ApiError(400, 'FAILED_PRECONDITION', 'One or more users named in the policy do not belong to a permitted customer.', [
        {
          '@type': 'type.googleapis.com/google.rpc.PreconditionFailure',
          violations: [
            { type: 'constraints/iam.allowedPolicyMemberDomains', subject: `projects/${projectNumber}`, description: publicMembers[0] }
          ]
        }
      ])
    }
    state.policy = {
      version: policy.version,
      etag: randomEtag(),
      bindings: bindings.filter(binding => binding.members.length > 0).map(binding => clone(binding))
    }
    return policyView(state.policy)
  }

  // ------------------------------------------------------------------- Artifact Registry

  const repositoryKey = (region: string, repository: string): string => `${location(region)}/repositories/${repository}`
  const repositoryExists = (region: string, repository: string): boolean =>
    repositories.has(repositoryKey(region, repository)) || repositories.has(`*/${repository}`)

  function artifactRegistry(incoming: Incoming): unknown {
    const match = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/(repositories|operations)(?:\/([^/:]+))?$/.exec(incoming.path)
    if (!match) throw new RouteNotFound()
    const [, projectId, region, collection, id] = match
    if (!isProject(projectId)) throw permissionDenied('artifactregistry.repositories.get', `projects/${projectId}`)
    if (collection === 'operations') {
      if (incoming.method !== 'GET' || id === undefined) throw new RouteNotFound()
      allowQuery(incoming, [])
      noBody(incoming)
      requireServiceEnabled('artifactregistry.googleapis.com')
      requireToken(incoming, 'access', 'artifactregistry.repositories.get', `${location(region)}/operations/${id}`)
      const state = operations.get(`${location(region)}/operations/${id}`)
      if (!state) throw notFound()
      state.pollsLeft--
      return operationView(state)
    }
    if (id !== undefined) {
      if (incoming.method !== 'GET') throw new RouteNotFound()
      allowQuery(incoming, [])
      noBody(incoming)
      authorize(incoming, 'artifactregistry.googleapis.com', 'artifactregistry.repositories.get', repositoryKey(region, id))
      if (!repositoryExists(region, id)) throw notFound(`Requested entity was not found.`)
      return { name: repositoryKey(region, id), format: 'DOCKER', ...(repositories.get(repositoryKey(region, id)) ?? {}) }
    }
    if (incoming.method !== 'POST') throw new RouteNotFound()
    allowQuery(incoming, ['repositoryId'])
    const repositoryId = incoming.query.get('repositoryId') ?? ''
    authorize(incoming, 'artifactregistry.googleapis.com', 'artifactregistry.repositories.create', location(region))
    const body = jsonBody(incoming, REPOSITORY, 'repository')
    if (!/^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(repositoryId)) throw invalid(`Invalid repository id '${repositoryId}'.`)
    if (!['DOCKER', 'MAVEN', 'NPM', 'APT', 'YUM', 'PYTHON', 'GO', 'KFP', 'GENERIC'].includes(text(body.format))) {
      throw invalid(
        "Invalid value at 'repository.format' (type.googleapis.com/google.devtools.artifactregistry.v1.Repository.Format), " +
          `"${text(body.format)}"`
      )
    }
    if (repositoryExists(region, repositoryId)) throw new ApiError(409, 'ALREADY_EXISTS', 'the repository already exists')
    const resource = { ...body, name: repositoryKey(region, repositoryId), createTime: nowIso(), updateTime: nowIso() }
    repositories.set(repositoryKey(region, repositoryId), resource)
    return newOperation(
      region,
      { '@type': 'type.googleapis.com/google.devtools.artifactregistry.v1.OperationMetadata' },
      {
        response: { '@type': 'type.googleapis.com/google.devtools.artifactregistry.v1.Repository', ...resource }
      }
    )
  }

  // ------------------------------------------------------------------- Service URLs

  function findService(serviceId: string): ServiceState | undefined {
    return [...services.values()].find(state => state.serviceId === serviceId)
  }

  function isPublic(state: ServiceState): boolean {
    if (state.spec.invokerIamDisabled === true) return true
    return state.policy.bindings.some(
      binding => binding.role === 'roles/run.invoker' && !binding.condition && binding.members.includes('allUsers')
    )
  }

  async function proxy(request: http.IncomingMessage, response: http.ServerResponse, record: (status: number) => void): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const [, host = '', ...rest] = url.pathname.split('/')
    const tagMatch = /^([a-z][-a-z0-9]*)---(.+)$/.exec(host)
    const serviceId = tagMatch ? tagMatch[2] : host
    const tag = tagMatch?.[1]
    const state = findService(serviceId)
    const answer = (status: number, text: string): void => {
      record(status)
      response.writeHead(status, { 'content-type': 'text/html; charset=UTF-8' })
      response.end(text)
    }
    if (!state) return answer(404, htmlNotFound(url.pathname))
    const target = tag ? state.serving.find(entry => entry.tag === tag) : [...state.serving].sort((a, b) => b.percent - a.percent)[0]
    if (!target || (!tag && target.percent === 0)) return answer(tag ? 404 : 503, 'Service Unavailable')
    if (!isPublic(state)) {
      const header = (request.headers['x-serverless-authorization'] ?? request.headers.authorization) as string | undefined
      const token = /^Bearer (\S+)$/.exec(header ?? '')?.[1]
      const claims = token ? verifyIdToken(token) : undefined
      const audiences = [serviceUri(state.serviceId), ...(tag ? [serviceUri(state.serviceId, tag)] : [])].map(uri => uri.replace(/\/$/, ''))
      if (!claims || typeof claims.aud !== 'string' || !audiences.includes(claims.aud.replace(/\/$/, ''))) {
        return answer(401, '<html><head><title>401 Unauthorized</title></head><body><h1>Error: Unauthorized</h1></body></html>')
      }
    }
    const revision = state.revisions.find(candidate => candidate.shortName === target.revision)
    const backend = revision ? options.backendFor?.(revision) : undefined
    if (!revision || !backend) return answer(503, 'Service Unavailable')
    const forward = new URL(`/${rest.join('/')}${url.search}`, backend)
    const headers = { ...request.headers }
    delete headers.host
    delete headers['x-serverless-authorization']
    await new Promise<void>(resolve => {
      const upstream = http.request(forward, { method: request.method, headers }, backendResponse => {
        record(backendResponse.statusCode ?? 502)
        response.writeHead(backendResponse.statusCode ?? 502, backendResponse.headers)
        backendResponse.pipe(response)
        backendResponse.on('end', resolve)
        backendResponse.on('error', () => resolve())
      })
      upstream.on('error', () => {
        if (!response.headersSent) answer(502, 'Bad Gateway')
        else response.destroy()
        resolve()
      })
      request.pipe(upstream)
    })
  }

  // ------------------------------------------------------------------- HTTP

  const handlers: Record<Exclude<StandinApi, 'app'>, (incoming: Incoming) => unknown> = {
    oidc,
    sts,
    iamcredentials: iamCredentials,
    run,
    artifactregistry: artifactRegistry
  }

  function parseBody(text: string, contentType: string | undefined): unknown {
    if (text === '') return undefined
    if (/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '')) return Object.fromEntries(new URLSearchParams(text))
    try {
      return JSON.parse(text) as unknown
    } catch {
      return text
    }
  }

  function handler(api: StandinApi): http.RequestListener {
    return (request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1')
      const base = {
        api,
        method: request.method ?? 'GET',
        path: safeDecode(url.pathname),
        query: Object.fromEntries(url.searchParams),
        authorization: request.headers.authorization,
        contentType: request.headers['content-type']
      }
      const fault = faults.get(api)
      if (fault && fault.count > 0) {
        fault.count--
        const { status, contentType = 'application/json; charset=UTF-8' } = fault.fault
        const body = fault.fault.body ?? googleErrorBody(status, STATUS_NAMES[status] ?? 'UNKNOWN', 'Injected fault.')
        requests.push({ ...base, body: undefined, status })
        request.resume()
        response.writeHead(status, { 'content-type': contentType })
        response.end(body)
        return
      }
      if (api === 'app') {
        const entry: RecordedRequest = { ...base, body: undefined, status: 0 }
        requests.push(entry)
        void proxy(request, response, status => (entry.status = status))
        return
      }
      void readBody(request).then(text => {
        const body = parseBody(text, request.headers['content-type'])
        const incoming: Incoming = {
          api,
          method: base.method,
          path: base.path,
          query: url.searchParams,
          headers: request.headers,
          text,
          body
        }
        let status = 200
        let payload: string
        let contentType = 'application/json; charset=UTF-8'
        try {
          payload = JSON.stringify(handlers[api](incoming))
        } catch (error) {
          if (error instanceof RouteNotFound) {
            status = 404
            contentType = 'text/html; charset=UTF-8'
            payload = htmlNotFound(base.path)
          } else if (error instanceof OAuthError) {
            status = 400
            payload = JSON.stringify({ error: error.error, error_description: error.description })
          } else if (error instanceof ApiError) {
            status = error.code
            payload = googleErrorBody(error.code, error.status, error.message, error.details)
          } else {
            status = 500
            payload = googleErrorBody(500, 'INTERNAL', `stand-in bug: ${String(error)}`)
          }
        }
        requests.push({ ...base, body, status })
        response.writeHead(status, { 'content-type': contentType })
        response.end(payload)
      })
    }
  }

  const servers: http.Server[] = []
  for (const api of Object.keys(urls) as StandinApi[]) {
    const server = http.createServer(handler(api))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
    urls[api] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  const stateFor = (serviceId: string, region: string): ServiceState => {
    const state = serviceState(region, serviceId)
    if (!state) throw new Error(`the stand-in has no service ${serviceId} in ${region}`)
    return state
  }

  return {
    oidcUrl: urls.oidc,
    stsUrl: urls.sts,
    iamCredentialsUrl: urls.iamcredentials,
    runUrl: urls.run,
    artifactRegistryUrl: urls.artifactregistry,
    appUrl: urls.app,
    project,
    projectNumber,
    providerName,
    serviceAccount,
    requests,
    env: () => ({
      PMCP_GCP_STS_URL: urls.sts,
      PMCP_GCP_IAMCREDENTIALS_URL: urls.iamcredentials,
      PMCP_GCP_RUN_URL: urls.run,
      PMCP_GCP_ARTIFACTREGISTRY_URL: urls.artifactregistry
    }),
    oidcEnv: () => ({
      ACTIONS_ID_TOKEN_REQUEST_URL: `${urls.oidc}/_apis/distributedtask/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidcRequestToken
    }),
    issueAccessToken: () => {
      const token = randomToken('ya29.sa-')
      tokens.set(token, { kind: 'access', expiresAt: Date.now() + 3600_000 })
      return token
    },
    service: (serviceId, region = 'us-central1') => {
      const state = serviceState(region, serviceId)
      return state ? serviceView(state) : undefined
    },
    revisions: (serviceId, region = 'us-central1') => stateFor(serviceId, region).revisions,
    iamPolicy: (serviceId, region = 'us-central1') => clone(stateFor(serviceId, region).policy),
    interfereWithIamPolicy: (serviceId, member, role, times, region = 'us-central1') => {
      stateFor(serviceId, region).interference = { member, role, times }
    },
    interfereWithService: (serviceId, region = 'us-central1') => {
      stateFor(serviceId, region).interfereWithUpdate = true
    },
    setDeniedPermissions: permissions => {
      denied.clear()
      for (const permission of permissions) denied.add(permission)
    },
    failNext: (api, count, fault) => {
      faults.set(api, { count, fault })
    },
    repositoryExists,
    stop: async () => {
      await Promise.all(
        servers.map(
          server =>
            new Promise<void>(resolve => {
              server.closeAllConnections()
              server.close(() => resolve())
            })
        )
      )
    }
  }
}
