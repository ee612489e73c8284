/**
 * The `mcp:*` metadata pmcp.run reads from a server's CloudFormation template, extracted from the
 * project as cargo-pmcp 0.28 extracts it (cargo-pmcp/src/deployment/metadata.rs, `McpMetadata`):
 * no source scanning, only these files, the first that exists winning:
 *
 * 1. `builtin-manifest.toml` (with the instance config it names),
 * 2. `.pmcp/template-info.toml` (read as a builtin manifest when it parses as one),
 * 3. `pmcp.toml`, 4. `.pmcp/config.toml` (an instance config; else a minimal record),
 * 5. else the first line of `Cargo.toml` that starts with `name`, or the directory's name.
 *
 * The TOML files are checked against the shapes cargo-pmcp deserializes them into (serde: unknown
 * keys ignored, a missing required key or a value of the wrong type fails the parse), so a file
 * cargo-pmcp refuses is refused here too and the same fallback applies.
 */
import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'smol-toml'
import type { DeployConfig } from '../../config/index.js'

/** `MCP_METADATA_VERSION`. */
export const MCP_METADATA_VERSION = '1.0'

export interface SecretRequirement {
  name: string
  description?: string
  required: boolean
  envVar?: string
  obtainUrl?: string
}

export interface ParameterRequirement {
  name: string
  value?: string
  envVar?: string
  description?: string
}

export interface PermissionRequirement {
  id: string
  type: string
  targets: string[]
  description?: string
}

/**
 * What cargo-pmcp knows of a server for pmcp.run. `available_operations` is left out: no extractor
 * of cargo-pmcp ever sets it, so it never reaches a template.
 */
export interface McpMetadata {
  version: string
  serverType: string
  serverId: string
  templateId?: string
  templateVersion?: string
  resources: { secrets: SecretRequirement[]; parameters: ParameterRequirement[]; permissions: PermissionRequirement[] }
  /** `resources` is always false and `prompts` always empty: nothing extracts them. */
  capabilities: { tools: string[]; resources: boolean; prompts: string[]; composition: boolean }
  /** `[metadata] snapshot_baked`. */
  snapshotBaked: boolean
}

/** A file cargo-pmcp fails on (unreadable, or not of the shape it deserializes): extraction returns Err there. */
export class MetadataError extends Error {}

// ---------------------------------------------------------------------------------------------
// The serde shapes cargo-pmcp reads the files into: only what decides whether a parse succeeds.
// ---------------------------------------------------------------------------------------------

type Shape = 'string' | 'bool' | 'u32' | { table: Record<string, Field> } | { array: Shape } | { map: Shape }
interface Field {
  shape: Shape
  required?: boolean
  /** serde `alias`: the same field under another key (both present is a duplicate-field error). */
  alias?: string
}

const str: Field = { shape: 'string' }
const requiredStr: Field = { shape: 'string', required: true }
const bool: Field = { shape: 'bool' }
const u32: Field = { shape: 'u32' }
const strings: Field = { shape: { array: 'string' } }
const table = (fields: Record<string, Field>, required = false): Field => ({ shape: { table: fields }, required })
const tables = (fields: Record<string, Field>): Field => ({ shape: { array: { table: fields } } })

/** `BuiltinManifest` (builtin-manifest.toml, or .pmcp/template-info.toml). */
const BUILTIN_MANIFEST: Record<string, Field> = {
  server: table({ type: requiredStr, config: requiredStr, template: table({ id: requiredStr, version: requiredStr }) }, true),
  features: table({ secrets_from_config: bool, composition_enabled: bool }),
  build: table({ pre_build: strings, lambda_crate: str }),
  resources: table({
    parameters: tables({ name: requiredStr, env_var: str, value: str, description: str }),
    permissions: tables({ id: requiredStr, type: requiredStr, targets: strings, description: str })
  })
}

/** `InstanceConfig` (the config a builtin manifest names, pmcp.toml, .pmcp/config.toml). */
const INSTANCE_CONFIG: Record<string, Field> = {
  server: table({ id: str, name: requiredStr, version: str, description: str }, true),
  secrets: table({
    provider: str,
    definitions: tables({ name: requiredStr, description: str, required: bool, obtain_url: str, env_var: str })
  }),
  backend: table({
    endpoint: str,
    schema: table({ type: str, url: str, path: str }),
    auth: table({ type: str, headers: { shape: { map: 'string' } }, query_params: { shape: { map: 'string' } } }),
    http: table({ timeout_seconds: u32, retries: u32, retry_backoff_ms: u32 })
  }),
  tools: tables({ name: requiredStr, description: str }),
  observability: table({ log_level: str, log_requests: bool, enable_metrics: bool, enable_tracing: bool }),
  code_mode: table({
    allow_writes: bool,
    allow_deletes: bool,
    blocked_tables: strings,
    operations: tables({
      name: { shape: 'string', required: true, alias: 'id' },
      description: str,
      path: str,
      method: str,
      operation_type: str,
      destructive_hint: bool,
      operation_category: { shape: 'string', alias: 'category' }
    })
  }),
  database: table({ tables: tables({ name: requiredStr, description: str }) })
}

