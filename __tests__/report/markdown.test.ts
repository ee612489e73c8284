import { type TableBlock, code, codeBlock, escapeMarkdown, link, measure, renderBlocks } from '../../src/report/markdown.js'
import { outputsTable } from '../../src/report/sections.js'
import { deployedReport } from './sample.js'

/** Splits a GFM table row into cells the way GitHub does: on every pipe not escaped with a backslash. */
function cells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '')
  return inner.split(/(?<!\\)\|/).map(cell => cell.trim())
}

function tableRows(markdown: string): string[] {
  return markdown.split('\n').filter(line => line.startsWith('|'))
}

const HOSTILE = {
  Pipe: 'a | b || c',
  Backticks: '``` `rm -rf` ```',
  Html: '<script>alert(1)</script><img src=x onerror=alert(1)>',
  Newlines: 'first line\nsecond line\r\nthird | line',
  Link: '[click](https://evil.example) ![img](x)',
  Backslash: 'ends with a backslash \\'
}

describe('markdown escaping', () => {
  it('keeps a table intact whatever the output values hold', () => {
    const report = deployedReport({ outputs: HOSTILE })
    const markdown = renderBlocks(
      [outputsTable(report, { maxCellChars: 500, maxMessageChars: 1000, maxLogLines: 10, elsewhere: '' })],
      100_000
    )

    const rows = tableRows(markdown)
    expect(rows).toHaveLength(2 + Object.keys(HOSTILE).length)
    for (const row of rows) expect(cells(row)).toHaveLength(2)
    expect(markdown.split('\n')).toHaveLength(rows.length)
    expect(markdown).not.toMatch(/<script|<img/)
    expect(markdown).not.toMatch(/(?<!\\)`/)
    expect(markdown).not.toMatch(/(?<!\\)\[click\]/)
  })

  it('escapes each special character so it shows literally', () => {
    expect(escapeMarkdown('a|b')).toBe('a\\|b')
    expect(escapeMarkdown('`x`')).toBe('\\`x\\`')
    expect(escapeMarkdown('<b>&amp;</b>')).toBe('&lt;b&gt;&amp;amp;&lt;/b&gt;')
    expect(escapeMarkdown('one\ntwo\r\nthree')).toBe('one<br>two<br>three')
    expect(escapeMarkdown('a\\|b')).toBe('a\\\\\\|b')
    expect(escapeMarkdown('*_~[]')).toBe('\\*\\_\\~\\[\\]')
  })

  it('makes inline code and links safe in a table cell', () => {
    const row =
      `| ${code('a|b`c').text} | ${link('docs', 'https://example.com/a|b (x)').text} ` + `| ${link('bad', 'javascript:alert(1)').text} |`

    expect(cells(row)).toEqual(['<code>a\\|b\\`c</code>', '[docs](https://example.com/a%7Cb%20%28x%29)', 'bad'])
  })

  it('fences code with more backticks than the text holds', () => {
    expect(codeBlock('plain')).toBe('```\nplain\n```')
    expect(codeBlock('has ``` and ````` inside', 'text')).toBe('``````text\nhas ``` and ````` inside\n``````')
  })
})

describe('renderBlocks', () => {
  const table = (rows: number, cell = 'x'.repeat(50)): TableBlock => ({
    headers: ['Name', 'Value'],
    rows: Array.from({ length: rows }, (_, index) => [`row ${index}`, cell]),
    maxCellChars: 1000,
    overflow: omitted => `… ${omitted} more rows`
  })

  it('renders everything when it fits', () => {
    const text = renderBlocks(['# Title', table(3), 'footer'], 10_000)
    expect(tableRows(text)).toHaveLength(5)
    expect(text).not.toContain('more rows')
    expect(text.endsWith('footer')).toBe(true)
  })

  it('cuts large tables to the limit, keeps fixed blocks and small tables whole', () => {
    const small = table(4)
    const large = table(5000)
    const text = renderBlocks(['# Title', small, large, 'footer'], 20_000)

    expect(measure(text)).toBeLessThanOrEqual(20_000)
    expect(text.startsWith('# Title')).toBe(true)
    expect(text.endsWith('footer')).toBe(true)
    const rows = tableRows(text)
    expect(rows.filter(row => /row [0-3] /.test(row)).length).toBeGreaterThanOrEqual(8)
    const shown = rows.length - 4 /* two header lines per table */ - 4
    expect(text).toContain(`… ${5000 - shown} more rows`)
    expect(measure(text)).toBeGreaterThan(18_000)
  })

  it('cuts long cells', () => {
    const text = renderBlocks([table(1, 'y'.repeat(5000))], 100_000)
    expect(text).toContain(`${'y'.repeat(999)}…`)
    expect(text).not.toContain('y'.repeat(1000))
  })
})
