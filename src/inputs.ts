import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { AWS_REGION_PATTERN } from './config/schema.js'
import { ActionError } from './errors.js'
import {
  ARCHITECTURES,
  COMMANDS,
  SMOKE_ENGINES,
  STAGES,
  TARGETS,
  type Architecture,
  type Command,
  type SmokeEngine,
  type Stage,
  type Target
} from './types.js'

/**
 * Every input of action.yml with the default the code applies when the input is absent (as when
 * `node dist/index.js` runs outside a runner). A test keeps this table and action.yml in step.
 */
export const INPUT_DEFAULTS = {
  command: 'deploy',
  target: 'aws-lambda',
  'role-to-assume': '',
  'aws-region': '',
  'role-session-name': 'pmcp-deploy',
  'role-duration-seconds': '3600',
  'working-directory': '.',
  config: '.pmcp/deploy.toml',
  environment: '',
  'preview-id': '',
  'pr-number': '',
  'rollback-to': 'previous',
  'confirm-destroy': '',
  architecture: '',
  'rust-toolchain': 'stable',
  'cargo-lambda-version': '1.8.5',
  'zig-version': '0.13.0',
  'mcp-tester-version': '2.22.4',
  'cargo-lambda-url':
    'https://github.com/cargo-lambda/cargo-lambda/releases/download/v{version}/cargo-lambda-v{version}.{arch}-unknown-linux-musl.tar.gz',
  'zig-url': 'https://ziglang.org/download/{version}/zig-linux-{arch}-{version}.tar.xz',
  'mcp-tester-url': 'https://github.com/paiml/rust-mcp-sdk/releases/download/v{version}/mcp-tester-{arch}-unknown-linux-gnu',
  'build-command': '',
  'binary-path': '',
  'cdk-args': '',
  'cdk-bootstrap': 'false',
  hotswap: 'auto',
  'smoke-test': 'mcp-tester',
  'smoke-test-url': '',
  'smoke-test-scenario': '',
  'smoke-test-token': '',
  'smoke-test-timeout': '60',
  'rollback-on-failure': 'true',
  secrets: '',
  'pmcp-client-id': '',
  'pmcp-client-secret': '',
  'pmcp-access-token': '',
  'github-token': '',
  comment: 'true',
  cache: 'true',
  'save-cache': 'default-branch',
  'cache-key': '',
  'cache-on-failure': 'false',
  audience: 'sts.amazonaws.com',
  'workload-identity-provider': '',
  'service-account': '',
  'production-branch': '',
  'max-preview-age': '',
  'fail-on-destructive-changes': 'false',
  'request-timeout': '30'
} as const

export type InputName = keyof typeof INPUT_DEFAULTS

export type Hotswap = 'auto' | 'true' | 'false'
/** Input `save-cache`, as rust-cache reads it: always, never, or only on the repository's default branch. */
export const SAVE_CACHE_MODES = ['true', 'false', 'default-branch'] as const
export type SaveCacheMode = (typeof SAVE_CACHE_MODES)[number]

export interface ActionInputs {
  command: Command
  target: Target
  roleToAssume?: string
  awsRegion?: string
  roleSessionName: string
  roleDurationSeconds: number
  /** Absolute path of the directory holding the server and its config. */
  workingDirectory: string
  /** Path of deploy.toml relative to workingDirectory, as the user gave it. */
  config: string
  /** Unset: derived from the event (preview on pull_request, else production). */
  environment?: Stage
  previewId?: string
  prNumber?: number
  rollbackTo: string
  confirmDestroy?: string
  architecture?: Architecture
  rustToolchain: string
  cargoLambdaVersion: string
  zigVersion: string
  mcpTesterVersion: string
  cargoLambdaUrl: string
  zigUrl: string
  mcpTesterUrl: string
  buildCommand?: string
  binaryPath?: string
  cdkArgs: string[]
  cdkBootstrap: boolean
  hotswap: Hotswap
  smokeTest: SmokeEngine
  smokeTestUrl?: string
  smokeTestScenario?: string
  smokeTestToken?: string
  smokeTestTimeoutSeconds: number
  rollbackOnFailure: boolean
  secrets?: string
  pmcpClientId?: string
  pmcpClientSecret?: string
  pmcpAccessToken?: string
  githubToken?: string
  comment: boolean
  cache: boolean
  saveCache: SaveCacheMode
  /** An extra part of every cache key (input `cache-key`), as rust-cache's `key`. */
  cacheKey?: string
  cacheOnFailure: boolean
  /** The `aud` of the OIDC token exchanged for AWS credentials (input `audience`). */
  audience: string
  /** google-cloud-run: the Workload Identity provider's resource name (checked by the target, before anything is built). */
  workloadIdentityProvider?: string
  /** google-cloud-run: the service account the GitHub token is exchanged for. */
  serviceAccount?: string
  /** Input `production-branch`; unset: the repository's default branch (from the event, else the API). */
  productionBranch?: string
  /** Input `max-preview-age` in days: `command: cleanup` removes previews older than this even when their PR is open. */
  maxPreviewAgeDays?: number
  failOnDestructiveChanges: boolean
  /** Input `request-timeout`: what one network request may take (see src/net/deadline.ts). */
  requestTimeoutSeconds: number
}