type TomlTable = Record<string, unknown>

/** A TOML table (smol-toml gives tables no prototype, and dates are Date objects). */
const isTable = (value: unknown): value is TomlTable =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)

function fits(value: unknown, shape: Shape): boolean {
  if (shape === 'string') return typeof value === 'string'
  if (shape === 'bool') return typeof value === 'boolean'
  if (shape === 'u32') return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff
  if ('array' in shape) return Array.isArray(value) && value.every(item => fits(item, shape.array))
  if ('map' in shape) return isTable(value) && Object.values(value).every(item => fits(item, shape.map))
  return isTable(value) && fitsTable(value, shape.table)
}

function fitsTable(value: TomlTable, fields: Record<string, Field>): boolean {
  return Object.entries(fields).every(([key, field]) => {
    const present = [key, field.alias].filter((name): name is string => name !== undefined && name in value)
    if (present.length > 1) return false
    if (present.length === 0) return !field.required
    return fits(value[present[0]], field.shape)
  })
}

/** The file parsed into `shape`, or undefined where serde's `toml::from_str` fails (syntax, missing key, wrong type). */
function parseAs(text: string, shape: Record<string, Field>): TomlTable | undefined {
  let document: TomlTable
  try {
    document = parse(text)
  } catch {
    return undefined
  }
  return fitsTable(document, shape) ? document : undefined
}

function read(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (error) {
    throw new MetadataError(`Failed to read ${what}: ${(error as Error).message}`)
  }
}

/** `Path::file_name()` of a directory, or "unknown" (the file system root). */
function directoryName(dir: string): string {
  return path.basename(path.resolve(dir)) || 'unknown'
}

// The accessors below read documents parseAs has already checked.
const asTable = (value: unknown): TomlTable => (isTable(value) ? value : {})
const asTables = (value: unknown): TomlTable[] => (Array.isArray(value) ? (value as TomlTable[]) : [])
const optional = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

function defaults(serverId: string): McpMetadata {
  return {
    version: MCP_METADATA_VERSION,
    serverType: 'custom',
    serverId,
    resources: { secrets: [], parameters: [], permissions: [] },
    capabilities: { tools: [], resources: false, prompts: [], composition: false },
    snapshotBaked: false
  }
}

function secretsOf(instance: TomlTable): SecretRequirement[] {
  return asTables(asTable(instance.secrets).definitions).map(secret => ({
    name: secret.name as string,
    description: optional(secret.description),
    required: secret.required !== false,
    envVar: optional(secret.env_var),
    obtainUrl: optional(secret.obtain_url)
  }))
}

const toolsOf = (instance: TomlTable): string[] => asTables(instance.tools).map(tool => tool.name as string)

/** `from_builtin_manifest`: the instance config's path is relative to the manifest's directory. */
function fromBuiltinManifest(manifestPath: string, projectRoot: string): McpMetadata {
  const manifest = parseAs(read(manifestPath, path.basename(manifestPath)), BUILTIN_MANIFEST)
  if (!manifest) throw new MetadataError(`Failed to parse ${path.basename(manifestPath)}`)
  const server = asTable(manifest.server)
  const features = asTable(manifest.features)
  const resources = asTable(manifest.resources)
  const configPath = path.join(path.dirname(manifestPath), server.config as string)
  let instance: TomlTable | undefined
  if (fs.existsSync(configPath)) {
    instance = parseAs(read(configPath, 'instance config'), INSTANCE_CONFIG)
    if (!instance) throw new MetadataError(`Failed to parse instance config ${configPath}`)
  }
  const instanceServer = instance ? asTable(instance.server) : undefined
  const template = server.template === undefined ? undefined : asTable(server.template)
  return {
    ...defaults(instanceServer ? (optional(instanceServer.id) ?? (instanceServer.name as string)) : directoryName(projectRoot)),
    serverType: server.type as string,
    ...(template ? { templateId: template.id as string, templateVersion: template.version as string } : {}),
    resources: {
      secrets: features.secrets_from_config === true && instance ? secretsOf(instance) : [],
      parameters: asTables(resources.parameters).map(parameter => ({
        name: parameter.name as string,
        value: optional(parameter.value),
        envVar: optional(parameter.env_var),
        description: optional(parameter.description)
      })),
      permissions: asTables(resources.permissions).map(permission => ({
        id: permission.id as string,
        type: permission.type as string,
        targets: (permission.targets as string[] | undefined) ?? [],
        description: optional(permission.description)
      }))
    },
    capabilities: {
      tools: instance ? toolsOf(instance) : [],
      resources: false,
      prompts: [],
      composition: features.composition_enabled === true
    }
  }
}

