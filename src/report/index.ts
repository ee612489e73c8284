import * as core from '@actions/core'
import { errorMessage } from '../errors.js'
import { redactDeep } from '../masking.js'
import { type CommentOptions, type CommentResult, publishComment } from './comment.js'
import type { RunReport } from './model.js'
import { setReportOutputs } from './outputs.js'
import { writeSummary } from './summary.js'

export type { CommentOptions, CommentResult } from './comment.js'
export type { FailurePhase, RunFailure, RunReport, RunStatus, VersionRow } from './model.js'

export type ReportOptions = CommentOptions

export interface ReportResult {
  summaryWritten: boolean
  comment: CommentResult
}

/**
 * Reports the end of a command: action outputs, job summary, the stack's PR comment. Reporting
 * problems are warnings; this never throws, so the command's own result stands.
 *
 * The runner masks secrets in the log only. Everything here is written from a copy of the report
 * with every masked value redacted (src/masking.ts): failure messages, smoke-test results, function
 * logs and stack outputs can quote what a server, a function or an AWS error saw. Redacting the data
 * before it is rendered also catches a secret that markdown escaping or truncation would change.
 */
export async function publishReport(unredacted: RunReport, options: ReportOptions): Promise<ReportResult> {
  const report = redactDeep(unredacted)
  try {
    setReportOutputs(report)
  } catch (error) {
    core.warning(`Could not set the action outputs: ${errorMessage(error)}`)
  }
  let summaryWritten = false
  try {
    summaryWritten = await writeSummary(report)
  } catch (error) {
    core.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }
  let comment: CommentResult
  try {
    comment = await publishComment(report, options)
  } catch (error) {
    comment = { action: 'failed', reason: errorMessage(error) }
    core.warning(`Could not write the PR comment: ${comment.reason}`)
  }
  return { summaryWritten, comment }
}
