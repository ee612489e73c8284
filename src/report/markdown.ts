/**
 * Markdown building for the job summary and the PR comment. Every value from outside (stack outputs,
 * test names, error messages) goes through `escapeMarkdown`, so `|`, backticks, newlines and HTML in a
 * value can neither break a table nor inject markup. Pre-built markup is wrapped in `Markdown`.
 */

/** Markup that is already safe to embed as it is. Plain strings are always escaped. */
export class Markdown {
  constructor(readonly text: string) {}
}

export type Cell = string | Markdown

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }

/** Text shown literally inside HTML (attribute values, `<summary>` labels). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, char => HTML_ENTITIES[char])
}

/**
 * Text shown literally inline or in a table cell: HTML is neutralised, markdown punctuation
 * (`|` and backticks included) is backslash-escaped, newlines become `<br>`.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[&<>]/g, char => HTML_ENTITIES[char])
    .replace(/[\\`*_[\]~|]/g, char => `\\${char}`)
    .replace(/\r\n|\r|\n/g, '<br>')
}

/** Inline code that is safe in tables, whatever the text holds. */
export function code(text: string): Markdown {
  return new Markdown(`<code>${escapeMarkdown(text)}</code>`)
}

/** A link for http(s) URLs; anything else is shown as escaped text. */
export function link(text: string, url: string): Markdown {
  if (!/^https?:\/\//i.test(url)) return new Markdown(escapeMarkdown(text))
  const href = url.replace(/[\s|()<>`"\\[\]]/g, char => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
  return new Markdown(`[${escapeMarkdown(text)}](${href})`)
}

/** A URL shown as a link to itself. */
export function urlLink(url: string): Markdown {
  return link(url, url)
}

/** A fenced code block whose fence is longer than any backtick run in the text. */
export function codeBlock(text: string, language = ''): string {
  const longestRun = (text.match(/`+/g) ?? []).reduce((longest, run) => Math.max(longest, run.length), 0)
  const fence = '`'.repeat(Math.max(3, longestRun + 1))
  return `${fence}${language}\n${text}\n${fence}`
}

export function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, Math.max(0, maxChars - 1))}…`
}

/** Size as GitHub limits it; UTF-8 bytes are never fewer than characters, so this is safe for both limits. */
export function measure(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** A table that may be cut to fit; `overflow` says how many rows were left out and where to find them. */
export interface TableBlock {
  headers: string[]
  rows: Cell[][]
  /** Longest text of a single cell, before escaping. */
  maxCellChars: number
  overflow: (omitted: number) => string
}

/** A document block: fixed markup, or a table that can be cut. */
export type Block = string | TableBlock

function tableLine(cells: Cell[], maxCellChars: number): string {
  const rendered = cells.map(cell => (cell instanceof Markdown ? cell.text : escapeMarkdown(truncate(cell, maxCellChars))))
  return `| ${rendered.join(' | ')} |`
}

function tableHead(headers: string[]): string {
  return `${tableLine(headers, Infinity)}\n|${headers.map(() => ' --- |').join('')}`
}

/** The table with as many rows as fit in `budget` bytes, and an overflow note when rows were left out. */
function fitTable(table: TableBlock, budget: number): string {
  const head = tableHead(table.headers)
  const lines = [head]
  let size = measure(head)
  const reserve = measure(`\n\n${table.overflow(table.rows.length)}`)
  for (let index = 0; index < table.rows.length; index++) {
    const line = tableLine(table.rows[index], table.maxCellChars)
    const lineSize = measure(line) + 1
    const isLast = index === table.rows.length - 1
    if (size + lineSize + (isLast ? 0 : reserve) > budget) {
      const note = table.overflow(table.rows.length - index)
      if (index === 0) return measure(note) <= budget ? note : ''
      return `${lines.join('\n')}\n\n${note}`
    }
    lines.push(line)
    size += lineSize
  }
  return lines.join('\n')
}

const SEPARATOR = '\n\n'

/** Cuts text to at most `limit` bytes, on a character boundary. */
function hardCut(text: string, limit: number): string {
  if (measure(text) <= limit) return text
  return Buffer.from(text, 'utf8')
    .subarray(0, limit)
    .toString('utf8')
    .replace(/\uFFFD+$/, '')
}

/**
 * Renders the blocks in order within `limit` bytes. Fixed blocks are kept; when everything does not
 * fit, the tables share what is left fairly (small tables whole, large ones cut with their note).
 */
export function renderBlocks(blocks: Block[], limit: number): string {
  const tables = blocks.filter((block): block is TableBlock => typeof block !== 'string')
  const full = new Map(tables.map(table => [table, fitTable(table, Infinity)]))
  const assemble = (rendered: Map<TableBlock, string>): string =>
    blocks
      .map(block => (typeof block === 'string' ? block : (rendered.get(block) ?? '')))
      .filter(text => text !== '')
      .join(SEPARATOR)
  const whole = assemble(full)
  if (measure(whole) <= limit) return whole

  const fixed = blocks.filter((block): block is string => typeof block === 'string' && block !== '')
  let remaining = limit - fixed.reduce((sum, text) => sum + measure(text), 0) - measure(SEPARATOR) * (blocks.length - 1)
  const bySize = [...tables].sort((a, b) => measure(full.get(a) ?? '') - measure(full.get(b) ?? ''))
  const fitted = new Map<TableBlock, string>()
  bySize.forEach((table, index) => {
    const share = Math.floor(Math.max(0, remaining) / (bySize.length - index))
    const text = fitTable(table, share)
    fitted.set(table, text)
    remaining -= measure(text)
  })
  return hardCut(assemble(fitted), limit)
}

/** Opens a collapsible section; close it with a `'</details>'` block. */
export function detailsStart(summary: string, open = false): string {
  return `<details${open ? ' open' : ''}><summary>${escapeHtml(summary)}</summary>`
}
