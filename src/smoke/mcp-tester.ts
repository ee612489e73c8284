import * as core from '@actions/core'
import { ActionError, errorMessage } from '../errors.js'
import { NOT_STARTED_EXIT_CODE, type CommandResult, type CommandRunner } from '../process.js'
import type { SmokeReport, SmokeTestResult } from '../types.js'
import { mergeReports, reportOf, TEST_STATUSES } from './report.js'

export interface McpTesterRunOptions {
  /** The installed mcp-tester binary. */
  binary: string
  url: string
  token?: string
  scenarioPath?: string
  timeoutSeconds: number
  run: CommandRunner
}

/**
 * mcp-tester applies `--timeout` to each request, and one run makes a handful of them (initialize,
 * the list calls, the scenario steps), so the process as a whole gets a multiple of it.
 */
const RUN_BUDGET_PER_TIMEOUT = 5
const OUTPUT_SHOWN_CHARS = 2000

/** Flags both subcommands take: the forced transport, the JSON report, the timeout and the token. */
function commonFlags(timeoutSeconds: number, token: string | undefined): string[] {
  const flags = ['--transport', 'http', '--format', 'json', '--timeout', String(timeoutSeconds)]
  return token ? [...flags, '--api-key', token] : flags
}

export function mcpTesterTestArgs(url: string, timeoutSeconds: number, token?: string): string[] {
  return ['test', url, ...commonFlags(timeoutSeconds, token)]
}

export function mcpTesterScenarioArgs(url: string, scenarioPath: string, timeoutSeconds: number, token?: string): string[] {
  return ['scenario', url, scenarioPath, ...commonFlags(timeoutSeconds, token)]
}

/** The command line as it may be logged: the token never appears in it. */
export function displayCommand(binary: string, args: string[], token?: string): string {
  return [binary, ...args.map(arg => (token && arg === token ? '***' : arg))].join(' ')
}

function clip(text: string): string {
  const trimmed = text.trim()
  if (trimmed === '') return '(empty)'
  return trimmed.length > OUTPUT_SHOWN_CHARS ? `${trimmed.slice(0, OUTPUT_SHOWN_CHARS)}… (${trimmed.length} characters)` : trimmed
}

function infrastructureError(what: string, result: CommandResult): ActionError {
  return new ActionError(
    'Smoke test: mcp-tester did not produce a report',
    `${what}\nstderr:\n${clip(result.stderr)}\nstdout:\n${clip(result.stdout)}\n` +
      'This is a problem running mcp-tester, not a verdict on the MCP server. Check the mcp-tester-version input, ' +
      'or set smoke-test: builtin to test with the built-in client.'
  )
}

/**
 * mcp-tester's tracing output goes to stdout too, so a log line can precede the report: when the
 * whole output is not JSON, the report is taken from the first line that opens a JSON object.
 */
function parseJsonDocument(stdout: string): unknown {
  const trimmed = stdout.trim()
  try {
    return JSON.parse(trimmed)
  } catch (firstError) {
    const start = trimmed.search(/^\{/m)
    if (start <= 0) throw firstError
    return JSON.parse(trimmed.slice(start))
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function toTestResult(value: unknown, index: number): SmokeTestResult {
  if (!isRecord(value)) throw new Error(`tests[${index}] is not an object`)
  const { name, category, status, duration, error, details } = value
  if (typeof name !== 'string') throw new Error(`tests[${index}].name is not a string`)
  if (typeof status !== 'string' || !(TEST_STATUSES as readonly string[]).includes(status)) {
    throw new Error(`tests[${index}].status is ${JSON.stringify(status)}, not one of ${TEST_STATUSES.join(', ')}`)
  }
  if (!isRecord(duration) || typeof duration.secs !== 'number' || typeof duration.nanos !== 'number') {
    throw new Error(`tests[${index}].duration is not {secs, nanos}`)
  }
  return {
    name,
    category: typeof category === 'string' ? category : 'Core',
    status: status as SmokeTestResult['status'],
    duration: { secs: duration.secs, nanos: duration.nanos },
    error: typeof error === 'string' ? error : null,
    details: details ?? null
  }
}

/** Parses mcp-tester's `--format json` report; throws a plain Error saying what is wrong with it. */
export function parseMcpTesterReport(stdout: string): SmokeReport {
  const document = parseJsonDocument(stdout)
  if (!isRecord(document) || !Array.isArray(document.tests)) throw new Error('the JSON has no "tests" array')
  return reportOf(document.tests.map(toTestResult))
}

function notRunnable(command: string, reason: string): ActionError {
  return new ActionError(
    'Smoke test: mcp-tester could not run',
    `Running ${command} failed: ${reason}. Check that the toolchain step installed mcp-tester, ` +
      'or set smoke-test: builtin to test with the built-in client.'
  )
}

async function runOnce(options: McpTesterRunOptions, args: string[]): Promise<SmokeReport> {
  const command = displayCommand(options.binary, args, options.token)
  core.info(`Running ${command}`)
  let result: CommandResult
  try {
    // Silent: the report is logged test by test once it is parsed.
    result = await options.run(options.binary, args, { silent: true, timeoutMs: options.timeoutSeconds * 1000 * RUN_BUDGET_PER_TIMEOUT })
  } catch (error) {
    throw notRunnable(command, errorMessage(error))
  }
  // The runner's reason is a sentence of its own; its full stop would double the one after it.
  if (result.exitCode === NOT_STARTED_EXIT_CODE) throw notRunnable(command, result.stderr.trim().replace(/\.$/, ''))
  // Exit code 1 is mcp-tester's "some tests failed"; the report is still on stdout.
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    throw infrastructureError(`${command} exited with code ${result.exitCode}.`, result)
  }
  try {
    return parseMcpTesterReport(result.stdout)
  } catch (error) {
    throw infrastructureError(
      `${command} exited with code ${result.exitCode} but its output is not a JSON test report (${errorMessage(error)}).`,
      result
    )
  }
}

/** `mcp-tester test`, then `mcp-tester scenario` when a scenario file is given; one merged report. */
export async function runMcpTester(options: McpTesterRunOptions): Promise<SmokeReport> {
  const reports = [await runOnce(options, mcpTesterTestArgs(options.url, options.timeoutSeconds, options.token))]
  if (options.scenarioPath) {
    reports.push(await runOnce(options, mcpTesterScenarioArgs(options.url, options.scenarioPath, options.timeoutSeconds, options.token)))
  }
  return mergeReports(...reports)
}
