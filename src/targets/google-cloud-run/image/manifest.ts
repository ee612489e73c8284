/**
 * The image's documents: reading the base's manifest or index (Docker schema 2 or OCI), picking
 * linux/amd64 (what Cloud Run runs), and writing the new config and manifest — the base's, plus
 * one layer, CMD, PORT=8080 and port 8080 exposed, as cargo-pmcp's Dockerfile makes them.
 */
import { ActionError } from '../../../action-error.js'
import { IMAGE_BINARY_PATH } from './layer.js'
import { sha256Digest, type Manifest } from './registry.js'

export type ImageFormat = 'oci' | 'docker'

export const MEDIA_TYPES: Record<ImageFormat, { index: string; manifest: string; config: string; layer: string }> = {
  oci: {
    index: 'application/vnd.oci.image.index.v1+json',
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip'
  },
  docker: {
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip'
  }
}

/** Cloud Run runs linux/amd64 images. */
export const CLOUD_RUN_PLATFORM = { os: 'linux', architecture: 'amd64' } as const

/** The port Cloud Run sends requests to by default, and the one cargo-pmcp's Dockerfile sets. */
export const SERVER_PORT = 8080

export interface Platform {
  os?: string
  architecture?: string
  variant?: string
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: Platform
  annotations?: Record<string, string>
  urls?: string[]
}

export interface ImageManifest {
  schemaVersion: 2
  mediaType: string
  config: Descriptor
  layers: Descriptor[]
  annotations?: Record<string, string>
}

interface ImageIndex {
  manifests: Descriptor[]
}

/** The parts of an image config the action changes; everything else is kept as the base has it. */
export interface ImageConfig {
  architecture?: string
  os?: string
  created?: string
  config?: {
    User?: string
    Env?: string[]
    Cmd?: string[] | null
    Entrypoint?: string[] | null
    WorkingDir?: string
    ExposedPorts?: Record<string, object>
    Labels?: Record<string, string> | null
    [key: string]: unknown
  }
  rootfs?: { type?: string; diff_ids?: string[] }
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[]
  [key: string]: unknown
}

export type BaseDocument = { kind: 'index'; index: ImageIndex } | { kind: 'image'; manifest: ImageManifest; format: ImageFormat }

const INDEX_TYPES = new Set([MEDIA_TYPES.oci.index, MEDIA_TYPES.docker.index])

export function formatOf(mediaType: string): ImageFormat | undefined {
  if (mediaType === MEDIA_TYPES.oci.manifest) return 'oci'
  if (mediaType === MEDIA_TYPES.docker.manifest) return 'docker'
  return undefined
}

function unreadable(what: string, why: string): ActionError {
  return new ActionError(
    'Unsupported base image',
    `${what}: ${why}. The action builds on Docker schema 2 and OCI images (single images, manifest lists and indexes).`
  )
}

/** A manifest or index as served, checked for what the action needs of it. */
export function parseBaseDocument(document: Manifest, what: string): BaseDocument {
  const parsed = JSON.parse(document.bytes.toString('utf8')) as Partial<ImageManifest & ImageIndex> & { schemaVersion?: number }
  if (parsed.schemaVersion !== 2) {
    throw unreadable(what, `its manifest has schemaVersion ${String(parsed.schemaVersion)} (Docker schema 1 images are deprecated)`)
  }
  if (INDEX_TYPES.has(document.mediaType) || (document.mediaType === '' && Array.isArray(parsed.manifests))) {
    if (!Array.isArray(parsed.manifests)) throw unreadable(what, 'its index lists no manifests')
    return { kind: 'index', index: { manifests: parsed.manifests } }
  }
  const format = formatOf(document.mediaType) ?? (document.mediaType === '' && parsed.config ? 'oci' : undefined)
  if (!format) throw unreadable(what, `its manifest has the media type ${JSON.stringify(document.mediaType)}`)
  if (!parsed.config?.digest || !Array.isArray(parsed.layers)) throw unreadable(what, 'its manifest has no config or layers')
  return {
    kind: 'image',
    format,
    manifest: { schemaVersion: 2, mediaType: MEDIA_TYPES[format].manifest, config: parsed.config, layers: parsed.layers }
  }
}

function platformName(platform: Platform | undefined): string {
  if (!platform) return 'an unnamed platform'
  return [platform.os ?? '?', platform.architecture ?? '?', platform.variant].filter(Boolean).join('/')
}

