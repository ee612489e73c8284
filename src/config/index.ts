import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse, TomlError } from 'smol-toml'
import { ActionError, ActionErrors, annotationProperties } from '../errors.js'
import { TARGETS, type Architecture, type Target } from '../types.js'
import {
  DEFAULT_ASSET_EXCLUDES,
  DEPLOY_TOML_SCHEMA,
  KNOWN_IAM_SERVICE_PREFIXES,
  LOG_RETENTION_DAYS,
  OIDC_PROVIDERS,
  type FieldSpec
} from './schema.js'
import {
  environmentBytes,
  functionVariables,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  LAMBDA_VARIABLE_NAME,
  RESERVED_LAMBDA_VARIABLES
} from './lambda-environment.js'
import { OAUTH_ENVIRONMENT_VARIABLES, secretArnVariable } from './server-environment.js'
import { checkCloudRun, cloudRunVariableProblem, resolveCloudRun, SECRET_MANAGER_ID, secretIds } from './cloud-run.js'
import { isTable, section, stringMap, type ConfigFindings, type Table } from './document.js'
import { TomlLineIndex } from './toml-lines.js'
import { CONFIG_DEFAULTS, type AuthProvider, type DeployConfig, type IamConfig } from './types.js'

export type { CloudRunConfig, CloudRunIngress, DeployConfig } from './types.js'
export { OAUTH_ENVIRONMENT_VARIABLES, secretArnVariable, secretId } from './server-environment.js'

export interface LoadConfigOptions {
  /** Absolute directory of the server. */
  workingDirectory: string
  /** deploy.toml, relative to workingDirectory. */
  config: string
  /** Repository root: annotation paths are relative to it. */
  workspace: string
  /**
   * The target the run deploys to when the `target` input says so; else `[target] type` decides. Some
   * keys mean something on one target only, and are reported as ignored on the others.
   */
  target?: Target
  /**
   * The process environment (default: this process's): on google-cloud-run the project and region
   * come from it when `[gcp]` does not name them.
   */
  env?: Readonly<Record<string, string | undefined>>
}

/** Collects the problems of one file, each tied to the line of its key. */
class Findings implements ConfigFindings {
  readonly errors: ActionError[] = []
  /** Above zero while a table that does not apply is checked: its keys are not reported one by one. */
  private quiet = 0

  constructor(
    readonly file: string,
    readonly target: Target,
    private readonly lines: TomlLineIndex,
    /** The key paths (joined by NUL) whose value TOML reads as a float: `512.0`, `1e3`. */
    private readonly floats: ReadonlySet<string> = new Set(),
    private readonly sourceLines: readonly string[] = []
  ) {}

  /** The number as the file writes it on the key's line (`1e3`), else as JavaScript prints it. */
  numberAsWritten(keyPath: readonly string[], value: number): string {
    const key = keyPath[keyPath.length - 1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const text = this.sourceLines[this.lineOf(keyPath) - 1] ?? ''
    return new RegExp(`(?:^|[\\s{,."'])${key}["']?\\s*=\\s*([-+0-9._a-zA-Z]+)`).exec(text)?.[1] ?? String(value)
  }

  lineOf(keyPath: readonly string[]): number {
    return this.lines.lineOf(keyPath)
  }

  isFloat(keyPath: readonly string[]): boolean {
    return this.floats.has(keyPath.join('\0'))
  }

  error(keyPath: readonly string[], problem: string, allowed: string): void {
    const line = this.lines.lineOf(keyPath)
    this.errors.push(
      new ActionError(
        `${this.file}: invalid ${keyLabel(keyPath)}`,
        `${keyLabel(keyPath)} ${problem}. Allowed: ${allowed}. Fix ${this.file} line ${line}.`,
        { file: this.file, line }
      )
    )
  }

  /** Runs `check` with its warnings dropped: the table it checks is reported as ignored as a whole. */
  quietly(check: () => void): void {
    this.quiet++
    try {
      check()
    } finally {
      this.quiet--
    }
  }

  /** A warning on the key's line; the title says the key is ignored unless another is given. */
  warning(keyPath: readonly string[], message: string, title = `${keyLabel(keyPath)} ignored`): void {
    if (this.quiet > 0) return
    const line = this.lines.lineOf(keyPath)
    core.warning(
      `${keyLabel(keyPath)} ${message} (${this.file} line ${line})`,
      annotationProperties(`${this.file}: ${title}`, { file: this.file, line })
    )
  }
}

/** `[auth.cognito] domain`, `[server]`, or a top-level key as it is. */
export function keyLabel(keyPath: readonly string[]): string {
  if (keyPath.length === 1) return `[${keyPath[0]}]`
  return `[${keyPath.slice(0, -1).join('.')}] ${keyPath[keyPath.length - 1]}`
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the decimal ${value}`
  if (typeof value === 'boolean') return `the boolean ${value}`
  if (Array.isArray(value)) return 'a list'
  if (value instanceof Date) return 'a date'
  if (typeof value === 'bigint') return `the number ${value}`
  return 'a table'
}

/** How to write a non-string environment value as the string Lambda needs. */
function quotedExample(name: string, value: unknown): string {
  const scalar = typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
  // A table or list has no single text to quote; TOML tables from smol-toml cannot even be String()-ed.
  return scalar ? `quote the value, e.g. ${name} = "${value}"` : `write it as one quoted string, e.g. ${name} = "…"`
}

/** Why the platform of `target` refuses `name` as an environment variable of the server, if it does. */
function variableNameProblem(name: string, target: Target): { problem: string; allowed: string } | undefined {
  if (target === 'google-cloud-run') return cloudRunVariableProblem(name)
  if (RESERVED_LAMBDA_VARIABLES.includes(name)) {
    return {
      problem: 'is reserved by AWS Lambda, which sets it itself and refuses a function that sets it',
      allowed: `any name but Lambda's reserved ones (${RESERVED_LAMBDA_VARIABLES.join(', ')}); remove it or rename it`
    }
  }
  if (!LAMBDA_VARIABLE_NAME.test(name)) {
    return {
      problem: 'is not a valid environment variable name for AWS Lambda',
      allowed: "a letter, then at least one letter, digit or _ (Lambda's pattern [a-zA-Z][a-zA-Z0-9_]+), e.g. MY_VAR; rename it"
    }
  }
  return undefined
}

