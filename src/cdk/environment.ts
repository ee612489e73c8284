import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import { secretArnVariable, secretId, type DeployConfig } from '../config/index.js'
import type { ResourceNames } from '../names.js'

export interface CdkEnvironmentOptions {
  config: DeployConfig
  names: ResourceNames
  region?: string
  account?: string
  /** `<commit> run <run id>`: for a CDK project of the user's own to put on the version it publishes. */
  versionDescription?: string
}

/**
 * `[environment]` keys the CDK process keeps its own value of: what runs the CLI and the app (PATH, HOME,
 * Node, npm), the credentials and settings of the AWS SDK and CDK, the runner's, and the action's own.
 */
const PROCESS_VARIABLE =
  /^(PATH|HOME|PWD|SHELL|USER|TMPDIR|TMP|TEMP|CI|SERVER_NAME|(NODE|NPM|npm|CDK|JSII|AWS|PMCP|GITHUB|RUNNER|ACTIONS)_.*)$/

/** One `[secrets]` entry as a CDK app of the user's own sees it: never its value. */
export interface SecretReference {
  name: string
  /** The Secrets Manager secret the action writes (`<server>/<name>`). */
  secretId: string
  /** The function variable that carries its ARN in the action's stack. */
  arnVariable: string
  /** The secret's partial ARN, when region and account are known (deploy). */
  arn?: string
}

/**
 * `[environment]` and `[secrets]` as `cargo pmcp deploy` hands them to a CDK project of the user's own:
 * each `[environment]` key as a variable of the `cdk` process, which the stack reads with
 * `process.env.<KEY>` (cargo-pmcp: DeployExecutor::cdk_command, DeployConfig::deploy_env_vars). Secrets
 * go by name only: PMCP_SECRETS lists them, and each one's ARN variable holds the secret's ARN once
 * the account is known; the secret's value never reaches the CDK app or the template.
 */
export function deployTomlEnvironment(options: Pick<CdkEnvironmentOptions, 'config' | 'region' | 'account'>): Record<string, string> {
  const { config, region, account } = options
  const env: Record<string, string> = {}
  const kept: string[] = []
  for (const [key, value] of Object.entries(config.environment)) {
    if (PROCESS_VARIABLE.test(key)) kept.push(key)
    else env[key] = value
  }
  if (kept.length > 0) {
    core.info(
      `[environment] ${kept.join(', ')}: not set on the cdk process (the CLI and the app need their own value); ` +
        'a stack of your own finds them in PMCP_CONFIG_JSON (.environment)'
    )
  }
  const secrets: SecretReference[] = config.secrets.map(name => {
    const id = secretId(config.server.name, name)
    const partition = region?.startsWith('cn-') ? 'aws-cn' : region?.startsWith('us-gov-') ? 'aws-us-gov' : 'aws'
    const arn = region && account ? `arn:${partition}:secretsmanager:${region}:${account}:secret:${id}` : undefined
    return { name, secretId: id, arnVariable: secretArnVariable(name), ...(arn ? { arn } : {}) }
  })
  env.PMCP_SECRETS = JSON.stringify(secrets)
  for (const secret of secrets) if (secret.arn) env[secret.arnVariable] = secret.arn
  return env
}

/**
 * The environment every CDK app the action runs receives, rendered or the user's own: a user's stack
 * reads its names and settings from it, and deploy.toml's `[environment]` as cargo pmcp gives it.
 */
export function cdkEnvironment(options: CdkEnvironmentOptions): Record<string, string> {
  const { config, names } = options
  const env: Record<string, string> = {
    ...deployTomlEnvironment(options),
    PMCP_STACK_NAME: names.stackName,
    PMCP_SERVER_NAME: config.server.name,
    PMCP_FUNCTION_NAME: names.functionName,
    PMCP_ENVIRONMENT: names.stage,
    PMCP_CONFIG_JSON: JSON.stringify(config),
    SERVER_NAME: config.server.name
  }
  if (options.region) Object.assign(env, { AWS_REGION: options.region, CDK_DEFAULT_REGION: options.region })
  if (options.account) env.CDK_DEFAULT_ACCOUNT = options.account
  if (options.versionDescription) env.PMCP_VERSION_DESCRIPTION = options.versionDescription
  return env
}

