/**
 * A loopback stand-in for the GitHub Actions cache SERVICE (not the client): the real @actions/cache
 * (6.x) runs against it unchanged.
 *
 * What the installed client talks to (node_modules/@actions/cache/lib):
 * - config.js: service v2 when ACTIONS_CACHE_SERVICE_V2 is set and GITHUB_SERVER_URL is github.com,
 *   *.ghe.com or *.localhost (v1, the retired `_apis/artifactcache` REST API, otherwise). v2's base
 *   URL is ACTIONS_RESULTS_URL; isFeatureAvailable() is `!!ACTIONS_RESULTS_URL`.
 * - cacheTwirpClient.js: POST `<ACTIONS_RESULTS_URL>/twirp/github.actions.results.api.v1.CacheService/<Method>`,
 *   JSON with proto field names, `Authorization: Bearer <ACTIONS_RUNTIME_TOKEN>`; a non-2xx answer is a
 *   Twirp error `{code, msg}` (5xx retried, 4xx not).
 * - GetCacheEntryDownloadURL {key, restore_keys, version} → {ok, signed_download_url, matched_key};
 *   CreateCacheEntry {key, version} → {ok, signed_upload_url, message};
 *   FinalizeCacheEntryUpload {key, version, size_bytes} → {ok, entry_id, message} (int64 as strings).
 * - uploadUtils.js: @azure/storage-blob BlockBlobClient.uploadFile(signed URL): one `PUT` with
 *   `x-ms-blob-type: BlockBlob` up to 128 MiB, else `PUT ?comp=block&blockid=…` per 64 MiB block and
 *   `PUT ?comp=blocklist` (an XML block list).
 * - downloadUtils.js: a URL whose host is not `*.blob.core.windows.net` is fetched with one plain GET
 *   (@actions/http-client, Content-Length checked); HEAD and `Range` GETs are what the client sends to
 *   Azure hosts, and are answered here too.
 *
 * What it enforces as the real service does: the runtime token (signed here; its `ac` claim lists the
 * cache scopes, the first writable one is where entries are created, readable ones are searched in
 * order); the lookup (per scope: the exact key, then the key as a prefix, then each restore key as a
 * prefix, newest first, always with the same version); finalized entries only; a key+version that
 * exists in the scope (even one still uploading) is refused with 409 already_exists; uploads only to
 * the signed URL of a reserved entry; finalize only after the blob is committed, with its size.
 */
import { execFileSync } from 'node:child_process'
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.CacheService/'
const ACCOUNT = 'pmcpcache'
const CONTAINER = 'actions-cache'
/** The blob that stores an entry, and the upload/download URLs the service signs for it. */
const SIGNED_URL_LIFETIME_MS = 10 * 60 * 1000

/** `ac` claim permissions of the runtime token, as the real one: 1 read, 2 write, 3 both. */
export const READ = 1
export const WRITE = 2

export interface CacheScope {
  /** `refs/heads/main`, `refs/pull/7/merge`, … */
  scope: string
  permission: number
}

export interface CacheEntry {
  id: number
  key: string
  version: string
  scope: string
  /** Set by FinalizeCacheEntryUpload; until then the entry is reserved, not restorable. */
  sizeBytes?: number
  createdAt: number
  finalized: boolean
  /** The committed blob (the client's tar archive), once uploaded. */
  archive?: Buffer
}

export interface RecordedRequest {
  kind: 'twirp' | 'blob' | 'other'
  method: string
  /** Twirp method name, or the blob URL path, or the path of anything else. */
  name: string
  status: number
  /** Twirp: the JSON request. */
  body?: unknown
  /** Blob: `comp` and `blockid` query parameters, the Range and x-ms-blob-type headers. */
  comp?: string
  blockId?: string
  range?: string
  blobType?: string
  bytes?: number
}