const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

function validate(value: unknown, spec: FieldSpec, keyPath: string[], findings: Findings): void {
  switch (spec.kind) {
    case 'passthrough':
      findings.warning(keyPath, notAppliedMessage())
      return
    case 'not-applied': {
      const errorsBefore = findings.errors.length
      validate(value, spec.accepts, keyPath, findings)
      if (findings.errors.length === errorsBefore) findings.warning(keyPath, notAppliedMessage(spec.reason))
      return
    }
    case 'target-only': {
      if (spec.targets.includes(findings.target)) return validate(value, spec.accepts, keyPath, findings)
      const errorsBefore = findings.errors.length
      findings.quietly(() => validate(value, spec.accepts, keyPath, findings))
      if (findings.errors.length === errorsBefore) {
        const reason = spec.reasons[findings.target] ?? `it applies to target ${spec.targets.join(', ')}`
        findings.warning(keyPath, `is not applied on target ${findings.target} (${reason}); it is ignored`)
      }
      return
    }
    case 'string':
      if (typeof value !== 'string') return findings.error(keyPath, `is ${describe(value)}`, stringRule(spec))
      if (spec.notYet?.values.includes(value))
        return findings.error(keyPath, `is ${describe(value)}: it ${spec.notYet.problem}`, stringRule(spec))
      if (spec.oneOf && !spec.oneOf.includes(value)) return findings.error(keyPath, `is ${describe(value)}`, stringRule(spec))
      if (spec.pattern && !spec.pattern.test(value)) return findings.error(keyPath, `is ${describe(value)}`, stringRule(spec))
      return
    case 'integer': {
      const rule = spec.allowed ? `one of ${spec.allowed.join(', ')}` : `a whole number from ${spec.min} to ${spec.max}`
      // 512.0 and 1e3 are whole, but TOML reads them as floats, which cargo-pmcp refuses for an integer key.
      if (typeof value === 'number' && Number.isInteger(value) && findings.isFloat(keyPath)) {
        return findings.error(
          keyPath,
          `is ${findings.numberAsWritten(keyPath, value)}, which TOML reads as a float (it has a decimal point or an exponent)`,
          `${rule}, written without a decimal point or exponent, e.g. ${keyPath[keyPath.length - 1]} = ${value}`
        )
      }
      if (typeof value === 'bigint') return findings.error(keyPath, `is ${value}, out of range`, rule)
      if (typeof value !== 'number' || !Number.isInteger(value)) return findings.error(keyPath, `is ${describe(value)}`, rule)
      if (value < spec.min || value > spec.max || (spec.allowed && !spec.allowed.includes(value))) {
        return findings.error(keyPath, `is ${value}, out of range`, rule)
      }
      return
    }
    case 'boolean':
      if (typeof value !== 'boolean') findings.error(keyPath, `is ${describe(value)}`, 'true or false (unquoted)')
      return
    case 'boolean-or-string':
      if (typeof value !== 'boolean' && !(typeof value === 'string' && spec.oneOf.includes(value))) {
        findings.error(keyPath, `is ${describe(value)}`, `true, false, ${spec.oneOf.map(v => JSON.stringify(v)).join(', ')}`)
      }
      return
    case 'string-list': {
      const what = spec.oneOf ? `each one of ${spec.oneOf.map(v => JSON.stringify(v)).join(', ')}` : spec.rule
      const rule = `a list of strings${what ? ` (${what})` : ''}, e.g. ${listExample(spec)}`
      if (!Array.isArray(value)) return findings.error(keyPath, `is ${describe(value)}`, rule)
      if (spec.nonEmpty && value.length === 0) return findings.error(keyPath, 'is an empty list', `at least one item: ${rule}`)
      value.forEach((item, index) => {
        const bad = typeof item !== 'string' || (spec.pattern && !spec.pattern.test(item)) || (spec.oneOf && !spec.oneOf.includes(item))
        if (bad) findings.error(keyPath, `item ${index + 1} is ${describe(item)}`, rule)
      })
      return
    }
    case 'string-table':
      if (!isTable(value)) return findings.error(keyPath, `is ${describe(value)}`, 'a table of name = "text" lines')
      for (const [name, item] of Object.entries(value)) {
        if (typeof item !== 'string') findings.error([...keyPath, name], `is ${describe(item)}`, 'a string (quoted)')
      }
      return
    case 'string-map':
      if (!isTable(value)) return findings.error(keyPath, `is ${describe(value)}`, 'a table of NAME = "value" lines')
      for (const [name, item] of Object.entries(value)) {
        const itemPath = [...keyPath, name]
        const nameProblem = variableNameProblem(name, findings.target)
        if (nameProblem) findings.error(itemPath, nameProblem.problem, nameProblem.allowed)
        else if (typeof item !== 'string') findings.error(itemPath, `is ${describe(item)}`, `a string: ${quotedExample(name, item)}`)
        else if (item.includes('\0'))
          findings.error(itemPath, 'holds a NUL character (\\u0000), which no process environment can carry', 'text without \\u0000')
      }
      return
    case 'names': {
      const names = Array.isArray(value) ? value : isTable(value) ? Object.keys(value) : undefined
      const cloudRun = findings.target === 'google-cloud-run'
      const pattern = cloudRun ? SECRET_MANAGER_ID : SECRET_NAME
      if (!names) return findings.error(keyPath, `is ${describe(value)}`, 'a list of secret names, or a table NAME = "description"')
      if (isTable(value)) {
        for (const [name, description] of Object.entries(value)) {
          if (typeof description !== 'string') {
            findings.error(
              [...keyPath, name],
              `is ${describe(description)}`,
              `a description as a quoted string, e.g. ${name} = "what it is for"`
            )
          }
        }
      }
      names.forEach(name => {
        if (typeof name !== 'string' || !pattern.test(name)) {
          // A table's name has a line of its own; a list's names share the list's.
          const at = isTable(value) ? [...keyPath, name as string] : keyPath
          const allowed = cloudRun
            ? 'a Secret Manager secret id: 1 to 255 letters, digits, _ or -'
            : 'a letter, then up to 63 letters, digits, _ or -'
          findings.error(at, `has the secret name ${describe(name)}`, allowed)
        }
      })
      return
    }
    case 'table':
      if (!isTable(value)) return findings.error(keyPath, `is ${describe(value)}`, `a table [${keyPath.join('.')}]`)
      return validateFields(value, spec, keyPath, findings)
    case 'table-list': {
      const header = `[[${keyPath.join('.')}]]`
      if (!Array.isArray(value) || !value.every(isTable)) {
        return findings.error(keyPath, `is ${describe(value)}`, `one ${header} table per entry`)
      }
      value.forEach((item, index) => {
        const itemPath = [...keyPath.slice(0, -1), `${keyPath[keyPath.length - 1]}[${index}]`]
        validateFields(item, spec, itemPath, findings)
      })
    }
  }
}

