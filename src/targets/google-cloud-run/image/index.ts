/**
 * The server's image without a Docker daemon, as ko and jib build theirs: the base image's
 * manifest and config are read (its layers are never downloaded unless the destination lacks
 * them), one layer with the binary is added, and the image is pushed through the registry API.
 * The result is the image by digest, which is what Cloud Run is given.
 */
import * as core from '@actions/core'
import { ActionError } from '../../../action-error.js'
import { baseAdvice, baseCredentialAdvice, DESTINATION_CREDENTIAL_ADVICE, destinationAdvice } from './advice.js'
import type { RegistryCredentials } from './auth.js'
import { buildBinaryLayer, type BinaryLayer } from './layer.js'
import {
  checkPlatform,
  configWithBinary,
  manifestWithLayer,
  parseBaseDocument,
  pickPlatform,
  serialize,
  type ImageConfig,
  type ImageFormat,
  type ImageManifest
} from './manifest.js'
import {
  DEFAULT_BASE_IMAGE,
  manifestReference,
  parseImageReference,
  validateTag,
  type ImageDestination,
  type ImageReference
} from './reference.js'
import { formatBytes, RegistryClient, type Manifest } from './registry.js'
import { pushBlob, type BlobOutcome, type BlobToPush, type UploadLimits } from './upload.js'

export { googleRegistryCredentials, GOOGLE_REGISTRY_USER, type RegistryCredentials } from './auth.js'
export { IMAGE_BINARY_PATH } from './layer.js'
export { SERVER_PORT } from './manifest.js'
export {
  DEFAULT_BASE_IMAGE,
  imageDestination,
  parseImageReference,
  validateRepositoryId,
  type GcpImageSettings,
  type ImageDestination,
  type ImageReference
} from './reference.js'
export { DEFAULT_UPLOAD_LIMITS, type BlobOutcome, type UploadLimits } from './upload.js'

export interface BuildAndPushImageOptions {
  /** The server binary, built for linux/amd64. */
  binaryPath: string
  /** Where the image goes (`imageDestination`). */
  destination: ImageDestination
  /** `[runtime] base` [DEFAULT_BASE_IMAGE]: a tag or digest reference; Docker Hub short names allowed. */
  base?: string
  /** For the destination registry (`googleRegistryCredentials(accessToken)`). */
  destinationCredentials?: RegistryCredentials
  /** For the base's registry; none reads it anonymously, as a public image. */
  baseCredentials?: RegistryCredentials
  /** Also tag the image (the manifest is always pushed, and deployed, by digest). */
  tag?: string
  /** Added to the image config's labels (e.g. the commit). */
  labels?: Record<string, string>
  /** For PMCP_GCP_REGISTRY_HOST / PMCP_GCP_REGISTRY_INSECURE [process.env]. */
  env?: NodeJS.ProcessEnv
  limits?: UploadLimits
  sleep?: (ms: number) => Promise<void>
}

export interface PushedBlob {
  /** `base layer 2/5`, `binary layer`, `image config` */
  label: string
  digest: string
  size: number
  outcome: BlobOutcome
}

export interface PushedImage {
  /** `<host>/<repository>@sha256:…`: what Cloud Run is given. */
  reference: string
  /** The manifest's digest. */
  digest: string
  /** `<host>/<repository>:<tag>` when a tag was pushed too. */
  taggedReference?: string
  /** The manifest's media type: the base's format, Docker schema 2 or OCI. */
  mediaType: string
  /** The base as given (`[runtime] base` or the default). */
  baseReference: string
  /** The digest of the base's linux/amd64 image manifest the image is built on. */
  baseDigest: string
  /** The digest of the base's index or manifest list, when the base was multi-platform. */
  baseIndexDigest?: string
  binaryLayer: { digest: string; diffId: string; size: number }
  configDigest: string
  blobs: PushedBlob[]
  /** Bytes of the blobs uploaded (layers and config; the manifest aside). */
  bytesUploaded: number
  /** Layers the destination had already or mounted from the base's repository. */
  layersReused: number
  /** Layers uploaded. */
  layersUploaded: number
}

interface ResolvedBase {
  reference: ImageReference
  manifest: ImageManifest
  format: ImageFormat
  digest: string
  indexDigest?: string
  config: ImageConfig
}

const short = (digest: string): string => digest.slice(0, 'sha256:'.length + 12)

/** The base's linux/amd64 manifest and its config; nothing of its layers is read. */
async function resolveBase(client: RegistryClient, reference: ImageReference): Promise<ResolvedBase> {
  const what = `the base image ${reference.text}`
  const top = await client.getManifest(reference.repository, manifestReference(reference), `reading the manifest of ${what}`)
  let document = parseBaseDocument(top, what)
  let digest = top.digest
  let indexDigest: string | undefined
  if (document.kind === 'index') {
    const picked = pickPlatform(document.index, what)
    indexDigest = top.digest
    const image = await client.getManifest(reference.repository, picked.digest, `reading the linux/amd64 manifest of ${what}`)
    document = parseBaseDocument(image, `the linux/amd64 image of ${reference.text}`)
    if (document.kind !== 'image') throw new ActionError('Unsupported base image', `The linux/amd64 entry of ${what} is itself an index.`)
    digest = image.digest
  }
  const bytes = await client.getBlob(reference.repository, document.manifest.config.digest, `reading the config of ${what}`)
  const config = JSON.parse(bytes.toString('utf8')) as ImageConfig
  checkPlatform(config, indexDigest ? `The linux/amd64 entry of ${what}` : `${what.charAt(0).toUpperCase()}${what.slice(1)}`)
  const layers = document.manifest.layers.length
  const diffIds = config.rootfs?.diff_ids?.length ?? 0
  if (diffIds !== layers) {
    throw new ActionError('Unsupported base image', `${what} has ${layers} layers but its config lists ${diffIds} (rootfs.diff_ids).`)
  }
  return { reference, manifest: document.manifest, format: document.format, digest, indexDigest, config }
}