export interface ActionsCacheService {
  /** ACTIONS_RESULTS_URL (with its trailing slash, as the runner sets it). */
  url: string
  /** A runtime token for a push to the default branch: reads and writes refs/heads/main. */
  token: string
  /** A runtime token with these scopes (first writable one receives new entries). */
  tokenFor(scopes: CacheScope[]): string
  /** The token a run of `ref` gets: its own scope read/write, and for a pull request the base branch's read-only. */
  tokenForRef(ref: string, baseRef?: string): string
  /** The variables a runner sets for the cache (v2), with `token` or the default one. */
  env(token?: string): Record<string, string>
  /** Every entry, in creation order (finalized or not). */
  readonly entries: readonly CacheEntry[]
  /** Finalized entries only: what a later run can restore. */
  finalizedEntries(): CacheEntry[]
  /** Every request, in arrival order. */
  readonly requests: readonly RecordedRequest[]
  /** Answer Twirp `method` with this status (e.g. 500) until cleared with undefined. */
  failTwirp(method: string, status: number | undefined): void
  close(): Promise<void>
}

/** The version @actions/cache computes for `paths` (cacheUtils.getCacheVersion, Linux, salt '1.0'). */
export function cacheVersion(paths: string[], compressionMethod = 'zstd-without-long'): string {
  return createHash('sha256')
    .update([...paths, compressionMethod, '1.0'].join('|'))
    .digest('hex')
}