/** `from_pmcp_toml` (pmcp.toml and .pmcp/config.toml): an instance config, else the minimal record named after the file's directory. */
function fromPmcpToml(file: string): McpMetadata {
  const instance = parseAs(read(file, path.basename(file)), INSTANCE_CONFIG)
  if (!instance) return defaults(directoryName(path.dirname(file)))
  return {
    ...defaults(asTable(instance.server).name as string),
    resources: { secrets: secretsOf(instance), parameters: [], permissions: [] },
    capabilities: { tools: toolsOf(instance), resources: false, prompts: [], composition: false }
  }
}

/**
 * `default_from_cargo`: no TOML parsing, the first line that starts (at column 0) with `name`, in
 * any table, its text after the first `=` trimmed of whitespace and double quotes; without a
 * Cargo.toml, the directory's name.
 */
function defaultFromCargo(projectRoot: string): McpMetadata {
  const cargoToml = path.join(projectRoot, 'Cargo.toml')
  if (!fs.existsSync(cargoToml)) return defaults(directoryName(projectRoot))
  const line = read(cargoToml, 'Cargo.toml')
    .split('\n')
    .map(text => text.replace(/\r$/, ''))
    .find(text => text.startsWith('name'))
  const value = line?.split('=')[1]
  return defaults(value === undefined ? 'unknown' : value.trim().replace(/^"+|"+$/g, ''))
}

/** `McpMetadata::extract(project_root)`; throws MetadataError where cargo-pmcp returns Err. */
export function extractMetadata(projectRoot: string): McpMetadata {
  const manifest = path.join(projectRoot, 'builtin-manifest.toml')
  if (fs.existsSync(manifest)) return fromBuiltinManifest(manifest, projectRoot)
  const templateInfo = path.join(projectRoot, '.pmcp', 'template-info.toml')
  if (fs.existsSync(templateInfo)) {
    return parseAs(read(templateInfo, 'template-info.toml'), BUILTIN_MANIFEST)
      ? fromBuiltinManifest(templateInfo, projectRoot)
      : defaultFromCargo(projectRoot)
  }
  for (const file of [path.join(projectRoot, 'pmcp.toml'), path.join(projectRoot, '.pmcp', 'config.toml')]) {
    if (fs.existsSync(file)) return fromPmcpToml(file)
  }
  return defaultFromCargo(projectRoot)
}

/** `extract_metadata_with_log`: the metadata, or undefined (logged as defaults) where extraction fails. */
export function extractMetadataWithLog(projectRoot: string, log: (line: string) => void = core.info): McpMetadata | undefined {
  log('Extracting MCP server metadata...')
  try {
    const metadata = extractMetadata(projectRoot)
    log(`  Server: ${metadata.serverId} (${metadata.serverType})`)
    if (metadata.resources.secrets.length > 0) log(`  Secrets: ${metadata.resources.secrets.length}`)
    if (metadata.capabilities.tools.length > 0) log(`  Tools: ${metadata.capabilities.tools.length}`)
    return metadata
  } catch (error) {
    if (!(error instanceof MetadataError)) throw error
    log('  No metadata found (using defaults)')
    return undefined
  }
}

/** `apply_config_overrides`: deploy.toml's `[metadata]` over what was extracted (a new object). */
export function applyMetadataOverrides(metadata: McpMetadata, overrides: DeployConfig['metadata']): McpMetadata {
  return {
    ...metadata,
    ...(overrides.serverType !== undefined ? { serverType: overrides.serverType } : {}),
    ...(overrides.snapshotBaked !== undefined ? { snapshotBaked: overrides.snapshotBaked } : {})
  }
}

/**
 * What cargo pmcp's pmcp-run deploy works with: the extracted metadata with `[metadata]` over it,
 * or undefined when extraction fails (the overrides are then not applied either).
 */