/** The keys of one table: each checked by its spec; required ones present; unknown ones warned about (or refused when strict). */
function validateFields(
  value: Table,
  spec: Extract<FieldSpec, { kind: 'table' | 'table-list' }>,
  keyPath: string[],
  findings: Findings
): void {
  const known = Object.keys(spec.fields).join(', ')
  for (const [key, item] of Object.entries(value)) {
    const field = spec.fields[key]
    const itemPath = [...keyPath, key]
    if (field) validate(item, field, itemPath, findings)
    else if (spec.kind === 'table' && spec.strict)
      findings.error(itemPath, 'is not a key of this table (cargo-pmcp refuses unknown keys here)', `${known}; fix the spelling`)
    else findings.warning(itemPath, `is not a key pmcp/deploy-action knows (known: ${known}); it is ignored`)
  }
  for (const key of spec.required ?? []) {
    if (!(key in value)) {
      findings.error(
        [...keyPath, key],
        'is missing (cargo-pmcp cannot read the table without it)',
        `add ${key} = ${example(spec.fields[key])}`
      )
    }
  }
}

/** A value of the spec's kind, as a fix would write it. */
function example(spec: FieldSpec | undefined): string {
  if (!spec) return '…'
  switch (spec.kind) {
    case 'not-applied':
    case 'target-only':
      return example(spec.accepts)
    case 'boolean':
      return 'true (or false)'
    case 'integer':
      return String(spec.allowed?.[1] ?? Math.max(spec.min, 1))
    case 'string-list':
      return listExample(spec)
    case 'string':
      return spec.oneOf ? JSON.stringify(spec.oneOf[0]) : '"…"'
    default:
      return '…'
  }
}

function listExample(spec: Extract<FieldSpec, { kind: 'string-list' }>): string {
  return spec.oneOf ? `[${JSON.stringify(spec.oneOf[0])}]` : '["a", "b"]'
}

function notAppliedMessage(reason?: string): string {
  return `is a cargo-pmcp setting that pmcp/deploy-action does not apply${reason ? ` (${reason})` : ''}; it is ignored`
}

function stringRule(spec: Extract<FieldSpec, { kind: 'string' }>): string {
  if (spec.oneOf) return spec.oneOf.map(v => JSON.stringify(v)).join(', ')
  return spec.rule ? `a string: ${spec.rule}` : 'a string (quoted)'
}

function syntaxError(error: TomlError, file: string): ActionError {
  const reason = error.message.split('\n')[0].replace(/^Invalid TOML document:\s*/, '')
  return new ActionError(
    `${file}: TOML syntax error`,
    `${file} line ${error.line}, column ${error.column}: ${reason}. Fix the TOML syntax (strings need quotes, tables are written [name]).`,
    { file, line: error.line, column: error.column }
  )
}

