/**
 * Image references and registry locations: which registry and repository a base image comes from
 * (Docker's reference grammar and its Docker Hub shorthand), where the built image goes (cargo-pmcp
 * 0.28's rule: Artifact Registry with `[gcp] repository`, else gcr.io), and whether a registry is
 * spoken to over HTTPS or plain HTTP.
 */
import { ActionError } from '../../../action-error.js'

/** cargo-pmcp's default runtime base: distroless with glibc and libgcc, no shell. */
export const DEFAULT_BASE_IMAGE = 'gcr.io/distroless/cc-debian12'

/** Docker Hub's registry: `debian:bookworm-slim` lives at registry-1.docker.io/library/debian. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io'

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

/** Artifact Registry's rule for repository ids, as cargo-pmcp's image.rs checks `[gcp] repository`. */
const REPOSITORY_ID = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** One path component of a repository name (distribution's reference grammar). */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/

const TAG = /^[\w][\w.-]{0,127}$/

const DIGEST = /^sha256:[a-f0-9]{64}$/

/** `host`, `host:port`, `[::1]:port`: what PMCP_GCP_REGISTRY_HOST may hold. */
const HOST_PORT = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i

/** A registry and how to reach it. */
export interface RegistryEndpoint {
  /** `us-central1-docker.pkg.dev`, `127.0.0.1:5000` */
  host: string
  /** Plain HTTP instead of HTTPS (a loopback registry, or PMCP_GCP_REGISTRY_INSECURE=true). */
  insecure: boolean
}

export interface ImageReference {
  registry: RegistryEndpoint
  /** `distroless/cc-debian12`, `library/debian` */
  repository: string
  tag?: string
  /** `sha256:…`; when given, the tag (if any) is only informative. */
  digest?: string
  /** As written by the user, for messages. */
  text: string
}

/** Where the built image goes, and what the advice for a refused push needs to know. */
export interface ImageDestination {
  registry: RegistryEndpoint
  /** `demo-project/pmcp/hello-run` */
  repository: string
  /** `us-central1-docker.pkg.dev/demo-project/pmcp/hello-run` (with PMCP_GCP_REGISTRY_HOST's host when set). */
  name: string
  project: string
  /** Set for Artifact Registry (`[gcp] repository`); undefined for gcr.io. */
  artifactRegistry?: { location: string; repository: string }
}

export interface GcpImageSettings {
  projectId: string
  region: string
  repository?: string
}

/** The base URL of a registry: `https://host` or, for an insecure one, `http://host`. */
export function registryUrl(registry: RegistryEndpoint): string {
  return `${registry.insecure ? 'http' : 'https'}://${registry.host}`
}

/** `127.0.0.1`, `localhost`, `[::1]` (with or without a port): a registry on this machine, never behind TLS. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0]
  return name === 'localhost' || name === '::1' || /^127(?:\.\d{1,3}){3}$/.test(name)
}

/** The registry that PMCP_GCP_REGISTRY_HOST names, validated; undefined when it is not set. */
function registryHostOverride(env: NodeJS.ProcessEnv): string | undefined {
  const host = env.PMCP_GCP_REGISTRY_HOST?.trim()
  if (!host) return undefined
  if (!HOST_PORT.test(host)) {
    throw new ActionError(
      'PMCP_GCP_REGISTRY_HOST is not a registry host',
      `PMCP_GCP_REGISTRY_HOST is ${JSON.stringify(host)}: it must be a registry host with an optional port, ` +
        'without scheme or path (for example "127.0.0.1:5000" or "registry.example.com").'
    )
  }
  return host.toLowerCase()
}

/** How to reach `host`: plain HTTP on loopback, or for the overriding registry with PMCP_GCP_REGISTRY_INSECURE=true. */
export function registryEndpoint(host: string, env: NodeJS.ProcessEnv = process.env): RegistryEndpoint {
  const lower = host.toLowerCase()
  const insecureOverride = env.PMCP_GCP_REGISTRY_INSECURE?.trim().toLowerCase() === 'true' && lower === registryHostOverride(env)
  return { host: lower, insecure: isLoopbackHost(lower) || insecureOverride }
}

/** cargo-pmcp's check of `[gcp] repository`; an ActionError naming the key, the rule and an example otherwise. */
export function validateRepositoryId(repository: string): void {
  if (REPOSITORY_ID.test(repository)) return
  throw new ActionError(
    'Invalid [gcp] repository',
    `[gcp] repository = ${JSON.stringify(repository)} is not an Artifact Registry repository id: use lowercase letters, ` +
      'digits and hyphens, start with a letter, end with a letter or digit, at most 63 characters (for example "pmcp").'
  )
}

/**
 * A project id as it appears in an image path: a domain-scoped project (`example.com:my-project`)
 * is written `example.com/my-project` there, as gcloud and Artifact Registry spell it.
 */
function projectPath(projectId: string): string {
  return projectId.replace(':', '/')
}

function checkPathComponents(repository: string, what: string): void {
  const bad = repository.split('/').find(component => !PATH_COMPONENT.test(component))
  if (bad === undefined) return
  throw new ActionError(
    'Invalid image name',
    `The image repository ${JSON.stringify(repository)} (${what}) has the component ${JSON.stringify(bad)}, which a registry ` +
      'does not accept: each part must be lowercase letters and digits, separated by ".", "_" or "-".'
  )
}

/**
 * Where the image goes, as cargo-pmcp 0.28 decides: `<region>-docker.pkg.dev/<project>/<repository>/<service>`
 * with `[gcp] repository`, else `gcr.io/<project>/<service>`. PMCP_GCP_REGISTRY_HOST replaces the
 * host (the reference given to Cloud Run then names it too).
 */
export function imageDestination(gcp: GcpImageSettings, service: string, env: NodeJS.ProcessEnv = process.env): ImageDestination {
  const project = projectPath(gcp.projectId)
  let host: string
  let repository: string
  let artifactRegistry: ImageDestination['artifactRegistry']
  if (gcp.repository !== undefined) {
    validateRepositoryId(gcp.repository)
    host = `${gcp.region}-docker.pkg.dev`
    repository = `${project}/${gcp.repository}/${service}`
    artifactRegistry = { location: gcp.region, repository: gcp.repository }
  } else {
    host = 'gcr.io'
    repository = `${project}/${service}`
  }
  checkPathComponents(repository, '[gcp] project_id and [server] name')
  const registry = registryEndpoint(registryHostOverride(env) ?? host, env)
  return { registry, repository, name: `${registry.host}/${repository}`, project: gcp.projectId, artifactRegistry }
}

function invalidReference(text: string, why: string): ActionError {
  return new ActionError(
    'Invalid [runtime] base',
    `[runtime] base = ${JSON.stringify(text)} is not an image reference: ${why}. Write it as Docker does, ` +
      'e.g. "gcr.io/distroless/cc-debian12", "debian:bookworm-slim" or "<registry>/<repository>@sha256:<digest>".'
  )
}

/**
 * Docker's reference grammar: `[registry/]repository[:tag][@sha256:digest]`. A first component with
 * a dot or a port (or `localhost`) is the registry; without one the image is on Docker Hub, whose
 * one-component names live under `library/`. Neither tag nor digest means `latest`.
 */
export function parseImageReference(text: string, env: NodeJS.ProcessEnv = process.env): ImageReference {
  const trimmed = text.trim()
  if (trimmed === '') throw invalidReference(text, 'it is empty')
  let rest = trimmed
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest))
      throw invalidReference(text, `the digest ${JSON.stringify(digest)} is not sha256: and 64 lowercase hex digits`)
  }
  let tag: string | undefined
  const lastColon = rest.lastIndexOf(':')
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1)
    rest = rest.slice(0, lastColon)
    if (!TAG.test(tag)) throw invalidReference(text, `the tag ${JSON.stringify(tag)} is not a valid tag`)
  }
  const slash = rest.indexOf('/')
  const first = slash >= 0 ? rest.slice(0, slash) : ''
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')
  let host = hasRegistry ? first.toLowerCase() : 'docker.io'
  let repository = hasRegistry ? rest.slice(slash + 1) : rest
  if (DOCKER_HUB_ALIASES.has(host)) {
    host = DOCKER_HUB_REGISTRY
    if (!repository.includes('/')) repository = `library/${repository}`
  }
  if (repository === '') throw invalidReference(text, 'it names no repository')
  const bad = repository.split('/').find(component => !PATH_COMPONENT.test(component))
  if (bad !== undefined) {
    throw invalidReference(text, `the name part ${JSON.stringify(bad)} must be lowercase letters and digits separated by ".", "_" or "-"`)
  }
  return {
    registry: registryEndpoint(host, env),
    repository,
    tag: tag ?? (digest ? undefined : 'latest'),
    digest,
    text: trimmed
  }
}

/** What to ask the registry for: the digest when there is one, else the tag. */
export function manifestReference(reference: ImageReference): string {
  return reference.digest ?? reference.tag ?? 'latest'
}

/** A tag the image is also pushed under, checked against the registry's tag grammar. */
export function validateTag(tag: string): string {
  if (TAG.test(tag)) return tag
  throw new ActionError(
    'Invalid image tag',
    `${JSON.stringify(tag)} cannot tag an image: a tag is 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-".`
  )
}
