/**
 * Evaluates GitHub Actions expressions of a workflow file the way the runner does, with
 * @actions/expressions (GitHub's own parser and evaluator) and plain-JSON contexts.
 */
import { Evaluator, Lexer, Parser, data } from '@actions/expressions'

export type Contexts = Record<string, unknown>

function toData(value: unknown): data.Dictionary {
  return JSON.parse(JSON.stringify(value), data.reviver) as data.Dictionary
}

function evaluateData(expression: string, contexts: Contexts): data.ExpressionData {
  const { tokens } = new Lexer(expression).lex()
  const parsed = new Parser(tokens, Object.keys(contexts), []).parse()
  return new Evaluator(parsed, toData(contexts)).evaluate()
}

/** A bare expression, as in `if:` — true when the result is truthy. */
export function evaluateCondition(expression: string, contexts: Contexts): boolean {
  const text = expression.trim()
  const bare = /^\$\{\{([\s\S]*)\}\}$/.exec(text)?.[1] ?? text
  const result = evaluateData(bare, contexts)
  switch (result.kind) {
    case data.Kind.Null:
      return false
    case data.Kind.Boolean:
      return result.coerceString() === 'true'
    case data.Kind.Number:
      return Number(result.coerceString()) !== 0
    case data.Kind.String:
      return result.coerceString() !== ''
    default:
      return true
  }
}

/** A value with `${{ … }}` parts, as in `with:`, `env:` or `concurrency.group`: each part becomes its string. */
export function interpolate(value: string, contexts: Contexts): string {
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expression: string) => evaluateData(expression, contexts).coerceString())
}

/**
 * A field's value as the runner sees it: a value that is one `${{ … }}` keeps the expression's type
 * (a list for `runs-on: ${{ fromJSON(…) }}`, a number for `timeout-minutes`), anything else is interpolated.
 */
export function evaluateValue(value: unknown, contexts: Contexts): unknown {
  if (typeof value !== 'string') return value
  const whole = /^\s*\$\{\{((?:(?!\}\})[\s\S])*)\}\}\s*$/.exec(value)
  if (!whole) return interpolate(value, contexts)
  return JSON.parse(JSON.stringify(evaluateData(whole[1], contexts), data.replacer)) as unknown
}
