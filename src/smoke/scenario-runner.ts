import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { describeFailure } from './connect.js'
import { sleep as realSleep } from '../retry.js'
import type { SmokeTestResult } from '../types.js'
import { checkAssertion, substituteVariables } from './assertions.js'
import { elapsedSince, toDuration } from './report.js'
import type { Operation, Scenario, ScenarioStep } from './scenario.js'

export interface ScenarioRunOptions {
  /** Timeout of each request, in seconds, unless a step sets its own. */
  timeoutSeconds: number
  sleep?: (ms: number) => Promise<void>
}

const MAX_DETAILS_CHARS = 1000

type Response = Record<string, unknown>

/** Text content of a tool result, joined, as mcp-tester reads it. */
function textOf(content: unknown): string {
  if (!Array.isArray(content)) return ''
  return content
    .filter((item: unknown): item is { type: 'text'; text: string } => {
      const part = item as { type?: unknown; text?: unknown } | null
      return part?.type === 'text' && typeof part.text === 'string'
    })
    .map(item => item.text)
    .join('\n')
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/**
 * The response shapes of mcp-tester's scenario executor, so that one scenario file asserts the same
 * paths with either engine: a tool call gives `{success, result (text), parsed (text as JSON), error}`.
 */
async function callTool(client: Client, tool: string, args: unknown, timeout: number): Promise<Response> {
  try {
    const result = await client.callTool({ name: tool, arguments: args as Record<string, unknown> }, undefined, { timeout })
    const text = textOf(result.content)
    if (result.isError === true || text.startsWith('Error:')) return { success: false, result: text, parsed: null, error: text }
    return { success: true, result: text, parsed: parseJson(text), error: null }
  } catch (error) {
    if (isRequestTimeout(error)) throw error
    return { success: false, result: null, parsed: null, error: describeFailure(error) }
  }
}

async function listing(
  key: string,
  request: () => Promise<Record<string, unknown>>,
  pick: (result: Record<string, unknown>) => Response
): Promise<Response> {
  try {
    return { success: true, ...pick(await request()), error: null }
  } catch (error) {
    if (isRequestTimeout(error)) throw error
    return { success: false, [key]: [], error: describeFailure(error) }
  }
}

function isRequestTimeout(error: unknown): boolean {
  return error instanceof McpError && error.code === Number(ErrorCode.RequestTimeout)
}

async function perform(
  client: Client,
  operation: Operation,
  variables: Record<string, unknown>,
  timeout: number,
  sleep: (ms: number) => Promise<void>
): Promise<Response> {
  switch (operation.type) {
    case 'tool_call':
      return callTool(client, operation.tool, operation.arguments, timeout)
    case 'list_tools':
      return listing(
        'tools',
        () => client.listTools(undefined, { timeout }),
        r => ({ tools: r.tools })
      )
    case 'list_resources':
      return listing(
        'resources',
        () => client.listResources(undefined, { timeout }),
        r => ({ resources: r.resources })
      )
    case 'list_prompts':
      return listing(
        'prompts',
        () => client.listPrompts(undefined, { timeout }),
        r => ({ prompts: r.prompts })
      )
    case 'read_resource':
      return listing(
        'contents',
        () => client.readResource({ uri: operation.uri }, { timeout }),
        r => ({ contents: r.contents })
      )
    case 'get_prompt':
      return listing(
        'messages',
        () => client.getPrompt({ name: operation.name, arguments: operation.arguments as Record<string, string> }, { timeout }),
        r => ({ messages: r.messages, description: r.description ?? null })
      )
    case 'wait':
      await sleep(operation.seconds * 1000)
      return { waited: operation.seconds }
    case 'set_variable':
      variables[operation.name] = operation.value
      return { variable_set: operation.name }
    case 'custom':
      throw new Error('custom operations are not run by the builtin engine')
  }
}

/** Where an error message says the step went: the tool for a tool call, else the operation. */
function subject(operation: Operation): string {
  return operation.type === 'tool_call' ? `tool '${operation.tool}'` : operation.type
}

function clip(text: string): string {
  return text.length > MAX_DETAILS_CHARS ? `${text.slice(0, MAX_DETAILS_CHARS)}…` : text
}

function stepResult(
  step: ScenarioStep,
  status: SmokeTestResult['status'],
  startedAt: number,
  error: string | null,
  details: string | null
): SmokeTestResult {
  return { name: step.name, category: 'Tools', status, duration: elapsedSince(startedAt), error, details }
}

async function runStep(
  client: Client,
  step: ScenarioStep,
  variables: Record<string, unknown>,
  options: ScenarioRunOptions
): Promise<SmokeTestResult> {
  const startedAt = performance.now()
  const operation = substituteVariables(step.operation, variables) as Operation
  if (operation.type === 'custom') {
    return stepResult(
      step,
      'Skipped',
      startedAt,
      null,
      `custom request '${operation.method}' is not run by the builtin engine; use smoke-test: mcp-tester`
    )
  }
  const timeoutSeconds = step.timeoutSeconds ?? options.timeoutSeconds
  let response: Response
  try {
    response = await perform(client, operation, variables, timeoutSeconds * 1000, options.sleep ?? realSleep)
  } catch (error) {
    const reason = isRequestTimeout(error) ? `no answer within ${timeoutSeconds} s` : describeFailure(error)
    return stepResult(step, 'Failed', startedAt, `${subject(operation)}: ${reason}`, null)
  }
  if (step.storeResult) variables[step.storeResult] = response
  const differences = step.assertions
    .map(assertion => checkAssertion(assertion, response))
    .filter((difference): difference is string => difference !== undefined)
  const error = differences.length > 0 ? `${subject(operation)}: ${differences.join('; ')}` : null
  return stepResult(step, error ? 'Failed' : 'Passed', startedAt, error, clip(JSON.stringify(response)))
}

function notRun(step: ScenarioStep, reason: string): SmokeTestResult {
  return { name: step.name, category: 'Tools', status: 'Skipped', duration: toDuration(0), error: null, details: reason }
}

/**
 * Runs setup, steps and cleanup in order, as mcp-tester does: a failed step stops the rest (reported
 * as Skipped) when `stop_on_failure` holds and the step does not `continue_on_failure`; cleanup
 * always runs.
 */
export async function runScenario(client: Client, scenario: Scenario, options: ScenarioRunOptions): Promise<SmokeTestResult[]> {
  const variables: Record<string, unknown> = { ...scenario.variables }
  const results: SmokeTestResult[] = []
  let stoppedBy: string | undefined
  for (const step of [...scenario.setup, ...scenario.steps]) {
    if (stoppedBy) {
      results.push(notRun(step, `not run: step '${stoppedBy}' failed and stop_on_failure is set`))
      continue
    }
    const result = await runStep(client, step, variables, options)
    results.push(result)
    if (result.status === 'Failed' && scenario.stopOnFailure && !step.continueOnFailure) stoppedBy = step.name
  }
  for (const step of scenario.cleanup) results.push(await runStep(client, step, variables, options))
  return results
}
