/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a
 * random port, a temporary config and storage directory, stopped by `stop()`.
 *
 * With `tokenAuth`, it authenticates as Artifact Registry and Docker Hub do: a request without a
 * token gets 401 and a `Bearer realm=…,service=…` challenge; a small token server on loopback
 * answers GET <realm>?service=…&scope=… (Basic credentials, or none for public repositories)
 * with a JWT signed by a key and certificate openssl makes, which the registry trusts.
 */
import { execFileSync, spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { exited, freePort } from './processes.js'

export interface TokenUser {
  username: string
  password: string
  /** What the user may do on every repository: ['pull', 'push'] for a writer, ['pull'] for a reader. */
  actions: string[]
}

export interface TokenAuthOptions {
  users: TokenUser[]
  /** Repository name prefixes anyone may pull from without credentials (a public base). */
  publicPrefixes?: string[]
  /** Seconds a token lasts [300]. */
  expiresIn?: number
}

export interface TokenRequest {
  /** The user of the Basic credentials; undefined for an anonymous request. */
  user?: string
  scopes: string[]
  /** What the token grants, `repository:<name>:<actions>`; empty for a refused request. */
  granted: string[]
  status: number
}

export interface RegistryAccess {
  method: string
  /** Without the query string. */
  path: string
  status: number
}

export interface OciRegistry {
  /** `127.0.0.1:<port>`: for PMCP_GCP_REGISTRY_HOST and image references. */
  host: string
  /** `http://127.0.0.1:<port>` */
  url: string
  /** The token server's realm URL and what it was asked, with `tokenAuth`. */
  tokens?: { realm: string; requests: TokenRequest[] }
  /**
   * Every request the registry answered, from its access log, oldest first. The log is written
   * after each answer: this sends a marker request and waits until its line is in, so every
   * request answered before the call is listed.
   */
  accesses(): Promise<RegistryAccess[]>
  /** The registry's own log, for a failing test's message. */
  log(): string
  stop(): Promise<void>
}

export const TOKEN_SERVICE = 'pmcp-test-registry'
const TOKEN_ISSUER = 'pmcp-test-token-server'

/** The registry's token format (distribution's token auth): a JWS with the certificate chain in `x5c`. */
function signToken(keyPem: string, certificateDer: string, audience: string, subject: string, access: object[], seconds: number): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const header = encode({ typ: 'JWT', alg: 'RS256', x5c: [certificateDer] })
  const claims = encode({
    iss: TOKEN_ISSUER,
    sub: subject,
    aud: audience,
    exp: now + seconds,
    nbf: now - 5,
    iat: now,
    jti: crypto.randomUUID(),
    access
  })
  const signature = crypto.sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), keyPem).toString('base64url')
  return `${header}.${claims}.${signature}`
}

const SCOPE = /^repository:([a-z0-9]+(?:[._/-][a-z0-9]+)*):([a-z*,]+)$/

/** The realm: the request shape of Docker's token spec, enforced (400 with the registry's error JSON otherwise). */
async function startTokenServer(
  options: TokenAuthOptions,
  keyPem: string,
  certificateDer: string
): Promise<{ server: http.Server; realm: string; requests: TokenRequest[] }> {
  const requests: TokenRequest[] = []
  const reject = (
    response: http.ServerResponse,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {}
  ): void => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers })
    response.end(JSON.stringify({ errors: [{ code, message }] }))
  }
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://token')
    if (request.method !== 'GET' || url.pathname !== '/token')
      return reject(response, 404, 'NOT_FOUND', `no ${request.method} ${url.pathname}`)
    if (url.searchParams.get('service') !== TOKEN_SERVICE) {
      return reject(response, 400, 'INVALID_REQUEST', `service must be ${TOKEN_SERVICE}, not ${url.searchParams.get('service')}`)
    }
    const scopes = url.searchParams.getAll('scope')
    const bad = scopes.find(scope => !SCOPE.test(scope))
    if (bad !== undefined) return reject(response, 400, 'INVALID_REQUEST', `invalid scope ${JSON.stringify(bad)}`)
    let user: string | undefined
    let known: TokenUser | undefined
    const authorization = request.headers.authorization
    if (authorization !== undefined) {
      const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(authorization)
      if (!basic) return reject(response, 400, 'INVALID_REQUEST', 'the token endpoint takes Basic credentials or none')
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
      const cut = decoded.indexOf(':')
      user = decoded.slice(0, cut)
      known = options.users.find(candidate => candidate.username === user && candidate.password === decoded.slice(cut + 1))
      if (cut < 0 || !known) {
        requests.push({ user, scopes, granted: [], status: 401 })
        return reject(response, 401, 'UNAUTHORIZED', 'invalid username or password', { 'www-authenticate': 'Basic realm="token"' })
      }
      if (url.searchParams.has('account') && url.searchParams.get('account') !== user) {
        return reject(response, 400, 'INVALID_REQUEST', `account ${url.searchParams.get('account')} is not the user ${user}`)
      }
    }
    const access = scopes.map(scope => {
      const [, name, wanted] = SCOPE.exec(scope) as RegExpExecArray
      const allowed = known ? known.actions : (options.publicPrefixes ?? []).some(prefix => name.startsWith(prefix)) ? ['pull'] : []
      return { type: 'repository', name, actions: wanted.split(',').filter(action => allowed.includes(action)) }
    })
    const granted = access.filter(entry => entry.actions.length > 0).map(entry => `repository:${entry.name}:${entry.actions.join(',')}`)
    requests.push({ user, scopes, granted, status: 200 })
    const seconds = options.expiresIn ?? 300
    const token = signToken(keyPem, certificateDer, TOKEN_SERVICE, user ?? 'anonymous', access, seconds)
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ token, access_token: token, expires_in: seconds, issued_at: new Date().toISOString() }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return { server, realm: `http://127.0.0.1:${port}/token`, requests }
}

