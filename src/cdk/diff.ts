import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as core from '@actions/core'
import type { ResourceDifference, ResourceImpact } from '@aws-cdk/cloudformation-diff'
import { CloudFormationClient, GetTemplateCommand } from '@aws-sdk/client-cloudformation'
import { awsCall, awsClient, awsErrorName, type AwsContext } from '../aws/clients.js'
import { ActionError, errorMessage } from '../errors.js'
import type { InfraChange, InfraDiff, InfraDiffResource } from '../report/model.js'

/**
 * The infrastructure diff of a preview deploy: production's deployed template (CloudFormation
 * `GetTemplate` on `<name>-stack`) against the template this change would deploy to production,
 * classified with @aws-cdk/cloudformation-diff. Destructive changes (a resource that holds data
 * replaced or removed) are flagged; `fail-on-destructive-changes` turns them into a failure before
 * the preview is deployed.
 */

type Template = Record<string, unknown>

/** Resource types that hold data: replacing or removing one loses it (users, logs, secrets, items, objects). */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  'AWS::Cognito::UserPool',
  'AWS::Cognito::IdentityPool',
  'AWS::Logs::LogGroup',
  'AWS::SecretsManager::Secret',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::S3::Bucket',
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::EFS::FileSystem',
  'AWS::KMS::Key',
  'AWS::SQS::Queue',
  'AWS::Kinesis::Stream',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::OpenSearchService::Domain',
  'AWS::Elasticsearch::Domain',
  'AWS::Backup::BackupVault'
])

// Keyed by the enum's string values: the library itself is loaded only when a diff is made.
const CHANGE_OF: Partial<Record<`${ResourceImpact}`, InfraChange>> = {
  WILL_CREATE: 'added',
  WILL_UPDATE: 'changed',
  WILL_REPLACE: 'replaced',
  MAY_REPLACE: 'may be replaced',
  WILL_DESTROY: 'removed',
  WILL_ORPHAN: 'orphaned',
  WILL_IMPORT: 'imported'
}

/**
 * Where the bundle ships the AWS service database (`npm run bundle` copies it there). The library
 * that reads it (@aws-cdk/aws-service-spec) finds it through `path.join(__dirname, '..', 'db.json.gz')`,
 * evaluated when the module loads; an ES module bundle has no `__dirname`, so it crashed.
 */
const BUNDLED_SERVICE_SPEC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'aws-service-spec')

type DiffLibrary = typeof import('@aws-cdk/cloudformation-diff')
let diffLibrary: Promise<DiffLibrary> | undefined

/**
 * Loads @aws-cdk/cloudformation-diff on first use (it is large, and only previews need it). In the
 * bundle, a global `__dirname` is defined for as long as its modules evaluate, pointing one level
 * below the shipped database, then removed; from the sources, node_modules is used as it is.
 */
function loadDiffLibrary(): Promise<DiffLibrary> {
  diffLibrary ??= (async () => {
    const bundled = fs.existsSync(path.join(BUNDLED_SERVICE_SPEC, 'db.json.gz'))
    const global = globalThis as { __dirname?: string }
    if (bundled) global.__dirname = path.join(BUNDLED_SERVICE_SPEC, 'lib')
    try {
      return await import('@aws-cdk/cloudformation-diff')
    } finally {
      if (bundled) delete global.__dirname
    }
  })()
  return diffLibrary
}

const DESTRUCTIVE_CHANGES: ReadonlySet<InfraChange> = new Set(['replaced', 'may be replaced', 'removed'])

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

function plainRows(rows: string[][]): string[][] {
  return rows.map(row => row.map(cell => String(cell).replace(ANSI, '')))
}

function resourceRow(logicalId: string, difference: ResourceDifference): InfraDiffResource | undefined {
  const change = CHANGE_OF[difference.changeImpact]
  if (!change) return undefined
  const type = difference.newResourceType ?? difference.oldResourceType ?? 'unknown'
  const properties = [...Object.keys(difference.propertyUpdates), ...Object.keys(difference.otherChanges)].sort()
  return { logicalId, type, change, properties, destructive: DESTRUCTIVE_CHANGES.has(change) && STATEFUL_TYPES.has(type) }
}

const CHANGE_ORDER: InfraChange[] = ['removed', 'replaced', 'may be replaced', 'changed', 'added', 'orphaned', 'imported']

