/**
 * deploy.toml for Google Cloud Run: cargo-pmcp's keys and defaults (`[gcp]`, the Cloud Run keys of
 * `[server]`, `[runtime]`, `[layout]`), and what Cloud Run refuses when a service is created, checked
 * before anything is built: memory and CPU limits and their combinations, instance counts, the
 * service name, the container's environment variables and the Secret Manager secrets given as ones.
 */
import { isTable, section, stringMap, type ConfigFindings, type Table } from './document.js'
import {
  CLOUD_RUN_SERVICE_NAME_PATTERN,
  GCP_PROJECT_ID_PATTERN,
  GCP_REGION_PATTERN,
  MULTI_CRATE_ISOLATED,
  SERVER_NAME_PATTERN
} from './schema.js'
import { CONFIG_DEFAULTS, type CloudRunConfig, type CloudRunIngress } from './types.js'

const DEFAULTS = CONFIG_DEFAULTS.cloudRun

/**
 * Variables Cloud Run sets in the container itself (its container runtime contract): a service that
 * sets one is refused. The job variables are reserved too, whatever runs the image.
 */
export const RESERVED_CLOUD_RUN_VARIABLES: readonly string[] = [
  'PORT',
  'K_SERVICE',
  'K_REVISION',
  'K_CONFIGURATION',
  'CLOUD_RUN_JOB',
  'CLOUD_RUN_EXECUTION',
  'CLOUD_RUN_TASK_INDEX',
  'CLOUD_RUN_TASK_ATTEMPT',
  'CLOUD_RUN_TASK_COUNT'
]

/** Cloud Run checks a variable name as Kubernetes does (its v1 API is Knative's): this pattern, no empty name, no `=`. */
export const CLOUD_RUN_VARIABLE_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/
/** Names Google keeps for itself. */
const GOOGLE_PREFIX = 'X_GOOGLE_'
/** Cloud Run's limits on a container's variables: how many, and the bytes of one value. */
export const CLOUD_RUN_VARIABLE_LIMIT = 1000
export const CLOUD_RUN_VALUE_LIMIT_BYTES = 32 * 1024

/** Secret Manager's rule for a secret id; on Cloud Run a `[secrets]` name is one. */
export const SECRET_MANAGER_ID = /^[A-Za-z0-9_-]{1,255}$/

/** Why Cloud Run refuses `name` as a variable of the container, with what it allows; undefined when it takes it. */
export function cloudRunVariableProblem(name: string): { problem: string; allowed: string } | undefined {
  if (RESERVED_CLOUD_RUN_VARIABLES.includes(name)) {
    return {
      problem: 'is set by Cloud Run itself, which refuses a service that sets it',
      allowed: `any name but Cloud Run's reserved ones (${RESERVED_CLOUD_RUN_VARIABLES.join(', ')}); remove it or rename it`
    }
  }
  if (name.toUpperCase().startsWith(GOOGLE_PREFIX)) {
    return { problem: `starts with ${GOOGLE_PREFIX}, a prefix Google reserves`, allowed: 'a name without that prefix; rename it' }
  }
  if (!CLOUD_RUN_VARIABLE_NAME.test(name)) {
    return {
      problem: 'is not a variable name Cloud Run accepts',
      allowed:
        "letters, digits, _, - or ., not starting with a digit (Cloud Run's pattern [-._a-zA-Z][-._a-zA-Z0-9]*), e.g. MY_VAR; rename it"
    }
  }
  return undefined
}

const MEBI = 2 ** 20
const GIBI = 2 ** 30
const UNIT_BYTES: Record<string, number> = { M: 1e6, G: 1e9, Mi: MEBI, Gi: GIBI }
/** Cloud Run's smallest memory limit (first generation execution environment) and its largest. */
const MIN_MEMORY = 128 * MEBI
const MAX_MEMORY = 32 * GIBI

/** The bytes of a memory limit such as `512Mi` or `1.5G`; undefined when it is not one (validation reports it). */
export function memoryBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(M|G|Mi|Gi)$/.exec(text)
  return match ? Number(match[1]) * UNIT_BYTES[match[2]] : undefined
}

/** The CPUs of a limit such as `1`, `0.5` or `500m`; undefined when it is not one. */
export function cpuCores(text: string): number | undefined {
  const match = /^(?:(\d+(?:\.\d+)?)|(\d+)m)$/.exec(text)
  if (!match) return undefined
  return match[1] !== undefined ? Number(match[1]) : Number(match[2]) / 1000
}

