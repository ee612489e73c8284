import { jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ActionError } from '../../src/errors.js'
import { runCommand, type CommandResult } from '../../src/process.js'
import { runSmokeTest, type SmokeTestOptions } from '../../src/smoke/index.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const recorded = (name: string): string => fs.readFileSync(path.join(here, 'reports', name), 'utf8')
const scenarioFile = path.join(here, '..', '..', 'testkit', 'fixtures', 'scenarios', 'calculator.yaml')
const noSleep = async (): Promise<void> => {}
const BINARY = '/opt/tools/mcp-tester'

interface Call {
  command: string
  args: string[]
  timeoutMs?: number
}

/** A runner standing in for the mcp-tester binary: answers each call in turn, records the calls. */
function fakeRunner(...answers: CommandResult[]): { calls: Call[]; run: NonNullable<SmokeTestOptions['runCommand']> } {
  const calls: Call[] = []
  return {
    calls,
    run: async (command, args, options) => {
      calls.push({ command, args, timeoutMs: options?.timeoutMs })
      const answer = answers[calls.length - 1]
      if (!answer) throw new Error(`unexpected call ${calls.length}`)
      return answer
    }
  }
}

describe('mcp-tester engine at its boundary', () => {
  let server: TestMcpServer
  let tmp: string
  beforeAll(async () => {
    server = await startMcpServer()
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-smoke-'))
  })
  afterAll(async () => {
    await server.close()
    fs.rmSync(tmp, { recursive: true, force: true })
  })

  function mcpTester(runner: ReturnType<typeof fakeRunner>, extra: Partial<SmokeTestOptions> = {}): ReturnType<typeof runSmokeTest> {
    return runSmokeTest({
      engine: 'mcp-tester',
      url: server.url,
      timeoutSeconds: 20,
      mcpTesterPath: BINARY,
      runCommand: runner.run,
      sleep: noSleep,
      ...extra
    })
  }

  describe('command lines', () => {
    it('runs `mcp-tester test <url> --transport http --format json --timeout N`', async () => {
      const runner = fakeRunner({ exitCode: 0, stdout: recorded('test-passed.json'), stderr: '' })
      await mcpTester(runner)
      expect(runner.calls).toEqual([
        { command: BINARY, args: ['test', server.url, '--transport', 'http', '--format', 'json', '--timeout', '20'], timeoutMs: 100_000 }
      ])
    })

    it('adds --api-key with a token, and never logs the token', async () => {
      const written: string[] = []
      const spy = jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
        written.push(String(chunk))
        return true
      })
      const runner = fakeRunner({ exitCode: 0, stdout: recorded('test-passed.json'), stderr: '' })
      try {
        await mcpTester(runner, { token: 's3cr3t-token' })
      } finally {
        spy.mockRestore()
      }
      expect(runner.calls[0].args).toEqual([
        'test',
        server.url,
        '--transport',
        'http',
        '--format',
        'json',
        '--timeout',
        '20',
        '--api-key',
        's3cr3t-token'
      ])
      const log = written.join('')
      expect(log).toContain('::add-mask::s3cr3t-token')
      expect(log).toContain(`Running ${BINARY} test ${server.url} --transport http --format json --timeout 20 --api-key ***`)
      expect(log.replace('::add-mask::s3cr3t-token', '')).not.toContain('s3cr3t-token')
    })

    it('with a scenario also runs `mcp-tester scenario <url> <file>` and merges both reports', async () => {
      const runner = fakeRunner(
        { exitCode: 0, stdout: recorded('test-passed.json'), stderr: '' },
        { exitCode: 1, stdout: recorded('scenario-failed.json'), stderr: '' }
      )
      const run = await mcpTester(runner, { token: 'tok', scenarioPath: scenarioFile })
      expect(runner.calls.map(c => c.args)).toEqual([
        ['test', server.url, '--transport', 'http', '--format', 'json', '--timeout', '20', '--api-key', 'tok'],
        ['scenario', server.url, scenarioFile, '--transport', 'http', '--format', 'json', '--timeout', '20', '--api-key', 'tok']
      ])
      expect(run.outcome).toBe('failed')
      expect(run.report.tests.map(t => t.name)).toEqual([
        'Connection Test',
        'Initialize',
        'Protocol Version',
        'Error Handling',
        'Add two numbers',
        'Scenario Execution'
      ])
      expect(run.report.summary).toEqual({ total: 6, passed: 4, failed: 2, warnings: 0, skipped: 0 })
    })

    it('refuses a scenario file that does not exist before running anything', async () => {
      const runner = fakeRunner()
      const error = await mcpTester(runner, { scenarioPath: path.join(tmp, 'missing.yaml') }).catch(e => e)
      expect(error).toBeInstanceOf(ActionError)
      expect(error.message).toContain('missing.yaml')
      expect(runner.calls).toHaveLength(0)
    })
  })

  describe('reports', () => {
    it('parses a passing report', async () => {
      const run = await mcpTester(fakeRunner({ exitCode: 0, stdout: recorded('test-passed.json'), stderr: '' }))
      expect(run).toMatchObject({ engine: 'mcp-tester', url: server.url, outcome: 'passed' })
      expect(run.report.tests[1]).toEqual({
        name: 'Initialize',
        category: 'Core',
        status: 'Passed',
        duration: { secs: 1, nanos: 204518000 },
        error: null,
        details: 'Server: calculator v0.1.0, Protocol: 2025-06-18'
      })
      expect(run.report.summary).toEqual({ total: 4, passed: 4, failed: 0, warnings: 0, skipped: 0 })
    })

    it('treats exit code 1 as failed tests: passed, failed, warning and skipped are all read', async () => {
      const run = await mcpTester(fakeRunner({ exitCode: 1, stdout: recorded('test-mixed.json'), stderr: '' }))
      expect(run.outcome).toBe('failed')
      expect(run.report.tests.map(t => [t.name, t.status])).toEqual([
        ['Initialize', 'Passed'],
        ['tools/call echo', 'Failed'],
        ['tasks/get', 'Skipped'],
        ['tools/list', 'Warning']
      ])
      expect(run.report.tests[1].error).toBe('handler returned isError')
      expect(run.report.summary).toEqual({ total: 4, passed: 1, failed: 1, warnings: 1, skipped: 1 })
    })

    it('passes with warnings and skipped tests but no failures', async () => {
      const report = JSON.parse(recorded('test-mixed.json'))
      report.tests = report.tests.filter((t: { status: string }) => t.status !== 'Failed')
      const run = await mcpTester(fakeRunner({ exitCode: 0, stdout: JSON.stringify(report, null, 2), stderr: '' }))
      expect(run.outcome).toBe('passed')
      expect(run.report.summary).toEqual({ total: 3, passed: 1, failed: 0, warnings: 1, skipped: 1 })
    })

    it('reads a report with a leading blank line', async () => {
      const run = await mcpTester(fakeRunner({ exitCode: 1, stdout: `\n${recorded('connection-error.json')}\n`, stderr: '' }))
      expect(run.outcome).toBe('failed')
      expect(run.report.tests[0]).toMatchObject({ name: 'Error', status: 'Failed' })
    })

    it('reads a report preceded by a log line on stdout', async () => {
      const stdout = `2025-11-20T14:03:12Z ERROR pmcp::shared: stream closed\n${recorded('test-passed.json')}`
      const run = await mcpTester(fakeRunner({ exitCode: 0, stdout, stderr: '' }))
      expect(run.report.summary.total).toBe(4)
    })

    it('turns garbage output into a clear infrastructure error that shows stderr', async () => {
      const runner = fakeRunner({ exitCode: 0, stdout: '<html>Bad Gateway</html>', stderr: 'thread main panicked at src/report.rs' })
      const error = await mcpTester(runner).catch(e => e)
      expect(error).toBeInstanceOf(ActionError)
      expect(error.title).toBe('Smoke test: mcp-tester did not produce a report')
      expect(error.message).toContain('exited with code 0 but its output is not a JSON test report')
      expect(error.message).toContain('thread main panicked at src/report.rs')
      expect(error.message).toContain('<html>Bad Gateway</html>')
    })

    it('rejects JSON that is not a test report', async () => {
      const report = JSON.parse(recorded('test-passed.json'))
      report.tests[0].status = 'Ok'
      const error = await mcpTester(fakeRunner({ exitCode: 0, stdout: JSON.stringify(report), stderr: '' })).catch(e => e)
      expect(error).toBeInstanceOf(ActionError)
      expect(error.message).toContain('tests[0].status is "Ok"')
    })

    it('turns an unexpected exit code into an infrastructure error that shows stderr', async () => {
      const runner = fakeRunner({ exitCode: 2, stdout: '', stderr: "error: unexpected argument '--transport' found" })
      const error = await mcpTester(runner).catch(e => e)
      expect(error).toBeInstanceOf(ActionError)
      expect(error.message).toContain('exited with code 2')
      expect(error.message).toContain("error: unexpected argument '--transport' found")
    })

    it('says so when mcp-tester cannot be started', async () => {
      const runner = { calls: [], run: async (): Promise<CommandResult> => Promise.reject(new Error('spawn /opt/tools/mcp-tester ENOENT')) }
      const error = await mcpTester(runner).catch(e => e)
      expect(error).toBeInstanceOf(ActionError)
      expect(error.title).toBe('Smoke test: mcp-tester could not run')
      expect(error.message).toContain('ENOENT')
    })
  })

  describe('before mcp-tester runs', () => {
    it('waits out a cold start (503 twice) and then runs mcp-tester', async () => {
      const cold = await startMcpServer({ failFirst: 2 })
      try {
        const runner = fakeRunner({ exitCode: 0, stdout: recorded('test-passed.json'), stderr: '' })
        const run = await mcpTester(runner, { url: cold.url })
        expect(run.outcome).toBe('passed')
        expect(cold.requests.slice(0, 3).map(r => r.rejectedWith)).toEqual([503, 503, undefined])
        expect(runner.calls).toHaveLength(1)
      } finally {
        await cold.close()
      }
    })

    it('fails (a failed Initialize naming the URL) when the server is down, without running mcp-tester', async () => {
      const down = await startMcpServer()
      await down.close()
      const runner = fakeRunner()
      const run = await mcpTester(runner, { url: down.url })
      expect(run.outcome).toBe('failed')
      expect(run.report.tests).toHaveLength(1)
      expect(run.report.tests[0]).toMatchObject({ name: 'Initialize', category: 'Core', status: 'Failed' })
      expect(run.report.tests[0].error).toContain(`MCP endpoint unreachable: no answer from ${down.url}`)
      expect(runner.calls).toHaveLength(0)
    })

    it('needs the installed binary', async () => {
      const error = await mcpTester(fakeRunner(), { mcpTesterPath: undefined }).catch(e => e)
      expect(error).toBeInstanceOf(ActionError)
      expect(error.message).toContain('smoke-test: builtin')
    })
  })

  describe('the default runner', () => {
    it('runs the binary with the exact argv and reads its report and exit code', async () => {
      const argsFile = path.join(tmp, 'args.txt')
      const reportFile = path.join(tmp, 'report.json')
      fs.writeFileSync(reportFile, recorded('test-mixed.json'))
      const binary = path.join(tmp, 'mcp-tester')
      fs.writeFileSync(
        binary,
        `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\necho\ncat '${reportFile}'\necho 'warn: slow' >&2\nexit 1\n`,
        { mode: 0o755 }
      )
      const run = await runSmokeTest({ engine: 'mcp-tester', url: server.url, timeoutSeconds: 7, mcpTesterPath: binary, sleep: noSleep })
      expect(fs.readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual([
        'test',
        server.url,
        '--transport',
        'http',
        '--format',
        'json',
        '--timeout',
        '7'
      ])
      expect(run.outcome).toBe('failed')
      expect(run.report.summary).toEqual({ total: 4, passed: 1, failed: 1, warnings: 1, skipped: 1 })
    })

    it('says so when the binary is not there', async () => {
      const missing = path.join(tmp, 'not-installed')
      const error = await runSmokeTest({
        engine: 'mcp-tester',
        url: server.url,
        timeoutSeconds: 7,
        mcpTesterPath: missing,
        sleep: noSleep
      }).catch(e => e)
      expect(error).toBeInstanceOf(ActionError)
      expect(error.title).toBe('Smoke test: mcp-tester could not run')
      expect(error.message).toContain(`Unable to locate executable file: ${missing}. Please verify`)
      expect(error.message).not.toContain('..')
    })

    it('stops a run that takes too long', async () => {
      const binary = path.join(tmp, 'hangs')
      fs.writeFileSync(binary, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 })
      await expect(runCommand(binary, [], { silent: true, timeoutMs: 200 })).rejects.toThrow('the process was stopped')
    })
  })
})
