import type { CleanupRow } from '../lifecycle/cleanup.js'
import type { SmokeRun, SmokeTestResult, SmokeTestStatus, Stage } from '../types.js'
import { type Block, type Cell, Markdown, code, codeBlock, detailsStart, escapeMarkdown, link, truncate, urlLink } from './markdown.js'
import { versionNoun, type InfraChange, type InfraDiff, type RunReport } from './model.js'

/** How much of each part a document shows; the comment shows less than the job summary. */
export interface Detail {
  maxCellChars: number
  maxMessageChars: number
  maxLogLines: number
  /** Where the rows a cut table leaves out can be read, e.g. "see the job summary". */
  elsewhere: string
}

/** Known outputs first, in the order a reader looks for them; the rest alphabetically. */
const OUTPUT_ORDER = ['McpUrl', 'ApiUrl', 'FunctionName', 'AliasArn', 'LogGroupName', 'DashboardUrl', 'OAuthDiscoveryUrl']

function orderedOutputs(outputs: Record<string, string>): [string, string][] {
  const rank = (key: string): number => {
    const index = OUTPUT_ORDER.indexOf(key)
    return index === -1 ? OUTPUT_ORDER.length : index
  }
  return Object.entries(outputs).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
}

function valueCell(value: string, maxCellChars: number): Cell {
  return /^https?:\/\/\S+$/i.test(value) && value.length <= maxCellChars ? urlLink(value) : value
}

function overflowNote(what: string, detail: Detail): (omitted: number) => string {
  return omitted => `_… ${omitted.toLocaleString('en-US')} more ${what} not shown: ${detail.elsewhere}._`
}

export function outputsTable(report: RunReport, detail: Detail): Block {
  const entries = orderedOutputs(report.outputs)
  if (entries.length === 0) return ''
  return {
    headers: ['Output', 'Value'],
    rows: entries.map(([key, value]) => [key, valueCell(value, detail.maxCellChars)]),
    maxCellChars: detail.maxCellChars,
    overflow: overflowNote('outputs', detail)
  }
}

const STATUS_ICON: Record<SmokeTestStatus, string> = {
  Failed: '❌ Failed',
  Warning: '⚠️ Warning',
  Skipped: '⏭️ Skipped',
  Passed: '✅ Passed'
}
const STATUS_ORDER: SmokeTestStatus[] = ['Failed', 'Warning', 'Skipped', 'Passed']

/** Failures first, so a cut table still shows what went wrong. */
function testsWorstFirst(tests: SmokeTestResult[]): SmokeTestResult[] {
  return [...tests].sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status))
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return `${minutes}m ${String(seconds).padStart(2, '0')}s`
}

export function smokeLine(smoke: SmokeRun): string {
  const { total, passed, failed, warnings, skipped } = smoke.report.summary
  const icon = smoke.outcome === 'failed' ? '❌' : smoke.outcome === 'passed' ? '✅' : '⏭️'
  return (
    `${icon} **Smoke test ${smoke.outcome}** (${escapeMarkdown(smoke.engine)}): ` +
    `${passed} passed, ${failed} failed, ${warnings} warnings, ${skipped} skipped of ${total}`
  )
}

export function smokeTable(smoke: SmokeRun, detail: Detail): Block {
  if (smoke.report.tests.length === 0) return ''
  return {
    headers: ['Test', 'Category', 'Status', 'Duration', 'Error'],
    rows: testsWorstFirst(smoke.report.tests).map(test => [
      test.name,
      test.category,
      STATUS_ICON[test.status] ?? String(test.status),
      formatDuration(test.duration.secs * 1000 + test.duration.nanos / 1e6),
      test.error ?? ''
    ]),
    maxCellChars: detail.maxCellChars,
    overflow: overflowNote('tests', detail)
  }
}

export function phasesTable(report: RunReport): Block {
  if (report.phases.length === 0) return ''
  const total = report.phases.reduce((sum, phase) => sum + phase.ms, 0)
  return {
    headers: ['Phase', 'Time'],
    rows: [...report.phases.map(phase => [phase.phase, formatDuration(phase.ms)]), [code('total'), formatDuration(total)]],
    maxCellChars: 100,
    overflow: () => ''
  }
}