/**
 * The whole CPU counts Cloud Run offers, with the memory each allows. Less than 1 CPU also exists,
 * but only with concurrency 1 and request-based billing, which deploy.toml cannot set.
 */
const CPU_MEMORY: Record<number, { min: number; max: number }> = {
  1: { min: MIN_MEMORY, max: 4 * GIBI },
  2: { min: MIN_MEMORY, max: 8 * GIBI },
  4: { min: 2 * GIBI, max: 16 * GIBI },
  6: { min: 4 * GIBI, max: 24 * GIBI },
  8: { min: 4 * GIBI, max: 32 * GIBI }
}
const CPU_CHOICES = '"1", "2", "4", "6" or "8"'

function gibibytes(bytes: number): string {
  return bytes >= GIBI ? `${bytes / GIBI}Gi` : `${bytes / MEBI}Mi`
}

/** The smallest whole CPU count whose memory range holds `bytes`. */
function cpuFor(bytes: number): string | undefined {
  return Object.entries(CPU_MEMORY).find(([, range]) => bytes >= range.min && bytes <= range.max)?.[0]
}

export interface CloudRunCheckOptions {
  /** The process environment: where the project and region come from when `[gcp]` does not name them. */
  env: Readonly<Record<string, string | undefined>>
}

/** Every Cloud Run rule that looks at more than one key, or at a key beside what the schema checks. */
export function checkCloudRun(document: Table, findings: ConfigFindings): void {
  checkServiceName(document, findings)
  checkResources(document, findings)
  checkInstances(document, findings)
  checkRuntime(document, findings)
  checkLayout(document, findings)
  checkEnvironment(document, findings)
  checkSecrets(document, findings)
  checkAuth(document, findings)
}

function checkServiceName(document: Table, findings: ConfigFindings): void {
  const name = section(document, 'server').name
  // A name the schema refuses is reported there, once.
  if (typeof name !== 'string' || !SERVER_NAME_PATTERN.test(name) || CLOUD_RUN_SERVICE_NAME_PATTERN.test(name)) return
  findings.error(
    ['server', 'name'],
    `is ${JSON.stringify(name)}, which Cloud Run refuses as a service name`,
    `lower-case letters, digits and hyphens, a letter first, no hyphen last, fewer than 50 characters, e.g. name = "${name
      .toLowerCase()
      .slice(0, 49)
      .replace(/-+$/, '')}"`
  )
}

function checkResources(document: Table, findings: ConfigFindings): void {
  const server = section(document, 'server')
  const memoryText = typeof server.memory === 'string' ? server.memory : DEFAULTS.memory
  const cpuText = typeof server.cpu === 'string' ? server.cpu : DEFAULTS.cpu
  const bytes = memoryBytes(memoryText)
  const cores = cpuCores(cpuText)
  if (bytes === undefined || cores === undefined) return
  const memoryKey = ['server', 'memory']
  const cpuKey = ['server', 'cpu']
  if (cores >= 0.08 && cores < 1) {
    return findings.error(
      cpuKey,
      `is ${JSON.stringify(cpuText)}: Cloud Run runs less than 1 CPU only with concurrency 1, request-based billing and the ` +
        'first generation environment, which deploy.toml cannot set, so it refuses the service',
      `${CPU_CHOICES}, e.g. cpu = "1"`
    )
  }
  const range = CPU_MEMORY[cores]
  if (range === undefined) return findings.error(cpuKey, `is ${JSON.stringify(cpuText)}, a CPU count Cloud Run does not offer`, CPU_CHOICES)
  if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) {
    return findings.error(
      memoryKey,
      `is ${JSON.stringify(memoryText)}, out of Cloud Run's range`,
      `from 128Mi to 32Gi, e.g. memory = "${DEFAULTS.memory}"`
    )
  }
  // The key written is the one to fix; with both written, memory (the usual mistake is asking for more of it).
  const key = server.memory !== undefined || server.cpu === undefined ? memoryKey : cpuKey
  const cpuLabel = `cpu = ${JSON.stringify(cpuText)}${server.cpu === undefined ? ' (the default)' : ''}`
  const memoryLabel = `${JSON.stringify(memoryText)}${server.memory === undefined ? ' (the default)' : ''}`
  if (bytes > range.max) {
    findings.error(
      key,
      `asks for memory ${memoryLabel} with ${cpuLabel}: Cloud Run gives ${cores} CPU at most ${gibibytes(range.max)}`,
      `memory of at most ${gibibytes(range.max)}, or cpu = "${cpuFor(bytes) ?? 8}" for ${memoryText}`
    )
  } else if (bytes < range.min) {
    findings.error(
      key,
      `asks for memory ${memoryLabel} with ${cpuLabel}: Cloud Run needs at least ${gibibytes(range.min)} for ${cores} CPUs`,
      `memory = "${gibibytes(range.min)}" or more, or fewer CPUs`
    )
  }
}