/** The raw value of an input, or its default. */
export function rawInput(name: InputName): string {
  const value = core.getInput(name)
  return value === '' ? INPUT_DEFAULTS[name] : value
}

/** Inputs whose value differs from the default: what the user actually set. */
export function inputsSetByUser(): InputName[] {
  return (Object.keys(INPUT_DEFAULTS) as InputName[]).filter(
    name => core.getInput(name) !== '' && core.getInput(name) !== INPUT_DEFAULTS[name]
  )
}

function invalid(name: InputName, value: string, allowed: string): ActionError {
  return new ActionError(
    `Invalid input '${name}'`,
    `Input '${name}' is '${value}'; allowed: ${allowed}. Fix the 'with:' block of the pmcp/deploy-action step.`
  )
}

function oneOf<T extends string>(name: InputName, allowed: readonly T[]): T {
  const value = rawInput(name).trim()
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw invalid(name, value, allowed.map(a => `'${a}'`).join(', '))
}

function optionalOneOf<T extends string>(name: InputName, allowed: readonly T[]): T | undefined {
  return rawInput(name).trim() === '' ? undefined : oneOf(name, allowed)
}

function boolean(name: InputName): boolean {
  const value = rawInput(name).trim()
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw invalid(name, value, "'true' or 'false'")
}

function integer(name: InputName, min: number, max: number): number {
  const value = rawInput(name).trim()
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) throw invalid(name, value, `a whole number from ${min} to ${max}`)
  return parsed
}

function optional(name: InputName): string | undefined {
  const value = rawInput(name).trim()
  return value === '' ? undefined : value
}

/** Splits `cdk-args` like a shell would (quotes group words; no expansion). */
export function splitArgs(text: string): string[] {
  const args: string[] = []
  let current = ''
  let quote: '"' | "'" | undefined
  let inWord = false
  for (const char of text) {
    if (quote) {
      if (char === quote) quote = undefined
      else current += char
    } else if (char === '"' || char === "'") {
      quote = char
      inWord = true
    } else if (/\s/.test(char)) {
      if (inWord) args.push(current)
      current = ''
      inWord = false
    } else {
      current += char
      inWord = true
    }
  }
  if (quote) throw new ActionError("Invalid input 'cdk-args'", `Input 'cdk-args' has an unclosed ${quote} quote: ${text}`)
  if (inWord) args.push(current)
  return args
}

const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/

/** A cache key may not hold a comma (@actions/cache refuses it) and stays short: it is one part of a longer key. */
function cacheKeyPart(value: string | undefined): string | undefined {
  if (value !== undefined && !/^[\w.+=@-]{1,64}$/.test(value)) {
    throw invalid('cache-key', value, 'up to 64 letters, digits and _ . + = @ - (one part of the cache keys), e.g. "v2" or "nightly"')
  }
  return value
}

/** `14`, `14d` or `2w`: a whole number of days (weeks × 7), at least 1. */
function maxPreviewAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const match = /^([1-9]\d{0,3})\s*(d|w)?$/.exec(value)
  if (!match) throw invalid('max-preview-age', value, 'a number of days such as 14, 14d or 2w')
  return Number(match[1]) * (match[2] === 'w' ? 7 : 1)
}

/** GitHub numbers pull requests with 32-bit integers; a larger number is a typo, and would name a stack `…-pr1e+26-…`. */
const PR_NUMBER_MAX = 2_147_483_647

function prNumberInput(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^[1-9]\d{0,9}$/.test(value) || Number(value) > PR_NUMBER_MAX) {
    throw invalid('pr-number', value, `a pull request number, a whole number from 1 to ${PR_NUMBER_MAX}, e.g. '42'`)
  }
  return Number(value)
}

function awsRegionInput(value: string | undefined): string | undefined {
  if (value !== undefined && !AWS_REGION_PATTERN.test(value)) {
    throw invalid('aws-region', value, "an AWS region such as 'us-east-1' or 'eu-west-1' (lower case, no spaces)")
  }
  return value
}