/** Reads, validates and resolves deploy.toml; every problem becomes an annotation on its line. */
export function loadConfig(options: LoadConfigOptions): DeployConfig {
  const absolute = path.resolve(options.workingDirectory, options.config)
  const file = path.relative(options.workspace, absolute).split(path.sep).join('/') || options.config
  let bytes: Buffer
  try {
    bytes = fs.readFileSync(absolute)
  } catch {
    throw new ActionError(
      'deploy.toml not found',
      `No deploy configuration at ${file}. ` +
        "Create it with 'cargo pmcp deploy init', or set the 'config' / 'working-directory' inputs to where it is.",
      { file }
    )
  }
  const source = utf8Text(bytes, file)
  let parsed: Table
  try {
    // Integers as BigInt, so that an integer key written as a float (512.0, 1e3) can be told apart.
    parsed = parse(source, { integersAsBigInt: true })
  } catch (error) {
    if (error instanceof TomlError) throw syntaxError(error, file)
    throw error
  }
  const floats = new Set<string>()
  const document = withNumbers(parsed, [], floats) as Table
  const findings = new Findings(file, options.target ?? fileTarget(document), new TomlLineIndex(source), floats, source.split(/\r?\n/))
  for (const [key, value] of Object.entries(document)) {
    const spec = DEPLOY_TOML_SCHEMA[key]
    if (spec) validate(value, spec, [key], findings)
    else findings.warning([key], `is not a section pmcp/deploy-action knows; it is ignored`)
  }
  const resolved = resolve(document, file, findings, options.env ?? process.env)
  if (findings.errors.length > 0) throw new ActionErrors(findings.errors)
  return resolved
}

/**
 * The text of a deploy.toml that is valid UTF-8 (as TOML must be); else an error on the line and
 * column of the first byte that is not, instead of reading it with replacement characters.
 */
function utf8Text(bytes: Buffer, file: string): string {
  const offset = firstInvalidUtf8Byte(bytes)
  if (offset === undefined) return bytes.toString('utf8')
  const before = bytes.subarray(0, offset)
  const line = before.filter(byte => byte === 0x0a).length + 1
  const column = offset - before.lastIndexOf(0x0a)
  throw new ActionError(
    `${file}: not UTF-8`,
    `${file} line ${line}, column ${column}: byte 0x${bytes[offset].toString(16).padStart(2, '0')} is not valid UTF-8, ` +
      'and a TOML file must be UTF-8. Save the file as UTF-8 (e.g. convert it with iconv -f latin1 -t utf-8) and check that line.',
    { file, line, column }
  )
}

/** The offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629), or undefined. */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number | undefined {
  let index = 0
  while (index < bytes.length) {
    const lead = bytes[index]
    if (lead < 0x80) {
      index++
      continue
    }
    const continuation = lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0
    if (continuation === 0) return index
    let codePoint = lead & (0x3f >> continuation)
    for (let k = 1; k <= continuation; k++) {
      const next = bytes[index + k]
      if (next === undefined || (next & 0xc0) !== 0x80) return index
      codePoint = (codePoint << 6) | (next & 0x3f)
    }
    const shortest = [0, 0x80, 0x800, 0x10000][continuation]
    if (codePoint < shortest || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return index
    index += continuation + 1
  }
  return undefined
}

/**
 * The parsed document with its integers as numbers (an integer beyond Number's safe range stays a
 * BigInt, which validation reports as out of range), recording in `floats` the key paths whose
 * value TOML reads as a float. Paths are named as `validate` names them (`name[index]` for the
 * tables of an array of tables).
 */
function withNumbers(value: unknown, keyPath: string[], floats: Set<string>): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value
  if (typeof value === 'number') {
    floats.add(keyPath.join('\0'))
    return value
  }
  if (Array.isArray(value)) {
    const last = keyPath[keyPath.length - 1]
    return value.map((item, index) => withNumbers(item, [...keyPath.slice(0, -1), `${last}[${index}]`], floats))
  }
  if (!isTable(value)) return value
  const table: Table = Object.create(null) as Table
  for (const [key, item] of Object.entries(value)) table[key] = withNumbers(item, [...keyPath, key], floats)
  return table
}

/** `[target] type` (or `target_type`) when it names a target the action knows; aws-lambda otherwise, as in cargo-pmcp. */
function fileTarget(document: Table): Target {
  const target = section(document, 'target')
  const named = target.type ?? target.target_type
  return (TARGETS as readonly unknown[]).includes(named) ? (named as Target) : 'aws-lambda'
}

/**
 * `[auth]` rules that span keys. cargo-pmcp reads a missing provider as "none" even when enabled; the
 * action refuses that combination instead of deploying an open server the file meant to protect.
 */
