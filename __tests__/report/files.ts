import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

/** A temp dir with empty GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, as a runner provides them. */
export function runnerFiles(): { dir: string; outputFile: string; summaryFile: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-report-'))
  const outputFile = path.join(dir, 'output')
  const summaryFile = path.join(dir, 'summary.md')
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  return { dir, outputFile, summaryFile, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** Parses a GITHUB_OUTPUT file (`name<<delimiter` blocks, as @actions/core writes them). */
export function parseOutputFile(file: string): Record<string, string> {
  const text = fs.readFileSync(file, 'utf8')
  const outputs: Record<string, string> = {}
  for (const match of text.matchAll(/^([^\n<]+)<<(ghadelimiter_[0-9a-f-]+)\n([\s\S]*?)\n\2$/gm)) {
    outputs[match[1]] = match[3]
  }
  return outputs
}
