import { isDeepStrictEqual } from 'node:util'
import type { Assertion, Comparison } from './scenario.js'

/**
 * Looks a dotted path up in a response, as mcp-tester does: `result`, `parsed.sum`, `tools[0].name`.
 * `undefined` means the path does not exist.
 */
export function valueAtPath(value: unknown, path: string): unknown {
  let current: unknown = value
  for (const part of path.split('.')) {
    const indexed = /^([^[]*)\[(\d+)\]$/.exec(part)
    const field = indexed ? indexed[1] : part
    if (field !== '') current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[field] : undefined
    if (indexed) current = Array.isArray(current) ? current[Number(indexed[2])] : undefined
    if (current === undefined) return undefined
  }
  return current
}

const MAX_SHOWN_CHARS = 200

/** A value as the error message shows it: JSON, shortened. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing (path not found)'
  const text = JSON.stringify(value)
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}… (${text.length} characters)` : text
}

function compare(actual: number, comparison: Comparison): boolean {
  switch (comparison.op) {
    case 'equals':
      return actual === comparison.value
    case 'not_equals':
      return actual !== comparison.value
    case 'greater_than':
      return actual > comparison.value
    case 'greater_than_or_equal':
      return actual >= comparison.value
    case 'less_than':
      return actual < comparison.value
    case 'less_than_or_equal':
      return actual <= comparison.value
    case 'between':
      return actual >= comparison.min && actual <= comparison.max
  }
}

function describeComparison(comparison: Comparison): string {
  return comparison.op === 'between'
    ? `between ${comparison.min} and ${comparison.max}`
    : `${comparison.op.replace(/_/g, ' ')} ${comparison.value}`
}

function equalsIgnoringCase(actual: unknown, expected: unknown, ignoreCase: boolean): boolean {
  if (ignoreCase && typeof actual === 'string' && typeof expected === 'string') return actual.toLowerCase() === expected.toLowerCase()
  return isDeepStrictEqual(actual, expected)
}

function contains(actual: unknown, expected: string, ignoreCase: boolean): boolean {
  const fold = (text: string): string => (ignoreCase ? text.toLowerCase() : text)
  if (typeof actual === 'string') return fold(actual).includes(fold(expected))
  if (Array.isArray(actual)) return actual.some(item => typeof item === 'string' && fold(item) === fold(expected))
  return false
}

function hasError(response: unknown): boolean {
  const error = valueAtPath(response, 'error')
  return error !== undefined && error !== null
}

/** Checks one assertion against a step's response: undefined when it holds, else what differs. */
export function checkAssertion(assertion: Assertion, response: unknown): string | undefined {
  switch (assertion.type) {
    case 'success':
      return hasError(response) ? `expected success, got error ${show(valueAtPath(response, 'error'))}` : undefined
    case 'failure':
      return hasError(response) ? undefined : 'expected an error, got success'
    case 'equals': {
      const actual = valueAtPath(response, assertion.path)
      return equalsIgnoringCase(actual, assertion.value, assertion.ignoreCase)
        ? undefined
        : `${assertion.path}: expected ${show(assertion.value)}, got ${show(actual)}`
    }
    case 'contains': {
      const actual = valueAtPath(response, assertion.path)
      return contains(actual, assertion.value, assertion.ignoreCase)
        ? undefined
        : `${assertion.path}: expected it to contain ${show(assertion.value)}, got ${show(actual)}`
    }
    case 'matches': {
      const actual = valueAtPath(response, assertion.path)
      let pattern: RegExp
      try {
        pattern = new RegExp(assertion.pattern)
      } catch {
        return `${assertion.path}: invalid regular expression /${assertion.pattern}/`
      }
      return typeof actual === 'string' && pattern.test(actual)
        ? undefined
        : `${assertion.path}: expected it to match /${assertion.pattern}/, got ${show(actual)}`
    }
    case 'exists': {
      const actual = valueAtPath(response, assertion.path)
      return actual !== undefined && actual !== null ? undefined : `${assertion.path}: expected it to exist, got ${show(actual)}`
    }
    case 'not_exists': {
      const actual = valueAtPath(response, assertion.path)
      return actual === undefined || actual === null ? undefined : `${assertion.path}: expected it not to exist, got ${show(actual)}`
    }
    case 'array_length': {
      const actual = valueAtPath(response, assertion.path)
      if (!Array.isArray(actual)) return `${assertion.path}: expected an array, got ${show(actual)}`
      return compare(actual.length, assertion.comparison)
        ? undefined
        : `${assertion.path}: expected length ${describeComparison(assertion.comparison)}, got length ${actual.length}`
    }
    case 'numeric': {
      const actual = valueAtPath(response, assertion.path)
      return typeof actual === 'number' && compare(actual, assertion.comparison)
        ? undefined
        : `${assertion.path}: expected a number ${describeComparison(assertion.comparison)}, got ${show(actual)}`
    }
    case 'jsonpath': {
      // Like mcp-tester: the expression is read as a plain path.
      const actual = valueAtPath(response, assertion.expression)
      if (assertion.expected === undefined)
        return actual !== undefined ? undefined : `${assertion.expression}: expected it to exist, got ${show(actual)}`
      return isDeepStrictEqual(actual, assertion.expected)
        ? undefined
        : `${assertion.expression}: expected ${show(assertion.expected)}, got ${show(actual)}`
    }
  }
}

/** Replaces `${name}` (or `${name.path}` into a stored result) in every string of a value. */
export function substituteVariables(value: unknown, variables: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
      const [head, ...rest] = name.split('.')
      const found = name in variables ? variables[name] : rest.length > 0 ? valueAtPath(variables[head], rest.join('.')) : undefined
      if (found === undefined) return whole
      return typeof found === 'string' ? found : JSON.stringify(found)
    })
  }
  if (Array.isArray(value)) return value.map(item => substituteVariables(item, variables))
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteVariables(item, variables)]))
  }
  return value
}
