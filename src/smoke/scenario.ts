import * as fs from 'node:fs'
import { LineCounter, parseDocument, type Document } from 'yaml'
import { ActionError } from '../errors.js'

/**
 * mcp-tester's scenario file (YAML or JSON), the subset the builtin engine runs: every operation but
 * `custom` (reported as Skipped), every assertion type, `variables` with `${name}` substitution,
 * `store_result`, `setup`/`cleanup`, `stop_on_failure` and `continue_on_failure`. The top-level
 * `timeout` is not applied: each request has the smoke-test-timeout (a step's `timeout` wins).
 * As in mcp-tester, a step passes when all its assertions hold, so a step without any passes as
 * long as the request got an answer.
 */
export interface Scenario {
  name: string
  description?: string
  stopOnFailure: boolean
  variables: Record<string, unknown>
  setup: ScenarioStep[]
  steps: ScenarioStep[]
  cleanup: ScenarioStep[]
}

export interface ScenarioStep {
  name: string
  operation: Operation
  timeoutSeconds?: number
  continueOnFailure: boolean
  storeResult?: string
  assertions: Assertion[]
}

export type Operation =
  | { type: 'tool_call'; tool: string; arguments: unknown }
  | { type: 'list_tools' | 'list_resources' | 'list_prompts' }
  | { type: 'read_resource'; uri: string }
  | { type: 'get_prompt'; name: string; arguments: unknown }
  | { type: 'wait'; seconds: number }
  | { type: 'set_variable'; name: string; value: unknown }
  | { type: 'custom'; method: string; params: unknown }

export type Comparison =
  | { op: 'equals' | 'not_equals' | 'greater_than' | 'greater_than_or_equal' | 'less_than' | 'less_than_or_equal'; value: number }
  | { op: 'between'; min: number; max: number }

export type Assertion =
  | { type: 'success' | 'failure' }
  | { type: 'equals'; path: string; value: unknown; ignoreCase: boolean }
  | { type: 'contains'; path: string; value: string; ignoreCase: boolean }
  | { type: 'matches'; path: string; pattern: string }
  | { type: 'exists' | 'not_exists'; path: string }
  | { type: 'array_length' | 'numeric'; path: string; comparison: Comparison }
  | { type: 'jsonpath'; expression: string; expected?: unknown }

type Path = (string | number)[]

/** A problem at a place in the file; the loader turns the place into a line number. */
class ScenarioProblem extends Error {
  constructor(
    readonly path: Path,
    message: string
  ) {
    super(message)
  }
}

type Fields = Record<string, unknown>

function object(value: unknown, path: Path, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ScenarioProblem(path, `${what} must be a mapping`)
  return value as Fields
}

function string(fields: Fields, key: string, path: Path): string {
  const value = fields[key]
  if (typeof value !== 'string' || value === '') throw new ScenarioProblem([...path, key], `'${key}' must be a non-empty string`)
  return value
}

function optionalNumber(fields: Fields, key: string, path: Path): number | undefined {
  const value = fields[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number') throw new ScenarioProblem([...path, key], `'${key}' must be a number`)
  return value
}

function flag(fields: Fields, key: string, path: Path, fallback: boolean): boolean {
  const value = fields[key]
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'boolean') throw new ScenarioProblem([...path, key], `'${key}' must be true or false`)
  return value
}

const COMPARISON_KEYS = ['equals', 'not_equals', 'greater_than', 'greater_than_or_equal', 'less_than', 'less_than_or_equal'] as const

function comparison(fields: Fields, path: Path): Comparison {
  if (fields.between !== undefined) {
    const between = object(fields.between, [...path, 'between'], "'between'")
    const min = optionalNumber(between, 'min', [...path, 'between'])
    const max = optionalNumber(between, 'max', [...path, 'between'])
    if (min === undefined || max === undefined) throw new ScenarioProblem([...path, 'between'], "'between' needs 'min' and 'max'")
    return { op: 'between', min, max }
  }
  for (const op of COMPARISON_KEYS) {
    const value = optionalNumber(fields, op, path)
    if (value !== undefined) return { op, value }
  }
  throw new ScenarioProblem(path, `a comparison is missing: one of ${COMPARISON_KEYS.join(', ')}, between`)
}

function operation(value: unknown, path: Path): Operation {
  const fields = object(value, path, "'operation'")
  const type = string(fields, 'type', path)
  switch (type) {
    case 'tool_call':
      return { type, tool: string(fields, 'tool', path), arguments: fields.arguments ?? {} }
    case 'list_tools':
    case 'list_resources':
    case 'list_prompts':
      return { type }
    case 'read_resource':
      return { type, uri: string(fields, 'uri', path) }
    case 'get_prompt':
      return { type, name: string(fields, 'name', path), arguments: fields.arguments ?? {} }
    case 'wait':
      return { type, seconds: optionalNumber(fields, 'seconds', path) ?? 0 }
    case 'set_variable':
      return { type, name: string(fields, 'name', path), value: fields.value ?? null }
    case 'custom':
      return { type, method: string(fields, 'method', path), params: fields.params ?? null }
    default:
      throw new ScenarioProblem([...path, 'type'], `unknown operation type '${type}'`)
  }
}

