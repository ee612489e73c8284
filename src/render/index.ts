import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import Handlebars from 'handlebars'
import { secretArnVariable, secretId, type DeployConfig } from '../config/index.js'
import { CONFIG_DEFAULTS } from '../config/types.js'
import { RESERVED_DOMAIN_WORDS } from '../config/schema.js'
import type { ResourceNames } from '../names.js'
import { versionDescription } from '../lifecycle/version-description.js'
import type { Architecture, Target } from '../types.js'
import type { AuthSettings, IamStatementSettings, StackSettings } from '../../templates/aws-lambda/settings.js'
import type { StackSettings as PmcpRunStackSettings } from '../../templates/pmcp-run/settings.js'
import { serverMetadata, templateMetadata } from '../targets/pmcp-run/metadata.js'

export interface RenderOptions {
  config: DeployConfig
  names: ResourceNames
  architecture: Architecture
  region?: string
  /** Written into the function's and version's description; rollback finds versions by it. */
  commitSha: string
  runId: string
  /** The rendered project goes here; files the templates produce are overwritten. */
  outDir: string
  /** Which stack to render: templates/shared and templates/<target>, as the plan resolved it. */
  target: Target
  /** Replaces templates/<target> (the shared files still come from the action). */
  templatesDir?: string
  /** The server's directory: pmcp-run's template Metadata is extracted from its files (none without it). */
  workingDirectory?: string
}

function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
}

/**
 * Encodes a value as a TypeScript literal. JSON is valid TypeScript; the characters that could end
 * a surrounding context (`<`, `>`, `&` in generated HTML-ish files, U+2028/9 in old parsers) are
 * escaped too, so no value can become code.
 */
export function toTypeScriptLiteral(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[<>&\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

export function createRenderer(): typeof Handlebars {
  const hbs = Handlebars.create()
  hbs.registerHelper('upper', (text: string) => String(text).toUpperCase())
  hbs.registerHelper('lower', (text: string) => String(text).toLowerCase())
  hbs.registerHelper('kebab', (text: string) => words(String(text)).join('-').toLowerCase())
  hbs.registerHelper('snake', (text: string) => words(String(text)).join('_').toLowerCase())
  hbs.registerHelper('pascal', (text: string) =>
    words(String(text))
      .map(w => w[0].toUpperCase() + w.slice(1).toLowerCase())
      .join('')
  )
  hbs.registerHelper('json', (value: unknown) => new hbs.SafeString(toTypeScriptLiteral(value)))
  return hbs
}

/** A folder of templates/ beside dist/ (bundled) or beside src/ (tests): found by walking up from this module. */
function findTemplatesFolder(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = path.join(dir, 'templates', name)
    if (fs.existsSync(candidate)) return candidate
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`templates/${name} is missing from the action; the action package is incomplete`)
    dir = parent
  }
}

/** templates/<target>: the files only that target's project has. */
export function templatesRoot(target: Target = 'aws-lambda'): string {
  return findTemplatesFolder(target)
}

/** templates/shared: the files every target's project has, unless the target has its own. */
export function sharedTemplatesRoot(): string {
  return findTemplatesFolder('shared')
}

/** Longest base left for a derived hosted-domain prefix once `-<12-digit account id>` is appended (63 in all). */
const DERIVED_DOMAIN_BASE_MAX = 63 - 13

/**
 * A Cognito hosted-domain prefix from the function name: lower case, letters, digits and single
 * hyphens, without the words Cognito refuses. The stack appends the account id, which makes it
 * unique across accounts (prefixes are global per region) while staying the same on every deploy.
 */
export function derivedDomainBase(functionName: string): string {
  // A reserved word becomes a hyphen, which cannot join its neighbours into a new one.
  const base = RESERVED_DOMAIN_WORDS.reduce(
    (text, word) => text.split(word).join('-'),
    functionName.toLowerCase().replace(/[^a-z0-9-]+/g, '-')
  )
    .replace(/-+/g, '-')
    .slice(0, DERIVED_DOMAIN_BASE_MAX)
    .replace(/^-+|-+$/g, '')
  return base === '' ? 'mcp' : base
}

/**
 * What the stack creates for `[auth]`. A new pool gets everything. An existing pool gets its two app
 * clients; the resource server only with `create_resource_server = true` and the hosted domain only
 * with `domain`, because the pool may already have them (a pool has one prefix domain, and one
 * resource server per identifier). A preview never creates either in an existing pool: production
 * owns them. A preview of a new pool derives its domain from its own function name, since an
 * explicit prefix is already taken by production's pool.
 */
