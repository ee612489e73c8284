/**
 * The image push against a registry with Docker's token authentication (docker-registry with a
 * token server, as Artifact Registry and Docker Hub authenticate): 401 → token → success with the
 * Google user `oauth2accesstoken`, a public base read anonymously, and clear errors for a refused
 * password, a reader's token that may not push, and a private base without credentials. Tokens
 * are masked and never written elsewhere.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../../src/action-error.js'
import {
  buildAndPushImage,
  googleRegistryCredentials,
  imageDestination,
  type BuildAndPushImageOptions
} from '../../src/targets/google-cloud-run/image/index.js'
import { RegistryClient } from '../../src/targets/google-cloud-run/image/registry.js'
import { buildBaseLayout, imageFor, pushBaseImage, type TestBaseImage } from '../../testkit/oci-base-image.js'
import { startOciRegistry, type OciRegistry } from '../../testkit/oci-registry.js'

const WRITER_TOKEN = 'ya29.writer-access-token-0123456789'
const READER_TOKEN = 'ya29.reader-access-token-9876543210'
const fast = async (): Promise<void> => {}

let work: string
let registry: OciRegistry
let publicBase: TestBaseImage
let privateBase: TestBaseImage
let binary: string
let logged: string[]

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-image-auth-'))
  registry = await startOciRegistry({
    tokenAuth: {
      users: [
        { username: 'oauth2accesstoken', password: WRITER_TOKEN, actions: ['pull', 'push'] },
        { username: 'oauth2accesstoken', password: READER_TOKEN, actions: ['pull'] }
      ],
      publicPrefixes: ['distroless/']
    }
  })
  const layout = buildBaseLayout(work)
  const writer = `oauth2accesstoken:${WRITER_TOKEN}`
  ;[publicBase, privateBase] = await Promise.all([
    pushBaseImage(layout, 'multi', registry.host, 'distroless/cc', 'oci', writer),
    pushBaseImage(layout, 'amd64', registry.host, 'private/base', 'oci', writer)
  ])
  binary = path.join(work, 'mcp-server')
  fs.writeFileSync(binary, crypto.randomBytes(50_000), { mode: 0o755 })
})

afterAll(async () => {
  await registry?.stop()
  fs.rmSync(work, { recursive: true, force: true })
})

beforeEach(() => {
  logged = []
  jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    logged.push(String(chunk))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
})

function push(service: string, overrides: Partial<BuildAndPushImageOptions> = {}): ReturnType<typeof buildAndPushImage> {
  const env = { PMCP_GCP_REGISTRY_HOST: registry.host }
  return buildAndPushImage({
    binaryPath: binary,
    destination: imageDestination({ projectId: 'demo-project', region: 'us-central1', repository: 'pmcp' }, service, env),
    base: publicBase.reference,
    destinationCredentials: googleRegistryCredentials(WRITER_TOKEN),
    env,
    sleep: fast,
    ...overrides
  })
}

/** What the log shows, without the runner's mask commands (which name the values to hide). */
function visibleLog(): string {
  return logged.filter(line => !line.startsWith('::add-mask::')).join('')
}