function checkAuth(document: Table, findings: Findings): void {
  if (findings.target === 'pmcp-run') return checkPmcpRunAuth(document, findings)
  const auth = section(document, 'auth')
  const cognito = section(auth, 'cognito')
  if (auth.enabled !== true) {
    if (typeof auth.provider === 'string' && auth.provider !== 'none')
      findings.warning(
        ['auth', 'enabled'],
        `is not true, so [auth] provider = ${JSON.stringify(auth.provider)} has no effect: the server is deployed without OAuth`,
        '[auth] not enabled'
      )
    return
  }
  if ((OIDC_PROVIDERS as readonly unknown[]).includes(auth.provider)) {
    findings.warning(
      ['auth', 'provider'],
      `is ${JSON.stringify(auth.provider)}, an external OIDC issuer, which cargo-pmcp 0.28 accepts. ` +
        'The aws-lambda stack of pmcp/deploy-action builds OAuth with Cognito only: for this provider it deploys no authorizer, ' +
        'no user pool and no issuer settings, so the API is open to any caller unless the server validates tokens itself. ' +
        'Use provider = "cognito" to have the stack require a token',
      '[auth] provider not deployed'
    )
    return
  }
  if (auth.provider === undefined) {
    findings.error(
      ['auth', 'enabled'],
      'is true but [auth] has no provider (cargo-pmcp reads that as "none")',
      'add provider = "cognito" under [auth], or set enabled = false'
    )
  } else if (auth.provider === 'none') {
    findings.error(
      ['auth', 'provider'],
      'is "none" while [auth] enabled is true',
      '"cognito" (or set enabled = false to deploy without OAuth)'
    )
  }
  if (auth.provider !== 'cognito') return
  const callbackUrls = auth.callback_urls
  if (callbackUrls === undefined || (Array.isArray(callbackUrls) && callbackUrls.length === 0)) {
    findings.error(
      ['auth', callbackUrls === undefined ? 'enabled' : 'callback_urls'],
      'needs the redirect URLs of the authorization-code client: [auth] callback_urls is empty',
      'callback_urls = ["http://localhost:3000/callback"] under [auth], plus the https callback URL of each MCP client you use'
    )
  } else if (Array.isArray(callbackUrls) && callbackUrls.length > 100) {
    findings.error(['auth', 'callback_urls'], `has ${callbackUrls.length} URLs`, 'at most 100 (a Cognito app client limit)')
  }
  const poolId = cognito.user_pool_id ?? auth.user_pool_id
  const region = section(document, 'aws').region
  if (typeof poolId === 'string' && typeof region === 'string' && poolId.includes('_') && !poolId.startsWith(`${region}_`)) {
    const key = cognito.user_pool_id !== undefined ? ['auth', 'cognito', 'user_pool_id'] : ['auth', 'user_pool_id']
    findings.error(
      key,
      `(${poolId}) is a pool in another region than [aws] region (${region})`,
      `a user pool of ${region}: the stack creates its clients in the pool, so both must be in one region`
    )
  }
  const environment = declaredEnvironment(document)
  for (const name of OAUTH_ENVIRONMENT_VARIABLES) {
    if (name in environment) {
      findings.error(
        [environmentSection(document, name), name],
        'is set by the stack when [auth] is enabled',
        `no ${name} in [environment]: the function receives it from the user pool`
      )
    }
  }
  if (cognito.create_resource_server !== undefined && poolId === undefined) {
    findings.warning(
      ['auth', 'cognito', 'create_resource_server'],
      'has no effect without user_pool_id: a new user pool always gets its resource server'
    )
  }
}

/**
 * On pmcp.run, `[auth] enabled = true` is all cargo-pmcp reads: pmcp.run puts its own OAuth server in
 * front of the function (configureServerOAuth, with `[auth.dcr]`). What only a Cognito stack of the
 * user's own would use is said to be ignored.
 */
function checkPmcpRunAuth(document: Table, findings: Findings): void {
  const auth = section(document, 'auth')
  if (auth.enabled !== true) return
  const ownOAuth = "pmcp.run's OAuth server registers each client itself through Dynamic Client Registration (see [auth.dcr])"
  if (Array.isArray(auth.callback_urls) && auth.callback_urls.length > 0) {
    findings.warning(['auth', 'callback_urls'], `is not applied on target pmcp-run (${ownOAuth}); it is ignored`)
  }
  if (typeof auth.provider === 'string' && auth.provider !== 'cognito' && auth.provider !== 'none') {
    findings.warning(
      ['auth', 'provider'],
      `is ${JSON.stringify(auth.provider)}, which target pmcp-run does not use: [auth] enabled = true turns on pmcp.run's own OAuth ` +
        `(${ownOAuth}), whatever the provider`,
      '[auth] provider not used on pmcp.run'
    )
  }
}

/** Each `[secrets]` name becomes an environment variable; two names (or an [environment] key) must not claim one. */
function checkSecrets(document: Table, findings: Findings): void {
  const environment = declaredEnvironment(document)
  const claimed = new Map<string, string>()
  for (const name of secretNames(document.secrets)) {
    const variable = secretArnVariable(name)
    const other = claimed.get(variable)
    if (other !== undefined) {
      findings.error(
        ['secrets', name],
        `and ${JSON.stringify(other)} both become the environment variable ${variable}`,
        'secret names that differ in more than case, - and _; rename one'
      )
    } else if (variable in environment) {
      findings.error(
        ['secrets', name],
        `becomes the environment variable ${variable}, which [environment] sets too`,
        `a different secret name, or remove ${variable} from [environment]`
      )
    }
    claimed.set(variable, name)
    if (/-[A-Za-z0-9]{6}$/.test(name)) {
      findings.error(
        ['secrets', name],
        'ends in a hyphen and six characters, which Secrets Manager cannot tell apart from the random suffix of an ARN',
        'a name that does not end like -abc123, e.g. with _ instead of -'
      )
    }
  }
}

/**
 * `[environment]` and `[lambda.environment]` as one set of function variables: a name in both with
 * two values is refused (one would silently win), and all of them with what the stack adds must fit
 * in Lambda's 4 KB (see lambda-environment.ts).
 */