export function authSettings(config: DeployConfig, names: ResourceNames): AuthSettings | null {
  const { auth } = config
  if (!auth.enabled || auth.provider !== 'cognito') return null
  const existing = auth.cognito.userPoolId ?? null
  const isPreview = names.stage === 'preview'
  const explicitDomain = auth.cognito.domain && !isPreview ? { prefix: auth.cognito.domain, appendAccountId: false } : null
  const derivedDomain = { prefix: derivedDomainBase(names.functionName), appendAccountId: true }
  return {
    existingUserPoolId: existing,
    userPoolName: auth.cognito.userPoolName ?? `${names.functionName}-users`,
    resourceServerId: auth.cognito.resourceServerId,
    createResourceServer: existing === null || (auth.cognito.createResourceServer === true && !isPreview),
    domain: existing === null ? (explicitDomain ?? derivedDomain) : explicitDomain,
    callbackUrls: auth.callbackUrls
  }
}

/** The data the stack template receives: only this object crosses into generated code. */
const TABLE_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem'],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']
}
const BUCKET_ACTIONS = { read: ['s3:GetObject'], write: ['s3:PutObject', 's3:DeleteObject'] }

/** The actions `read`, `write` and `readwrite` stand for, read first, as cargo-pmcp expands them. */
function expandSugar(sugar: readonly string[], table: { read: string[]; write: string[] }): string[] {
  const reads = sugar.some(action => action === 'read' || action === 'readwrite')
  const writes = sugar.some(action => action === 'write' || action === 'readwrite')
  return [...(reads ? table.read : []), ...(writes ? table.write : [])]
}

/** `[iam]` as the statements cargo-pmcp adds to the function's role: tables, then buckets (objects only), then raw statements. */
export function iamStatements(iamConfig: DeployConfig['iam']): IamStatementSettings[] {
  return [
    ...iamConfig.tables.map(table => ({
      effect: 'Allow' as const,
      actions: expandSugar(table.actions, TABLE_ACTIONS),
      resources: [{ dynamodbTable: table.name, withIndexes: table.includeIndexes }]
    })),
    ...iamConfig.buckets.map(bucket => ({
      effect: 'Allow' as const,
      actions: expandSugar(bucket.actions, BUCKET_ACTIONS),
      resources: [{ arn: `arn:aws:s3:::${bucket.name}/*` }]
    })),
    ...iamConfig.statements.map(statement => ({
      effect: statement.effect,
      actions: statement.actions,
      resources: statement.resources.map(arn => ({ arn }))
    }))
  ]
}

export function stackSettings(options: RenderOptions): StackSettings {
  const { config, names } = options
  return {
    stackName: names.stackName,
    stackDescription: `MCP server ${config.server.name} (${names.stage}), deployed by pmcp/deploy-action`,
    serverName: config.server.name,
    functionName: names.functionName,
    stage: names.stage,
    region: options.region ?? null,
    architecture: options.architecture,
    memoryMb: config.server.memoryMb,
    timeoutSeconds: config.server.timeoutSeconds,
    ephemeralStorageMb: config.server.ephemeralStorageMb ?? null,
    reservedConcurrency: config.server.reservedConcurrency ?? null,
    provisionedConcurrency: config.server.provisionedConcurrency ?? null,
    mcpPath: config.server.mcpPath,
    environment: { ...CONFIG_DEFAULTS.environment, ...config.environment },
    versionDescription: versionDescription({ commitSha: options.commitSha, runId: options.runId }),
    logRetentionDays: config.observability.logRetentionDays,
    enableXray: config.observability.enableXray,
    createDashboard: config.observability.createDashboard,
    alarms: config.observability.alarms ?? null,
    corsOrigins: config.apiGateway.corsOrigins,
    rateLimit: config.apiGateway.rateLimit ?? null,
    burstLimit: config.apiGateway.burstLimit ?? null,
    vpc: config.vpc ? { vpcId: config.vpc.vpcId, subnetIds: config.vpc.subnetIds, securityGroupIds: config.vpc.securityGroupIds } : null,
    auth: authSettings(config, names),
    secrets: config.secrets.map(name => ({ name, secretName: secretId(config.server.name, name), arnVariable: secretArnVariable(name) })),
    iamStatements: iamStatements(config.iam)
  }
}

