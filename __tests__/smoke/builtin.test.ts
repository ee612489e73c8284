import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ActionError } from '../../src/errors.js'
import { runSmokeTest, type SmokeTestOptions } from '../../src/smoke/index.js'
import type { SmokeRun, SmokeTestResult } from '../../src/types.js'
import { SERVER_NAME, SERVER_VERSION, startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'

const scenarios = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'testkit', 'fixtures', 'scenarios')
const noSleep = async (): Promise<void> => {}

function builtin(url: string, extra: Partial<SmokeTestOptions> = {}): Promise<SmokeRun> {
  return runSmokeTest({ engine: 'builtin', url, timeoutSeconds: 10, sleep: noSleep, ...extra })
}

function test(run: SmokeRun, name: string): SmokeTestResult {
  const found = run.report.tests.find(t => t.name === name)
  if (!found) throw new Error(`no test '${name}' in ${run.report.tests.map(t => t.name).join(', ')}`)
  return found
}

describe('builtin engine against a real MCP server', () => {
  const started: TestMcpServer[] = []
  async function server(...args: Parameters<typeof startMcpServer>): Promise<TestMcpServer> {
    const s = await startMcpServer(...args)
    started.push(s)
    return s
  }
  afterAll(async () => {
    await Promise.all(started.map(s => s.close()))
  })

  it('passes against a working server and records protocol version and server info', async () => {
    const { url } = await server()
    const run = await builtin(url)
    expect(run).toMatchObject({ engine: 'builtin', url, outcome: 'passed' })
    expect(run.report.tests.map(t => [t.name, t.category, t.status])).toEqual([
      ['Initialize', 'Core', 'Passed'],
      ['List tools', 'Tools', 'Passed'],
      ['List resources', 'Resources', 'Passed'],
      ['List prompts', 'Prompts', 'Passed']
    ])
    expect(test(run, 'Initialize').details).toMatch(
      new RegExp(`^Server: ${SERVER_NAME} v${SERVER_VERSION}, Protocol: \\d{4}-\\d{2}-\\d{2}$`)
    )
    expect(test(run, 'List tools').details).toBe('2 listed: add, echo')
    expect(run.report.summary).toEqual({ total: 4, passed: 4, failed: 0, warnings: 0, skipped: 0 })
    for (const t of run.report.tests) {
      expect(Number.isInteger(t.duration.secs) && Number.isInteger(t.duration.nanos)).toBe(true)
    }
    expect(test(run, 'Initialize').duration.secs * 1e9 + test(run, 'Initialize').duration.nanos).toBeGreaterThan(0)
  })

  it('reports list calls the server does not support as Skipped, not Failed', async () => {
    const { url } = await server({ without: ['resources', 'prompts'] })
    const run = await builtin(url)
    expect(run.outcome).toBe('passed')
    expect(test(run, 'List resources')).toMatchObject({
      status: 'Skipped',
      details: 'the server does not advertise the resources capability'
    })
    expect(test(run, 'List prompts').status).toBe('Skipped')
    expect(run.report.summary.skipped).toBe(2)
  })

  it('runs a YAML scenario: tool calls with arguments, variables and expectations', async () => {
    const { url } = await server()
    const run = await builtin(url, { scenarioPath: path.join(scenarios, 'calculator.yaml') })
    expect(run.outcome).toBe('passed')
    expect(run.report.tests.slice(4).map(t => [t.name, t.status, t.error])).toEqual([
      ['List tools', 'Passed', null],
      ['Add two numbers', 'Passed', null],
      ['Echo a message', 'Passed', null]
    ])
    expect(JSON.parse(test(run, 'Add two numbers').details as string)).toEqual({
      success: true,
      result: '{"sum":5}',
      parsed: { sum: 5 },
      error: null
    })
  })

  it('fails a scenario whose expected result is wrong, naming the tool and the difference', async () => {
    const { url } = await server()
    const run = await builtin(url, { scenarioPath: path.join(scenarios, 'wrong-sum.json') })
    expect(run.outcome).toBe('failed')
    expect(test(run, 'Add two numbers')).toMatchObject({ status: 'Failed', error: "tool 'add': parsed.sum: expected 5, got 4" })
    // stop_on_failure defaults to true: the next step is not run, cleanup still is.
    expect(test(run, 'Echo after the failure')).toMatchObject({ status: 'Skipped' })
    expect(test(run, 'Read the info resource').status).toBe('Passed')
    expect(run.report.summary).toMatchObject({ failed: 1, skipped: 1 })
  })

  it('runs the other scenario operations; custom requests are Skipped', async () => {
    const { url } = await server()
    const run = await builtin(url, { scenarioPath: path.join(scenarios, 'operations.yaml') })
    expect(run.report.tests.slice(4).map(t => [t.name, t.status, t.error])).toEqual([
      ['Remember a name', 'Passed', null],
      ['Greet prompt', 'Passed', null],
      ['List prompts', 'Passed', null],
      ['Unknown tool', 'Passed', null],
      ['Custom request', 'Skipped', null],
      ['Short wait', 'Passed', null]
    ])
    expect(run.outcome).toBe('passed')
  })

  it('fails the scenario against the broken variant of the server whose tool returns a wrong result', async () => {
    const { url } = await server({ broken: true })
    const run = await builtin(url, { scenarioPath: path.join(scenarios, 'calculator.yaml') })
    expect(run.outcome).toBe('failed')
    const add = test(run, 'Add two numbers')
    expect(add.status).toBe('Failed')
    expect(add.error).toContain("tool 'add'")
    expect(add.error).toContain('parsed.sum: expected 5, got 6')
    expect(add.error).not.toContain('between')
    // stop_on_failure: false in this file, so the next step still runs.
    expect(test(run, 'Echo a message').status).toBe('Passed')
  })

  it('passes when the server answers 503 twice before working (cold-start retry)', async () => {
    const s = await server({ failFirst: 2 })
    const run = await builtin(s.url)
    expect(run.outcome).toBe('passed')
    expect(s.requests.slice(0, 3).map(r => r.rejectedWith)).toEqual([503, 503, undefined])
    expect(test(run, 'Initialize').details).toContain('answered on attempt 3')
  })

  it('fails (a failed Initialize naming the URL) when the server is down: the smoke test ran and did not pass', async () => {
    const s = await startMcpServer()
    await s.close()
    const run = await builtin(s.url)
    expect(run.outcome).toBe('failed')
    expect(run.report.tests.map(t => [t.name, t.category, t.status])).toEqual([['Initialize', 'Core', 'Failed']])
    expect(run.report.summary).toEqual({ total: 1, passed: 0, failed: 1, warnings: 0, skipped: 0 })
    const error = test(run, 'Initialize').error ?? ''
    expect(error).toContain(`MCP endpoint unreachable: no answer from ${s.url}`)
    expect(error).toContain('ECONNREFUSED')
    expect(error).toContain('smoke-test-url')
  })

  it('sends the bearer token when given', async () => {
    const s = await server({ token: 'tok-123' })
    const run = await builtin(s.url, { token: 'tok-123' })
    expect(run.outcome).toBe('passed')
    expect(s.requests.length).toBeGreaterThan(1)
    expect(s.requests.filter(r => r.method === 'POST').every(r => r.authorization === 'Bearer tok-123')).toBe(true)
  })

  it('fails Initialize, with a hint, when a server that requires a token gets none', async () => {
    const s = await server({ token: 'tok-123' })
    const run = await builtin(s.url)
    expect(run.outcome).toBe('failed')
    expect(run.report.tests).toHaveLength(1)
    expect(test(run, 'Initialize').status).toBe('Failed')
    expect(test(run, 'Initialize').error).toContain('HTTP 401')
    expect(test(run, 'Initialize').error).toContain('smoke-test-token')
    // 401 is not a cold start: no retries.
    expect(s.requests).toHaveLength(1)
    expect(s.requests[0]).toMatchObject({ authorization: undefined, rejectedWith: 401 })
  })

  it('rejects an invalid scenario file before any request, naming file and line', async () => {
    const s = await server()
    const file = path.join(scenarios, 'invalid-step.yaml')
    const error = await builtin(s.url, { scenarioPath: file }).catch(e => e)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.location).toEqual({ file, line: 8 })
    expect(error.message).toContain("steps.1.operation.tool: 'tool' must be a non-empty string")
    expect(s.requests).toHaveLength(0)
  })
})
