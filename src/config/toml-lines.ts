/**
 * Where each table and key of a TOML document starts, so that a problem found after parsing can
 * still point at its line. smol-toml gives positions for syntax errors only.
 *
 * The n-th `[[name]]` table of an array of tables is remembered as `name[n]` (0-based, as cargo-pmcp
 * numbers them), its keys under it; `name` alone is the first one.
 */
export class TomlLineIndex {
  private readonly lines = new Map<string, number>()
  private readonly arrayCounts = new Map<string, number>()

  constructor(source: string) {
    let table: string[] = []
    source.split(/\r?\n/).forEach((text, index) => {
      const line = index + 1
      const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/.exec(text)
      if (header) {
        table = splitDottedKey(header[1])
        // `[auth.scopes.custom]` also starts `[auth.scopes]` when no line of its own does.
        for (let length = 1; length <= table.length; length++) this.remember(table.slice(0, length), line)
        if (/^\s*\[\[/.test(text)) {
          const base = table.join('.')
          const count = this.arrayCounts.get(base) ?? 0
          this.arrayCounts.set(base, count + 1)
          table = [...table.slice(0, -1), `${table[table.length - 1]}[${count}]`]
          this.remember(table, line)
        }
        return
      }
      const assignment = /^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=/.exec(text)
      if (assignment) this.remember([...table, ...splitDottedKey(assignment[1])], line)
    })
  }

  /** The line of the key, else of its nearest enclosing table that appears, else 1. */
  lineOf(keyPath: readonly string[]): number {
    for (let length = keyPath.length; length > 0; length--) {
      const prefix = keyPath.slice(0, length)
      const line = this.lines.get(prefix.join('.')) ?? this.lines.get(withoutIndex(prefix).join('.'))
      if (line !== undefined) return line
    }
    return 1
  }

  private remember(keyPath: string[], line: number): void {
    const key = keyPath.join('.')
    if (!this.lines.has(key)) this.lines.set(key, line)
  }
}

/** `iam.statements[2]` as `iam.statements`: an item written inline has no header of its own. */
function withoutIndex(keyPath: string[]): string[] {
  return keyPath.map(part => part.replace(/\[\d+\]$/, ''))
}

function splitDottedKey(text: string): string[] {
  const parts: string[] = []
  const pattern = /\s*("([^"]*)"|'([^']*)'|[A-Za-z0-9_-]+)\s*(\.|$)/y
  let match: RegExpExecArray | null
  while (pattern.lastIndex < text.length && (match = pattern.exec(text)) !== null) {
    parts.push(match[2] ?? match[3] ?? match[1])
  }
  return parts
}
