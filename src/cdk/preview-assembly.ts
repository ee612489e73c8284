import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import type { ResourceNames } from '../names.js'

/**
 * A preview of a CDK project that names its stack and function itself (cargo pmcp's scaffold:
 * `new McpServerStack(app, `${serverName}-stack`)`, `functionName: serverName`) is made from the
 * production synthesis: the cloud assembly is copied and its stack renamed, with every name that
 * would collide with production's (function, log group, role, exports, …) given the preview's.
 * `cdk deploy --app <that directory>` then deploys the copy; the app itself is not run again.
 */

/** Names taken from the production deployment, and the preview's to put in their place. */
export interface PreviewRenaming {
  production: Pick<ResourceNames, 'stackName' | 'functionName'>
  preview: Pick<ResourceNames, 'stackName' | 'functionName'>
}

/** Properties that give a resource a name unique per account and region (or globally), by resource type. */
const PHYSICAL_NAME_PROPERTIES: Record<string, string[]> = {
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::Lambda::LayerVersion': ['LayerName'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::IAM::ManagedPolicy': ['ManagedPolicyName'],
  'AWS::IAM::InstanceProfile': ['InstanceProfileName'],
  'AWS::ApiGatewayV2::Api': ['Name'],
  'AWS::ApiGateway::RestApi': ['Name'],
  'AWS::DynamoDB::Table': ['TableName'],
  'AWS::S3::Bucket': ['BucketName'],
  'AWS::SQS::Queue': ['QueueName'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::Events::Rule': ['Name'],
  'AWS::Events::EventBus': ['Name'],
  'AWS::CloudWatch::Alarm': ['AlarmName'],
  'AWS::CloudWatch::Dashboard': ['DashboardName'],
  'AWS::Cognito::UserPool': ['UserPoolName'],
  'AWS::Cognito::UserPoolDomain': ['Domain'],
  'AWS::StepFunctions::StateMachine': ['StateMachineName'],
  'AWS::SSM::Parameter': ['Name'],
  'AWS::KMS::Alias': ['AliasName']
}

/** Properties whose strings are data, never names of this stack's resources: kept verbatim. */
const VERBATIM_PROPERTIES = new Set(['Environment', 'Tags', 'Code', 'Description', 'Metadata'])

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Template = { Resources?: Record<string, { Type?: string; Properties?: Record<string, Json> }>; Outputs?: Record<string, Json> }

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** What the rewriting changed, for the log and the tests. */
export interface PreviewChange {
  where: string
  from: string
  to: string
}

/** True when value refers to a resource of this template or to the stack's own name: it differs from production's already. */
function namesAfterThisStack(value: Json, logicalIds: ReadonlySet<string>): boolean {
  if (Array.isArray(value)) return value.some(item => namesAfterThisStack(item, logicalIds))
  if (!value || typeof value !== 'object') return false
  const ref = value.Ref
  if (typeof ref === 'string' && (logicalIds.has(ref) || ref === 'AWS::StackName' || ref === 'AWS::StackId')) return true
  if (value['Fn::GetAtt'] !== undefined) return true
  const sub = value['Fn::Sub']
  const subText = Array.isArray(sub) ? sub[0] : sub
  if (
    typeof subText === 'string' &&
    [...subText.matchAll(/\$\{([^}!]+)\}/g)].some(([, name]) => logicalIds.has(name.split('.')[0]) || name === 'AWS::StackName')
  )
    return true
  return Object.values(value).some(item => namesAfterThisStack(item, logicalIds))
}

class Renamer {
  readonly changes: PreviewChange[] = []
  /** Production's stack name or function name as a whole word of a name: `/aws/lambda/<name>`, `pmcp-<name>-McpRoleArn`. */
  private readonly names: RegExp

  constructor(private readonly renaming: PreviewRenaming) {
    const { stackName, functionName } = renaming.production
    // Longest first, so `<name>-stack` is the stack's name and not the function's followed by `-stack`;
    // not `<name>x` or `x<name>` (another server whose name contains this one).
    const alternatives = [stackName, functionName].sort((a, b) => b.length - a.length).map(escapeRegExp)
    this.names = new RegExp(`(?<![A-Za-z0-9])(?:${alternatives.join('|')})(?![A-Za-z0-9])`, 'g')
  }

  /** A string that names something of this deployment: production's names replaced by the preview's. */
  private renameText(text: string): string {
    const { production, preview } = this.renaming
    return text.replace(this.names, match => (match === production.stackName ? preview.stackName : preview.functionName))
  }