function checkInstances(document: Table, findings: ConfigFindings): void {
  const server = section(document, 'server')
  const min = typeof server.min_instances === 'number' ? server.min_instances : DEFAULTS.minInstances
  const max = typeof server.max_instances === 'number' ? server.max_instances : DEFAULTS.maxInstances
  if (min <= max) return
  const key = server.min_instances !== undefined ? ['server', 'min_instances'] : ['server', 'max_instances']
  findings.error(
    key,
    `asks for at least ${min} instances and at most ${max}${server.max_instances === undefined ? ' (the default max_instances)' : ''}`,
    `min_instances no larger than max_instances, e.g. max_instances = ${min}`
  )
}

/** cargo-pmcp's test for a base its Dockerfile treats as Debian-like (dockerfile.rs `is_debian_family`). */
export function isDebianFamily(base: string): boolean {
  return base.startsWith('debian:') || base.startsWith('ubuntu:')
}

function checkRuntime(document: Table, findings: ConfigFindings): void {
  const runtime = section(document, 'runtime')
  const packages = runtime.apt_packages
  if (!Array.isArray(packages) || packages.length === 0) return
  const base = typeof runtime.base === 'string' ? runtime.base : DEFAULTS.base
  if (isDebianFamily(base)) return
  findings.error(
    ['runtime', 'apt_packages'],
    `lists packages for base ${JSON.stringify(base)}${runtime.base === undefined ? ' (the default)' : ''}, which has no apt-get: ` +
      'cargo-pmcp installs them only on a base whose name starts with debian: or ubuntu:',
    'base = "debian:bookworm-slim" (or another debian:/ubuntu: image) under [runtime], or no apt_packages'
  )
}

function checkLayout(document: Table, findings: ConfigFindings): void {
  const kind = section(document, 'layout').kind
  if (typeof kind !== 'string' || kind === MULTI_CRATE_ISOLATED || !/\S/.test(kind)) return
  findings.warning(
    ['layout', 'kind'],
    `is ${JSON.stringify(kind)}, which cargo-pmcp does not know (only "${MULTI_CRATE_ISOLATED}"): ` +
      'like cargo-pmcp, the action deploys the crate or workspace in the working directory and ignores [layout] primary and path_deps',
    '[layout] kind unknown'
  )
}

/** Cloud Run's limits on the container's variables: `[environment]` and the `[secrets]` given as variables. */
function checkEnvironment(document: Table, findings: ConfigFindings): void {
  const environment = stringMap(document.environment)
  for (const [name, value] of Object.entries(environment)) {
    const bytes = Buffer.byteLength(value)
    if (bytes > CLOUD_RUN_VALUE_LIMIT_BYTES) {
      findings.error(
        ['environment', name],
        `is ${bytes} bytes long, more than the ${CLOUD_RUN_VALUE_LIMIT_BYTES} bytes Cloud Run allows a variable`,
        'a shorter value; keep large settings in a Secret Manager secret ([secrets]) or in the image'
      )
    }
  }
  const count = Object.keys(environment).length + secretIds(document.secrets).length
  if (count > CLOUD_RUN_VARIABLE_LIMIT) {
    findings.error(
      ['environment'],
      `and [secrets] give the container ${count} variables, more than the ${CLOUD_RUN_VARIABLE_LIMIT} Cloud Run allows`,
      `at most ${CLOUD_RUN_VARIABLE_LIMIT} in all`
    )
  }
}