export function serverMetadata(
  projectRoot: string,
  overrides: DeployConfig['metadata'],
  log: (line: string) => void = core.info
): McpMetadata | undefined {
  const metadata = extractMetadataWithLog(projectRoot, log)
  return metadata && applyMetadataOverrides(metadata, overrides)
}

// ---------------------------------------------------------------------------------------------
// Serialization: serde's, struct fields in declaration order, snake_case, None and empty lists skipped.
// ---------------------------------------------------------------------------------------------

type Json = string | boolean | Json[] | { [key: string]: Json }

/** The entries whose value is defined, in the order given. */
function defined(entries: [string, Json | undefined][]): { [key: string]: Json } {
  return Object.fromEntries(entries.filter((entry): entry is [string, Json] => entry[1] !== undefined))
}

const nonEmpty = <T>(list: T[], map: (item: T) => Json): Json[] | undefined => (list.length > 0 ? list.map(map) : undefined)

/** `ResourceRequirements` as serde serializes it ({} when nothing is required). */
export function resourcesJson(resources: McpMetadata['resources']): { [key: string]: Json } {
  return defined([
    [
      'secrets',
      nonEmpty(resources.secrets, secret =>
        defined([
          ['name', secret.name],
          ['description', secret.description],
          ['required', secret.required],
          ['env_var', secret.envVar],
          ['obtain_url', secret.obtainUrl]
        ])
      )
    ],
    [
      'parameters',
      nonEmpty(resources.parameters, parameter =>
        defined([
          ['name', parameter.name],
          ['value', parameter.value],
          ['env_var', parameter.envVar],
          ['description', parameter.description]
        ])
      )
    ],
    [
      'permissions',
      nonEmpty(resources.permissions, permission =>
        defined([
          ['id', permission.id],
          ['type', permission.type],
          ['targets', nonEmpty(permission.targets, target => target)],
          ['description', permission.description]
        ])
      )
    ]
  ])
}

/** `ServerCapabilities` as serde serializes it (`resources` and `composition` always there). */
export function capabilitiesJson(capabilities: McpMetadata['capabilities']): { [key: string]: Json } {
  return defined([
    ['tools', nonEmpty(capabilities.tools, tool => tool)],
    ['resources', capabilities.resources],
    ['prompts', nonEmpty(capabilities.prompts, prompt => prompt)],
    ['composition', capabilities.composition]
  ])
}

/**
 * The template's top-level `Metadata` as cargo-pmcp's renderer writes it (`to_cloudformation_metadata`
 * through a BTreeMap: keys sorted), `mcp:snapshotBaked` a JSON boolean and only when baked.
 */
export function templateMetadata(metadata: McpMetadata): Record<string, Json> {
  const entries: [string, Json | undefined][] = [
    ['mcp:capabilities', capabilitiesJson(metadata.capabilities)],
    ['mcp:resources', resourcesJson(metadata.resources)],
    ['mcp:serverId', metadata.serverId],
    ['mcp:serverType', metadata.serverType],
    ['mcp:snapshotBaked', metadata.snapshotBaked ? true : undefined],
    ['mcp:templateId', metadata.templateId],
    ['mcp:templateVersion', metadata.templateVersion],
    ['mcp:version', metadata.version]
  ]
  return defined(entries)
}

/**
 * `to_cdk_context` as `key=value` pairs for `cdk synth --context` (cargo-pmcp single-quotes each one
 * for `sh -c`; the action starts the CLI without a shell, so the values go as they are). The stack
 * receives every value as a string. `customStack`: the taint cargo-pmcp adds for a stack.ts that is
 * not its own untouched scaffold (`mark_custom_stack`).
 */
export function cdkContext(metadata: McpMetadata, options: { customStack: boolean }): string[] {
  return [
    `mcp:version=${metadata.version}`,
    `mcp:serverType=${metadata.serverType}`,
    `mcp:serverId=${metadata.serverId}`,
    ...(metadata.templateId !== undefined ? [`mcp:templateId=${metadata.templateId}`] : []),
    ...(metadata.templateVersion !== undefined ? [`mcp:templateVersion=${metadata.templateVersion}`] : []),
    ...(metadata.snapshotBaked ? ['mcp:snapshotBaked=true'] : []),
    ...(options.customStack ? ['mcp:customStack=true'] : []),
    `mcp:resources=${JSON.stringify(resourcesJson(metadata.resources))}`,
    `mcp:capabilities=${JSON.stringify(capabilitiesJson(metadata.capabilities))}`
  ]
}