/** The pmcp.run server registry cargo pmcp's template lets a server read (`MCP_SERVERS_TABLE`). */
export const PMCP_RUN_SERVERS_TABLE = 'McpServer'
/** cargo pmcp's `PMCP_ORGANIZATION_ID` when `[environment]` names none. */
export const PMCP_RUN_DEFAULT_ORGANIZATION = 'default-org'
/** The function's memory in cargo pmcp's pmcp-run stack, before `[server] memory_mb` is merged over it. */
export const PMCP_RUN_MEMORY_MB = 256
/** The function's timeout in cargo pmcp's pmcp-run stack, before `[server] timeout_seconds` is merged over it. */
export const PMCP_RUN_TIMEOUT_SECONDS = 30

/**
 * The data the pmcp.run stack template receives: cargo pmcp's pmcp-run stack with what it reads from
 * CDK context and its process environment given as settings instead. `[environment]` and `[server]`
 * sizing are not in them: they are merged into the synthesized template afterwards (see
 * targets/pmcp-run/template.ts), as cargo pmcp does, the same way for a deploy/ project of one's own.
 * Its stack reads MCP_SERVERS_TABLE and PMCP_ORGANIZATION_ID from its process environment, which
 * carries `[environment]`, so those two come from it here too. `[secrets]` never reach the template:
 * pmcp.run injects secrets itself. The template's `mcp:*` Metadata is extracted from the working
 * directory, when the options name it.
 */
export function pmcpRunStackSettings(options: RenderOptions): PmcpRunStackSettings {
  const { config, names } = options
  const serversTable = config.environment.MCP_SERVERS_TABLE ?? PMCP_RUN_SERVERS_TABLE
  const metadata = options.workingDirectory ? serverMetadata(options.workingDirectory, config.metadata, () => undefined) : undefined
  return {
    stackName: names.stackName,
    stackDescription: `MCP Server: ${names.functionName}`,
    functionName: names.functionName,
    architecture: options.architecture,
    memoryMb: PMCP_RUN_MEMORY_MB,
    timeoutSeconds: PMCP_RUN_TIMEOUT_SECONDS,
    environment: {
      RUST_LOG: 'info',
      PMCP_ORGANIZATION_ID: config.environment.PMCP_ORGANIZATION_ID ?? PMCP_RUN_DEFAULT_ORGANIZATION,
      PMCP_SERVER_ID: names.functionName,
      MCP_SERVERS_TABLE: serversTable
    },
    serversTable,
    iamStatements: iamStatements(config.iam),
    metadata: metadata ? templateMetadata(metadata) : null,
    tags: { 'managed-by': 'pmcp', project: 'hosting', service: names.functionName, target: 'pmcp-run' }
  }
}

function listFiles(root: string, dir = root): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? listFiles(root, full) : [path.relative(root, full)]
  })
}

/**
 * The settings interface of a target's folder: not rendered as a file of its own, but spliced into
 * lib/stack.ts (`{{settingsContract}}`), the same text src/render imports its types from.
 */
export const SETTINGS_CONTRACT_FILE = 'settings.ts'

/** Each template to render, by the path it renders to, in path order: the target's own files win over shared ones. */
function templateSources(targetDir: string): [string, string][] {
  const sources = new Map<string, string>()
  for (const dir of [sharedTemplatesRoot(), targetDir]) {
    for (const relative of listFiles(dir)) {
      if (dir === targetDir && relative === SETTINGS_CONTRACT_FILE) continue
      sources.set(relative, path.join(dir, relative))
    }
  }
  return [...sources].sort(([a], [b]) => (a < b ? -1 : 1))
}

/** Renders templates/shared and templates/<target> into outDir; returns the files written (relative to outDir). */
export function renderProject(options: RenderOptions): string[] {
  const { target } = options
  const templates = options.templatesDir ?? templatesRoot(target)
  const hbs = createRenderer()
  const context = {
    server: options.config.server,
    configFile: options.config.file,
    settings: target === 'pmcp-run' ? pmcpRunStackSettings(options) : stackSettings(options),
    settingsContract: fs.readFileSync(path.join(templates, SETTINGS_CONTRACT_FILE), 'utf8').trimEnd()
  }
  const written: string[] = []
  for (const [relative, file] of templateSources(templates)) {
    const source = fs.readFileSync(file, 'utf8')
    const isTemplate = relative.endsWith('.hbs')
    const output = isTemplate ? relative.slice(0, -'.hbs'.length) : relative
    const content = isTemplate ? hbs.compile(source, { strict: true, noEscape: true })(context) : source
    fs.mkdirSync(path.dirname(path.join(options.outDir, output)), { recursive: true })
    fs.writeFileSync(path.join(options.outDir, output), content)
    written.push(output)
  }
  return written
}