/** The `[secrets]` names that are Secret Manager ids (the others are reported where they are written). */
export function secretIds(secrets: unknown): string[] {
  const names = Array.isArray(secrets) ? secrets : isTable(secrets) ? Object.keys(secrets) : []
  return names.filter((name): name is string => typeof name === 'string' && SECRET_MANAGER_ID.test(name))
}

/** Each secret becomes the variable of its own name: a name Cloud Run refuses as one, or one `[environment]` sets, is refused. */
function checkSecrets(document: Table, findings: ConfigFindings): void {
  const environment = stringMap(document.environment)
  for (const name of secretIds(document.secrets)) {
    // A list's names share the list's line; a table's have their own.
    const at = isTable(document.secrets) ? ['secrets', name] : ['secrets']
    const variable = cloudRunVariableProblem(name)
    if (variable) {
      findings.error(
        at,
        `has the secret ${JSON.stringify(name)}, given to the server as the variable ${name}, which ${variable.problem}`,
        `a secret id that is also a variable name: ${variable.allowed}`
      )
    } else if (name in environment) {
      findings.error(
        at,
        `has the secret ${JSON.stringify(name)}, given to the server as the variable ${name}, which [environment] sets too`,
        `one of the two: remove ${name} from [environment] or from [secrets]`
      )
    }
  }
}

function checkAuth(document: Table, findings: ConfigFindings): void {
  if (section(document, 'auth').enabled !== true) return
  findings.warning(
    ['auth', 'enabled'],
    'is true, which cargo pmcp does not apply on Cloud Run: no OAuth server or authorizer stands in front of the service. ' +
      'Who may call it is [server] allow_unauthenticated (false: callers need a Google identity token); ' +
      'a server that validates tokens itself takes its settings from [environment]',
    '[auth] not applied on Cloud Run'
  )
}

/** A value the file names, or cargo-pmcp's "unset" (missing, empty, the init placeholder). */
function declared(value: unknown, placeholder?: string): string | undefined {
  return typeof value === 'string' && value !== '' && value !== placeholder ? value : undefined
}

/** The first of the environment variables that is set, with its name. */
function fromEnvironment(env: CloudRunCheckOptions['env'], names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim()
    if (value) return { name, value }
  }
  return undefined
}

const PROJECT_VARIABLES = ['GOOGLE_CLOUD_PROJECT', 'CLOUDSDK_CORE_PROJECT'] as const
/** cargo-pmcp reads CLOUD_RUN_REGION; gcloud's `run/region` property is CLOUDSDK_RUN_REGION in the environment. */
const REGION_VARIABLES = ['CLOUD_RUN_REGION', 'CLOUDSDK_RUN_REGION'] as const

const GCP_EXAMPLE = '[gcp]\nproject_id = "my-project-123"\nregion = "us-central1"'
const NO_GCLOUD = "cargo pmcp would ask gcloud's configuration, which the runner does not have"

interface GcpKey {
  key: 'project_id' | 'region'
  value: unknown
  placeholder?: string
  variables: readonly string[]
  pattern: RegExp
  example: string
}

/**
 * `[gcp] project_id` or `region`, else the environment; cargo-pmcp asks gcloud's configuration there,
 * which a runner does not have. A value from the environment must be well formed too (reported here).
 * `unset` says how the file leaves it unset, when neither has it.
 */
function gcpValue(findings: ConfigFindings, env: CloudRunCheckOptions['env'], what: GcpKey): { value: string } | { unset: string } {
  const fromFile = declared(what.value, what.placeholder)
  if (fromFile !== undefined) return { value: fromFile }
  const fromEnv = fromEnvironment(env, what.variables)
  if (fromEnv === undefined) {
    if (what.value === undefined) return { unset: 'is not set' }
    return {
      unset:
        what.value === what.placeholder ? `is ${JSON.stringify(what.value)}, the placeholder cargo pmcp deploy init writes` : 'is empty'
    }
  }
  if (!what.pattern.test(fromEnv.value)) {
    findings.error(
      ['gcp', what.key],
      `is not set in deploy.toml, and the environment variable ${fromEnv.name} holds ${JSON.stringify(fromEnv.value)}, which is not one`,
      `${what.key} = "${what.example}" under [gcp], or a well-formed ${fromEnv.name}`
    )
  }
  return { value: fromEnv.value }
}