/** The failure: what failed and where, the failed stack resources, the end of the tool's output. */
export function failureBlocks(report: RunReport, detail: Detail): Block[] {
  const failure = report.failure
  if (!failure) return []
  const blocks: Block[] = [
    `### ❌ Failed during ${escapeMarkdown(failure.phase)}`,
    codeBlock(truncate(failure.message, detail.maxMessageChars))
  ]
  if (failure.events && failure.events.length > 0) {
    blocks.push('**Failed stack resources**', {
      headers: ['Resource', 'Type', 'Status', 'Reason'],
      rows: failure.events.map(event => [event.logicalId, event.resourceType, event.status, event.reason]),
      maxCellChars: detail.maxCellChars,
      overflow: overflowNote('failed resources', detail)
    })
  }
  if (failure.logLines && failure.logLines.length > 0) {
    const shown = failure.logLines.slice(-detail.maxLogLines).map(line => truncate(line, detail.maxCellChars))
    blocks.push(`**Last ${shown.length} lines of output**`, codeBlock(shown.join('\n')))
  }
  return blocks
}

/** The function's own log lines, so a failure can be understood without opening the console. */
export function functionLogBlocks(report: RunReport, detail: Detail): Block[] {
  const logs = report.functionLogs
  if (!logs) return []
  if (logs.lines.length === 0)
    return [`_The function logged nothing in ${code(logs.logGroupName).text} since ${escapeMarkdown(logs.since)}._`]
  const shown = logs.lines.slice(-detail.maxLogLines).map(line => truncate(line, detail.maxCellChars))
  return [`Last ${shown.length} lines of ${code(logs.logGroupName).text} since ${escapeMarkdown(logs.since)}:`, codeBlock(shown.join('\n'))]
}

/** The heading of the versions table: Lambda versions or Cloud Run revisions. */
export function versionsHeading(report: RunReport): string {
  return versionNoun(report) === 'revision' ? 'Revisions' : 'Lambda versions'
}

export function versionsTable(report: RunReport, detail: Detail): Block {
  if (!report.versions || report.versions.length === 0) return ''
  const revisions = versionNoun(report) === 'revision'
  return {
    headers: revisions ? ['Revision', 'Commit', 'Created', 'Traffic'] : ['Version', 'Commit', 'Published', 'Alias'],
    rows: report.versions.map(row => [
      row.version,
      row.commit ? code(row.commit.slice(0, 12)) : '',
      row.date ?? '',
      [row.current ? (revisions ? 'serving' : 'live') : '', row.previous ? 'previous' : ''].filter(Boolean).join(', ')
    ]),
    maxCellChars: detail.maxCellChars,
    overflow: overflowNote('versions', detail)
  }
}

export function commitCell(report: RunReport): Markdown {
  const short = report.commitSha.slice(0, 12)
  return report.commitUrl ? link(short, report.commitUrl) : code(short)
}

function consoleBase(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`
  if (region.startsWith('us-gov-')) return `https://${region}.console.amazonaws-us-gov.com`
  return `https://${region}.console.aws.amazon.com`
}

/** Google Cloud console links for a Cloud Run service: its revisions and its logs. */
function cloudRunConsoleLinks(outputs: Record<string, string>): Markdown[] {
  const { ServiceName: service, Region: region, ProjectId: project } = outputs
  if (!service || !region || !project) return []
  const base = `https://console.cloud.google.com/run/detail/${encodeURIComponent(region)}/${encodeURIComponent(service)}`
  const query = `?project=${encodeURIComponent(project)}`
  return [link('Cloud Run service', `${base}/revisions${query}`), link('Logs', `${base}/logs${query}`)]
}

/** Console links: the AWS stack, function and logs when the outputs name them; a Cloud Run service's pages. */
export function consoleLinks(report: RunReport): Markdown[] {
  if (report.target === 'google-cloud-run') return cloudRunConsoleLinks(report.outputs)
  if (!report.region) return []
  const base = consoleBase(report.region)
  const region = encodeURIComponent(report.region)
  const links: Markdown[] = [
    link(
      'CloudFormation stack',
      `${base}/cloudformation/home?region=${region}#/stacks` +
        `?filteringText=${encodeURIComponent(report.stackName)}&filteringStatus=active&viewNested=true`
    )
  ]
  const functionName = report.outputs.FunctionName
  if (functionName) {
    links.push(link('Lambda function', `${base}/lambda/home?region=${region}#/functions/${encodeURIComponent(functionName)}`))
  }
  const logGroup = report.outputs.LogGroupName
  if (logGroup) {
    // The CloudWatch console double-encodes the log group name, with '$' in place of '%'.
    const encoded = encodeURIComponent(encodeURIComponent(logGroup)).replace(/%/g, '$')
    links.push(link('Logs', `${base}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${encoded}`))
  }
  return links
}

