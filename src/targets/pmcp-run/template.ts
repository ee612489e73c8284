/**
 * cargo-pmcp's post-synth merges of a pmcp-run deploy (targets/pmcp_run/deploy.rs
 * `apply_post_synth_merges`, deployment/template_merge.rs): deploy.toml's `[environment]` into every
 * Lambda function of the synthesized template, then `[server]` sizing onto the server's function.
 * Pure functions on the template's JSON text; each returns the text byte for byte when it has
 * nothing to apply, and re-serializes it (2-space JSON) otherwise.
 */
import * as core from '@actions/core'
import type { DeployConfig } from '../../config/index.js'
import { ActionError } from '../../errors.js'

type JsonObject = { [key: string]: unknown }
interface CfnTemplate {
  Resources?: Record<string, { Type?: unknown; Properties?: unknown }>
}

const LAMBDA_FUNCTION = 'AWS::Lambda::Function'

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value)

function parseTemplate(templateText: string): CfnTemplate {
  try {
    const template: unknown = JSON.parse(templateText)
    if (isObject(template)) return template
    throw new Error('not a JSON object')
  } catch (error) {
    throw new ActionError(
      'pmcp.run template unreadable',
      `Failed to parse synthesized CloudFormation template JSON: ${(error as Error).message}`
    )
  }
}

const serialize = (template: CfnTemplate): string => JSON.stringify(template, null, 2)

/** `ensure_object`: parent[key] as an object, created when absent; undefined (nothing clobbered) when something else is there. */
function ensureObject(parent: JsonObject, key: string): JsonObject | undefined {
  if (parent[key] === undefined) parent[key] = {}
  const value = parent[key]
  return isObject(value) ? value : undefined
}

function lambdaFunctions(template: CfnTemplate): [string, { Type?: unknown; Properties?: unknown }][] {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => isObject(resource) && resource.Type === LAMBDA_FUNCTION)
}

export interface EnvironmentMerge {
  template: string
  /** Logical ids of the Lambda functions that got `[environment]`, sorted. */
  lambdas: string[]
}

/**
 * `apply_environment_merge`: `[environment]` without the `[secrets]` names (pmcp.run injects those
 * itself) into `Environment.Variables` of every AWS::Lambda::Function, over what the stack set.
 * `[environment]` empty: the text as it is. No Lambda function: a warning, nothing applied.
 */
export function mergeEnvironment(
  templateText: string,
  environment: Record<string, string>,
  secretNames: readonly string[],
  configFile = '.pmcp/deploy.toml'
): EnvironmentMerge {
  if (Object.keys(environment).length === 0) return { template: templateText, lambdas: [] }
  const effective = Object.entries(environment).filter(([key]) => !secretNames.includes(key))
  const template = parseTemplate(templateText)
  const lambdas: string[] = []
  for (const [logicalId, resource] of lambdaFunctions(template)) {
    lambdas.push(logicalId)
    if (effective.length === 0) continue
    const properties = ensureObject(resource, 'Properties')
    const variables = properties && ensureObject(properties, 'Environment')
    const target = variables && ensureObject(variables, 'Variables')
    if (target) for (const [key, value] of effective) target[key] = value
  }
  lambdas.sort()
  if (lambdas.length > 0) {
    core.info(`Applied [environment] to ${lambdas.length} Lambda function(s): ${lambdas.join(', ')}`)
  } else {
    const keys = effective.map(([key]) => key).sort()
    const affected = keys.length > 0 ? keys.join(', ') : '(none: all declared keys are secrets)'
    core.warning(
      `[environment] of ${configFile} declared but NOT applied: the synthesized CloudFormation template contains no ` +
        `AWS::Lambda::Function resource to inject into. Affected keys: ${affected}. ` +
        'If your server runs on Lambda, verify the CDK stack synthesized a Lambda function; ' +
        'otherwise these keys will not reach the runtime.',
      { title: '[environment] not applied', file: configFile }
    )
  }
  return { template: serialize(template), lambdas }
}

export type LambdaSizing = DeployConfig['server']['sizing']

export interface SizingMerge {
  template: string
  /** `<logical id>: <property> <before|(unset)> -> <declared>`, sorted. */
  changes: string[]
  /** A function named `functionName` was found. */
  matched: boolean
}

const SIZING_PATHS: [keyof LambdaSizing, string, string][] = [
  ['memoryMb', 'MemorySize', 'memory_mb'],
  ['timeoutSeconds', 'Timeout', 'timeout_seconds'],
  ['ephemeralStorageMb', 'EphemeralStorage.Size', 'ephemeral_storage_mb']
]

/** `as_u64`: a non-negative integer, else absent. */
const integerAt = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined

/**
 * `apply_sizing_merge`: the declared `[server]` memory_mb, timeout_seconds and ephemeral_storage_mb
 * onto the Lambda function(s) whose FunctionName is exactly `functionName` (other functions, an
 * authorizer say, keep theirs), over what the stack set. Nothing declared: the text as it is. No
 * such function: a warning, nothing applied.
 */
export function mergeSizing(
  templateText: string,
  functionName: string,
  sizing: LambdaSizing,
  configFile = '.pmcp/deploy.toml'
): SizingMerge {
  const declared = SIZING_PATHS.filter(([key]) => sizing[key] !== undefined)
  if (declared.length === 0) return { template: templateText, changes: [], matched: false }
  const template = parseTemplate(templateText)
  const changes: string[] = []
  let matched = false
  for (const [logicalId, resource] of lambdaFunctions(template)) {
    if (!isObject(resource.Properties) || resource.Properties.FunctionName !== functionName) continue
    matched = true
    const properties = resource.Properties
    for (const [key, property] of declared) {
      const value = sizing[key] as number
      const [outer, inner] = property.split('.')
      const before = integerAt(inner === undefined ? properties[outer] : isObject(properties[outer]) ? properties[outer][inner] : undefined)
      if (before === value) continue
      const holder = inner === undefined ? properties : ensureObject(properties, outer)
      if (!holder) continue
      holder[inner ?? outer] = value
      changes.push(`${logicalId}: ${property} ${before ?? '(unset)'} -> ${value}`)
    }
  }
  changes.sort()
  if (!matched) {
    const list = declared.map(([key, , name]) => `${name} = ${sizing[key]}`).join(', ')
    core.warning(
      `[server] sizing of ${configFile} declared but NOT applied: the synthesized CloudFormation template contains no ` +
        `AWS::Lambda::Function whose FunctionName is '${functionName}'. Declared: ${list}. ` +
        "Check that your stack's function is named after [server] name; " +
        'otherwise the deployed function keeps whatever size the template hardcodes.',
      { title: '[server] sizing not applied', file: configFile }
    )
  } else if (changes.length === 0) {
    core.info('[server] sizing already matches the synthesized template')
  } else {
    for (const change of changes) core.info(`Applied [server] sizing — ${change}`)
  }
  return { template: serialize(template), changes, matched }
}

/** `apply_post_synth_merges`: `[environment]`, then `[server]` sizing onto the function named `functionName`. */
export function applyPostSynthMerges(templateText: string, config: DeployConfig, functionName: string): string {
  const withEnvironment = mergeEnvironment(templateText, config.environment, config.secrets, config.file).template
  return mergeSizing(withEnvironment, functionName, config.server.sizing, config.file).template
}
