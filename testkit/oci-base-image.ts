/**
 * Base images for the image tests, made with the real tools: GNU tar and umoci build an OCI layout
 * with a linux/amd64 and a linux/arm64 image (two layers each, a config with User, Env, WorkingDir,
 * an ENTRYPOINT and a CMD), plus the multi-platform indexes over them; skopeo pushes them into a
 * registry in OCI format or converted to Docker schema 2. What the registry then holds (digests,
 * layers) is read back with `skopeo inspect --raw`, so tests compare against the registry's truth.
 */
import { execFile, execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { promisify } from 'node:util'

/** The config both platform images have. */
export const BASE_CONFIG = {
  user: '65532:65532',
  workingDir: '/srv/app',
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'PORT=3000', 'LANG=C.UTF-8'],
  entrypoint: ['/bin/sh', '-c'],
  cmd: ['echo base'],
  exposedPort: '9000/tcp'
} as const

/** Size of the second layer's incompressible file: large enough to need chunks with small upload limits. */
export const BASE_PAYLOAD_BYTES = 3 * 1024 * 1024

export interface PlatformImage {
  /** `linux/amd64` */
  platform: string
  manifestDigest: string
  configDigest: string
  layers: { digest: string; size: number }[]
}

export interface TestBaseImage {
  /** `<host>/<repository>:<tag>` */
  reference: string
  repository: string
  format: 'oci' | 'docker'
  /** The digest of what the reference names: the index, or the single manifest. */
  digest: string
  /** The images the reference holds, by platform. */
  images: PlatformImage[]
}

export type LayoutRef = 'multi' | 'amd64' | 'arm64' | 'arm-only'

function run(command: string, args: string[], cwd?: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * skopeo, without blocking this process: a registry's token server may be running in it, and
 * must answer skopeo meanwhile.
 */
async function skopeo(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('skopeo', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  return stdout
}

/** A GNU tar of `dir` as a layer: fixed owner and time, so it is the same archive every run. */
function tarLayer(dir: string, file: string): void {
  run('tar', ['--create', '--file', file, '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--sort=name', '-C', dir, '.'])
}

function buildPlatform(layout: string, work: string, architecture: string, variant?: string): void {
  const ref = variant ? `${architecture}-${variant}` : architecture
  const image = `${layout}:${ref}`
  run('umoci', ['new', '--image', image])
  const config = [
    ['--os', 'linux'],
    ['--architecture', architecture],
    ['--config.user', BASE_CONFIG.user],
    ['--config.workingdir', BASE_CONFIG.workingDir],
    ...BASE_CONFIG.env.map(entry => ['--config.env', entry]),
    ...BASE_CONFIG.entrypoint.map(entry => ['--config.entrypoint', entry]),
    ...BASE_CONFIG.cmd.map(entry => ['--config.cmd', entry]),
    ['--config.exposedports', BASE_CONFIG.exposedPort]
  ].flat()
  run('umoci', ['config', '--image', image, ...config])
  // Layer 1 (GNU tar, added verbatim): the files a distribution base has under /etc.
  const root = path.join(work, `${ref}-root`)
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true })
  fs.writeFileSync(path.join(root, 'etc/os-release'), `PRETTY_NAME="pmcp test base (linux/${architecture})"\nID=pmcp-test\n`)
  fs.writeFileSync(
    path.join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n'
  )
  const tar = path.join(work, `${ref}-etc.tar`)
  tarLayer(root, tar)
  run('umoci', ['raw', 'add-layer', '--image', image, tar])
  // Layer 2 (umoci insert): an incompressible payload, so the layer has real size.
  const payload = path.join(work, `${ref}-payload`)
  fs.mkdirSync(payload)
  fs.writeFileSync(path.join(payload, 'blob.bin'), crypto.randomBytes(BASE_PAYLOAD_BYTES))
  run('umoci', ['insert', '--rootless', '--image', image, payload, '/usr/share/pmcp-base'])
}

interface LayoutIndex {
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[]
}

