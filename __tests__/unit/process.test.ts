import { jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { NOT_STARTED_EXIT_CODE, runCommand } from '../../src/process.js'

describe('runCommand', () => {
  let tmp: string
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-process-'))
  })
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
  afterEach(() => jest.restoreAllMocks())

  function script(name: string, body: string): string {
    const file = path.join(tmp, name)
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
    return file
  }

  it('runs in the working directory with the extra environment over the inherited one', async () => {
    const program = script('where', 'echo "$PWD $PMCP_TEST_EXTRA ${HOME:+home}"; echo oops >&2; exit 3')
    const result = await runCommand(program, [], { cwd: tmp, env: { PMCP_TEST_EXTRA: 'extra' }, silent: true })
    expect(result).toEqual({ exitCode: 3, stdout: `${fs.realpathSync(tmp)} extra home\n`, stderr: 'oops\n' })
  })

  it('passes the arguments as they are, without a shell', async () => {
    const program = script('args', 'printf "%s|" "$@"')
    expect((await runCommand(program, ['a b', '$HOME', ''], { silent: true })).stdout).toBe('a b|$HOME||')
  })

  it('echoes the command line and the output unless silent', async () => {
    const written: string[] = []
    jest.spyOn(process.stdout, 'write').mockImplementation(chunk => written.push(String(chunk)) > 0)
    const program = script('talk', 'echo out; echo err >&2')
    await runCommand(program, ['x'], {})
    await runCommand(program, ['y'], { silent: true })
    expect(written.join('')).toContain(`[command]${program} x`)
    expect(written.join('')).toContain('out\n')
    expect(written.join('')).toContain('err\n')
    expect(written.join('')).not.toContain(`${program} y`)
  })

  it('reports a program that cannot be started as exit code 127 with the reason', async () => {
    const missing = await runCommand('pmcp-no-such-program', [], { silent: true })
    expect(missing.exitCode).toBe(NOT_STARTED_EXIT_CODE)
    expect(missing.stderr).toContain('Unable to locate executable file: pmcp-no-such-program')
    const noDir = await runCommand(script('fine', 'exit 0'), [], { cwd: path.join(tmp, 'gone'), silent: true })
    expect(noDir).toEqual({ exitCode: NOT_STARTED_EXIT_CODE, stdout: '', stderr: `The cwd: ${path.join(tmp, 'gone')} does not exist!` })
  })

  it('stops a program that runs past the timeout', async () => {
    const started = Date.now()
    await expect(runCommand(script('hang', 'exec sleep 30'), [], { silent: true, timeoutMs: 200 })).rejects.toThrow(
      'no result after 0 s; the process was stopped'
    )
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
