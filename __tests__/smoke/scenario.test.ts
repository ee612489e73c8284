import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ActionError } from '../../src/errors.js'
import { checkAssertion, substituteVariables, valueAtPath } from '../../src/smoke/assertions.js'
import { loadScenario, type Assertion } from '../../src/smoke/scenario.js'

const scenarios = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'testkit', 'fixtures', 'scenarios')

describe('loadScenario', () => {
  let tmp: string
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-scenario-'))
  })
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

  function write(name: string, text: string): string {
    const file = path.join(tmp, name)
    fs.writeFileSync(file, text)
    return file
  }

  it('reads the YAML format with defaults applied', () => {
    const scenario = loadScenario(path.join(scenarios, 'calculator.yaml'))
    expect(scenario).toMatchObject({
      name: 'Calculator smoke test',
      stopOnFailure: false,
      variables: { greeting: 'hello from the smoke test' },
      setup: [],
      cleanup: []
    })
    expect(scenario.steps[1]).toEqual({
      name: 'Add two numbers',
      operation: { type: 'tool_call', tool: 'add', arguments: { a: 2, b: 3 } },
      timeoutSeconds: undefined,
      continueOnFailure: false,
      storeResult: 'sum_result',
      assertions: [
        { type: 'success' },
        { type: 'equals', path: 'parsed.sum', value: 5, ignoreCase: false },
        { type: 'numeric', path: 'parsed.sum', comparison: { op: 'between', min: 4, max: 6 } }
      ]
    })
  })

  it('reads the JSON format', () => {
    const scenario = loadScenario(path.join(scenarios, 'wrong-sum.json'))
    expect(scenario.stopOnFailure).toBe(true)
    expect(scenario.steps.map(s => s.operation.type)).toEqual(['tool_call', 'tool_call'])
    expect(scenario.cleanup[0].operation).toEqual({ type: 'read_resource', uri: 'info://server' })
  })

  it('names file and line of a YAML syntax error', () => {
    const file = write('syntax.yaml', 'name: x\nsteps:\n  - name: a\n    operation: [unclosed\n')
    const error = (() => {
      try {
        return loadScenario(file)
      } catch (e) {
        return e
      }
    })() as ActionError
    expect(error).toBeInstanceOf(ActionError)
    expect(error.location.file).toBe(file)
    expect(error.location.line).toBeGreaterThanOrEqual(4)
  })

  it('names the line of an unknown operation type', () => {
    const file = write('unknown.yaml', 'name: x\nsteps:\n  - name: a\n    operation:\n      type: teleport\n')
    expect(() => loadScenario(file)).toThrow(
      expect.objectContaining({ location: { file, line: 5 }, message: expect.stringContaining("unknown operation type 'teleport'") })
    )
  })

  it('needs at least one step and a comparison for array_length', () => {
    expect(() => loadScenario(write('empty.yaml', 'name: x\nsteps: []\n'))).toThrow("'steps' must list at least one step")
    const noComparison =
      'name: x\nsteps:\n  - name: a\n    operation: { type: list_tools }\n' +
      '    assertions:\n      - type: array_length\n        path: tools\n'
    expect(() => loadScenario(write('nocmp.yaml', noComparison))).toThrow('a comparison is missing')
  })

  it('says how to fix a missing file', () => {
    expect(() => loadScenario(path.join(tmp, 'nope.yaml'))).toThrow(expect.objectContaining({ title: 'Smoke-test scenario not found' }))
  })
})

describe('assertions', () => {
  const response = { success: true, result: 'Hello World', parsed: { sum: 4, items: [{ name: 'a' }, { name: 'b' }] }, error: null }
  const check = (assertion: Assertion): string | undefined => checkAssertion(assertion, response)

  it('looks paths up with dots and indexes', () => {
    expect(valueAtPath(response, 'parsed.items[1].name')).toBe('b')
    expect(valueAtPath(response, 'parsed.missing.deeper')).toBeUndefined()
    expect(valueAtPath(response, 'parsed.items[5]')).toBeUndefined()
  })

  it('reports the difference of each kind of assertion, and nothing when it holds', () => {
    expect(check({ type: 'success' })).toBeUndefined()
    expect(check({ type: 'failure' })).toBe('expected an error, got success')
    expect(check({ type: 'equals', path: 'parsed.sum', value: 4, ignoreCase: false })).toBeUndefined()
    expect(check({ type: 'equals', path: 'parsed.sum', value: 5, ignoreCase: false })).toBe('parsed.sum: expected 5, got 4')
    expect(check({ type: 'equals', path: 'result', value: 'hello world', ignoreCase: true })).toBeUndefined()
    expect(check({ type: 'contains', path: 'result', value: 'lo Wo', ignoreCase: false })).toBeUndefined()
    expect(check({ type: 'contains', path: 'result', value: 'bye', ignoreCase: false })).toBe(
      'result: expected it to contain "bye", got "Hello World"'
    )
    expect(check({ type: 'matches', path: 'result', pattern: '^Hello' })).toBeUndefined()
    expect(check({ type: 'exists', path: 'parsed.nope' })).toBe('parsed.nope: expected it to exist, got nothing (path not found)')
    expect(check({ type: 'not_exists', path: 'error' })).toBeUndefined()
    expect(check({ type: 'array_length', path: 'parsed.items', comparison: { op: 'greater_than', value: 2 } })).toBe(
      'parsed.items: expected length greater than 2, got length 2'
    )
    expect(check({ type: 'numeric', path: 'parsed.sum', comparison: { op: 'between', min: 1, max: 4 } })).toBeUndefined()
    expect(check({ type: 'jsonpath', expression: 'parsed.items[0]', expected: { name: 'a' } })).toBeUndefined()
  })

  it('substitutes variables and stored results into strings', () => {
    const variables = { who: 'Ada', stored: { parsed: { id: 7 } } }
    expect(substituteVariables({ text: 'hi ${who}', id: '${stored.parsed.id}', keep: '${unknown}', n: 3 }, variables)).toEqual({
      text: 'hi Ada',
      id: '7',
      keep: '${unknown}',
      n: 3
    })
  })
})