/** The diff of two templates, classified: pure, no AWS. */
export async function classifyDiff(productionStack: string, oldTemplate: Template, newTemplate: Template): Promise<InfraDiff> {
  const { fullDiff } = await loadDiffLibrary()
  const diff = fullDiff(oldTemplate, newTemplate)
  const resources = Object.entries(diff.resources.changes)
    .map(([logicalId, difference]) => resourceRow(logicalId, difference))
    .filter((row): row is InfraDiffResource => row !== undefined)
    .sort(
      (a, b) =>
        Number(b.destructive) - Number(a.destructive) ||
        CHANGE_ORDER.indexOf(a.change) - CHANGE_ORDER.indexOf(b.change) ||
        a.logicalId.localeCompare(b.logicalId)
    )
  const iam = diff.iamChanges
  const securityGroups = diff.securityGroupChanges
  return {
    productionStack,
    state: 'compared',
    resources,
    iamStatements: iam.hasChanges ? plainRows(iam.summarizeStatements()) : [],
    iamManagedPolicies: iam.hasChanges ? plainRows(iam.summarizeManagedPolicies()) : [],
    securityGroups: securityGroups.hasChanges ? plainRows(securityGroups.summarize()) : [],
    permissionsBroadened: diff.permissionsBroadened,
    outputsChanged: Object.keys(diff.outputs.changes).sort()
  }
}

/** Production does not exist yet: everything the template holds is new. */
export async function firstDeployDiff(productionStack: string, newTemplate: Template): Promise<InfraDiff> {
  return { ...(await classifyDiff(productionStack, {}, newTemplate)), state: 'no production' }
}

function unavailableDiff(productionStack: string, reason: string): InfraDiff {
  return {
    productionStack,
    state: 'unavailable',
    reason,
    resources: [],
    iamStatements: [],
    iamManagedPolicies: [],
    securityGroups: [],
    permissionsBroadened: false,
    outputsChanged: []
  }
}

/** Production's deployed template; undefined when the stack does not exist. */
export async function deployedTemplate(stackName: string, context: AwsContext): Promise<Template | undefined> {
  const client = awsClient(CloudFormationClient, context)
  try {
    const result = await awsCall(`GetTemplate ${stackName}`, context, () =>
      client.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }))
    )
    const body = result.TemplateBody ?? '{}'
    return JSON.parse(body) as Template
  } catch (error) {
    if (awsErrorName(error) === 'ValidationError' && /does not exist/i.test(errorMessage(error))) return undefined
    throw error
  }
}

/**
 * Production's deployed template against `newTemplate` (what this change would deploy to production).
 * Never throws: production that cannot be read (no permission, a YAML template) is a line in the report.
 */
export async function productionDiff(productionStack: string, newTemplate: Template, context: AwsContext): Promise<InfraDiff> {
  let deployed: Template | undefined
  try {
    deployed = await deployedTemplate(productionStack, context)
  } catch (error) {
    const reason = `${awsErrorName(error) ?? 'error'}: ${errorMessage(error)}`
    core.warning(`No infrastructure diff: production's template (stack ${productionStack}) could not be read (${reason}).`)
    return unavailableDiff(productionStack, reason)
  }
  if (!deployed) return firstDeployDiff(productionStack, newTemplate)
  return classifyDiff(productionStack, deployed, newTemplate)
}

/** The diff could not be made for a reason of the action's own (production's synthesis failed): a line in the report. */
export function diffUnavailable(productionStack: string, reason: string): InfraDiff {
  return unavailableDiff(productionStack, reason)
}

/** Logs the diff, one line per changed resource. */
export function logInfraDiff(diff: InfraDiff): void {
  if (diff.state === 'unavailable') return
  const head =
    diff.state === 'no production'
      ? `Production ${diff.productionStack} does not exist yet: everything is new`
      : `Infrastructure diff against production ${diff.productionStack}: ${diff.resources.length} resources change`
  core.info(
    [head, ...diff.resources.map(row => `  ${row.destructive ? '!' : ' '} ${row.change} ${row.logicalId} (${row.type})`)].join('\n')
  )
}

/** `fail-on-destructive-changes`: the destructive changes as a failure naming each resource; undefined when there are none. */
export function destructiveChangesError(diff: InfraDiff): ActionError | undefined {
  const destructive = diff.resources.filter(row => row.destructive)
  if (destructive.length === 0) return undefined
  const list = destructive.map(row => `${row.logicalId} (${row.type}) ${row.change}`).join('; ')
  return new ActionError(
    'Destructive changes to production',
    `This change would replace or remove resources of production stack ${diff.productionStack} that hold data: ${list}. ` +
      'The preview was not deployed (fail-on-destructive-changes: true).'
  )
}