const CLEANUP_ACTION: Record<CleanupRow['action'], string> = {
  removed: '🗑️ removed',
  'nothing to remove': '🗑️ already gone',
  kept: 'kept',
  failed: '❌ destroy failed'
}

function cleanupCounts(report: RunReport): string {
  const rows = report.cleanup ?? []
  if (rows.length === 0) return 'no previews found'
  const count = (action: CleanupRow['action']): number => rows.filter(row => row.action === action).length
  const failed = count('failed')
  return `${count('removed') + count('nothing to remove')} removed, ${count('kept')} kept${failed > 0 ? `, ${failed} failed` : ''}`
}

/** `command: cleanup`: every preview it found, what it did and why; removed first. */
export function cleanupTable(report: RunReport, detail: Detail): Block {
  const rows = report.cleanup
  if (!rows || rows.length === 0) {
    return report.command === 'cleanup' && report.status === 'cleaned' ? '_No previews of this server found._' : ''
  }
  const order: CleanupRow['action'][] = ['failed', 'removed', 'nothing to remove', 'kept']
  return {
    headers: ['Preview', 'PR', 'State', 'Age', 'Action', 'Reason'],
    rows: [...rows]
      .sort((a, b) => order.indexOf(a.action) - order.indexOf(b.action) || a.prNumber - b.prNumber)
      .map(row => [
        code(row.name),
        `#${row.prNumber}`,
        row.state,
        row.ageDays === undefined ? '' : `${row.ageDays} d`,
        CLEANUP_ACTION[row.action],
        row.reason
      ]),
    maxCellChars: detail.maxCellChars,
    overflow: overflowNote('previews', detail)
  }
}

const STAGE_LABEL: Record<Stage, string> = { production: 'Production', preview: 'Preview' }

/** What was not there when a destroy found nothing to remove. */
function nothingThere(report: RunReport): string {
  if (versionNoun(report) === 'version') return 'the stack does not exist'
  return report.stage === 'preview' ? 'the service has no tag for this preview' : 'the service does not exist'
}

/** The one-line outcome that heads the summary and the PR comment. */
export function statusLine(report: RunReport): string {
  const where = `${STAGE_LABEL[report.stage]} ${code(report.stackName).text}`
  const noun = versionNoun(report)
  const version = report.functionVersion ? ` (${noun} ${escapeMarkdown(report.functionVersion)})` : ''
  const previous = escapeMarkdown(report.previousVersion ?? 'previous')
  switch (report.status) {
    case 'deployed':
      return report.smoke?.outcome === 'failed'
        ? `⚠️ ${where} deployed${version}, but the smoke test failed`
        : `✅ ${where} deployed${version}`
    case 'rolled back':
      return report.command === 'deploy'
        ? `↩️ ${where}: the smoke test failed, rolled back to ${noun} ${previous}`
        : `↩️ ${where} rolled back to ${noun} ${escapeMarkdown(report.functionVersion ?? 'unknown')}`
    case 'removed':
      return `🗑️ ${where} removed`
    case 'nothing to remove':
      return `🗑️ ${where}: nothing to remove (${nothingThere(report)})`
    case 'synthesized':
      return `✅ ${where} synthesized`
    case 'cleaned':
      return `🧹 Previews of ${code(report.stackName.replace(/-stack$/, '')).text} cleaned up: ${cleanupCounts(report)}`
    case 'failed':
      return (
        `❌ ${where}: ${escapeMarkdown(report.command)} failed` +
        `${report.failure ? ` during ${escapeMarkdown(report.failure.phase)}` : ''}`
      )
  }
}