/** The file names in an entry's archive (`tar --zstd`, or gzip when zstd was not installed for the client). */
export function archiveListing(entry: CacheEntry): string[] {
  if (!entry.archive) return []
  const gzip = entry.archive[0] === 0x1f && entry.archive[1] === 0x8b
  const listing = execFileSync('tar', [gzip ? '-tzf' : '--zstd', ...(gzip ? [] : ['-tf']), '-'], {
    input: entry.archive,
    stdio: ['pipe', 'pipe', 'ignore'],
    maxBuffer: 256 * 1024 * 1024
  })
  return listing.toString('utf8').split('\n').filter(Boolean)
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

class TwirpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict' }

export async function startActionsCacheService(): Promise<ActionsCacheService> {
  const secret = randomBytes(32)
  const entries: CacheEntry[] = []
  const requests: RecordedRequest[] = []
  const failures = new Map<string, number>()
  /** Uncommitted blocks per blob path (Put Block), committed by Put Block List. */
  const stagedBlocks = new Map<string, Map<string, Buffer>>()
  let nextId = 1
  let clock = 0
  /** Creation order, strictly increasing even within one millisecond (newest first needs a total order). */
  const now = (): number => (clock = Math.max(clock + 1, Date.now()))

  const sign = (text: string): string => createHmac('sha256', secret).update(text).digest('base64url')

  function tokenFor(scopes: CacheScope[]): string {
    const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
    const ac = JSON.stringify(scopes.map(s => ({ Scope: s.scope, Permission: s.permission })))
    const payload = base64url(
      JSON.stringify({ ac, iss: 'vstoken.actions.githubusercontent.com', exp: Math.floor(Date.now() / 1000) + 3600 })
    )
    return `${header}.${payload}.${sign(`${header}.${payload}`)}`
  }

  function scopesOf(authorization: string | undefined): CacheScope[] {
    const match = /^Bearer (\S+)$/.exec(authorization ?? '')
    if (!match) throw new TwirpError(401, 'unauthenticated', 'missing bearer token')
    const [header, payload, signature] = match[1].split('.')
    const expected = sign(`${header}.${payload}`)
    if (!signature || signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
      throw new TwirpError(401, 'unauthenticated', 'invalid runtime token')
    }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { ac: string; exp: number }
    if (claims.exp * 1000 < Date.now()) throw new TwirpError(401, 'unauthenticated', 'runtime token expired')
    return (JSON.parse(claims.ac) as { Scope: string; Permission: number }[]).map(s => ({ scope: s.Scope, permission: s.Permission }))
  }

  const blobPath = (entry: CacheEntry): string =>
    `/${ACCOUNT}/${CONTAINER}/${entry.id}-${createHash('sha256').update(entry.key).digest('hex').slice(0, 16)}`

  function signedUrl(entry: CacheEntry, permissions: string): string {
    const expiry = new Date(Date.now() + SIGNED_URL_LIFETIME_MS).toISOString()
    const pathName = blobPath(entry)
    const query = new URLSearchParams({
      sv: '2024-08-04',
      sr: 'b',
      sp: permissions,
      se: expiry,
      sig: sign(`${permissions}\n${pathName}\n${expiry}`)
    })
    return `${service.url.replace(/\/$/, '')}${pathName}?${query.toString()}`
  }

  function checkSignature(url: URL, permission: string): CacheEntry {
    const sp = url.searchParams.get('sp') ?? ''
    const se = url.searchParams.get('se') ?? ''
    const sig = url.searchParams.get('sig') ?? ''
    const entry = entries.find(e => blobPath(e) === url.pathname)
    if (!entry || sig !== sign(`${sp}\n${url.pathname}\n${se}`) || !sp.includes(permission) || Date.parse(se) < Date.now()) {
      throw new BlobError(403, 'AuthenticationFailed', 'Server failed to authenticate the request.')
    }
    return entry
  }

  function twirpString(body: Record<string, unknown>, field: string): string {
    const value = body[field]
    if (value !== undefined && typeof value !== 'string') throw new TwirpError(400, 'invalid_argument', `${field} must be a string`)
    return value ?? ''
  }

  function validKeyAndVersion(body: Record<string, unknown>): { key: string; version: string } {
    const key = twirpString(body, 'key')
    const version = twirpString(body, 'version')
    if (!key) throw new TwirpError(400, 'invalid_argument', 'key is required')
    if (key.length > 512 || key.includes(',')) throw new TwirpError(400, 'invalid_argument', `invalid key: ${key}`)
    if (!/^[0-9a-f]{64}$/.test(version)) throw new TwirpError(400, 'invalid_argument', `invalid version: ${version}`)
    return { key, version }
  }

  function lookup(scopes: CacheScope[], key: string, restoreKeys: string[], version: string): CacheEntry | undefined {
    for (const { scope } of scopes.filter(s => s.permission & READ)) {
      const candidates = entries
        .filter(e => e.finalized && e.scope === scope && e.version === version)
        .sort((a, b) => b.createdAt - a.createdAt)
      const found =
        candidates.find(e => e.key === key) ??
        [key, ...restoreKeys].map(prefix => candidates.find(e => e.key.startsWith(prefix))).find(Boolean)
      if (found) return found
    }
    return undefined
  }

  const twirpMethods: Record<string, (body: Record<string, unknown>, scopes: CacheScope[]) => object> = {
    GetCacheEntryDownloadURL: (body, scopes) => {
      const key = twirpString(body, 'key')
      const version = twirpString(body, 'version')
      const restoreKeys = body.restore_keys ?? []
      if (!Array.isArray(restoreKeys) || restoreKeys.some(k => typeof k !== 'string')) {
        throw new TwirpError(400, 'invalid_argument', 'restore_keys must be strings')
      }
      if (!key || !version) throw new TwirpError(400, 'invalid_argument', 'key and version are required')
      if (!scopes.some(s => s.permission & READ))
        throw new TwirpError(403, 'permission_denied', 'cache read denied: the token has no readable cache scope')
      const entry = lookup(scopes, key, restoreKeys as string[], version)
      if (!entry) return { ok: false, signed_download_url: '', matched_key: '' }
      return { ok: true, signed_download_url: signedUrl(entry, 'r'), matched_key: entry.key }
    },
    CreateCacheEntry: (body, scopes) => {
      const { key, version } = validKeyAndVersion(body)
      const writable = scopes.find(s => s.permission & WRITE)
      if (!writable) return { ok: false, signed_upload_url: '', message: 'cache write denied: the token has no writable cache scope' }
      if (entries.some(e => e.key === key && e.version === version && e.scope === writable.scope)) {
        throw new TwirpError(409, 'already_exists', 'cache entry with the same key, version, and scope already exists')
      }
      const entry: CacheEntry = { id: nextId++, key, version, scope: writable.scope, createdAt: now(), finalized: false }
      entries.push(entry)
      return { ok: true, signed_upload_url: signedUrl(entry, 'cw') }
    },
    FinalizeCacheEntryUpload: (body, scopes) => {
      const { key, version } = validKeyAndVersion(body)
      const size = Number(twirpString(body, 'size_bytes') || '0')
      const writable = scopes.find(s => s.permission & WRITE)
      const entry = entries.find(e => e.key === key && e.version === version && e.scope === writable?.scope && !e.finalized)
      if (!entry) throw new TwirpError(404, 'not_found', `no cache entry reserved for key ${key} and version ${version}`)
      if (!entry.archive) return { ok: false, entry_id: '0', message: `the cache entry ${key} has no uploaded archive` }
      if (entry.archive.length !== size) {
        return {
          ok: false,
          entry_id: '0',
          message: `size_bytes ${size} does not match the uploaded archive (${entry.archive.length} bytes)`
        }
      }
      entry.finalized = true
      entry.sizeBytes = size
      return { ok: true, entry_id: String(entry.id) }
    }
  }

  async function readBody(request: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  async function handleTwirp(request: http.IncomingMessage, response: http.ServerResponse, method: string): Promise<void> {
    const raw = await readBody(request)
    const record: RecordedRequest = { kind: 'twirp', method: request.method ?? '', name: method, status: 200 }
    requests.push(record)
    const send = (status: number, body: object): void => {
      record.status = status
      response.writeHead(status, STATUS_TEXT[status], { 'content-type': 'application/json' })
      response.end(JSON.stringify(body))
    }
    try {
      const handler = twirpMethods[method]
      if (request.method !== 'POST' || !handler) throw new TwirpError(404, 'bad_route', `no handler for ${request.method} ${request.url}`)
      const scopes = scopesOf(request.headers.authorization)
      if (!String(request.headers['content-type']).startsWith('application/json')) {
        throw new TwirpError(400, 'malformed', 'this stand-in speaks Twirp JSON only')
      }
      let body: Record<string, unknown>
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>
      } catch {
        throw new TwirpError(400, 'malformed', 'the request body is not JSON')
      }
      record.body = body
      const failure = failures.get(method)
      if (failure !== undefined) throw new TwirpError(failure, failure >= 500 ? 'internal' : 'unknown', `injected failure ${failure}`)
      send(200, handler(body, scopes))
    } catch (error) {
      if (error instanceof TwirpError) send(error.status, { code: error.code, msg: error.message })
      else send(500, { code: 'internal', msg: String(error) })
    }
  }

  async function handleBlob(request: http.IncomingMessage, response: http.ServerResponse, url: URL): Promise<void> {
    const comp = url.searchParams.get('comp') ?? undefined
    const blockId = url.searchParams.get('blockid') ?? undefined
    const range = (request.headers['x-ms-range'] ?? request.headers.range) as string | undefined
    const blobType = request.headers['x-ms-blob-type'] as string | undefined
    const record: RecordedRequest = {
      kind: 'blob',
      method: request.method ?? '',
      name: url.pathname,
      status: 200,
      comp,
      blockId,
      range,
      blobType
    }
    requests.push(record)
    const body = await readBody(request)
    record.bytes = body.length
    const headers = (extra: Record<string, string | number> = {}): Record<string, string | number> => ({
      'x-ms-request-id': randomBytes(8).toString('hex'),
      'x-ms-version': '2024-08-04',
      date: new Date().toUTCString(),
      ...extra
    })
    try {
      if (request.method === 'PUT') {
        const entry = checkSignature(url, 'w')
        if (entry.finalized) throw new BlobError(409, 'BlobImmutable', 'The cache entry is finalized.')
        const staged = stagedBlocks.get(url.pathname) ?? new Map<string, Buffer>()
        stagedBlocks.set(url.pathname, staged)
        if (comp === 'block') {
          if (!blockId) throw new BlobError(400, 'InvalidQueryParameterValue', 'blockid is required')
          staged.set(blockId, body)
        } else if (comp === 'blocklist') {
          const ids = [
            ...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]+)<\/(?:Latest|Uncommitted|Committed)>/g)
          ].map(m => m[1])
          const missing = ids.find(id => !staged.has(id))
          if (missing) throw new BlobError(400, 'InvalidBlockList', `The block ${missing} was not uploaded.`)
          entry.archive = Buffer.concat(ids.map(id => staged.get(id) as Buffer))
          stagedBlocks.delete(url.pathname)
        } else if (comp === undefined) {
          if (blobType !== 'BlockBlob') throw new BlobError(400, 'InvalidHeaderValue', 'x-ms-blob-type must be BlockBlob')
          entry.archive = body
        } else {
          throw new BlobError(400, 'UnsupportedQueryParameter', `comp=${comp} is not supported here`)
        }
        record.status = 201
        response.writeHead(
          201,
          headers({
            etag: `"0x${randomBytes(8).toString('hex').toUpperCase()}"`,
            'last-modified': new Date().toUTCString(),
            'x-ms-request-server-encrypted': 'true',
            'content-length': 0
          })
        )
        response.end()
        return
      }
      if (request.method === 'GET' || request.method === 'HEAD') {
        const entry = checkSignature(url, 'r')
        const archive = entry.finalized ? entry.archive : undefined
        if (!archive) throw new BlobError(404, 'BlobNotFound', 'The specified blob does not exist.')
        let start = 0
        let end = archive.length - 1
        let status = 200
        const match = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null
        if (range && !match) throw new BlobError(416, 'InvalidRange', `Unsupported range ${range}`)
        if (match) {
          start = Number(match[1])
          end = match[2] ? Math.min(Number(match[2]), archive.length - 1) : archive.length - 1
          if (start >= archive.length)
            throw new BlobError(416, 'InvalidRange', 'The range specified is invalid for the current size of the resource.')
          status = 206
        }
        const slice = archive.subarray(start, end + 1)
        record.status = status
        response.writeHead(
          status,
          headers({
            'content-type': 'application/octet-stream',
            'content-length': slice.length,
            'x-ms-blob-type': 'BlockBlob',
            'accept-ranges': 'bytes',
            ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${archive.length}` } : {})
          })
        )
        response.end(request.method === 'HEAD' ? undefined : slice)
        return
      }
      throw new BlobError(405, 'UnsupportedHttpVerb', `${request.method} is not supported here`)
    } catch (error) {
      const blobError = error instanceof BlobError ? error : new BlobError(500, 'InternalError', String(error))
      record.status = blobError.status
      const xml =
        '<?xml version="1.0" encoding="utf-8"?>' + `<Error><Code>${blobError.code}</Code><Message>${blobError.message}</Message></Error>`
      response.writeHead(blobError.status, headers({ 'content-type': 'application/xml', 'x-ms-error-code': blobError.code }))
      response.end(request.method === 'HEAD' ? undefined : xml)
    }
  }

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const handled = url.pathname.startsWith(TWIRP_PREFIX)
      ? handleTwirp(request, response, url.pathname.slice(TWIRP_PREFIX.length))
      : url.pathname.startsWith(`/${ACCOUNT}/${CONTAINER}/`)
        ? handleBlob(request, response, url)
        : (async () => {
            // The retired v1 REST API (`_apis/artifactcache`) or anything else: recorded, so a test sees it.
            requests.push({ kind: 'other', method: request.method ?? '', name: url.pathname, status: 404 })
            await readBody(request)
            response.writeHead(404, { 'content-type': 'text/plain' })
            response.end('Not Found')
          })()
    handled.catch(error => {
      if (!response.headersSent) response.writeHead(500)
      response.end(String(error))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  const service: ActionsCacheService = {
    url: `http://127.0.0.1:${port}/`,
    token: '',
    tokenFor,
    tokenForRef: (ref, baseRef = 'refs/heads/main') =>
      tokenFor(
        ref === baseRef
          ? [{ scope: ref, permission: READ | WRITE }]
          : [
              { scope: ref, permission: READ | WRITE },
              { scope: baseRef, permission: READ }
            ]
      ),
    env: token => ({
      ACTIONS_CACHE_SERVICE_V2: 'True',
      ACTIONS_RESULTS_URL: service.url,
      // v1's variable as runners still set it; a client that fell back to v1 would show up as `other` requests.
      ACTIONS_CACHE_URL: `${service.url}_v1/`,
      ACTIONS_RUNTIME_TOKEN: token ?? service.token
    }),
    entries,
    finalizedEntries: () => entries.filter(e => e.finalized),
    requests,
    failTwirp: (method, status) => void (status === undefined ? failures.delete(method) : failures.set(method, status)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close(error => (error ? reject(error) : resolve()))
      })
  }
  service.token = tokenFor([{ scope: 'refs/heads/main', permission: READ | WRITE }])
  return service
}

class BlobError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}
