/**
 * The Cloud Run service the action sends (Cloud Run Admin API v2): a revision template made from
 * deploy.toml and the pushed image, merged into the service as it exists so that what others set on
 * it (a runtime service account, VPC access, probes, labels, annotations) survives a deploy.
 */
import { createHash } from 'node:crypto'
import { ActionError } from '../../action-error.js'
import { CONFIG_DEFAULTS } from '../../config/types.js'
import type { Container, EnvVar, Ingress, RevisionTemplate, RunService, TrafficTarget } from '../../gcp/run-types.js'
import type { Stage } from '../../types.js'

/** cargo-pmcp's Cloud Run port; Cloud Run tells the container through PORT, which it sets itself. */
export const CONTAINER_PORT = 8080

/** The value of label `managed-by` on what the action creates. */
export const MANAGED_BY = 'pmcp-deploy-action'

/** The revision labels the action writes; a template read back from the service loses these before ours are set. */
export const REVISION_LABEL_KEYS = ['managed-by', 'commit-sha', 'stage', 'preview-id'] as const

/** Variables Cloud Run sets in every container and refuses in a revision's env. */
export const RESERVED_VARIABLES: readonly string[] = ['PORT', 'K_SERVICE', 'K_REVISION', 'K_CONFIGURATION']

/** A DNS label: Cloud Run's revision names and the longest label value. */
const LABEL_MAX = 63

export type IngressSetting = 'all' | 'internal' | 'internal-and-cloud-load-balancing'

/** What the revision template takes from deploy.toml (a `DeployConfig` with `cloudRun` fits it). */
export interface RevisionConfig {
  /** deploy.toml's path, where a mistake in `[environment]`/`[secrets]` is annotated. */
  file: string
  environment: Readonly<Record<string, string>>
  secrets: readonly string[]
  cloudRun: { memory: string; cpu: string; minInstances: number; maxInstances: number }
}

/** The revision being made. */
export interface RevisionIdentity {
  /** From `revisionName`. */
  name: string
  /** `<registry>/<path>@sha256:<digest>`: Cloud Run runs exactly the image that was pushed. */
  image: string
  /** From `revisionLabels`. */
  labels: Record<string, string>
}

const IMAGE_BY_DIGEST = /@sha256:[0-9a-f]{64}$/

function secretVariable(name: string): EnvVar {
  return { name, valueSource: { secretKeyRef: { secret: name, version: 'latest' } } }
}

function environmentOf(config: RevisionConfig): EnvVar[] {
  const plain = { ...CONFIG_DEFAULTS.environment, ...config.environment }
  const reserved = Object.keys(plain).filter(name => RESERVED_VARIABLES.includes(name))
  if (reserved.length > 0) {
    throw new ActionError(
      'Reserved variable in [environment]',
      `[environment] sets ${reserved.join(', ')}, which Cloud Run sets itself and refuses in a revision ` +
        `(reserved: ${RESERVED_VARIABLES.join(', ')}). Remove ${reserved.length > 1 ? 'them' : 'it'}: the server listens on $PORT, ` +
        `which is ${CONTAINER_PORT}.`,
      { file: config.file }
    )
  }
  const clashing = config.secrets.filter(name => Object.hasOwn(config.environment, name))
  if (clashing.length > 0) {
    throw new ActionError(
      'Variable set twice',
      `${clashing.join(', ')} ${clashing.length > 1 ? 'are' : 'is'} both in [environment] and in [secrets]; on Cloud Run each [secrets] ` +
        'name becomes a variable of that name holding the Secret Manager secret. Keep it in one of the two tables.',
      { file: config.file }
    )
  }
  const variables: EnvVar[] = [...Object.entries(plain).map(([name, value]) => ({ name, value })), ...config.secrets.map(secretVariable)]
  return variables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/**
 * The template of the revision a deploy makes: the image by digest on port 8080, `[environment]`
 * (over RUST_LOG=info) and each `[secrets]` name as a variable holding the Secret Manager secret
 * of that name (latest version), sorted by name; `[server]` memory, cpu and instance counts.
 */
export function revisionTemplate(config: RevisionConfig, revision: RevisionIdentity): RevisionTemplate {
  if (!IMAGE_BY_DIGEST.test(revision.image)) throw new Error(`Cloud Run is given images by digest, not ${revision.image}`)
  return {
    revision: revision.name,
    labels: revision.labels,
    scaling: { minInstanceCount: config.cloudRun.minInstances, maxInstanceCount: config.cloudRun.maxInstances },
    containers: [
      {
        image: revision.image,
        ports: [{ containerPort: CONTAINER_PORT }],
        env: environmentOf(config),
        resources: { limits: { memory: config.cloudRun.memory, cpu: config.cloudRun.cpu } }
      }
    ]
  }
}

/** A run of the workflow: a re-run is a new attempt of the same run id. */
export interface RunIdentity {
  /** GITHUB_RUN_ID (digits); anything else is hashed. */
  runId: string
  /** GITHUB_RUN_ATTEMPT. */
  runAttempt: number
}

/** The run id (base 36 when it is digits, else hashed) and the attempt: unique per run; hashed whole when longer than `room`. */
function runToken(run: RunIdentity, room: number): string {
  const id = /^\d+$/.test(run.runId) ? BigInt(run.runId).toString(36) : createHash('sha256').update(run.runId).digest('hex').slice(0, 8)
  const token = `${id}-${run.runAttempt.toString(36)}`
  return token.length <= room ? token : createHash('sha256').update(`${run.runId}.${run.runAttempt}`).digest('hex').slice(0, room)
}

/** Shortest commit prefix worth putting in a name; below it the name carries the run only. */
const MIN_SHA_IN_NAME = 4
const SHA_IN_NAME = 7

/**
 * `<service>-<short sha>-<run>-<attempt>` (run id and attempt in base 36): Cloud Run wants revision
 * names prefixed with the service name and a hyphen, a DNS label of at most 63 characters, unique in
 * the service. The run and attempt make it unique; the SHA, shortened or left out when the service
 * name is long, is there for people reading the console (label `commit-sha` carries all of it).
 */
export function revisionName(service: string, commitSha: string, run: RunIdentity): string {
  const token = runToken(run, LABEL_MAX - service.length - 1)
  const room = LABEL_MAX - service.length - 1 - token.length - 1
  const sha = commitSha.toLowerCase().replace(/[^a-z0-9]/g, '')
  const shaPart = Math.min(room, SHA_IN_NAME, sha.length) >= MIN_SHA_IN_NAME ? `${sha.slice(0, Math.min(room, SHA_IN_NAME))}-` : ''
  const name = `${service}-${shaPart}${token}`
  if (name.length > LABEL_MAX) throw new Error(`revision name ${name} is longer than ${LABEL_MAX} characters`)
  return name
}

/** A label value as GCP takes it: at most 63 lower-case letters, digits, `_` and `-`. */
export function labelValue(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .slice(0, LABEL_MAX)
}

export interface RevisionLabelFacts {
  commitSha: string
  stage: Stage
  /** A preview's id (PR number or `preview-id`). */
  previewId?: string
}

/** What a revision says about itself: who made it, from which commit, for production or which preview. */
export function revisionLabels(facts: RevisionLabelFacts): Record<string, string> {
  return {
    'managed-by': MANAGED_BY,
    'commit-sha': labelValue(facts.commitSha),
    stage: facts.stage,
    ...(facts.stage === 'preview' && facts.previewId ? { 'preview-id': labelValue(facts.previewId) } : {})
  }
}

const INGRESS: Record<IngressSetting, Ingress> = {
  all: 'INGRESS_TRAFFIC_ALL',
  internal: 'INGRESS_TRAFFIC_INTERNAL_ONLY',
  'internal-and-cloud-load-balancing': 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER'
}

/** `[server] ingress` as the API spells it. */
export function ingressOf(setting: IngressSetting): Ingress {
  return INGRESS[setting]
}

/** What the service reports and refuses to be told (etag and name are sent back: they name and guard the update). */
const OUTPUT_ONLY: readonly string[] = [
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
  'reconciling'
]

function withoutOutputOnly(service: RunService): RunService {
  return Object.fromEntries(Object.entries(service).filter(([key]) => !OUTPUT_ONLY.includes(key))) as unknown as RunService
}

function withoutOwnLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([key]) => !(REVISION_LABEL_KEYS as readonly string[]).includes(key)))
}

