import * as core from '@actions/core'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import { NOT_STARTED_EXIT_CODE, runCommand, type CommandResult } from '../process.js'
import { handOverConfig } from './environment.js'

/** Settings that keep the CDK CLI quiet and offline-safe in CI. */
export const CDK_QUIET_ENV: Record<string, string> = {
  CDK_DISABLE_VERSION_CHECK: '1',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  CI: 'true'
}

export interface CdkInvocation {
  /** The CDK project directory (holds cdk.json). */
  cwd: string
  /** Extra environment for the CDK CLI and the app it runs; merged over process.env. */
  env: Record<string, string>
  /** Log group title; CDK output is streamed inside it. */
  group: string
}

export type CdkResult = CommandResult

/**
 * The CDK CLI the project depends on (`aws-cdk` resolved from its directory, which also finds a
 * workspace's hoisted node_modules), or `npx aws-cdk@^2` when the project does not depend on it.
 */
export function cdkCommand(cdkDir: string): { command: string; args: string[] } {
  try {
    const manifest = createRequire(path.join(cdkDir, 'package.json')).resolve('aws-cdk/package.json')
    return { command: process.execPath, args: [path.join(path.dirname(manifest), 'bin', 'cdk')] }
  } catch {
    return { command: 'npx', args: ['--yes', 'aws-cdk@^2'] }
  }
}

/** Runs `cdk <args>` in the project; output is streamed in a log group and also returned. */
export async function runCdk(args: string[], invocation: CdkInvocation): Promise<CdkResult> {
  const cli = cdkCommand(invocation.cwd)
  const fullArgs = [...cli.args, ...args, '--no-notices']
  const env = handOverConfig({ ...CDK_QUIET_ENV, ...invocation.env }, invocation.cwd)
  core.startGroup(invocation.group)
  try {
    const result = await runCommand(cli.command, fullArgs, { cwd: invocation.cwd, env })
    if (result.exitCode === NOT_STARTED_EXIT_CODE) {
      throw new ActionError('CDK CLI could not start', `Running '${cli.command} ${fullArgs.join(' ')}' failed: ${result.stderr}`)
    }
    return result
  } finally {
    core.endGroup()
  }
}