function configYaml(storage: string, host: string, token?: { realm: string; certificate: string }): string {
  const auth = token
    ? [
        'auth:',
        '  token:',
        `    realm: ${token.realm}`,
        `    service: ${TOKEN_SERVICE}`,
        `    issuer: ${TOKEN_ISSUER}`,
        `    rootcertbundle: ${token.certificate}`
      ]
    : []
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    ...auth,
    ''
  ].join('\n')
}

const ACCESS_LINE = /"([A-Z]+) ([^ ?"]+)[^"]*" (\d{3}) /

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) })
    return true
  } catch {
    return false
  }
}

/** Starts docker-registry (and, with `tokenAuth`, its token server) and waits until it answers. */
export async function startOciRegistry(options: { tokenAuth?: TokenAuthOptions } = {}, timeoutMs = 15_000): Promise<OciRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-oci-registry-'))
  let tokens: Awaited<ReturnType<typeof startTokenServer>> | undefined
  let certificate: string | undefined
  if (options.tokenAuth) {
    const keyFile = path.join(dir, 'token.key')
    certificate = path.join(dir, 'token.crt')
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certificate,
        '-days',
        '1',
        '-subj',
        '/CN=pmcp-test-token'
      ],
      { stdio: 'ignore' }
    )
    const der = new crypto.X509Certificate(fs.readFileSync(certificate)).raw.toString('base64')
    tokens = await startTokenServer(options.tokenAuth, fs.readFileSync(keyFile, 'utf8'), der)
  }
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  const configFile = path.join(dir, 'config.yml')
  fs.writeFileSync(
    configFile,
    configYaml(path.join(dir, 'storage'), host, tokens && certificate ? { realm: tokens.realm, certificate } : undefined)
  )
  const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (data: Buffer): void => {
    output += data.toString()
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited(child)
    if (tokens) await new Promise<void>(resolve => tokens?.server.close(() => resolve()))
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const started = Date.now()
  while (!(await answers(`http://${host}/v2/`))) {
    if (child.exitCode !== null || Date.now() - started > timeoutMs) {
      await stop()
      throw new Error(`docker-registry did not start on ${host}:\n${output.slice(-4000)}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {
    host,
    url: `http://${host}`,
    tokens: tokens ? { realm: tokens.realm, requests: tokens.requests } : undefined,
    accesses: async () => {
      const marker = `/v2/pmcp-marker-${crypto.randomUUID()}/tags/list`
      await fetch(`http://${host}${marker}`)
      const deadline = Date.now() + 5000
      while (!output.includes(marker) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
      const end = output.indexOf(marker)
      if (end < 0) throw new Error(`docker-registry on ${host} did not log ${marker} within 5 s`)
      return output
        .slice(0, end)
        .split('\n')
        .map(line => ACCESS_LINE.exec(line))
        .filter((match): match is RegExpExecArray => match !== null && !match[2].startsWith('/v2/pmcp-marker-'))
        .map(match => ({ method: match[1], path: match[2], status: Number(match[3]) }))
    },
    log: () => output,
    stop
  }
}