const CHANGE_LABEL: Record<InfraChange, string> = {
  added: '➕ added',
  changed: '✏️ changed',
  replaced: '🔁 replaced',
  'may be replaced': '🔁 may be replaced',
  removed: '➖ removed',
  orphaned: '📤 no longer managed',
  imported: '📥 imported'
}

/** A cdk-diff summary table (header row first) as a Block; empty when there are no rows. */
function summaryTable(rows: string[][], what: string, detail: Detail): Block {
  if (rows.length < 2) return ''
  const [headers, ...body] = rows
  return {
    headers: headers.map(header => header || 'Change'),
    rows: body,
    maxCellChars: detail.maxCellChars,
    overflow: overflowNote(what, detail)
  }
}

/**
 * What the change would do to the production stack: destructive changes first and unfolded, the
 * counts, then the resources, IAM and security-group changes; each long part folded in <details>.
 */
export function infraDiffBlocks(diff: InfraDiff | undefined, detail: Detail, foldOver = 10): Block[] {
  if (!diff) return []
  const production = code(diff.productionStack).text
  if (diff.state === 'unavailable') {
    return [`⚠️ No infrastructure diff: production ${production} could not be read (${escapeMarkdown(diff.reason ?? 'unknown')}).`]
  }
  const blocks: Block[] = []
  const destructive = diff.resources.filter(row => row.destructive)
  if (destructive.length > 0) {
    blocks.push(
      `🛑 **Destructive changes to production** ${production}: resources that hold data would be replaced or removed`,
      destructive.map(row => `- ${code(row.logicalId).text} (${escapeMarkdown(row.type)}) ${escapeMarkdown(row.change)}`).join('\n')
    )
  }
  const count = (change: InfraChange): number => diff.resources.filter(row => row.change === change).length
  const counts = (['added', 'changed', 'replaced', 'may be replaced', 'removed', 'orphaned', 'imported'] as InfraChange[])
    .filter(change => count(change) > 0)
    .map(change => `${count(change)} ${change}`)
  if (diff.state === 'no production') {
    blocks.push(`Production ${production} does not exist yet: everything is new (${counts.join(', ') || 'no resources'}).`)
  } else if (diff.resources.length === 0 && diff.outputsChanged.length === 0) {
    blocks.push(`No infrastructure changes to production ${production}.`)
    return blocks
  } else {
    const outputs = diff.outputsChanged.length > 0 ? `; outputs changed: ${diff.outputsChanged.map(key => code(key).text).join(', ')}` : ''
    blocks.push(`Against production ${production}: ${counts.join(', ') || 'no resource changes'}${outputs}.`)
  }
  const fold = (title: string, open: boolean, ...content: Block[]): Block[] => {
    const kept = content.filter(block => block !== '')
    if (kept.length === 0) return []
    return open ? [`**${escapeMarkdown(title)}**`, ...kept] : [detailsStart(title), ...kept, '</details>']
  }
  if (diff.resources.length > 0) {
    const table: Block = {
      headers: ['Resource', 'Type', 'Change', 'Properties'],
      rows: diff.resources.map(row => [
        code(row.logicalId),
        row.type,
        `${CHANGE_LABEL[row.change]}${row.destructive ? ' 🛑' : ''}`,
        row.properties.join(', ')
      ]),
      maxCellChars: detail.maxCellChars,
      overflow: overflowNote('resources', detail)
    }
    blocks.push(...fold(`Resources (${diff.resources.length})`, diff.resources.length <= foldOver, table))
  }
  const iamRows = Math.max(0, diff.iamStatements.length - 1) + Math.max(0, diff.iamManagedPolicies.length - 1)
  if (iamRows > 0) {
    const title = `IAM changes (${iamRows})${diff.permissionsBroadened ? ': permissions broadened' : ''}`
    blocks.push(
      ...fold(
        title,
        iamRows <= foldOver,
        summaryTable(diff.iamStatements, 'IAM statements', detail),
        summaryTable(diff.iamManagedPolicies, 'managed policies', detail)
      )
    )
  }
  const sgRows = Math.max(0, diff.securityGroups.length - 1)
  if (sgRows > 0) {
    blocks.push(...fold(`Security-group changes (${sgRows})`, sgRows <= foldOver, summaryTable(diff.securityGroups, 'rules', detail)))
  }
  return blocks
}