/** The container that takes requests: the one with a port (the others are sidecars), else the only one. */
function ingressContainerIndex(containers: Container[]): number {
  const withPort = containers.findIndex(container => (container.ports ?? []).length > 0)
  return withPort >= 0 ? withPort : 0
}

/**
 * Our template over the service's: image, port, env (all of it, as `--set-env-vars` would), memory,
 * cpu, instance counts, revision name and our labels are ours; the rest of the template and of the
 * serving container (command, probes, volume mounts, other limits) and any sidecar stay as they are.
 */
function mergeTemplate(current: RevisionTemplate, ours: RevisionTemplate): RevisionTemplate {
  const containers = [...current.containers]
  const oursContainer = ours.containers[0]
  if (containers.length === 0) containers.push(oursContainer)
  else {
    const index = ingressContainerIndex(containers)
    const theirs = containers[index]
    containers[index] = {
      ...theirs,
      ...oursContainer,
      resources: { ...theirs.resources, limits: { ...theirs.resources?.limits, ...oursContainer.resources?.limits } }
    }
  }
  return {
    ...current,
    revision: ours.revision,
    labels: { ...withoutOwnLabels(current.labels), ...ours.labels },
    scaling: { ...current.scaling, ...ours.scaling },
    containers
  }
}

export interface ServiceSettings {
  /** `[server] ingress`; unset keeps the service's (a new service gets Cloud Run's default, all). */
  ingress?: IngressSetting
}

/**
 * The service to create (no `existing`) or to update: `existing` as read, without what the API
 * reports only, with `template` merged in, `traffic` replaced and label `managed-by` set.
 */
export function serviceSpec(
  existing: RunService | undefined,
  template: RevisionTemplate,
  traffic: TrafficTarget[],
  settings: ServiceSettings
): RunService {
  const ingress = settings.ingress ? { ingress: ingressOf(settings.ingress) } : {}
  if (!existing) return { labels: { 'managed-by': MANAGED_BY }, ...ingress, template, traffic }
  const kept = withoutOutputOnly(existing)
  return {
    ...kept,
    labels: { ...existing.labels, 'managed-by': MANAGED_BY },
    ...ingress,
    template: mergeTemplate(existing.template, template),
    traffic
  }
}

/**
 * The service as read with only its traffic replaced: the template goes back unchanged, so Cloud Run
 * makes no revision (a rollback, a tag moved back or removed).
 */
export function withTraffic(existing: RunService, traffic: TrafficTarget[]): RunService {
  return { ...withoutOutputOnly(existing), traffic }
}