/** An IAM role ARN, as sts:AssumeRoleWithWebIdentity takes it. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/

function roleToAssumeInput(value: string | undefined): string | undefined {
  if (value !== undefined && !ROLE_ARN.test(value)) {
    throw invalid('role-to-assume', value, "the ARN of an IAM role, e.g. 'arn:aws:iam::123456789012:role/pmcp-deploy'")
  }
  return value
}

/**
 * `previous`, a Lambda version number, a commit SHA of 7 to 40 hex characters, or a Cloud Run
 * revision name (a lower-case DNS label such as `hello-run-00004-xyz`); the target resolves it.
 */
function rollbackToInput(value: string): string {
  if (!/^(previous|[1-9]\d{0,9}|[0-9a-fA-F]{7,40}|[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)$/.test(value)) {
    throw invalid(
      'rollback-to',
      value,
      "'previous', a Lambda version number such as '12', a commit SHA (7 to 40 hex characters), " +
        "or a Cloud Run revision name such as 'hello-run-00004-xyz'"
    )
  }
  return value
}

/** A version spliced into a download URL template: no path separators or spaces. */
function versionInput(name: InputName): string {
  const value = rawInput(name).trim()
  if (!/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/.test(value)) {
    throw invalid(name, value, `a release version such as '${INPUT_DEFAULTS[name]}' (letters, digits and . + _ -)`)
  }
  return value
}

/**
 * A branch name (or a preview id taken from one), by git's rules for a ref name (git check-ref-format):
 * no whitespace or control characters, none of ~ ^ : ? * [ \\, no `..`, no `@{`, not starting with `-` or `/`.
 */
function refNameInput(name: InputName, value: string | undefined, example: string): string | undefined {
  if (value === undefined) return undefined
  const invalidRef =
    value.length > 255 ||
    hasControlCharacter(value) ||
    /[\s~^:?*[\\]/.test(value) ||
    value.includes('..') ||
    value.includes('@{') ||
    /^[-/]|\/$|\.lock$/.test(value)
  if (invalidRef) {
    throw invalid(name, value, `a git branch name such as '${example}' (no spaces, '..', or any of ~ ^ : ? * [ \\)`)
  }
  return value
}

/** A rustup toolchain name: a channel, a version or a dated nightly, optionally with a host triple. */
function rustToolchainInput(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(value)) {
    throw invalid('rust-toolchain', value, "a rustup toolchain such as 'stable', '1.82.0' or 'nightly-2025-01-15'")
  }
  return value
}

function hasControlCharacter(text: string): boolean {
  return [...text].some(char => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)
}

/**
 * A token or secret sent in an HTTP header: a line break would add a header of its own. Its value is
 * never repeated in the message.
 */
function headerValueInput(name: InputName): string | undefined {
  const value = optional(name)
  if (value !== undefined && hasControlCharacter(value)) {
    throw new ActionError(
      `Invalid input '${name}'`,
      `Input '${name}' holds a line break or another control character, which an HTTP header cannot carry (the value is not shown); ` +
        "allowed: the token alone, on one line. Fix the secret it comes from, or the 'with:' block of the pmcp/deploy-action step."
    )
  }
  return value
}

/** A download URL template: an http(s) URL. */
function urlTemplateInput(name: InputName): string {
  const value = rawInput(name).trim()
  if (!isHttpUrl(value.replace(/\{(version|arch)\}/g, 'x'))) {
    throw invalid(name, value, `an http(s) URL with {version} and {arch} placeholders, e.g. '${INPUT_DEFAULTS[name]}'`)
  }
  return value
}

function isHttpUrl(value: string): boolean {
  if (/\s/.test(value)) return false
  try {
    const { protocol, hostname } = new URL(value)
    return (protocol === 'https:' || protocol === 'http:') && hostname !== ''
  } catch {
    return false
  }
}

function smokeTestUrlInput(value: string | undefined): string | undefined {
  if (value !== undefined && !isHttpUrl(value)) {
    throw invalid(
      'smoke-test-url',
      value,
      "an http(s) URL of the MCP endpoint, e.g. 'https://mcp.example.com/mcp'; or empty for the stack's McpUrl"
    )
  }
  return value
}

/**
 * `target` resolved against `base`, refused when it leaves the workspace (`..`, an absolute path
 * elsewhere, or a symbolic link out of it): the action reads and writes there.
 */
export function insideWorkspace(name: InputName, value: string, base: string, workspace: string): string {
  const resolved = path.resolve(base, value)
  // The real path of the nearest part that exists: a file not written yet is still under a link it would follow.
  const real = (at: string): string => {
    try {
      return fs.realpathSync(at)
    } catch {
      const parent = path.dirname(at)
      return parent === at ? at : path.join(real(parent), path.basename(at))
    }
  }
  for (const [at, root] of [
    [resolved, path.resolve(workspace)],
    [real(resolved), real(path.resolve(workspace))]
  ]) {
    const relative = path.relative(root, at)
    if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
      throw new ActionError(
        `Invalid input '${name}'`,
        `Input '${name}' is '${value}', which is ${at}, outside the workspace ${root} (GITHUB_WORKSPACE); allowed: a path inside ` +
          "the repository checkout, relative to it (without '..' leading out). Fix the 'with:' block of the pmcp/deploy-action step."
      )
    }
  }
  return resolved
}

