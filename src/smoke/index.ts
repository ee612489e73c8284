import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import type { ActionInputs } from '../inputs.js'
import { maskSecret } from '../masking.js'
import type { SmokeReport, SmokeRun, SmokeTestResult } from '../types.js'
import { runCommand, type CommandRunner } from '../process.js'
import { runMcpTester } from './mcp-tester.js'
import { outcomeOf, reportOf } from './report.js'
import { loadScenario } from './scenario.js'

export interface SmokeTestOptions {
  engine: SmokeRun['engine']
  url: string
  /** Sent as `Authorization: Bearer …` (mcp-tester: `--api-key`); masked, never logged. */
  token?: string
  /** mcp-tester scenario file (YAML or JSON), already resolved against the working directory. */
  scenarioPath?: string
  /** Timeout of each request; cold-start retries stop after half of it. */
  timeoutSeconds: number
  /** The installed mcp-tester binary (from the toolchain module); required for engine mcp-tester. */
  mcpTesterPath?: string
  /** Runs mcp-tester; tests inject one. */
  runCommand?: CommandRunner
  /** Waits between cold-start attempts; tests inject a fast one. */
  sleep?: (ms: number) => Promise<void>
}

/** The URL to test: the smoke-test-url input, else the stack's `McpUrl` output. */
export function pickSmokeTestUrl(smokeTestUrl: string | undefined, stackOutputs: Record<string, string> | undefined): string {
  const url = smokeTestUrl?.trim() || stackOutputs?.McpUrl?.trim()
  if (!url) {
    throw new ActionError(
      'Smoke test: no URL to test',
      'The stack has no McpUrl output and the smoke-test-url input is empty. Set smoke-test-url to the MCP endpoint, ' +
        'add an McpUrl output to your CDK stack, or set smoke-test: none.'
    )
  }
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    protocol = ''
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new ActionError(
      'Smoke test: invalid URL',
      `'${url}' is not an http(s) URL. Fix the smoke-test-url input (or the stack's McpUrl output).`
    )
  }
  return url
}

/** What reporting shows for `smoke-test: none`. */
export function skippedSmokeRun(url: string, engine: SmokeRun['engine'] = 'mcp-tester'): SmokeRun {
  return { engine, url, outcome: 'skipped', report: reportOf([]) }
}

const STATUS_MARKS: Record<SmokeTestResult['status'], string> = { Passed: '✓', Failed: '✗', Warning: '!', Skipped: '-' }

const LOG_NOTE_CHARS = 300

function clipForLog(text: string): string {
  return text.length > LOG_NOTE_CHARS ? `${text.slice(0, LOG_NOTE_CHARS)}…` : text
}

function logReport(report: SmokeReport): void {
  for (const test of report.tests) {
    const ms = Math.round(test.duration.secs * 1000 + test.duration.nanos / 1e6)
    const note = clipForLog(test.error ?? (typeof test.details === 'string' ? test.details : ''))
    core.info(`${STATUS_MARKS[test.status]} ${test.status} ${test.name} (${ms} ms)${note ? ` — ${note}` : ''}`)
  }
  const { total, passed, failed, warnings, skipped } = report.summary
  core.info(`${total} tests: ${passed} passed, ${failed} failed, ${warnings} warnings, ${skipped} skipped`)
}

async function runWithMcpTester(options: SmokeTestOptions): Promise<SmokeReport> {
  if (!options.mcpTesterPath) {
    throw new ActionError(
      'Smoke test: mcp-tester is not installed',
      'No mcp-tester binary is available. Set smoke-test: builtin to test with the built-in client.'
    )
  }
  if (options.scenarioPath && !fs.existsSync(options.scenarioPath)) {
    throw new ActionError(
      'Smoke-test scenario not found',
      `The scenario file ${options.scenarioPath} does not exist. Fix the smoke-test-scenario input.`
    )
  }
  // mcp-tester does not retry, so the cold start is waited out first; it then tests a warm endpoint.
  // The MCP SDK loads only when a smoke test runs: `smoke-test: none` never pays for it.
  const { connect, failedInitialize } = await import('./connect.js')
  const warmUp = await connect(options)
  if (warmUp.ok) await warmUp.client.close()
  // Nothing answers: mcp-tester would only say so less clearly.
  else if (warmUp.unreachable) return reportOf([failedInitialize(options.url, warmUp)])
  return runMcpTester({
    binary: options.mcpTesterPath,
    url: options.url,
    token: options.token,
    scenarioPath: options.scenarioPath,
    timeoutSeconds: options.timeoutSeconds,
    run: options.runCommand ?? runCommand
  })
}

async function runWithBuiltin(options: SmokeTestOptions): Promise<SmokeReport> {
  const scenario = options.scenarioPath ? loadScenario(options.scenarioPath) : undefined
  const { runBuiltin } = await import('./builtin.js')
  return runBuiltin({ ...options, scenario })
}

/**
 * Tests the deployed MCP endpoint with mcp-tester or the builtin client. Failed tests, and an
 * endpoint that never answers (a failed Initialize), give outcome 'failed'; a test run that cannot
 * happen (mcp-tester broken, scenario file invalid) throws an ActionError.
 */
export async function runSmokeTest(options: SmokeTestOptions): Promise<SmokeRun> {
  if (options.token) maskSecret(options.token)
  core.startGroup(`Smoke test (${options.engine}) of ${options.url}`)
  try {
    const report = options.engine === 'builtin' ? await runWithBuiltin(options) : await runWithMcpTester(options)
    logReport(report)
    return { engine: options.engine, url: options.url, outcome: outcomeOf(report), report }
  } finally {
    core.endGroup()
  }
}

/**
 * The smoke test the inputs ask for, against `smoke-test-url` or the deployment's `McpUrl`, with
 * `token` (default: the `smoke-test-token` input).
 */
export async function smokeTestDeployment(
  inputs: ActionInputs,
  deploymentOutputs: Record<string, string>,
  mcpTesterPath?: string,
  token = inputs.smokeTestToken
): Promise<SmokeRun> {
  if (inputs.smokeTest === 'none') return skippedSmokeRun(inputs.smokeTestUrl ?? deploymentOutputs.McpUrl ?? '')
  return runSmokeTest({
    engine: inputs.smokeTest,
    url: pickSmokeTestUrl(inputs.smokeTestUrl, deploymentOutputs),
    token,
    scenarioPath: inputs.smokeTestScenario ? path.resolve(inputs.workingDirectory, inputs.smokeTestScenario) : undefined,
    timeoutSeconds: inputs.smokeTestTimeoutSeconds,
    mcpTesterPath
  })
}
