import * as core from '@actions/core'
import { type RunReport, smokeOutcome } from './model.js'

/** The action outputs a report knows, by output name; unknown ones are left out, never set empty. */
export function reportOutputs(report: RunReport): Record<string, string> {
  const values: Record<string, string | undefined> = {
    // A run whose deploy.toml could not be read knows no stack; its report is named after the file.
    'stack-name': report.failure?.phase === 'config' ? undefined : report.stackName,
    'api-url': report.outputs.ApiUrl,
    'mcp-url': report.outputs.McpUrl,
    'function-version': report.functionVersion,
    'previous-version': report.previousVersion,
    'smoke-test': smokeOutcome(report),
    'outputs-json': Object.keys(report.outputs).length > 0 ? JSON.stringify(report.outputs) : undefined,
    'template-path': report.templatePath,
    'aws-account-id': report.awsAccountId,
    'rustc-version': report.rustcVersion,
    'cache-hit': report.cacheHit === undefined ? undefined : String(report.cacheHit),
    'deployment-id': report.outputs.DeploymentId
  }
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''))
}

export function setReportOutputs(report: RunReport): void {
  for (const [name, value] of Object.entries(reportOutputs(report))) core.setOutput(name, value)
}