/** Adds an OCI index over the given refs to the layout, under `ref`. */
function addIndex(layout: string, ref: string, members: { ref: string; platform: Record<string, string> }[]): void {
  const indexFile = path.join(layout, 'index.json')
  const top = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as LayoutIndex
  const manifests = members.map(member => {
    const entry = top.manifests.find(candidate => candidate.annotations?.['org.opencontainers.image.ref.name'] === member.ref)
    if (!entry) throw new Error(`no ${member.ref} in ${layout}`)
    return { mediaType: entry.mediaType, digest: entry.digest, size: entry.size, platform: member.platform }
  })
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }))
  const digest = crypto.createHash('sha256').update(bytes).digest('hex')
  fs.writeFileSync(path.join(layout, 'blobs/sha256', digest), bytes)
  top.manifests.push({
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: `sha256:${digest}`,
    size: bytes.length,
    annotations: { 'org.opencontainers.image.ref.name': ref }
  })
  fs.writeFileSync(indexFile, JSON.stringify(top))
}

/**
 * An OCI layout under `dir` with refs `amd64`, `arm64`, `multi` (an index of both) and
 * `arm-only` (an index of arm64 and arm/v7, no amd64).
 */
export function buildBaseLayout(dir: string): string {
  const layout = path.join(dir, 'layout')
  const work = path.join(dir, 'work')
  fs.mkdirSync(work, { recursive: true })
  run('umoci', ['init', '--layout', layout])
  buildPlatform(layout, work, 'amd64')
  buildPlatform(layout, work, 'arm64')
  buildPlatform(layout, work, 'arm', 'v7')
  addIndex(layout, 'multi', [
    { ref: 'amd64', platform: { os: 'linux', architecture: 'amd64' } },
    { ref: 'arm64', platform: { os: 'linux', architecture: 'arm64' } }
  ])
  addIndex(layout, 'arm-only', [
    { ref: 'arm64', platform: { os: 'linux', architecture: 'arm64' } },
    { ref: 'arm-v7', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }
  ])
  return layout
}

/** `user:password` for skopeo's --creds, for a registry with token authentication. */
export type SkopeoCredentials = string | undefined

function credentialArgs(flag: string, credentials: SkopeoCredentials): string[] {
  return credentials ? [flag, credentials] : []
}

async function inspectRaw(reference: string, credentials: SkopeoCredentials): Promise<{ text: string; json: any }> {
  const text = await skopeo(['inspect', '--raw', '--tls-verify=false', ...credentialArgs('--creds', credentials), `docker://${reference}`])
  return { text, json: JSON.parse(text) }
}

async function platformImage(
  host: string,
  repository: string,
  digest: string,
  platform: string,
  credentials: SkopeoCredentials
): Promise<PlatformImage> {
  const manifest = (await inspectRaw(`${host}/${repository}@${digest}`, credentials)).json
  return {
    platform,
    manifestDigest: digest,
    configDigest: manifest.config.digest,
    layers: manifest.layers.map((layer: { digest: string; size: number }) => ({ digest: layer.digest, size: layer.size }))
  }
}

/**
 * Pushes a ref of the layout to `<host>/<repository>:1` with skopeo (all platforms), in OCI format
 * or converted to Docker schema 2, and reads back what the registry holds.
 */
export async function pushBaseImage(
  layout: string,
  ref: LayoutRef,
  host: string,
  repository: string,
  format: 'oci' | 'docker',
  credentials?: SkopeoCredentials
): Promise<TestBaseImage> {
  const reference = `${host}/${repository}:1`
  const formatArgs = format === 'docker' ? ['--format', 'v2s2'] : ['--format', 'oci']
  const creds = credentialArgs('--dest-creds', credentials)
  await skopeo(['copy', '--all', '--dest-tls-verify=false', ...creds, ...formatArgs, `oci:${layout}:${ref}`, `docker://${reference}`])
  const top = await inspectRaw(reference, credentials)
  const digest = `sha256:${crypto.createHash('sha256').update(top.text).digest('hex')}`
  const images: PlatformImage[] = Array.isArray(top.json.manifests)
    ? await Promise.all(
        top.json.manifests.map((entry: { digest: string; platform: { os: string; architecture: string; variant?: string } }) =>
          platformImage(
            host,
            repository,
            entry.digest,
            [entry.platform.os, entry.platform.architecture, entry.platform.variant].filter(Boolean).join('/'),
            credentials
          )
        )
      )
    : [await platformImage(host, repository, digest, `linux/${ref}`, credentials)]
  return { reference, repository, format, digest, images }
}

/** The image of one platform of a pushed base. */
export function imageFor(base: TestBaseImage, platform: string): PlatformImage {
  const image = base.images.find(candidate => candidate.platform === platform)
  if (!image) throw new Error(`${base.reference} has no ${platform} image`)
  return image
}
