import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js'
import type { SmokeReport, SmokeTestResult } from '../types.js'
import { connect, describeFailure, failedInitialize, type Connection } from './connect.js'
import { elapsedSince, reportOf, toDuration } from './report.js'
import type { Scenario } from './scenario.js'
import { runScenario } from './scenario-runner.js'

export interface BuiltinRunOptions {
  url: string
  token?: string
  /** Already loaded, so a broken file fails before any request. */
  scenario?: Scenario
  timeoutSeconds: number
  sleep?: (ms: number) => Promise<void>
}

const LISTED_NAMES_SHOWN = 10

function initializeResult(client: Client, connection: Extract<Connection, { ok: true }>): SmokeTestResult {
  const protocolVersion = (client.transport as { protocolVersion?: string } | undefined)?.protocolVersion ?? 'unknown'
  const server = client.getServerVersion()
  const retried = connection.attempts > 1 ? `; answered on attempt ${connection.attempts}` : ''
  return {
    name: 'Initialize',
    category: 'Core',
    status: 'Passed',
    duration: connection.duration,
    error: null,
    // mcp-tester's wording, so both engines read alike in the summary.
    details: `Server: ${server?.name ?? 'unnamed'} v${server?.version ?? '?'}, Protocol: ${protocolVersion}${retried}`
  }
}

interface ListCheck {
  name: string
  category: string
  capability: keyof ServerCapabilities
  list: (client: Client, timeout: number) => Promise<{ name: string }[]>
  /** mcp-tester warns about a server with no tools; no resources or prompts is normal. */
  warnWhenEmpty: boolean
}

const LIST_CHECKS: ListCheck[] = [
  {
    name: 'List tools',
    category: 'Tools',
    capability: 'tools',
    list: async (c, timeout) => (await c.listTools(undefined, { timeout })).tools,
    warnWhenEmpty: true
  },
  {
    name: 'List resources',
    category: 'Resources',
    capability: 'resources',
    list: async (c, timeout) => (await c.listResources(undefined, { timeout })).resources,
    warnWhenEmpty: false
  },
  {
    name: 'List prompts',
    category: 'Prompts',
    capability: 'prompts',
    list: async (c, timeout) => (await c.listPrompts(undefined, { timeout })).prompts,
    warnWhenEmpty: false
  }
]

function namesOf(items: { name: string }[]): string {
  const shown = items
    .slice(0, LISTED_NAMES_SHOWN)
    .map(item => item.name)
    .join(', ')
  return items.length > LISTED_NAMES_SHOWN ? `${shown}, …` : shown
}

async function runListCheck(client: Client, check: ListCheck, timeoutSeconds: number): Promise<SmokeTestResult> {
  const base = { name: check.name, category: check.category }
  if (!client.getServerCapabilities()?.[check.capability]) {
    return {
      ...base,
      status: 'Skipped',
      duration: toDuration(0),
      error: null,
      details: `the server does not advertise the ${check.capability} capability`
    }
  }
  const startedAt = performance.now()
  try {
    const items = await check.list(client, timeoutSeconds * 1000)
    if (items.length === 0) {
      return {
        ...base,
        status: check.warnWhenEmpty ? 'Warning' : 'Passed',
        duration: elapsedSince(startedAt),
        error: null,
        details: `the server lists no ${check.capability}`
      }
    }
    return {
      ...base,
      status: 'Passed',
      duration: elapsedSince(startedAt),
      error: null,
      details: `${items.length} listed: ${namesOf(items)}`
    }
  } catch (error) {
    return { ...base, status: 'Failed', duration: elapsedSince(startedAt), error: describeFailure(error), details: null }
  }
}

/**
 * The builtin engine: initialize (with the cold-start retry), list tools, resources and prompts,
 * then the scenario's steps; the same report shape as mcp-tester's.
 */
export async function runBuiltin(options: BuiltinRunOptions): Promise<SmokeReport> {
  const connection = await connect(options)
  if (!connection.ok) return reportOf([failedInitialize(options.url, connection)])
  const { client } = connection
  try {
    const tests = [initializeResult(client, connection)]
    for (const check of LIST_CHECKS) tests.push(await runListCheck(client, check, options.timeoutSeconds))
    if (options.scenario) tests.push(...(await runScenario(client, options.scenario, options)))
    return reportOf(tests)
  } finally {
    await client.close()
  }
}