describe('a registry with token authentication', () => {
  it('answers 401, gives a token for the service account, and takes the push; the base is read anonymously', async () => {
    const before = registry.tokens?.requests.length ?? 0
    const pushed = await push('hello-auth')
    const requests = registry.tokens?.requests.slice(before) ?? []

    expect(pushed.blobs.map(blob => blob.outcome)).toEqual(['mounted', 'mounted', 'uploaded', 'uploaded'])
    expect(pushed.baseDigest).toBe(imageFor(publicBase, 'linux/amd64').manifestDigest)
    // The base, anonymously: pull on its repository only.
    expect(requests).toContainEqual({
      user: undefined,
      scopes: ['repository:distroless/cc:pull'],
      granted: ['repository:distroless/cc:pull'],
      status: 200
    })
    // The destination, as oauth2accesstoken: push on the destination, pull on the base for the mounts.
    expect(requests).toContainEqual({
      user: 'oauth2accesstoken',
      scopes: ['repository:demo-project/pmcp/hello-auth:pull,push', 'repository:distroless/cc:pull'],
      granted: ['repository:demo-project/pmcp/hello-auth:pull,push', 'repository:distroless/cc:pull'],
      status: 200
    })
    // One token per client, reused for every request.
    expect(requests).toHaveLength(2)
  })

  it('masks the access token and the registry tokens, and logs neither', async () => {
    const before = registry.tokens?.requests.length ?? 0
    await push('hello-masked')
    expect(registry.tokens?.requests.length).toBeGreaterThan(before)
    const masks = logged.filter(line => line.startsWith('::add-mask::')).map(line => line.slice('::add-mask::'.length).trim())
    expect(masks).toContain(WRITER_TOKEN)
    // Both registry tokens (JWTs) were masked as soon as they arrived.
    expect(masks.filter(mask => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(mask) && mask.startsWith('eyJ'))).toHaveLength(2)
    const visible = visibleLog()
    expect(visible).not.toContain(WRITER_TOKEN)
    for (const mask of masks) expect(visible).not.toContain(mask)
  })

  it('a refused password is an error naming the token service, the user and what to check, without the password', async () => {
    const wrong = 'ya29.expired-token-000'
    const failure = push('hello-denied', { destinationCredentials: googleRegistryCredentials(wrong) })
    await expect(failure).rejects.toThrow(ActionError)
    const error = (await failure.catch((caught: unknown) => caught)) as ActionError
    expect(error.title).toBe(`${registry.host} refused the credentials`)
    expect(error.message).toContain(`The token service of ${registry.host} (GET ${registry.tokens?.realm})`)
    expect(error.message).toContain('refused the credentials of user oauth2accesstoken')
    expect(error.message).toContain('HTTP 401')
    expect(error.message).toContain("'workload-identity-provider' and 'service-account' inputs")
    expect(error.message).not.toContain(wrong)
    expect(registry.tokens?.requests.at(-1)).toMatchObject({ user: 'oauth2accesstoken', status: 401 })
  })

  it('a token that may only pull is refused the push, with the Artifact Registry writer role to grant', async () => {
    const failure = push('hello-reader', { destinationCredentials: googleRegistryCredentials(READER_TOKEN) })
    await expect(failure).rejects.toThrow(ActionError)
    const error = (await failure.catch((caught: unknown) => caught)) as ActionError
    expect(error.message).toMatch(
      new RegExp(`^POST http://${registry.host.replace(/\./g, '\\.')}/v2/demo-project/pmcp/hello-reader/blobs/uploads/ `)
    )
    expect(error.message).toContain('answered HTTP 401 UNAUTHORIZED')
    expect(error.message).toContain(
      'The deploying service account needs roles/artifactregistry.writer on the Artifact Registry repository pmcp ' +
        '(project demo-project, location us-central1)'
    )
    expect(error.message).not.toContain(READER_TOKEN)
  })

  it('a private base read without credentials is an error saying so', async () => {
    const failure = push('hello-private', { base: privateBase.reference })
    await expect(failure).rejects.toThrow(ActionError)
    await expect(failure).rejects.toThrow(
      `GET http://${registry.host}/v2/private/base/manifests/1 (reading the manifest of the base image ${privateBase.reference}) ` +
        'answered HTTP 401 UNAUTHORIZED'
    )
    await expect(failure).rejects.toThrow('(no credentials were sent)')
    await expect(failure).rejects.toThrow(`${privateBase.reference} is not public, and no credentials were sent for ${registry.host}`)
  })

  it('renews a token that has expired, and reuses one that has not', async () => {
    const shortLived = await startOciRegistry({
      tokenAuth: { users: [{ username: 'oauth2accesstoken', password: WRITER_TOKEN, actions: ['pull', 'push'] }], expiresIn: 2 }
    })
    try {
      const client = new RegistryClient({
        registry: { host: shortLived.host, insecure: true },
        credentials: googleRegistryCredentials(WRITER_TOKEN),
        scopes: ['repository:demo-project/pmcp/svc:pull,push'],
        advise: () => '',
        credentialAdvice: ''
      })
      const digest = `sha256:${'0'.repeat(64)}`
      expect(await client.hasBlob('demo-project/pmcp/svc', digest, 'checking')).toBe(false)
      expect(await client.hasBlob('demo-project/pmcp/svc', digest, 'checking')).toBe(false)
      expect(shortLived.tokens?.requests).toHaveLength(1)
      // A 2 s token is renewed after half its life, before the registry would refuse it.
      await new Promise(resolve => setTimeout(resolve, 1100))
      expect(await client.hasBlob('demo-project/pmcp/svc', digest, 'checking')).toBe(false)
      expect(shortLived.tokens?.requests).toHaveLength(2)
      expect((await shortLived.accesses()).filter(access => access.method === 'HEAD').map(access => access.status)).toEqual([
        401, 404, 404, 404
      ])
    } finally {
      await shortLived.stop()
    }
  })

  it('a private base is read with the credentials given for it', async () => {
    const pushed = await push('hello-private', { base: privateBase.reference, baseCredentials: googleRegistryCredentials(READER_TOKEN) })
    expect(pushed.baseDigest).toBe(privateBase.digest)
    expect(pushed.baseIndexDigest).toBeUndefined()
  })
})
