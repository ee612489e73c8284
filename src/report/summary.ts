import * as core from '@actions/core'
import { redact } from '../masking.js'
import { type Block, type Cell, escapeMarkdown, renderBlocks } from './markdown.js'
import type { RunReport } from './model.js'
import {
  type Detail,
  cleanupTable,
  commitCell,
  consoleLinks,
  failureBlocks,
  functionLogBlocks,
  infraDiffBlocks,
  outputsTable,
  phasesTable,
  smokeLine,
  smokeTable,
  statusLine,
  versionsHeading,
  versionsTable
} from './sections.js'

/** GitHub shows at most 1 MiB of summary per step; stay below it. */
export const SUMMARY_LIMIT_BYTES = 1_000_000

const SUMMARY_DETAIL: Detail = {
  maxCellChars: 2000,
  maxMessageChars: 20_000,
  maxLogLines: 200,
  elsewhere: 'a job summary holds at most 1 MiB'
}

function factsTable(report: RunReport): Block {
  const rows: Cell[][] = [
    ['Environment', report.stage],
    ['Commit', commitCell(report)]
  ]
  if (report.region) rows.push(['Region', report.region])
  if (report.functionVersion) rows.push(['Function version', report.functionVersion])
  if (report.previousVersion) rows.push(['Previous version', report.previousVersion])
  if (report.deployMethod) rows.push(['Deploy method', report.deployMethod])
  return { headers: ['Stack', report.stackName], rows, maxCellChars: SUMMARY_DETAIL.maxCellChars, overflow: () => '' }
}

function section(title: string, ...blocks: Block[]): Block[] {
  const content = blocks.filter(block => block !== '')
  return content.length === 0 ? [] : [`### ${title}`, ...content]
}

/** The job summary as markdown: facts, console links, outputs, smoke test, failure, versions, phases. */
export function renderSummary(report: RunReport): string {
  const links = consoleLinks(report)
  const blocks: Block[] = [
    `## ${statusLine(report)}`,
    factsTable(report),
    links.length > 0 ? `AWS console: ${links.map(link => link.text).join(' · ')}` : '',
    ...failureBlocks(report, SUMMARY_DETAIL),
    ...section('Function logs', ...functionLogBlocks(report, SUMMARY_DETAIL)),
    ...section('Infrastructure diff against production', ...infraDiffBlocks(report.infraDiff, SUMMARY_DETAIL, 50)),
    ...section('Previews', cleanupTable(report, SUMMARY_DETAIL)),
    ...section('Outputs', outputsTable(report, SUMMARY_DETAIL)),
    ...(report.smoke ? section('Smoke test', smokeLine(report.smoke), smokeTable(report.smoke, SUMMARY_DETAIL)) : []),
    ...section(versionsHeading(report), versionsTable(report, SUMMARY_DETAIL)),
    ...section('Time per phase', phasesTable(report))
  ]
  return renderBlocks(blocks, SUMMARY_LIMIT_BYTES)
}

/** Appends the summary to `GITHUB_STEP_SUMMARY`; outside a runner there is nothing to write to. */
export async function writeSummary(report: RunReport): Promise<boolean> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.info('No job summary written: GITHUB_STEP_SUMMARY is not set (not running on a GitHub runner).')
    return false
  }
  try {
    await core.summary.addRaw(renderSummary(report), true).write()
  } catch (error) {
    core.summary.emptyBuffer()
    throw error
  }
  return true
}

/**
 * The job summary of a run that ended before it had a report to publish (its inputs were refused,
 * or the run was skipped as untrusted): a heading and the message, so the run's page still says
 * what happened, with every masked value redacted. Never throws: a summary that cannot be written is a warning.
 */
export async function writeNoteSummary(heading: string, message: string): Promise<boolean> {
  if (!process.env.GITHUB_STEP_SUMMARY) return false
  try {
    const text = `## ${escapeMarkdown(redact(heading))}\n\n${escapeMarkdown(redact(message))}\n`
    await core.summary.addRaw(renderBlocks([text], SUMMARY_LIMIT_BYTES), true).write()
    return true
  } catch (error) {
    core.summary.emptyBuffer()
    core.warning(`Could not write the job summary: ${error instanceof Error ? error.message : String(error)}`)
    return false
  }
}