  /**
   * A physical name: production's names inside it become the preview's; a name that contains none of
   * them (set by hand to something else) gets the preview's suffix, so it cannot be production's.
   */
  physicalName(value: Json, where: string, logicalIds: ReadonlySet<string>): Json {
    const branches = value && typeof value === 'object' && !Array.isArray(value) ? value['Fn::If'] : undefined
    if (Array.isArray(branches) && branches.length === 3) {
      // Either branch may be the name: one renamed does not make the other differ from production's.
      const [condition, ...names] = branches
      const noValue = (name: Json): boolean => !!name && typeof name === 'object' && !Array.isArray(name) && name.Ref === 'AWS::NoValue'
      return { 'Fn::If': [condition, ...names.map(name => (noValue(name) ? name : this.physicalName(name, where, logicalIds)))] }
    }
    const renamed = this.strings(value, where)
    if (JSON.stringify(renamed) !== JSON.stringify(value) || namesAfterThisStack(value, logicalIds)) return renamed
    const suffix = this.renaming.preview.functionName.slice(this.renaming.production.functionName.length) || '-preview'
    if (typeof value === 'string') return this.record(where, value, `${value}${suffix}`)
    if (value && typeof value === 'object' && !Array.isArray(value) && Array.isArray(value['Fn::Join'])) {
      const [separator, parts] = value['Fn::Join'] as [Json, Json]
      if (Array.isArray(parts)) {
        this.record(where, JSON.stringify(value), `… + ${JSON.stringify(suffix)}`)
        return { 'Fn::Join': ['', [{ 'Fn::Join': [separator, parts] }, suffix]] }
      }
    }
    if (value && typeof value === 'object' && !Array.isArray(value) && typeof value['Fn::Sub'] === 'string') {
      return { 'Fn::Sub': this.record(where, value['Fn::Sub'], `${value['Fn::Sub']}${suffix}`) }
    }
    throw new ActionError(
      'Preview cannot rename a resource',
      `${where} is set to ${JSON.stringify(value)}, a name a preview beside production would share with it. ` +
        'Name it after PMCP_FUNCTION_NAME or PMCP_STACK_NAME (the action sets both for every CDK app), or leave the name to CloudFormation.'
    )
  }

  /** Every string under value with production's names replaced (references and other values as they are). */
  strings(value: Json, where: string): Json {
    if (typeof value === 'string') {
      const renamed = this.renameText(value)
      return renamed === value ? value : this.record(where, value, renamed)
    }
    if (Array.isArray(value)) return value.map(item => this.strings(item, where))
    if (value && typeof value === 'object') {
      const result: Record<string, Json> = {}
      for (const [key, item] of Object.entries(value)) {
        // Logical ids (Ref, GetAtt) name resources of this template, not deployed names.
        result[key] = key === 'Ref' || key === 'Fn::GetAtt' || key === 'Fn::ImportValue' ? item : this.strings(item, where)
      }
      return result
    }
    return value
  }

  private record(where: string, from: string, to: string): string {
    this.changes.push({ where, from, to })
    return to
  }
}

/**
 * The preview's template made from production's: physical names and exports renamed, references to
 * production's function and stack by name pointed at the preview's. Environment, tags, code and
 * descriptions are kept verbatim: the function's `[environment]` stays what deploy.toml says.
 */
export function previewTemplate(template: Template, renaming: PreviewRenaming): { template: Template; changes: PreviewChange[] } {
  const renamer = new Renamer(renaming)
  const result = JSON.parse(JSON.stringify(template)) as Template
  const logicalIds = new Set(Object.keys(result.Resources ?? {}))
  for (const [logicalId, resource] of Object.entries(result.Resources ?? {})) {
    const properties = resource.Properties
    if (!properties) continue
    const named = PHYSICAL_NAME_PROPERTIES[resource.Type ?? ''] ?? []
    for (const [key, value] of Object.entries(properties)) {
      const where = `${logicalId}.${key}`
      if (named.includes(key)) properties[key] = renamer.physicalName(value, where, logicalIds)
      else if (!VERBATIM_PROPERTIES.has(key)) properties[key] = renamer.strings(value, where)
    }
  }
  for (const [outputId, output] of Object.entries(result.Outputs ?? {})) {
    if (!output || typeof output !== 'object' || Array.isArray(output)) continue
    const exported = output.Export
    if (exported && typeof exported === 'object' && !Array.isArray(exported) && exported.Name !== undefined) {
      exported.Name = renamer.physicalName(exported.Name, `Outputs.${outputId}.Export.Name`, logicalIds)
    }
    if (output.Value !== undefined) output.Value = renamer.strings(output.Value, `Outputs.${outputId}`)
  }
  return { template: result, changes: renamer.changes }
}