function audienceInput(value: string): string {
  if (!/^\S{1,256}$/.test(value)) throw invalid('audience', value, 'the aud the role trusts, e.g. sts.amazonaws.com')
  return value
}

export function readInputs(workspace: string = process.env.GITHUB_WORKSPACE ?? process.cwd()): ActionInputs {
  const roleSessionName = rawInput('role-session-name').trim()
  if (!ROLE_SESSION_NAME.test(roleSessionName)) {
    throw invalid('role-session-name', roleSessionName, '2 to 64 characters of letters, digits and + = , . @ _ -')
  }
  const workingDirectory = insideWorkspace('working-directory', rawInput('working-directory').trim(), workspace, workspace)
  const config = rawInput('config').trim()
  insideWorkspace('config', config, workingDirectory, workspace)
  return {
    command: oneOf('command', COMMANDS),
    target: oneOf('target', TARGETS),
    roleToAssume: roleToAssumeInput(optional('role-to-assume')),
    awsRegion: awsRegionInput(optional('aws-region')),
    roleSessionName,
    roleDurationSeconds: integer('role-duration-seconds', 900, 43200),
    workingDirectory,
    config,
    environment: optionalOneOf('environment', STAGES),
    previewId: refNameInput('preview-id', optional('preview-id'), 'feature/login-page'),
    prNumber: prNumberInput(optional('pr-number')),
    rollbackTo: rollbackToInput(rawInput('rollback-to').trim()),
    confirmDestroy: optional('confirm-destroy'),
    architecture: optionalOneOf('architecture', ARCHITECTURES),
    rustToolchain: rustToolchainInput(rawInput('rust-toolchain').trim()),
    cargoLambdaVersion: versionInput('cargo-lambda-version'),
    zigVersion: versionInput('zig-version'),
    mcpTesterVersion: versionInput('mcp-tester-version'),
    cargoLambdaUrl: urlTemplateInput('cargo-lambda-url'),
    zigUrl: urlTemplateInput('zig-url'),
    mcpTesterUrl: urlTemplateInput('mcp-tester-url'),
    buildCommand: optional('build-command'),
    binaryPath: optional('binary-path'),
    cdkArgs: splitArgs(rawInput('cdk-args')),
    cdkBootstrap: boolean('cdk-bootstrap'),
    hotswap: oneOf('hotswap', ['auto', 'true', 'false'] as const),
    smokeTest: oneOf('smoke-test', SMOKE_ENGINES),
    smokeTestUrl: smokeTestUrlInput(optional('smoke-test-url')),
    smokeTestScenario: optional('smoke-test-scenario'),
    smokeTestToken: headerValueInput('smoke-test-token'),
    smokeTestTimeoutSeconds: integer('smoke-test-timeout', 1, 900),
    rollbackOnFailure: boolean('rollback-on-failure'),
    secrets: optional('secrets'),
    pmcpClientId: headerValueInput('pmcp-client-id'),
    pmcpClientSecret: headerValueInput('pmcp-client-secret'),
    pmcpAccessToken: headerValueInput('pmcp-access-token'),
    githubToken: headerValueInput('github-token'),
    comment: boolean('comment'),
    cache: boolean('cache'),
    saveCache: oneOf('save-cache', SAVE_CACHE_MODES),
    cacheKey: cacheKeyPart(optional('cache-key')),
    cacheOnFailure: boolean('cache-on-failure'),
    audience: audienceInput(rawInput('audience').trim()),
    workloadIdentityProvider: headerValueInput('workload-identity-provider')?.trim(),
    serviceAccount: headerValueInput('service-account')?.trim(),
    productionBranch: refNameInput('production-branch', optional('production-branch')?.replace(/^refs\/heads\//, ''), 'main'),
    maxPreviewAgeDays: maxPreviewAge(optional('max-preview-age')),
    failOnDestructiveChanges: boolean('fail-on-destructive-changes'),
    requestTimeoutSeconds: integer('request-timeout', 1, 600)
  }
}