/** The linux/amd64 image of an index (the one without a CPU variant first); an error naming the platforms otherwise. */
export function pickPlatform(index: ImageIndex, what: string): Descriptor {
  const matching = index.manifests.filter(
    entry => entry.platform?.os === CLOUD_RUN_PLATFORM.os && entry.platform.architecture === CLOUD_RUN_PLATFORM.architecture
  )
  const picked = matching.find(entry => !entry.platform?.variant) ?? matching[0]
  if (picked) return picked
  // Attestations and signatures are listed as unknown/unknown: not platforms anyone can run.
  const platforms = [...new Set(index.manifests.map(entry => platformName(entry.platform)))].filter(name => name !== 'unknown/unknown')
  throw new ActionError(
    'Base image has no linux/amd64 image',
    `${what} has no linux/amd64 image; it has ${platforms.length > 0 ? platforms.join(', ') : 'no platform images'}. ` +
      'Cloud Run runs linux/amd64: choose a [runtime] base that provides it.'
  )
}

/** The config's platform must be Cloud Run's when the base is a single image (no index said which). */
export function checkPlatform(config: ImageConfig, what: string): void {
  if (config.os === CLOUD_RUN_PLATFORM.os && config.architecture === CLOUD_RUN_PLATFORM.architecture) return
  throw new ActionError(
    'Base image is not linux/amd64',
    `${what} is a ${platformName({ os: config.os, architecture: config.architecture })} image. ` +
      'Cloud Run runs linux/amd64: choose a [runtime] base that provides it.'
  )
}

/** `PORT=8080` in place of any PORT the base sets (as Dockerfile's ENV does), else appended. */
function withServerPort(env: string[] | undefined): string[] {
  const port = `PORT=${SERVER_PORT}`
  const list = env ?? []
  return list.some(entry => entry.startsWith('PORT=')) ? list.map(entry => (entry.startsWith('PORT=') ? port : entry)) : [...list, port]
}

export interface ConfigChanges {
  /** The binary layer's uncompressed digest. */
  diffId: string
  /** Added to the base's labels (e.g. the commit). */
  labels?: Record<string, string>
}

/**
 * The base's config with the binary on top: CMD runs it, ENTRYPOINT is cleared (a base's own
 * entrypoint would otherwise wrap the server), PORT=8080 and port 8080/tcp are set, and the
 * base's user, working directory and other variables stay. Times are the base's, so the same base
 * and binary always make the same config.
 */
export function configWithBinary(base: ImageConfig, changes: ConfigChanges): ImageConfig {
  const config = structuredClone(base)
  const run = { ...(config.config ?? {}) }
  run.Cmd = [IMAGE_BINARY_PATH]
  delete run.Entrypoint
  run.Env = withServerPort(run.Env)
  run.ExposedPorts = { ...(run.ExposedPorts ?? {}), [`${SERVER_PORT}/tcp`]: {} }
  if (changes.labels && Object.keys(changes.labels).length > 0) run.Labels = { ...(run.Labels ?? {}), ...changes.labels }
  config.config = run
  config.rootfs = { type: 'layers', diff_ids: [...(base.rootfs?.diff_ids ?? []), changes.diffId] }
  config.history = [
    ...(base.history ?? []),
    {
      created: base.created ?? new Date(0).toISOString(),
      created_by: `COPY mcp-server ${IMAGE_BINARY_PATH} # pmcp deploy-action`,
      comment: `CMD ["${IMAGE_BINARY_PATH}"], ENV PORT=${SERVER_PORT}, EXPOSE ${SERVER_PORT}`
    }
  ]
  return config
}

/** A document's bytes, digest and media type, ready to push. */
export function serialize(document: object, mediaType: string): Manifest {
  const bytes = Buffer.from(JSON.stringify(document), 'utf8')
  return { mediaType, bytes, digest: sha256Digest(bytes) }
}

/**
 * The new manifest, in the base's format: the base's layer descriptors as they are, then the
 * binary's. An OCI manifest names its base (the image-spec's base.name / base.digest annotations).
 */
export function manifestWithLayer(
  base: ImageManifest,
  format: ImageFormat,
  config: Manifest,
  layer: { digest: string; size: number },
  origin: { name: string; digest: string }
): ImageManifest {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES[format].manifest,
    config: { mediaType: MEDIA_TYPES[format].config, digest: config.digest, size: config.bytes.length },
    layers: [...base.layers, { mediaType: MEDIA_TYPES[format].layer, digest: layer.digest, size: layer.size }]
  }
  if (format === 'oci') {
    manifest.annotations = { 'org.opencontainers.image.base.name': origin.name, 'org.opencontainers.image.base.digest': origin.digest }
  }
  return manifest
}
