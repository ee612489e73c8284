/**
 * Every way a run ends writes the job summary: refused inputs (before the pipeline exists), a run
 * skipped as untrusted, a refused production destroy, a deploy.toml error. Runs `run()` of
 * src/main.ts in this process with the runner's summary and output files.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readRunContext, type RunContext } from '../../src/context.js'
import { ActionError } from '../../src/errors.js'
import { readInputs, type ActionInputs } from '../../src/inputs.js'
import { run } from '../../src/main.js'
import { maskSecret } from '../../src/masking.js'
import { captureStdout, parseAnnotations } from '../../testkit/annotations.js'
import { writeConfig } from '../../testkit/workdir.js'

let dir: string
let summaryFile: string
const saved = { ...process.env }

beforeAll(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-every-path-')))
  // @actions/core remembers the summary file it first wrote to: one file for the whole suite, emptied per test.
  summaryFile = path.join(dir, 'summary.md')
  process.env.GITHUB_STEP_SUMMARY = summaryFile
  process.env.GITHUB_OUTPUT = path.join(dir, 'output')
  writeConfig(dir, '[server]\nname = "every-path"\n')
})

beforeEach(() => {
  fs.writeFileSync(summaryFile, '')
  fs.writeFileSync(path.join(dir, 'output'), '')
})

afterAll(() => {
  process.env = saved
  fs.rmSync(dir, { recursive: true, force: true })
})

interface Ended {
  summary: string
  errors: string[]
  notices: string[]
  exitCode: number | undefined
}

async function runWith(readInputsSeam: () => ActionInputs, context: RunContext): Promise<Ended> {
  const { output } = await captureStdout(() =>
    run({ readInputs: readInputsSeam, inputsSetByUser: () => [], readRunContext: () => context })
  )
  const exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode)
  process.exitCode = undefined
  const annotations = parseAnnotations(output)
  return {
    summary: fs.readFileSync(summaryFile, 'utf8'),
    errors: annotations.filter(a => a.level === 'error').map(a => a.message),
    notices: annotations.filter(a => a.level === 'notice').map(a => a.message),
    exitCode
  }
}

const localContext = (): RunContext => ({ ...readRunContext({}), workspace: dir })
const inputs = (overrides: Partial<ActionInputs> = {}): ActionInputs => ({ ...readInputs(dir), comment: false, ...overrides })

describe('the job summary on every path', () => {
  it('refused inputs: one error, exit 1, and a summary naming the input (the pipeline never started)', async () => {
    const ended = await runWith(() => {
      throw new ActionError("Invalid input 'pr-number'", "Input 'pr-number' is '1e26'; allowed: a pull request number.")
    }, localContext())
    expect(ended.exitCode).toBe(1)
    expect(ended.errors).toEqual(["Input 'pr-number' is '1e26'; allowed: a pull request number."])
    expect(ended.summary).toContain("## ❌ Invalid input 'pr-number'")
    expect(ended.summary).toContain("Input 'pr-number' is '1e26'")
  })

  it('a summary of refused inputs redacts masked values and escapes markup', async () => {
    maskSecret('hunter2-secret-value')
    const ended = await runWith(() => {
      throw new ActionError("Invalid input 'smoke-test-url'", "Input 'smoke-test-url' is 'hunter2-secret-value <img src=x>'")
    }, localContext())
    expect(ended.summary).not.toContain('hunter2-secret-value')
    expect(ended.summary).not.toContain('<img')
    expect(ended.summary).toContain('&lt;img')
  })

  it('a deploy skipped as untrusted (a fork pull request): a notice, success, and a summary that says why', async () => {
    const event = {
      action: 'synchronize',
      pull_request: { number: 5, head: { repo: { full_name: 'someone/fork' } }, base: { repo: { full_name: 'acme/tools' } } }
    }
    const context: RunContext = { ...localContext(), eventName: 'pull_request', event, repository: 'acme/tools', prNumber: 5 }
    const ended = await runWith(() => inputs({ command: 'deploy' }), context)
    expect(ended.exitCode).toBeUndefined()
    expect(ended.errors).toEqual([])
    expect(ended.notices).toEqual([expect.stringContaining('comes from a fork')])
    expect(ended.summary).toContain('## ⏭️ Deploy skipped')
    expect(ended.summary).toContain('comes from a fork')
  })

  it('a refused production destroy: one error, exit 1, and the report in the summary, nothing touched', async () => {
    const ended = await runWith(() => inputs({ command: 'destroy' }), localContext())
    expect(ended.exitCode).toBe(1)
    expect(ended.errors).toEqual([expect.stringContaining("set the input 'confirm-destroy: every-path-stack'")])
    expect(ended.summary).toContain('every-path-stack')
    expect(ended.summary).toMatch(/destroy failed/)
    expect(ended.summary).toContain('nothing was touched')
  })

  it('a deploy.toml error: the report names the file', async () => {
    writeConfig(dir, '[server]\nname = "every-path"\nmemory_mb = 512.0\n', '.pmcp/float.toml')
    const ended = await runWith(() => inputs({ command: 'synth', config: '.pmcp/float.toml' }), localContext())
    expect(ended.exitCode).toBe(1)
    expect(ended.errors).toEqual([expect.stringContaining('memory_mb is 512.0, which TOML reads as a float')])
    expect(ended.summary).toContain('.pmcp/float.toml')
    expect(ended.summary).toContain('[server] memory_mb is 512.0')
  })
})
