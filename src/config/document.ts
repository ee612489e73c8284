/** The parsed deploy.toml as the checks read it: tables of unknown values, read without trusting their types. */

export type Table = Record<string, unknown>

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

/** The table under `name`, or an empty one when it is missing or not a table (validation reports that). */
export function section(document: Table, name: string): Table {
  const value = document[name]
  return isTable(value) ? value : {}
}

/** The string values of a table; the others are reported by validation. */
export function stringMap(value: unknown): Record<string, string> {
  if (!isTable(value)) return {}
  return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === 'string')) as Record<string, string>
}

/** Where the checks report what they find: an error or a warning on the line of a key. */
export interface ConfigFindings {
  /** deploy.toml, relative to the workspace, as annotations name it. */
  readonly file: string
  error(keyPath: readonly string[], problem: string, allowed: string): void
  warning(keyPath: readonly string[], message: string, title?: string): void
  lineOf(keyPath: readonly string[]): number
}