function assertion(value: unknown, path: Path): Assertion {
  const fields = object(value, path, 'an assertion')
  const type = string(fields, 'type', path)
  switch (type) {
    case 'success':
    case 'failure':
      return { type }
    case 'equals':
      return { type, path: string(fields, 'path', path), value: fields.value ?? null, ignoreCase: flag(fields, 'ignore_case', path, false) }
    case 'contains':
      return {
        type,
        path: string(fields, 'path', path),
        // A table or list as the expected value is compared as its JSON text, never as `[object Object]`.
        value:
          typeof fields.value === 'object' && fields.value !== null
            ? JSON.stringify(fields.value)
            : String((fields.value as string | number | boolean | undefined) ?? ''),
        ignoreCase: flag(fields, 'ignore_case', path, false)
      }
    case 'matches':
      return { type, path: string(fields, 'path', path), pattern: string(fields, 'pattern', path) }
    case 'exists':
    case 'not_exists':
      return { type, path: string(fields, 'path', path) }
    case 'array_length':
    case 'numeric':
      return { type, path: string(fields, 'path', path), comparison: comparison(fields, path) }
    case 'jsonpath':
      return { type, expression: string(fields, 'expression', path), expected: fields.expected }
    default:
      throw new ScenarioProblem([...path, 'type'], `unknown assertion type '${type}'`)
  }
}

function list(value: unknown, path: Path, what: string): unknown[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new ScenarioProblem(path, `'${what}' must be a list`)
  return value
}

function step(value: unknown, path: Path): ScenarioStep {
  const fields = object(value, path, 'a step')
  const storeResult = fields.store_result
  if (storeResult !== undefined && typeof storeResult !== 'string')
    throw new ScenarioProblem([...path, 'store_result'], "'store_result' must be a string")
  return {
    name: string(fields, 'name', path),
    operation: operation(fields.operation, [...path, 'operation']),
    timeoutSeconds: optionalNumber(fields, 'timeout', path),
    continueOnFailure: flag(fields, 'continue_on_failure', path, false),
    storeResult,
    assertions: list(fields.assertions, [...path, 'assertions'], 'assertions').map((item, i) => assertion(item, [...path, 'assertions', i]))
  }
}

function steps(fields: Fields, key: string): ScenarioStep[] {
  return list(fields[key], [key], key).map((item, i) => step(item, [key, i]))
}

/** Validates a parsed scenario document. Exported for tests; callers use loadScenario. */
export function toScenario(document: unknown): Scenario {
  const fields = object(document, [], 'the scenario')
  const scenario: Scenario = {
    name: string(fields, 'name', []),
    description: typeof fields.description === 'string' ? fields.description : undefined,
    stopOnFailure: flag(fields, 'stop_on_failure', [], true),
    variables: fields.variables === undefined || fields.variables === null ? {} : object(fields.variables, ['variables'], "'variables'"),
    setup: steps(fields, 'setup'),
    steps: steps(fields, 'steps'),
    cleanup: steps(fields, 'cleanup')
  }
  if (scenario.steps.length === 0) throw new ScenarioProblem(['steps'], "'steps' must list at least one step")
  return scenario
}

function lineOf(document: Document, lineCounter: LineCounter, path: Path): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = document.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined
    if (node?.range) return lineCounter.linePos(node.range[0]).line
  }
  return undefined
}

function invalid(file: string, message: string, line?: number): ActionError {
  return new ActionError('Invalid smoke-test scenario', `${file}${line ? `:${line}` : ''}: ${message}. See mcp-tester's scenario format.`, {
    file,
    line
  })
}

/** Reads a scenario file and parses it as YAML (JSON is YAML too); a missing file or a syntax error is an ActionError. */
export function readScenarioDocument(file: string): { document: Document; lineCounter: LineCounter } {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    throw new ActionError(
      'Smoke-test scenario not found',
      `Cannot read the scenario file ${file}. Fix the smoke-test-scenario input (a path relative to working-directory).`
    )
  }
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter })
  const syntaxError = document.errors[0]
  if (syntaxError) throw invalid(file, syntaxError.message.split('\n')[0], syntaxError.linePos?.[0].line)
  return { document, lineCounter }
}

/** Reads and validates a scenario file (YAML, or JSON, which YAML parses too). */
export function loadScenario(file: string): Scenario {
  const { document, lineCounter } = readScenarioDocument(file)
  try {
    return toScenario(document.toJS())
  } catch (error) {
    if (error instanceof ScenarioProblem)
      throw invalid(file, `${error.path.join('.') || 'scenario'}: ${error.message}`, lineOf(document, lineCounter, error.path))
    throw error
  }
}
