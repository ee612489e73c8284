import * as core from '@actions/core'
import { ensureDockerRepository } from '../../gcp/artifact-registry.js'
import type { Plan } from '../../plan.js'
import { chooseServerBinary, type ServerBinary } from './binary.js'
import { buildAndPushWithBuildx } from './buildx.js'
import { chooseImagePath, type ImagePath } from './dockerfile.js'
import type { CloudRunSession } from './session.js'
import { cloudRunSettings } from './session.js'
import {
  buildAndPushImage,
  googleRegistryCredentials,
  imageDestination,
  parseImageReference,
  type ImageDestination
} from './image/index.js'

/** The image Cloud Run is given: always by digest, so the revision runs exactly what was pushed. */
export interface ServerImage {
  /** `<host>/<repository>@sha256:…` */
  reference: string
  digest: string
  /** How it was made, for the log and the report. */
  path: 'registry-api' | 'docker-buildx'
  /** Bytes uploaded to the registry (layers and config). */
  bytesUploaded?: number
}

/** The binary cargo-pmcp would run, and how its image is made (from the binary, or by docker buildx), said in the log with why. */
export async function planImage(plan: Plan): Promise<{ binary: ServerBinary; imagePath: ImagePath }> {
  const cloudRun = cloudRunSettings(plan)
  const workingDirectory = plan.inputs.workingDirectory
  const binary = await chooseServerBinary({ workingDirectory, config: { ...plan.config, cloudRun } })
  const imagePath = chooseImagePath({ workingDirectory, config: { ...plan.config, cloudRun }, binary })
  if (imagePath.path === 'registry-api') {
    core.info(`Image: built without Docker, from binary ${binary.binary} on ${cloudRun.base}: ${imagePath.reason}`)
  } else {
    core.info(`Image: built with docker buildx: ${imagePath.reason}`)
    if (plan.inputs.buildCommand) {
      core.warning("Input 'build-command' is not used: docker buildx builds the server inside the image build, from the Dockerfile.")
    }
  }
  return { binary, imagePath }
}

/** Where the image goes (`[gcp] repository` → Artifact Registry, else gcr.io), as cargo-pmcp decides. */
export function destinationOf(session: Pick<CloudRunSession, 'cloudRun' | 'service'>): ImageDestination {
  const { projectId, region, repository } = session.cloudRun
  return imageDestination({ projectId, region, repository }, session.service)
}

/** With `[gcp] repository`, the Artifact Registry repository is created when missing (as cargo-pmcp's deploy does). */
export async function ensureRepository(session: CloudRunSession): Promise<void> {
  const { projectId, region, repository } = session.cloudRun
  if (repository === undefined) return
  const state = await ensureDockerRepository({ project: projectId, region, repository }, session.credentials)
  core.info(`Artifact Registry repository ${region}/${repository}: ${state === 'created' ? 'created' : 'exists'}`)
}

/**
 * The daemonless image: the base's layers untouched plus one layer with the binary, pushed through
 * the registry API as `oauth2accesstoken`. The base is read with the same token when it is on the
 * destination's registry (a private base next to the image), else anonymously (a public base such as
 * distroless).
 */
export async function pushImageFromBinary(plan: Plan, session: CloudRunSession, binaryPath: string): Promise<ServerImage> {
  const destination = destinationOf(session)
  const credentials = googleRegistryCredentials(await session.credentials.accessToken())
  const base = parseImageReference(session.cloudRun.base)
  const pushed = await buildAndPushImage({
    binaryPath,
    destination,
    base: session.cloudRun.base,
    destinationCredentials: credentials,
    baseCredentials: base.registry.host === destination.registry.host ? credentials : undefined,
    tag: plan.context.commitSha.toLowerCase(),
    labels: { 'org.opencontainers.image.revision': plan.context.commitSha }
  })
  core.info(
    `Image ${pushed.reference}: ${pushed.layersUploaded} layer(s) uploaded, ${pushed.layersReused} reused ` +
      `(${pushed.bytesUploaded} bytes uploaded)`
  )
  return { reference: pushed.reference, digest: pushed.digest, path: 'registry-api', bytesUploaded: pushed.bytesUploaded }
}

/** The image docker buildx builds and pushes (an edited Dockerfile, `[runtime] apt_packages`, a Debian or Ubuntu base). */
export async function pushImageWithBuildx(
  plan: Plan,
  session: CloudRunSession,
  imagePath: Extract<ImagePath, { path: 'docker-buildx' }>
): Promise<ServerImage> {
  const built = await buildAndPushWithBuildx({
    contextDir: plan.inputs.workingDirectory,
    dockerfile: imagePath.dockerfile,
    destination: destinationOf(session),
    tag: plan.context.commitSha.toLowerCase(),
    accessToken: await session.credentials.accessToken(),
    revision: plan.context.commitSha,
    reason: imagePath.reason
  })
  core.info(`Image ${built.reference} (pushed as ${built.tagged})`)
  return { reference: built.reference, digest: built.digest, path: 'docker-buildx' }
}