function checkEnvironment(document: Table, findings: Findings): void {
  const top = stringMap(document.environment)
  const lambda = stringMap(section(document, 'lambda').environment)
  for (const [name, value] of Object.entries(lambda)) {
    if (name in top && top[name] !== value) {
      findings.error(
        ['lambda', 'environment', name],
        `(${JSON.stringify(shortened(value))}) contradicts [environment] ${name} (${JSON.stringify(shortened(top[name]))}): ` +
          'both tables set the same function variable',
        `one value: remove ${name} from [lambda.environment] or from [environment]`
      )
    }
  }
  const auth = section(document, 'auth')
  const cognito = section(auth, 'cognito')
  const region = section(document, 'aws').region
  const poolId = cognito.user_pool_id ?? auth.user_pool_id
  const declared = { ...top, ...lambda }
  const variables = functionVariables({
    target: findings.target,
    serverName: typeof section(document, 'server').name === 'string' ? (section(document, 'server').name as string) : '',
    region: typeof region === 'string' ? region : undefined,
    cognitoAuth: auth.enabled === true && auth.provider === 'cognito',
    existingUserPoolId: typeof poolId === 'string' ? poolId : undefined,
    secrets: secretNames(document.secrets),
    declared
  })
  const total = environmentBytes(variables)
  if (total <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return
  const ownBytes = environmentBytes(declared)
  const largest = Object.entries(declared)
    .sort(([a, x], [b, y]) => b.length + y.length - (a.length + x.length))
    .slice(0, 3)
    .map(([name, value]) => `${name} (${Buffer.byteLength(name) + Buffer.byteLength(value)} bytes)`)
  const table = Object.keys(top).length > 0 ? ['environment'] : Object.keys(lambda).length > 0 ? ['lambda', 'environment'] : ['secrets']
  findings.error(
    table,
    `makes the function's environment variables ${total} bytes (names and values), more than the ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} ` +
      `bytes Lambda allows a function: ${ownBytes} bytes declared in deploy.toml` +
      (largest.length > 0 ? ` (largest: ${largest.join(', ')})` : '') +
      `, and up to ${total - ownBytes} bytes the ${findings.target} stack sets itself (RUST_LOG, the OAuth and secret ARN variables)`,
    `at most ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes in all: shorten or remove variables, keep secrets in [secrets] ` +
      '(their values never count, only their ARN), and ship large settings as files with [assets]'
  )
}

/** A value as a message quotes it: at most 60 characters. */
function shortened(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}…` : value
}

function declaredEnvironment(document: Table): Record<string, string> {
  return { ...stringMap(document.environment), ...stringMap(section(document, 'lambda').environment) }
}

/** Which table declares an environment variable: `[environment]` or the book's `[lambda.environment]`. */
function environmentSection(document: Table, name: string): string {
  return isTable(document.environment) && name in document.environment ? 'environment' : 'lambda.environment'
}

function secretNames(secrets: unknown): string[] {
  const names = Array.isArray(secrets) ? secrets : isTable(secrets) ? Object.keys(secrets) : []
  return names.filter((name): name is string => typeof name === 'string' && SECRET_NAME.test(name))
}

/** The value given in one of two spellings; both given with different values is an error. */
/** A TOML value as a message shows it: scalars as written, tables and arrays as JSON. */
function valueText(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
}

function either<T>(findings: Findings, first: [string[], unknown], second: [string[], unknown]): T | undefined {
  const [firstPath, firstValue] = first
  const [secondPath, secondValue] = second
  if (firstValue !== undefined && secondValue !== undefined && firstValue !== secondValue) {
    findings.error(
      secondPath,
      `(${valueText(secondValue)}) contradicts ${keyLabel(firstPath)} (${valueText(firstValue)})`,
      `one of the two; remove ${keyLabel(secondPath)}`
    )
  }
  return (firstValue ?? secondValue) as T | undefined
}

/** The object without its undefined members, so a resolved config compares and serializes as what was declared. */
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

/**
 * What `cargo pmcp deploy` 0.28 cannot parse in a file written in its shape: a `[target]` without
 * `version`, an `[auth]` table without `enabled`. The action deploys such a file as it is and says
 * what to add, so the same file also works with cargo-pmcp.
 */
function checkRequiredByCargoPmcp(document: Table, findings: Findings): void {
  // Only for files written in cargo-pmcp's shape: a minimal file of the action's own (no [target],
  // no [environment]) is complete for the action and gets no warning about another tool's rules.
  const title = 'cargo pmcp 0.28 refuses this file'
  if (isTable(document.target) && document.target.version === undefined) {
    findings.warning(
      ['target', 'version'],
      'is missing: cargo pmcp 0.28 cannot read a deploy.toml without it. ' +
        'Add version = "1.0.0" under [target], as cargo pmcp deploy init writes it',
      title
    )
  }
  if (isTable(document.auth) && document.auth.enabled === undefined) {
    findings.warning(
      ['auth'],
      'has no enabled key: cargo pmcp 0.28 cannot read an [auth] table without it (the action reads it as false: no OAuth). ' +
        'Add enabled = false, or enabled = true to deploy OAuth',
      title
    )
  }
}

/**
 * `[iam]` rules that look at a whole statement, as cargo-pmcp's validator has them: Allow of every
 * action on every resource is refused; an unknown service prefix or an ARN pinned to one account is
 * a warning.
 */
function checkIam(document: Table, findings: Findings): void {
  const statements = section(document, 'iam').statements
  if (!Array.isArray(statements)) return
  statements.forEach((statement: unknown, index) => {
    if (!isTable(statement)) return
    const path = ['iam', `statements[${index}]`]
    const { effect, actions, resources } = statement
    const only = (list: unknown, item: string): boolean => Array.isArray(list) && list.length === 1 && list[0] === item
    if (effect === 'Allow' && only(actions, '*') && only(resources, '*')) {
      findings.error(
        path,
        'allows every action on every resource (actions = ["*"], resources = ["*"]), which cargo-pmcp refuses to deploy',
        'the actions and resources the server needs, e.g. actions = ["s3:GetObject"], resources = ["arn:aws:s3:::my-bucket/*"]; ' +
          'or [[iam.tables]] / [[iam.buckets]]'
      )
    }
    for (const action of Array.isArray(actions) ? actions : []) {
      const prefix = typeof action === 'string' && action.includes(':') ? action.split(':')[0] : undefined
      if (prefix !== undefined && !(KNOWN_IAM_SERVICE_PREFIXES as readonly string[]).includes(prefix)) {
        findings.warning(
          [...path, 'actions'],
          `has the action ${JSON.stringify(action)}, whose service prefix ${JSON.stringify(prefix)} ` +
            'is not a known AWS service: check the spelling',
          '[iam] unknown service'
        )
      }
    }
    for (const resource of Array.isArray(resources) ? resources : []) {
      const account = typeof resource === 'string' ? /^arn:[^:]*:[^:]*:[^:]*:(\d{12}):/.exec(resource)?.[1] : undefined
      if (account !== undefined) {
        findings.warning(
          [...path, 'resources'],
          `has ${JSON.stringify(resource)}, pinned to the AWS account ${account}: check that it is the account you deploy to ` +
            '(an ARN without the account, or *, fits every account)',
          '[iam] resource pinned to an account'
        )
      }
    }
  })
}

/**
 * CloudWatch keeps logs for one of LOG_RETENTION_DAYS; cargo-pmcp accepts any whole number. Another
 * number becomes the next longer period CloudWatch has (never a shorter one), beyond ten years never
 * expire, with a warning saying so.
 */
function logRetentionDays(value: unknown, findings: Findings): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return CONFIG_DEFAULTS.logRetentionDays
  if ((LOG_RETENTION_DAYS as readonly number[]).includes(value)) return value
  const longer = LOG_RETENTION_DAYS.find(days => days > value) ?? 0
  findings.warning(
    ['observability', 'log_retention_days'],
    `is ${value}, which CloudWatch Logs does not offer ` +
      `(it keeps logs for ${LOG_RETENTION_DAYS.slice(1).join(', ')} days, or never expires them). ` +
      `The log group keeps them ${longer === 0 ? 'without expiry' : `${longer} days`}, the next longer period; ` +
      'write that value to silence this warning',
    '[observability] log_retention_days rounded up'
  )
  return longer
}

function iamConfig(document: Table): IamConfig {
  const iam = section(document, 'iam')
  const tables = (value: unknown): Table[] => (Array.isArray(value) ? value.filter(isTable) : [])
  return {
    tables: tables(iam.tables).map(t => ({
      name: t.name as string,
      actions: t.actions as IamConfig['tables'][number]['actions'],
      includeIndexes: t.include_indexes === true
    })),
    buckets: tables(iam.buckets).map(b => ({ name: b.name as string, actions: b.actions as IamConfig['buckets'][number]['actions'] })),
    statements: tables(iam.statements).map(st => ({
      effect: st.effect as 'Allow' | 'Deny',
      actions: st.actions as string[],
      resources: st.resources as string[]
    }))
  }
}

function resolve(document: Table, file: string, findings: Findings, env: Readonly<Record<string, string | undefined>>): DeployConfig {
  const cloudRun = findings.target === 'google-cloud-run'
  const target = section(document, 'target')
  const aws = section(document, 'aws')
  const server = section(document, 'server')
  const lambda = section(document, 'lambda')
  const auth = section(document, 'auth')
  const cognito = section(auth, 'cognito')
  const observability = section(document, 'observability')
  const alarms = observability.alarms
  const apiGateway = section(document, 'api_gateway')
  const vpc = document.vpc
  const build = section(document, 'build')
  const assets = section(document, 'assets')
  const dcr = section(auth, 'dcr')
  const composition = section(document, 'composition')
  const metadata = section(document, 'metadata')
  const secrets = document.secrets
  const memoryMb = either<number>(findings, [['server', 'memory_mb'], server.memory_mb], [['lambda', 'memory_size'], lambda.memory_size])
  const timeoutSeconds = either<number>(
    findings,
    [['server', 'timeout_seconds'], server.timeout_seconds],
    [['lambda', 'timeout_seconds'], lambda.timeout_seconds]
  )
  const ephemeralStorageMb = server.ephemeral_storage_mb as number | undefined

  if (server.name === undefined && (document.server === undefined || isTable(document.server)))
    findings.error(['server', 'name'], 'is missing', 'a server name: add name = "my-server" under [server]')
  if (!cloudRun && isTable(vpc) && (typeof vpc.vpc_id !== 'string' || !Array.isArray(vpc.subnet_ids) || vpc.subnet_ids.length === 0)) {
    findings.error(['vpc'], 'needs vpc_id and at least one of subnet_ids', 'vpc_id = "vpc-…" and subnet_ids = ["subnet-…"]')
  }
  checkRequiredByCargoPmcp(document, findings)
  if (cloudRun) checkCloudRun(document, findings)
  else {
    checkAuth(document, findings)
    checkSecrets(document, findings)
    checkEnvironment(document, findings)
    checkIam(document, findings)
  }
  const tracing = lambda.tracing
  const xrayFromTracing = tracing === undefined ? undefined : tracing === true || tracing === 'Active'

  return {
    file,
    target: {
      type: either(findings, [['target', 'type'], target.type], [['target', 'target_type'], target.target_type]) ?? 'aws-lambda',
      version: target.version as string | undefined
    },
    aws: { region: aws.region as string | undefined, accountId: aws.account_id as string | undefined },
    server: {
      name: typeof server.name === 'string' ? server.name : '',
      memoryMb: memoryMb ?? CONFIG_DEFAULTS.memoryMb,
      timeoutSeconds: timeoutSeconds ?? CONFIG_DEFAULTS.timeoutSeconds,
      ephemeralStorageMb,
      reservedConcurrency: either(
        findings,
        [['server', 'reserved_concurrency'], server.reserved_concurrency],
        [['lambda', 'reserved_concurrency'], lambda.reserved_concurrency]
      ),
      provisionedConcurrency: lambda.provisioned_concurrency as number | undefined,
      mcpPath: (server.mcp_path as string | undefined) ?? (cloudRun ? CONFIG_DEFAULTS.cloudRun.mcpPath : CONFIG_DEFAULTS.mcpPath),
      sizing: definedOnly({ memoryMb, timeoutSeconds, ephemeralStorageMb })
    },
    architecture: lambda.architecture as Architecture | undefined,
    environment: cloudRun ? stringMap(document.environment) : { ...stringMap(document.environment), ...stringMap(lambda.environment) },
    secrets: cloudRun ? secretIds(secrets) : secretNames(secrets),
    auth: {
      enabled: auth.enabled === true,
      provider: (auth.provider as AuthProvider | undefined) ?? 'none',
      callbackUrls: (auth.callback_urls as string[] | undefined) ?? [],
      cognito: {
        userPoolId: either(
          findings,
          [['auth', 'cognito', 'user_pool_id'], cognito.user_pool_id],
          [['auth', 'user_pool_id'], auth.user_pool_id]
        ),
        userPoolName: cognito.user_pool_name as string | undefined,
        domain: cognito.domain as string | undefined,
        resourceServerId: (cognito.resource_server_id as string | undefined) ?? CONFIG_DEFAULTS.resourceServerId,
        createResourceServer: cognito.create_resource_server as boolean | undefined
      },
      dcr: {
        enabled: (dcr.enabled as boolean | undefined) ?? CONFIG_DEFAULTS.dcr.enabled,
        publicClientPatterns: (dcr.public_client_patterns as string[] | undefined) ?? [...CONFIG_DEFAULTS.dcr.publicClientPatterns],
        defaultScopes: (dcr.default_scopes as string[] | undefined) ?? [...CONFIG_DEFAULTS.dcr.defaultScopes],
        allowedScopes: (dcr.allowed_scopes as string[] | undefined) ?? [...CONFIG_DEFAULTS.dcr.allowedScopes]
      }
    },
    observability: {
      logRetentionDays: logRetentionDays(observability.log_retention_days, findings),
      enableXray:
        either(findings, [['observability', 'enable_xray'], observability.enable_xray], [['lambda', 'tracing'], xrayFromTracing]) ??
        CONFIG_DEFAULTS.enableXray,
      createDashboard: (observability.create_dashboard as boolean | undefined) ?? CONFIG_DEFAULTS.createDashboard,
      alarms: isTable(alarms)
        ? {
            errorThreshold: (alarms.error_threshold as number | undefined) ?? CONFIG_DEFAULTS.errorThreshold,
            latencyThresholdMs: (alarms.latency_threshold_ms as number | undefined) ?? CONFIG_DEFAULTS.latencyThresholdMs
          }
        : undefined
    },
    apiGateway: {
      rateLimit: either(
        findings,
        [['api_gateway', 'rate_limit'], apiGateway.rate_limit],
        [['api_gateway', 'throttling_rate'], apiGateway.throttling_rate]
      ),
      burstLimit: either(
        findings,
        [['api_gateway', 'burst_limit'], apiGateway.burst_limit],
        [['api_gateway', 'throttling_burst'], apiGateway.throttling_burst]
      ),
      corsOrigins: (apiGateway.cors_origins as string[] | undefined) ?? ['*']
    },
    vpc: isTable(vpc)
      ? {
          vpcId: vpc.vpc_id as string,
          subnetIds: (vpc.subnet_ids as string[] | undefined) ?? [],
          securityGroupIds: (vpc.security_group_ids as string[] | undefined) ?? []
        }
      : undefined,
    build: {
      features: (build.features as string[] | undefined) ?? [],
      noDefaultFeatures: (build.no_default_features as boolean | undefined) ?? false
    },
    assets: {
      include: (assets.include as string[] | undefined) ?? [],
      // cargo-pmcp's default list applies only when [assets] is missing (AssetsConfig::default); a table
      // without `exclude` takes serde's field default, an empty list.
      exclude: (assets.exclude as string[] | undefined) ?? (document.assets === undefined ? [...DEFAULT_ASSET_EXCLUDES] : []),
      baseDir: assets.base_dir as string | undefined,
      includeLine: assets.include === undefined ? undefined : findings.lineOf(['assets', 'include'])
    },
    composition: {
      tier: (composition.tier as string | undefined) ?? CONFIG_DEFAULTS.composition.tier,
      allowComposition: (composition.allow_composition as boolean | undefined) ?? CONFIG_DEFAULTS.composition.allowComposition,
      internalOnly: (composition.internal_only as boolean | undefined) ?? CONFIG_DEFAULTS.composition.internalOnly,
      description: composition.description as string | undefined
    },
    metadata: definedOnly({
      serverType: metadata.server_type as string | undefined,
      snapshotBaked: metadata.snapshot_baked as boolean | undefined
    }),
    iam: iamConfig(document),
    ...(cloudRun ? { cloudRun: resolveCloudRun(document, findings, { env }) } : {})
  }
}