function bufferSource(bytes: Buffer): () => Iterable<Buffer> {
  return () => [bytes]
}

function describeOutcome(outcome: BlobOutcome, from: string, destination: string, size: number): string {
  if (outcome === 'present') return `already in ${destination}`
  if (outcome === 'mounted') return `mounted from ${from}`
  return `uploaded (${formatBytes(size)})`
}

/** Builds the image (base + binary layer) and pushes it; the image by digest. */
export async function buildAndPushImage(options: BuildAndPushImageOptions): Promise<PushedImage> {
  const env = options.env ?? process.env
  const destination = options.destination
  const tag = options.tag === undefined ? undefined : validateTag(options.tag)
  const base = parseImageReference(options.base ?? DEFAULT_BASE_IMAGE, env)
  const anonymousBase = options.baseCredentials === undefined
  const baseClient = new RegistryClient({
    registry: base.registry,
    credentials: options.baseCredentials,
    scopes: [`repository:${base.repository}:pull`],
    advise: baseAdvice(base, anonymousBase),
    credentialAdvice: baseCredentialAdvice(base, anonymousBase),
    sleep: options.sleep
  })
  const sameRegistry = base.registry.host === destination.registry.host
  const destinationClient = new RegistryClient({
    registry: destination.registry,
    credentials: options.destinationCredentials,
    scopes: [`repository:${destination.repository}:pull,push`, ...(sameRegistry ? [`repository:${base.repository}:pull`] : [])],
    advise: destinationAdvice(destination),
    credentialAdvice: DESTINATION_CREDENTIAL_ADVICE,
    sleep: options.sleep
  })

  const resolved = await resolveBase(baseClient, base)
  core.info(
    `Base image ${base.text}: linux/amd64 ${resolved.format === 'oci' ? 'OCI' : 'Docker'} manifest ${resolved.digest}` +
      (resolved.indexDigest ? ` (from the multi-platform index ${resolved.indexDigest})` : '') +
      `, ${resolved.manifest.layers.length} layers`
  )

  const layer: BinaryLayer = await buildBinaryLayer(options.binaryPath)
  core.info(`Binary layer ${layer.digest}: ${formatBytes(layer.blob.length)} (the binary is ${formatBytes(layer.binarySize)})`)
  const config = serialize(
    configWithBinary(resolved.config, { diffId: layer.diffId, labels: options.labels }),
    resolved.manifest.config.mediaType
  )
  const manifest = serialize(
    manifestWithLayer(
      resolved.manifest,
      resolved.format,
      config,
      { digest: layer.digest, size: layer.blob.length },
      {
        name: base.text,
        digest: resolved.digest
      }
    ),
    resolved.manifest.mediaType
  )

  const blobs: BlobToPush[] = [
    ...resolved.manifest.layers.map((descriptor, index, all) => ({
      digest: descriptor.digest,
      size: descriptor.size,
      label: `base layer ${index + 1}/${all.length}`,
      open: () =>
        baseClient.streamBlob(base.repository, descriptor.digest, descriptor.size, `reading base layer ${index + 1}/${all.length}`),
      mountFrom: sameRegistry ? base.repository : undefined
    })),
    { digest: layer.digest, size: layer.blob.length, label: 'binary layer', open: bufferSource(layer.blob) },
    { digest: config.digest, size: config.bytes.length, label: 'image config', open: bufferSource(config.bytes) }
  ]
  core.info(`Pushing to ${destination.name}`)
  const pushed: PushedBlob[] = []
  for (const blob of blobs) {
    const outcome = await pushBlob(destinationClient, destination.repository, blob, { limits: options.limits, sleep: options.sleep })
    core.info(`  ${blob.label} ${short(blob.digest)}: ${describeOutcome(outcome, base.repository, destination.repository, blob.size)}`)
    pushed.push({ label: blob.label, digest: blob.digest, size: blob.size, outcome })
  }

  const digest = await pushManifest(destinationClient, destination, manifest, tag)
  const reference = `${destination.name}@${digest}`
  const layers = pushed.slice(0, -1)
  const result: PushedImage = {
    reference,
    digest,
    taggedReference: tag ? `${destination.name}:${tag}` : undefined,
    mediaType: manifest.mediaType,
    baseReference: base.text,
    baseDigest: resolved.digest,
    baseIndexDigest: resolved.indexDigest,
    binaryLayer: { digest: layer.digest, diffId: layer.diffId, size: layer.blob.length },
    configDigest: config.digest,
    blobs: pushed,
    bytesUploaded: pushed.filter(blob => blob.outcome === 'uploaded').reduce((sum, blob) => sum + blob.size, 0),
    layersReused: layers.filter(blob => blob.outcome !== 'uploaded').length,
    layersUploaded: layers.filter(blob => blob.outcome === 'uploaded').length
  }
  core.info(
    `Image pushed: ${reference}${tag ? ` (tag ${tag})` : ''}; ${result.layersUploaded} layer(s) uploaded, ` +
      `${result.layersReused} reused, ${formatBytes(result.bytesUploaded)} sent`
  )
  return result
}

/** The manifest under the tag when there is one, else under its digest; the digest. */
async function pushManifest(
  client: RegistryClient,
  destination: ImageDestination,
  manifest: Manifest,
  tag: string | undefined
): Promise<string> {
  return client.putManifest(
    destination.repository,
    tag ?? manifest.digest,
    manifest,
    `pushing the image manifest${tag ? ` as ${tag}` : ''}`
  )
}
