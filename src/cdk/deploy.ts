import * as core from '@actions/core'
import * as path from 'node:path'
import type { AwsContext } from '../aws/clients.js'
import {
  ensureStackDeployable,
  failedStackEvents,
  formatFailedEvents,
  isBootstrapped,
  isDeployedStatus,
  readStack,
  type DeleteStackOptions,
  type StackState
} from '../aws/stack.js'
import { ActionError, errorMessage } from '../errors.js'
import type { FailedStackEvent } from '../types.js'
import { runCdk, type CdkResult } from './cli.js'

export interface DeployStackOptions extends AwsContext {
  /** The CDK project directory (holds cdk.json). */
  cdkDir: string
  /** The one stack deployed (PMCP_STACK_NAME). */
  stackName: string
  /** The account the credentials belong to (from configureAwsCredentials). */
  account: string
  /** Environment for the CDK app (PMCP_*, SERVER_NAME: see cdkEnvironment); AWS_REGION and CDK_DEFAULT_* are added here. */
  env: Record<string, string>
  /** The `cdk-args` input, appended last. */
  cdkArgs: string[]
  /** Add `--hotswap-fallback` (the caller resolves `hotswap: auto` for previews). */
  hotswap: boolean
  /** Run `cdk bootstrap` when the environment is not bootstrapped. */
  cdkBootstrap: boolean
  /** Where `cdk deploy` writes its outputs file. Default: <cdkDir>/cdk-outputs.json. */
  outputsFile?: string
  /** How a ROLLBACK_COMPLETE stack's deletion is awaited. */
  deleteOptions?: DeleteStackOptions
  /** A synthesized cloud assembly to deploy (`--app <dir>`) instead of running the project's app: a preview made from production's. */
  app?: string
}

export type DeployMethod = 'cloudformation' | 'hotswap' | 'no-changes'

export interface DeployResult {
  /** Every output of the stack, from DescribeStacks. */
  outputs: Record<string, string>
  status: string
  stackId: string
  deployMethod: DeployMethod
}

export function cdkDeployArgs(stackName: string, outputsFile: string, cdkArgs: string[], hotswap: boolean, app?: string): string[] {
  return [
    'deploy',
    stackName,
    ...(app ? ['--app', app] : []),
    '--require-approval',
    'never',
    '--outputs-file',
    outputsFile,
    ...(hotswap ? ['--hotswap-fallback'] : []),
    ...cdkArgs
  ]
}

export function cdkBootstrapArgs(account: string, region: string): string[] {
  return ['bootstrap', `aws://${account}/${region}`]
}

/** What the user would run by hand to bootstrap the environment. */
export function bootstrapCommandLine(account: string, region: string): string {
  return `npx aws-cdk@^2 ${cdkBootstrapArgs(account, region).join(' ')}`
}

function cdkEnv(options: DeployStackOptions): Record<string, string> {
  return {
    ...options.env,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    CDK_DEFAULT_REGION: options.region,
    CDK_DEFAULT_ACCOUNT: options.account
  }
}

/** Steps 7–8 of the pipeline: bootstrap check, `cdk deploy`, then the stack as CloudFormation sees it. */
export async function deployStack(options: DeployStackOptions): Promise<DeployResult> {
  await ensureBootstrapped(options)
  await ensureStackDeployable(options.stackName, options, options.deleteOptions)
  const outputsFile = options.outputsFile ?? path.join(options.cdkDir, 'cdk-outputs.json')
  const result = await runCdk(cdkDeployArgs(options.stackName, outputsFile, options.cdkArgs, options.hotswap, options.app), {
    cwd: options.cdkDir,
    env: cdkEnv(options),
    group: `cdk deploy ${options.stackName}`
  })
  // The stack, not the CLI's exit code, says whether the deploy landed; a failed CLI run still fails.
  const { stack, unreadable } = await readStackAfterDeploy(options, result)
  if (result.exitCode !== 0 || !stack || !isDeployedStatus(stack.status)) {
    const events = stack ? await failedStackEvents(stack.stackId, options).catch(() => []) : []
    throw deployFailedError(options.stackName, stack?.status, events, result, unreadable)
  }
  const deployMethod = deployMethodOf(result, options.hotswap)
  core.info(`Stack ${options.stackName}: ${stack.status} (${deployMethod})`)
  return { outputs: stack.outputs, status: stack.status, stackId: stack.stackId, deployMethod }
}