interface StackArtifact {
  type: string
  properties?: { templateFile?: string; stackName?: string; stackTemplateAssetObjectUrl?: string; [key: string]: unknown }
  dependencies?: string[]
  displayName?: string
  [key: string]: unknown
}

interface AssemblyManifest {
  artifacts?: Record<string, StackArtifact>
  [key: string]: unknown
}

interface AssetManifest {
  files?: Record<string, { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }>
  [key: string]: unknown
}

export interface PreviewAssembly {
  /** The assembly to deploy: `cdk deploy --app <dir>`. */
  dir: string
  templatePath: string
  changes: PreviewChange[]
}

/**
 * Copies the cloud assembly in `assemblyDir` to `outDir` with production's stack (`artifactId`)
 * turned into the preview: the only stack in the copy, named `preview.stackName`, its template
 * rewritten (see previewTemplate) and published under the hash of what it now says, so the
 * template production uploaded is never what the preview deploys.
 */
export function writePreviewAssembly(assemblyDir: string, artifactId: string, outDir: string, renaming: PreviewRenaming): PreviewAssembly {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8')) as AssemblyManifest
  const artifacts = manifest.artifacts ?? {}
  const stack = artifacts[artifactId]
  const templateFile = stack?.properties?.templateFile
  if (!stack || !templateFile) throw new Error(`No stack ${artifactId} in the cloud assembly ${assemblyDir}`)
  const otherStacks = (stack.dependencies ?? []).filter(id => artifacts[id]?.type === 'aws:cloudformation:stack')
  if (otherStacks.length > 0) {
    throw new ActionError(
      'Preview of a stack with dependencies',
      `Stack ${renaming.production.stackName} depends on the stacks ${otherStacks.join(', ')}; a preview made from it would share them ` +
        'with production. Name the stacks from PMCP_STACK_NAME so the app itself defines the preview.'
    )
  }

  fs.rmSync(outDir, { recursive: true, force: true })
  fs.cpSync(assemblyDir, outDir, { recursive: true })

  const original = JSON.parse(fs.readFileSync(path.join(outDir, templateFile), 'utf8')) as Template
  const { template, changes } = previewTemplate(original, renaming)
  const templateText = JSON.stringify(template, undefined, 1)
  fs.writeFileSync(path.join(outDir, templateFile), templateText)
  const hash = createHash('sha256').update(templateText).digest('hex')

  // The template is an asset of its own, keyed by the hash of its text: publish the new text under its own hash.
  for (const id of stack.dependencies ?? []) {
    const dependency = artifacts[id]
    const file = dependency?.type === 'cdk:asset-manifest' ? (dependency.properties as { file?: string } | undefined)?.file : undefined
    if (!file) continue
    const assets = JSON.parse(fs.readFileSync(path.join(outDir, file), 'utf8')) as AssetManifest
    for (const [key, asset] of Object.entries(assets.files ?? {})) {
      if (asset.source?.path !== templateFile) continue
      for (const destination of Object.values(asset.destinations ?? {})) destination.objectKey = `${hash}.json`
      delete assets.files?.[key]
      assets.files = { ...assets.files, [hash]: asset }
      const url = stack.properties?.stackTemplateAssetObjectUrl
      if (url && stack.properties) stack.properties.stackTemplateAssetObjectUrl = url.replace(key, hash)
    }
    fs.writeFileSync(path.join(outDir, file), JSON.stringify(assets, undefined, 2))
  }

  // Only the preview stack (and what it needs) stays: no other stack of the app can be deployed from here.
  const kept = new Set([artifactId, ...(stack.dependencies ?? [])])
  manifest.artifacts = Object.fromEntries(
    Object.entries(artifacts)
      .filter(([id, artifact]) => kept.has(id) || artifact.type !== 'aws:cloudformation:stack')
      .map(([id, artifact]) =>
        id === artifactId
          ? [
              id,
              {
                ...artifact,
                displayName: renaming.preview.stackName,
                properties: { ...artifact.properties, stackName: renaming.preview.stackName }
              }
            ]
          : [id, artifact]
      )
  )
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, undefined, 2))

  for (const change of changes) core.info(`  preview: ${change.where}: ${change.from} → ${change.to}`)
  return { dir: outDir, templatePath: path.join(outDir, templateFile), changes }
}