/** The project and region: from `[gcp]`, else the environment, else one error saying what to add. */
function projectAndRegion(
  document: Table,
  findings: ConfigFindings,
  env: CloudRunCheckOptions['env']
): { projectId: string; region: string } {
  const gcp = section(document, 'gcp')
  // A [gcp] table without one of its keys is already refused, as cargo-pmcp refuses it.
  if (isTable(document.gcp) && (gcp.project_id === undefined || gcp.region === undefined)) return { projectId: '', region: '' }
  const keys: GcpKey[] = [
    {
      key: 'project_id',
      value: gcp.project_id,
      placeholder: DEFAULTS.projectPlaceholder,
      variables: PROJECT_VARIABLES,
      pattern: GCP_PROJECT_ID_PATTERN,
      example: 'my-project-123'
    },
    { key: 'region', value: gcp.region, variables: REGION_VARIABLES, pattern: GCP_REGION_PATTERN, example: 'us-central1' }
  ]
  const [project, region] = keys.map(key => gcpValue(findings, env, key))
  if ('unset' in project && 'unset' in region && document.gcp === undefined) {
    findings.error(
      ['gcp'],
      `is missing, and neither the project (${PROJECT_VARIABLES.join(', ')}) nor the region (${REGION_VARIABLES.join(', ')}) ` +
        `is set in the environment (${NO_GCLOUD})`,
      `a [gcp] table naming both:\n${GCP_EXAMPLE}`
    )
  } else {
    keys.forEach((key, index) => {
      const found = [project, region][index]
      if ('unset' in found) {
        findings.error(
          ['gcp', key.key],
          `${found.unset}, and none of ${key.variables.join(', ')} is set in the environment (${NO_GCLOUD})`,
          `${key.key} = "${key.example}" under [gcp], e.g.\n${GCP_EXAMPLE}`
        )
      }
    })
  }
  return { projectId: 'value' in project ? project.value : '', region: 'value' in region ? region.value : '' }
}

/** `[gcp]`, the Cloud Run keys of `[server]`, `[runtime]` and `[layout]` with cargo-pmcp's defaults. */
export function resolveCloudRun(document: Table, findings: ConfigFindings, options: CloudRunCheckOptions): CloudRunConfig {
  const gcp = section(document, 'gcp')
  const server = section(document, 'server')
  const runtime = section(document, 'runtime')
  const layout = document.layout
  const { projectId, region } = projectAndRegion(document, findings, options.env)
  const line = (keyPath: string[], value: unknown): number | undefined => (value === undefined ? undefined : findings.lineOf(keyPath))
  return {
    projectId,
    region,
    repository: typeof gcp.repository === 'string' ? gcp.repository : undefined,
    memory: typeof server.memory === 'string' ? server.memory : DEFAULTS.memory,
    cpu: typeof server.cpu === 'string' ? server.cpu : DEFAULTS.cpu,
    minInstances: typeof server.min_instances === 'number' ? server.min_instances : DEFAULTS.minInstances,
    maxInstances: typeof server.max_instances === 'number' ? server.max_instances : DEFAULTS.maxInstances,
    ingress: typeof server.ingress === 'string' ? (server.ingress as CloudRunIngress) : undefined,
    allowUnauthenticated: typeof server.allow_unauthenticated === 'boolean' ? server.allow_unauthenticated : DEFAULTS.allowUnauthenticated,
    binary: typeof server.binary === 'string' ? server.binary : undefined,
    base: typeof runtime.base === 'string' ? runtime.base : DEFAULTS.base,
    aptPackages: Array.isArray(runtime.apt_packages) ? runtime.apt_packages.filter((p): p is string => typeof p === 'string') : [],
    layout: isTable(layout)
      ? {
          kind: typeof layout.kind === 'string' ? layout.kind : '',
          primary: typeof layout.primary === 'string' ? layout.primary : '',
          pathDeps: Array.isArray(layout.path_deps) ? layout.path_deps.filter((d): d is string => typeof d === 'string') : []
        }
      : undefined,
    lines: Object.fromEntries(
      Object.entries({
        server: line(['server'], document.server),
        binary: line(['server', 'binary'], server.binary),
        base: line(['runtime', 'base'], runtime.base),
        aptPackages: line(['runtime', 'apt_packages'], runtime.apt_packages),
        layout: line(['layout'], layout)
      }).filter(([, value]) => value !== undefined)
    )
  }
}
