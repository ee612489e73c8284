/**
 * The Cloud Run Admin API v2 resources the action reads and writes, as the REST API spells them
 * (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services). Only the
 * fields the action uses; the API returns more, and a read-modify-write sends back what it read.
 */

/** `CONDITION_SUCCEEDED` is the one good end; `CONDITION_FAILED` carries the message users need. */
export type ConditionState =
  'STATE_UNSPECIFIED' | 'CONDITION_PENDING' | 'CONDITION_RECONCILING' | 'CONDITION_FAILED' | 'CONDITION_SUCCEEDED'

export interface Condition {
  /** `Ready`, `RoutesReady`, `ConfigurationsReady`, `ContainerHealthy`, `ResourcesAvailable`, … */
  type: string
  state?: ConditionState
  message?: string
  reason?: string
  revisionReason?: string
  severity?: string
  lastTransitionTime?: string
}

export interface EnvVar {
  name: string
  value?: string
  /** A Secret Manager secret, `projects/<p>/secrets/<name>` or just `<name>`, at a version (`latest`). */
  valueSource?: { secretKeyRef: { secret: string; version?: string } }
}

export interface Container {
  image: string
  ports?: { name?: string; containerPort: number }[]
  env?: EnvVar[]
  /** `limits.memory` (`512Mi`), `limits.cpu` (`1`). */
  resources?: { limits?: Record<string, string>; cpuIdle?: boolean; startupCpuBoost?: boolean }
}

export interface RevisionScaling {
  minInstanceCount?: number
  maxInstanceCount?: number
}

/** What a new revision is made from: changing it makes a revision, changing only traffic does not. */
export interface RevisionTemplate {
  /** The new revision's name, `<service>-<suffix>`; set so traffic can name it in the same request. */
  revision?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  scaling?: RevisionScaling
  containers: Container[]
  serviceAccount?: string
  timeout?: string
  maxInstanceRequestConcurrency?: number
}

export type TrafficType = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' | 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION'

export interface TrafficTarget {
  type?: TrafficType
  revision?: string
  percent?: number
  tag?: string
}

/** What traffic really goes where, with each tag's own URL. */
export interface TrafficTargetStatus extends TrafficTarget {
  uri?: string
}

export type Ingress =
  'INGRESS_TRAFFIC_ALL' | 'INGRESS_TRAFFIC_INTERNAL_ONLY' | 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER' | 'INGRESS_TRAFFIC_NONE'

export interface RunService {
  /** `projects/<project>/locations/<region>/services/<service>` (output; the create call names it by query). */
  name?: string
  uid?: string
  generation?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ingress?: Ingress
  invokerIamDisabled?: boolean
  template: RevisionTemplate
  traffic?: TrafficTarget[]
  /** Output: the service's main URL, `https://<service>-<hash>.<region>.run.app`. */
  uri?: string
  urls?: string[]
  trafficStatuses?: TrafficTargetStatus[]
  latestReadyRevision?: string
  latestCreatedRevision?: string
  terminalCondition?: Condition
  conditions?: Condition[]
  observedGeneration?: string
  reconciling?: boolean
  /** Sent back on update: the API refuses it (409/412) when someone changed the service since it was read. */
  etag?: string
}

export interface Revision {
  /** `projects/<project>/locations/<region>/services/<service>/revisions/<revision>` */
  name: string
  uid?: string
  labels?: Record<string, string>
  createTime?: string
  containers?: Container[]
  conditions?: Condition[]
  reconciling?: boolean
  service?: string
}

/** A long-running operation: create, update and delete return one, waited on with `:wait`. */
export interface Operation {
  name: string
  done?: boolean
  error?: { code: number; message: string; details?: unknown[] }
  response?: unknown
  metadata?: unknown
}

/** An IAM policy of a service: `roles/run.invoker` with `allUsers` makes it public. */
export interface IamPolicy {
  version?: number
  bindings?: { role: string; members: string[]; condition?: unknown }[]
  etag?: string
}
