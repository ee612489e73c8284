/**
 * The daemonless image against real registries (Debian's docker-registry on loopback), checked
 * with real tools: skopeo reads the pushed manifest and config, umoci unpacks the image. Bases are
 * multi-platform indexes in OCI and Docker schema 2 format, on the destination's registry (layers
 * mounted) or on another one (layers streamed across); uploads meet a fault proxy.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../../src/action-error.js'
import {
  buildAndPushImage,
  imageDestination,
  type BuildAndPushImageOptions,
  type PushedImage
} from '../../src/targets/google-cloud-run/image/index.js'
import { FaultProxy } from '../../testkit/fault-proxy.js'
import { pullAndUnpack } from '../../testkit/image-run.js'
import { BASE_CONFIG, buildBaseLayout, imageFor, pushBaseImage, type TestBaseImage } from '../../testkit/oci-base-image.js'
import { startOciRegistry, type OciRegistry, type RegistryAccess } from '../../testkit/oci-registry.js'

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
const fast = async (): Promise<void> => {}

let work: string
let destination: OciRegistry
let elsewhere: OciRegistry
let bases: { oci: TestBaseImage; docker: TestBaseImage; remote: TestBaseImage }
let layout: string
let binary: string
let logged: string[]

function skopeo(...args: string[]): string {
  return execFileSync('skopeo', [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function inspect(reference: string, mode: '--raw' | '--config' | 'plain'): any {
  return JSON.parse(skopeo('inspect', ...(mode === 'plain' ? [] : [mode]), '--tls-verify=false', `docker://${reference}`))
}

function writeBinary(name: string, bytes: number): string {
  const file = path.join(work, name)
  // An ELF magic and random bytes: nothing compresses it away, any mangling shows.
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), crypto.randomBytes(bytes)]), { mode: 0o755 })
  return file
}

function push(overrides: Partial<BuildAndPushImageOptions> & { service?: string; registryHost?: string } = {}): Promise<PushedImage> {
  const { service = 'hello-run', registryHost = destination.host, ...rest } = overrides
  const env = { PMCP_GCP_REGISTRY_HOST: registryHost }
  return buildAndPushImage({
    binaryPath: binary,
    destination: imageDestination({ projectId: 'demo-project', region: 'us-central1', repository: 'pmcp' }, service, env),
    base: bases.oci.reference,
    env,
    sleep: fast,
    ...rest
  })
}

function blobRequests(accesses: RegistryAccess[], repository: string): RegistryAccess[] {
  return accesses.filter(access => access.path.startsWith(`/v2/${repository}/blobs/`))
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-image-test-'))
  ;[destination, elsewhere] = await Promise.all([startOciRegistry(), startOciRegistry()])
  layout = buildBaseLayout(work)
  const [oci, docker, remote] = await Promise.all([
    pushBaseImage(layout, 'multi', destination.host, 'base/oci', 'oci'),
    pushBaseImage(layout, 'multi', destination.host, 'base/docker', 'docker'),
    pushBaseImage(layout, 'multi', elsewhere.host, 'mirror/base', 'docker')
  ])
  bases = { oci, docker, remote }
  binary = writeBinary('mcp-server', 200_000)
})

afterAll(async () => {
  await Promise.all([destination?.stop(), elsewhere?.stop()])
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

describe('an OCI multi-platform base on the destination registry', () => {
  let pushed: PushedImage
  let accesses: RegistryAccess[]
  const pushLog: string[] = []

  beforeAll(async () => {
    const before = (await destination.accesses()).length
    jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      pushLog.push(String(chunk))
      return true
    })
    pushed = await push({ tag: 'v1', labels: { 'dev.pmcp.commit': '0123abc' } })
    jest.restoreAllMocks()
    accesses = (await destination.accesses()).slice(before)
  })

  it('is pushed by digest, on the amd64 image of the index, with the base layers untouched and one layer more', () => {
    const amd64 = imageFor(bases.oci, 'linux/amd64')
    expect(pushed.reference).toBe(`${destination.host}/demo-project/pmcp/hello-run@${pushed.digest}`)
    expect(pushed.baseIndexDigest).toBe(bases.oci.digest)
    expect(pushed.baseDigest).toBe(amd64.manifestDigest)

    const raw = skopeo('inspect', '--raw', '--tls-verify=false', `docker://${pushed.reference}`)
    expect(`sha256:${crypto.createHash('sha256').update(raw).digest('hex')}`).toBe(pushed.digest)
    const manifest = JSON.parse(raw)
    expect(manifest.mediaType).toBe(OCI_MANIFEST)
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json')
    expect(manifest.layers).toHaveLength(amd64.layers.length + 1)
    expect(manifest.layers.slice(0, -1).map((layer: any) => ({ digest: layer.digest, size: layer.size }))).toEqual(amd64.layers)
    expect(manifest.layers.at(-1)).toEqual({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: pushed.binaryLayer.digest,
      size: pushed.binaryLayer.size
    })
    expect(manifest.annotations['org.opencontainers.image.base.digest']).toBe(amd64.manifestDigest)
    expect(inspect(pushed.reference, 'plain').Architecture).toBe('amd64')
  })

  it('runs the binary as CMD with PORT=8080 and port 8080 exposed, keeping the base user, directory and environment', () => {
    const config = inspect(pushed.reference, '--config')
    const baseConfig = inspect(`${destination.host}/base/oci@${imageFor(bases.oci, 'linux/amd64').manifestDigest}`, '--config')
    expect(config.architecture).toBe('amd64')
    expect(config.os).toBe('linux')
    expect(config.config.Cmd).toEqual(['/usr/local/bin/mcp-server'])
    expect(config.config.Entrypoint).toBeUndefined()
    expect(baseConfig.config.Entrypoint).toEqual(BASE_CONFIG.entrypoint)
    // The base's PORT=3000 is replaced where it stood; the rest of its environment stays.
    expect(config.config.Env).toEqual(BASE_CONFIG.env.map(entry => (entry.startsWith('PORT=') ? 'PORT=8080' : entry)))
    expect(config.config.ExposedPorts).toEqual({ '8080/tcp': {}, [BASE_CONFIG.exposedPort]: {} })
    expect(config.config.User).toBe(BASE_CONFIG.user)
    expect(config.config.WorkingDir).toBe(BASE_CONFIG.workingDir)
    expect(config.config.Labels).toEqual({ 'dev.pmcp.commit': '0123abc' })
    expect(config.rootfs.diff_ids).toEqual([...baseConfig.rootfs.diff_ids, pushed.binaryLayer.diffId])
    expect(config.history).toHaveLength(baseConfig.history.length + 1)
    expect(config.history.at(-1).created_by).toContain('/usr/local/bin/mcp-server')
  })

  it('is tagged too when asked', () => {
    expect(pushed.taggedReference).toBe(`${destination.host}/demo-project/pmcp/hello-run:v1`)
    expect(inspect(pushed.taggedReference as string, 'plain').Digest).toBe(pushed.digest)
  })

  it('mounts the base layers from the base repository and never downloads them', () => {
    const amd64 = imageFor(bases.oci, 'linux/amd64')
    expect(pushed.blobs.map(blob => [blob.label, blob.outcome])).toEqual([
      ['base layer 1/2', 'mounted'],
      ['base layer 2/2', 'mounted'],
      ['binary layer', 'uploaded'],
      ['image config', 'uploaded']
    ])
    expect(pushed.layersReused).toBe(2)
    expect(pushed.layersUploaded).toBe(1)
    expect(pushed.bytesUploaded).toBe(pushed.binaryLayer.size + (pushed.blobs.at(-1)?.size ?? 0))
    const baseBlobReads = blobRequests(accesses, 'base/oci').filter(access => access.method === 'GET')
    // Only the config is read from the base repository, never a layer.
    expect(baseBlobReads.map(access => access.path)).toEqual([`/v2/base/oci/blobs/${amd64.configDigest}`])
    const mounts = accesses.filter(access => access.method === 'POST' && access.status === 201)
    expect(mounts).toHaveLength(2)
  })

  it('logs the base digest, what was mounted and uploaded, and the reference', () => {
    const log = pushLog.join('')
    expect(log).toContain(`linux/amd64 OCI manifest ${imageFor(bases.oci, 'linux/amd64').manifestDigest}`)
    expect(log).toContain(`from the multi-platform index ${bases.oci.digest}`)
    expect(log).toMatch(/base layer 1\/2 sha256:[0-9a-f]{12}: mounted from base\/oci/)
    expect(log).toMatch(/binary layer sha256:[0-9a-f]{12}: uploaded/)
    expect(log).toContain(`Image pushed: ${pushed.reference}`)
  })

  it('unpacks with umoci to the binary at usr/local/bin/mcp-server, executable, byte for byte, over the amd64 base files', async () => {
    const unpacked = await pullAndUnpack(pushed.reference, path.join(work, 'unpacked-oci'))
    const file = path.join(unpacked.rootfs, 'usr/local/bin/mcp-server')
    expect(fs.readFileSync(file).equals(fs.readFileSync(binary))).toBe(true)
    expect(fs.statSync(file).mode & 0o777).toBe(0o755)
    expect(fs.readFileSync(path.join(unpacked.rootfs, 'etc/os-release'), 'utf8')).toContain('linux/amd64')
    expect(fs.statSync(path.join(unpacked.rootfs, 'usr/share/pmcp-base/blob.bin')).size).toBeGreaterThan(0)
    expect(unpacked.process.args).toEqual(['/usr/local/bin/mcp-server'])
    expect(unpacked.process.env).toContain('PORT=8080')
    expect(unpacked.process.cwd).toBe(BASE_CONFIG.workingDir)
    expect(unpacked.process.user).toMatchObject({ uid: 65532, gid: 65532 })
  })
})

describe('a Docker schema 2 base', () => {
  it('makes a Docker schema 2 image with Docker media types, the base layers intact', async () => {
    const pushed = await push({ service: 'hello-docker', base: bases.docker.reference })
    const amd64 = imageFor(bases.docker, 'linux/amd64')
    const manifest = inspect(pushed.reference, '--raw')
    expect(pushed.mediaType).toBe(DOCKER_MANIFEST)
    expect(manifest.mediaType).toBe(DOCKER_MANIFEST)
    expect(manifest.config.mediaType).toBe('application/vnd.docker.container.image.v1+json')
    expect(manifest.layers.map((layer: any) => layer.mediaType)).toEqual(
      Array(amd64.layers.length + 1).fill('application/vnd.docker.image.rootfs.diff.tar.gzip')
    )
    expect(manifest.layers.slice(0, -1).map((layer: any) => ({ digest: layer.digest, size: layer.size }))).toEqual(amd64.layers)
    expect(manifest.annotations).toBeUndefined()
    expect(pushed.baseDigest).toBe(amd64.manifestDigest)
    const config = inspect(pushed.reference, '--config')
    expect(config.config.Cmd).toEqual(['/usr/local/bin/mcp-server'])
    expect(config.config.User).toBe(BASE_CONFIG.user)
  })

  it('takes a base given by digest', async () => {
    const pushed = await push({ service: 'hello-digest', base: `${destination.host}/base/docker@${bases.docker.digest}` })
    expect(pushed.baseIndexDigest).toBe(bases.docker.digest)
    expect(pushed.baseDigest).toBe(imageFor(bases.docker, 'linux/amd64').manifestDigest)
  })
})

describe('pushing again', () => {
  it('uploads nothing for the same binary, and only the new layer, config and manifest for a changed one', async () => {
    const first = await push({ service: 'hello-again' })
    const before = (await destination.accesses()).length
    const second = await push({ service: 'hello-again' })
    const again = (await destination.accesses()).slice(before)
    expect(second.digest).toBe(first.digest)
    expect(second.blobs.every(blob => blob.outcome === 'present')).toBe(true)
    expect(second.bytesUploaded).toBe(0)
    expect(second.layersUploaded).toBe(0)
    expect(again.filter(access => ['POST', 'PATCH'].includes(access.method))).toEqual([])
    expect(again.filter(access => access.method === 'PUT').map(access => access.path)).toEqual([
      `/v2/demo-project/pmcp/hello-again/manifests/${first.digest}`
    ])
    expect(logged.join('')).toMatch(/binary layer sha256:[0-9a-f]{12}: already in demo-project\/pmcp\/hello-again/)

    const changed = writeBinary('mcp-server-v2', 150_000)
    const mark = (await destination.accesses()).length
    const third = await push({ service: 'hello-again', binaryPath: changed })
    const accesses = (await destination.accesses()).slice(mark)
    expect(third.digest).not.toBe(first.digest)
    expect(third.blobs.map(blob => blob.outcome)).toEqual(['present', 'present', 'uploaded', 'uploaded'])
    expect(third.layersUploaded).toBe(1)
    expect(third.layersReused).toBe(2)
    expect(third.bytesUploaded).toBe(third.binaryLayer.size + (third.blobs.at(-1)?.size ?? 0))
    const uploads = accesses.filter(access => access.method === 'PUT' && access.path.includes('/blobs/uploads/'))
    expect(uploads).toHaveLength(2)
    expect(accesses.filter(access => access.method === 'PUT' && access.path.includes('/manifests/'))).toHaveLength(1)
  })
})

describe('a base on another registry', () => {
  it('streams the amd64 layers across in chunks, and nothing of the other platform', async () => {
    const amd64 = imageFor(bases.remote, 'linux/amd64')
    const arm64 = imageFor(bases.remote, 'linux/arm64')
    const before = (await elsewhere.accesses()).length
    const mark = (await destination.accesses()).length
    const limits = { monolithicMaxBytes: 1024 * 1024, chunkBytes: 1024 * 1024 }
    const pushed = await push({ service: 'hello-remote', base: bases.remote.reference, limits })
    const read = (await elsewhere.accesses()).slice(before)
    const written = (await destination.accesses()).slice(mark)

    expect(pushed.blobs.map(blob => blob.outcome)).toEqual(['uploaded', 'uploaded', 'uploaded', 'uploaded'])
    const layerReads = blobRequests(read, 'mirror/base').filter(access => access.path !== `/v2/mirror/base/blobs/${amd64.configDigest}`)
    expect(layerReads.map(access => access.path).sort()).toEqual(amd64.layers.map(layer => `/v2/mirror/base/blobs/${layer.digest}`).sort())
    expect(read.some(access => arm64.layers.some(layer => access.path.endsWith(layer.digest)))).toBe(false)
    // The 3 MiB layer goes up in 1 MiB chunks.
    const big = Math.max(...amd64.layers.map(layer => layer.size))
    expect(written.filter(access => access.method === 'PATCH')).toHaveLength(Math.ceil(big / (1024 * 1024)))
    const manifest = inspect(pushed.reference, '--raw')
    expect(manifest.layers.slice(0, -1).map((layer: any) => ({ digest: layer.digest, size: layer.size }))).toEqual(amd64.layers)
  })
})

describe('a base Cloud Run cannot run', () => {
  let armOnly: TestBaseImage
  let arm64: TestBaseImage

  beforeAll(async () => {
    ;[armOnly, arm64] = await Promise.all([
      pushBaseImage(layout, 'arm-only', destination.host, 'base/arm-only', 'oci'),
      pushBaseImage(layout, 'arm64', destination.host, 'base/arm64', 'oci')
    ])
  })

  it('an index without linux/amd64 is an error naming the platforms it has', async () => {
    const failure = push({ service: 'hello-arm', base: armOnly.reference })
    await expect(failure).rejects.toThrow(ActionError)
    await expect(failure).rejects.toThrow(`the base image ${armOnly.reference} has no linux/amd64 image; it has linux/arm64, linux/arm/v7`)
    await expect(failure).rejects.toThrow('[runtime] base')
  })

  it('a single arm64 image is an error naming its platform', async () => {
    const failure = push({ service: 'hello-arm', base: arm64.reference })
    await expect(failure).rejects.toThrow(`The base image ${arm64.reference} is a linux/arm64 image`)
  })

  it('a base that does not exist is an error naming the base, the registry URL and the code', async () => {
    const missingTag = push({ service: 'hello-missing', base: `${destination.host}/base/oci:2` })
    await expect(missingTag).rejects.toThrow(ActionError)
    await expect(missingTag).rejects.toThrow(
      `GET http://${destination.host}/v2/base/oci/manifests/2 (reading the manifest of the base image ${destination.host}/base/oci:2) ` +
        'answered HTTP 404 MANIFEST_UNKNOWN (manifest unknown).'
    )
    await expect(missingTag).rejects.toThrow(
      `${destination.host}/base/oci:2 does not exist on ${destination.host} (no such repository, tag or digest): check [runtime] base.`
    )
    const missingRepository = push({ service: 'hello-missing', base: `${destination.host}/nothing/here:1` })
    await expect(missingRepository).rejects.toThrow(`GET http://${destination.host}/v2/nothing/here/manifests/1`)
    await expect(missingRepository).rejects.toThrow(`${destination.host}/nothing/here:1 does not exist on ${destination.host}`)
  })
})

describe('a destination registry nobody answers at', () => {
  it('is an error naming the registry URL, the operation and what happened, after the retries', async () => {
    const closed = await new Promise<number>(resolve => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo
        probe.close(() => resolve(port))
      })
    })
    const failure = push({ service: 'hello-void', registryHost: `127.0.0.1:${closed}` })
    await expect(failure).rejects.toThrow(ActionError)
    await expect(failure).rejects.toThrow(
      `Registry 127.0.0.1:${closed} HEAD http://127.0.0.1:${closed}/v2/demo-project/pmcp/hello-void/blobs/sha256:`
    )
    await expect(failure).rejects.toThrow('the connection was refused (ECONNREFUSED)')
    expect(logged.join('')).toMatch(/failed \(attempt 1\/4\)/)
  })
})

describe('uploads through a faulty connection', () => {
  let proxy: FaultProxy
  const limits = { monolithicMaxBytes: 256 * 1024, chunkBytes: 256 * 1024 }

  beforeEach(async () => {
    proxy = await FaultProxy.start(destination.url)
  })

  afterEach(async () => {
    await proxy.stop()
  })

  const proxyHost = (): string => new URL(proxy.url).host
  const registryError = (code: string, message: string): string => JSON.stringify({ errors: [{ code, message }] })

  it('a 503 on a chunk is retried by resuming at the Range the registry holds', async () => {
    let patches = 0
    proxy.inject({
      method: 'PATCH',
      times: 1,
      when: () => ++patches === 2,
      fault: { kind: 'error', status: 503, body: registryError('UNAVAILABLE', 'back-end busy') }
    })
    const large = writeBinary('mcp-server-large', 900_000)
    const pushed = await push({ service: 'hello-flaky', binaryPath: large, registryHost: proxyHost(), limits })
    expect(proxy.faulted()).toHaveLength(1)
    // After the failed chunk: one status read, then the same chunk again; one upload session only.
    const uploadCalls = proxy.requests
      .filter(request => request.path.includes('/blobs/uploads/'))
      .map(request => `${request.method}:${request.outcome}`)
    const failedAt = uploadCalls.indexOf('PATCH:error')
    expect(uploadCalls.slice(failedAt, failedAt + 3)).toEqual(['PATCH:error', 'GET:pass', 'PATCH:pass'])
    // Two mounts of the base layers, one session for the binary layer, one for the config.
    expect(uploadCalls.filter(call => call.startsWith('POST'))).toHaveLength(4)
    expect(logged.join('')).toMatch(/holds \d+ bytes: resuming there/)
    const unpacked = await pullAndUnpack(
      `${destination.host}/demo-project/pmcp/hello-flaky@${pushed.digest}`,
      path.join(work, 'unpacked-flaky')
    )
    expect(fs.readFileSync(path.join(unpacked.rootfs, 'usr/local/bin/mcp-server')).equals(fs.readFileSync(large))).toBe(true)
  })

  it('an upload session the registry lost starts over', async () => {
    proxy.inject({ method: 'PATCH', times: 1, fault: { kind: 'drop' } })
    proxy.inject({
      method: 'GET',
      path: /\/blobs\/uploads\//,
      times: 1,
      fault: { kind: 'error', status: 404, body: registryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry') }
    })
    const large = writeBinary('mcp-server-restart', 700_000)
    const pushed = await push({ service: 'hello-restart', binaryPath: large, registryHost: proxyHost(), limits })
    expect(proxy.faulted().map(request => request.outcome)).toEqual(['drop', 'error'])
    const binaryLayer = pushed.blobs.find(blob => blob.label === 'binary layer')
    expect(binaryLayer?.outcome).toBe('uploaded')
    // Two mounts of the base layers, two sessions for the binary layer (the first was lost), one for the config.
    expect(proxy.requests.filter(request => request.method === 'POST' && request.path.endsWith('/blobs/uploads/'))).toHaveLength(5)
    expect(inspect(`${destination.host}/demo-project/pmcp/hello-restart@${pushed.digest}`, '--raw').layers.at(-1).digest).toBe(
      pushed.binaryLayer.digest
    )
  })

  it("Artifact Registry's NAME_UNKNOWN for the repository is an error with the command that creates it", async () => {
    proxy.inject({
      method: 'POST',
      path: /\/blobs\/uploads\/$/,
      fault: { kind: 'error', status: 404, body: registryError('NAME_UNKNOWN', 'Repository "pmcp" not found') }
    })
    const failure = push({ service: 'hello-nowhere', registryHost: proxyHost() })
    await expect(failure).rejects.toThrow(ActionError)
    await expect(failure).rejects.toThrow(
      `POST http://${proxyHost()}/v2/demo-project/pmcp/hello-nowhere/blobs/uploads/ (starting the upload of the base layer 1/2) ` +
        'answered HTTP 404 NAME_UNKNOWN (Repository "pmcp" not found).'
    )
    await expect(failure).rejects.toThrow(
      'The Artifact Registry repository pmcp does not exist in project demo-project, location us-central1: create it once ' +
        '(gcloud artifacts repositories create pmcp --repository-format=docker --location=us-central1 --project=demo-project)'
    )
  })

  it("Artifact Registry's DENIED is an error naming the role the service account needs", async () => {
    const denied =
      'Permission "artifactregistry.repositories.uploadArtifacts" denied on resource ' +
      '"projects/demo-project/locations/us-central1/repositories/pmcp"'
    proxy.inject({ method: 'POST', fault: { kind: 'error', status: 403, body: registryError('DENIED', denied) } })
    // The base on the same registry: its layers are mounted first, and a refused mount falls back to an upload.
    const failure = push({ service: 'hello-denied', registryHost: proxyHost(), base: `${proxyHost()}/base/oci:1` })
    await expect(failure).rejects.toThrow(`answered HTTP 403 DENIED (${denied}).`)
    await expect(failure).rejects.toThrow(
      'The deploying service account needs roles/artifactregistry.writer on the Artifact Registry repository pmcp'
    )
    expect(logged.join('')).toContain('refused to mount the base layer 1/2 from base/oci (DENIED): uploading it')
  })

  it('a registry that keeps failing is an error naming the URL and the operation', async () => {
    proxy.inject({ method: 'PATCH', fault: { kind: 'error', status: 503, body: registryError('UNAVAILABLE', 'down for maintenance') } })
    const large = writeBinary('mcp-server-down', 600_000)
    const failure = push({ service: 'hello-down', binaryPath: large, registryHost: proxyHost(), limits })
    await expect(failure).rejects.toThrow(ActionError)
    await expect(failure).rejects.toThrow(
      new RegExp(
        `PATCH http://${proxyHost().replace(/\./g, '\\.')}/v2/demo-project/pmcp/hello-down/blobs/uploads/[\\w-]+ \\(uploading bytes`
      )
    )
    await expect(failure).rejects.toThrow('HTTP 503: UNAVAILABLE (down for maintenance)')
  })
})