/**
 * Linux refuses to start a program with one environment string (`NAME=value` and its NUL) longer
 * than MAX_ARG_STRLEN, 32 pages of 4 KiB: `spawn E2BIG`.
 */
export const ENVIRONMENT_STRING_LIMIT_BYTES = 128 * 1024

/** Where a CDK app finds the resolved deploy.toml: a JSON file, as large as it needs to be. */
export const CONFIG_FILE_VARIABLE = 'PMCP_CONFIG_FILE'
/** The resolved deploy.toml inline, as CDK apps of the user's own have read it; left out when it is too large. */
export const CONFIG_JSON_VARIABLE = 'PMCP_CONFIG_JSON'

/**
 * The environment of a CDK run with the resolved deploy.toml handed over through a file: written
 * to RUNNER_TEMP (else the system's temporary directory) and named by PMCP_CONFIG_FILE. PMCP_CONFIG_JSON
 * stays for the apps that read it as long as it fits in one environment string; a larger config
 * leaves it out, and an app in `projectDir` whose sources read it without PMCP_CONFIG_FILE is
 * refused before it runs, instead of dying with E2BIG or reading an empty config.
 */
export function handOverConfig(
  env: Record<string, string>,
  projectDir: string,
  tempDir = process.env.RUNNER_TEMP || os.tmpdir()
): Record<string, string> {
  const json = env[CONFIG_JSON_VARIABLE]
  if (json === undefined) return env
  const file = path.join(tempDir, `pmcp-config-${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`)
  fs.mkdirSync(tempDir, { recursive: true })
  fs.writeFileSync(file, json)
  const handedOver: Record<string, string> = { ...env, [CONFIG_FILE_VARIABLE]: file }
  if (Buffer.byteLength(`${CONFIG_JSON_VARIABLE}=${json}`) + 1 <= ENVIRONMENT_STRING_LIMIT_BYTES) return handedOver
  delete handedOver[CONFIG_JSON_VARIABLE]
  const size = `${Math.ceil(Buffer.byteLength(json) / 1024)} KiB`
  const reader = sourceReadingOnlyInlineConfig(projectDir)
  if (reader) {
    throw new ActionError(
      `${CONFIG_JSON_VARIABLE} too large for your CDK app`,
      `The resolved deploy.toml is ${size}, more than one environment variable can carry on Linux (128 KiB), and ${reader} ` +
        `reads ${CONFIG_JSON_VARIABLE}. Read the file named by ${CONFIG_FILE_VARIABLE} instead, e.g. ` +
        `JSON.parse(fs.readFileSync(process.env.${CONFIG_FILE_VARIABLE}, 'utf8')); or make deploy.toml smaller. Nothing was deployed.`
    )
  }
  core.info(
    `The resolved deploy.toml is ${size}: the CDK app finds it in ${CONFIG_FILE_VARIABLE} only (too large for ${CONFIG_JSON_VARIABLE})`
  )
  return handedOver
}

const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/

/** The first source file of the project (bin/, lib/, not node_modules) that reads PMCP_CONFIG_JSON but never PMCP_CONFIG_FILE. */
function sourceReadingOnlyInlineConfig(projectDir: string): string | undefined {
  const search = (dir: string, depth: number): string | undefined => {
    if (depth > 4 || !fs.existsSync(dir)) return undefined
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
        const found = search(full, depth + 1)
        if (found) return found
      } else if (SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        const text = fs.readFileSync(full, 'utf8')
        if (text.includes(CONFIG_JSON_VARIABLE) && !text.includes(CONFIG_FILE_VARIABLE)) return path.relative(process.cwd(), full) || full
      }
    }
    return undefined
  }
  return search(path.join(projectDir, 'bin'), 0) ?? search(path.join(projectDir, 'lib'), 0)
}