/**
 * After a failed CLI run, a stack that cannot be read must not hide the CLI's own error; `unreadable`
 * says why it could not be read, so it is not mistaken for a stack that does not exist.
 */
async function readStackAfterDeploy(options: DeployStackOptions, result: CdkResult): Promise<{ stack?: StackState; unreadable?: string }> {
  try {
    return { stack: await readStack(options.stackName, options) }
  } catch (error) {
    if (result.exitCode === 0) throw error
    core.warning(`Could not read stack ${options.stackName} after the failed deploy: ${errorMessage(error)}`)
    return { unreadable: errorMessage(error) }
  }
}

async function ensureBootstrapped(options: DeployStackOptions): Promise<void> {
  if (await isBootstrapped(options)) return
  const environment = `aws://${options.account}/${options.region}`
  if (!options.cdkBootstrap) {
    throw new ActionError(
      'CDK bootstrap missing',
      `The AWS environment ${environment} is not bootstrapped for the CDK (SSM parameter /cdk-bootstrap/hnb659fds/version not found). ` +
        `Run once, with credentials for account ${options.account}:\n  ${bootstrapCommandLine(options.account, options.region)}\n` +
        "or set 'cdk-bootstrap: true' on the pmcp/deploy-action step."
    )
  }
  core.info(`${environment} is not bootstrapped for the CDK; running cdk bootstrap (cdk-bootstrap: true)`)
  const result = await runCdk(cdkBootstrapArgs(options.account, options.region), {
    cwd: options.cdkDir,
    env: cdkEnv(options),
    group: `cdk bootstrap ${environment}`
  })
  if (result.exitCode !== 0) {
    throw new ActionError('CDK bootstrap failed', `cdk bootstrap ${environment} failed:\n${cdkErrorLines(result)}`)
  }
}

function deployMethodOf(result: CdkResult, hotswap: boolean): DeployMethod {
  const output = result.stdout + result.stderr
  if (/\(no changes\)|hotswap deployment skipped - no changes/.test(output)) return 'no-changes'
  if (hotswap && /hotswapped!/.test(output)) return 'hotswap'
  return 'cloudformation'
}

const SUMMARY_LINE = /^\s*(❌|‣)/
const ERROR_LINE = /❌|\berror\b|failed|exception/i
const MAX_ERROR_LINES = 15

/**
 * The lines of the CDK's output that explain a failure, for the annotation: its ❌/‣ summary when
 * it printed one (e.g. a synth error has none), else every line that mentions an error.
 */
export function cdkErrorLines(result: CdkResult): string {
  const lines = [...new Set((result.stderr + '\n' + result.stdout).split('\n').map(line => line.trimEnd()))]
  const summary = lines.filter(line => SUMMARY_LINE.test(line))
  const chosen = (summary.length > 0 ? summary : lines.filter(line => ERROR_LINE.test(line))).slice(-MAX_ERROR_LINES)
  return chosen.length > 0 ? chosen.join('\n') : `cdk exited with code ${result.exitCode}`
}

function deployFailedError(
  stackName: string,
  status: string | undefined,
  events: FailedStackEvent[],
  result: CdkResult,
  unreadable?: string
): ActionError {
  const state = status
    ? `stack status ${status}`
    : unreadable
      ? `the stack could not be read afterwards: ${unreadable}`
      : 'the stack does not exist'
  const parts = [`Deploying stack ${stackName} failed (${state}; cdk exit code ${result.exitCode}).`]
  if (events.length > 0) parts.push(`Failed resources:\n${formatFailedEvents(events)}`)
  if (result.exitCode !== 0) parts.push(`CDK output:\n${cdkErrorLines(result)}`)
  if (status === 'ROLLBACK_COMPLETE') parts.push('The failed stack is deleted automatically before the next deploy.')
  return new ActionError(`Deploy of ${stackName} failed`, parts.join('\n'))
}
