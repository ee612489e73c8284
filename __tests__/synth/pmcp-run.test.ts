/**
 * The template a pmcp-run deploy hands pmcp.run (pmcpRunTemplate, real `cdk synth`), made as
 * `cargo pmcp deploy --target pmcp-run` makes it, on both engines:
 *
 * - the rendered pmcp.run stack (templates/pmcp-run): cargo pmcp's Lambda-only stack (function, role
 *   and policy, log group kept 7 days; outputs LambdaArn, LambdaName, ApiUrl placeholder,
 *   DashboardUrl, McpRoleArn) with the `mcp:*` Metadata extracted from the project;
 * - a deploy/ project of the repository's own (testkit/fixtures/cargo-pmcp-0.28-pmcp-run-own:
 *   cargo pmcp's pmcp-run scaffold with one edit), which gets the metadata as `-c mcp:*` context;
 *
 * then deploy.toml's [environment] (without [secrets] names) and [server] sizing merged into the
 * synthesized template; a preview (`<name>-pr7`) of each.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Match, Template } from 'aws-cdk-lib/assertions'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { cdkProjectFor } from '../../src/cdk/project.js'
import { readRunContext } from '../../src/context.js'
import { readInputs } from '../../src/inputs.js'
import type { ReportFacts } from '../../src/pipeline.js'
import { resolvePlan, type Plan } from '../../src/plan.js'
import { pmcpRunSynthCommand, pmcpRunTemplate, type PmcpRunTemplate } from '../../src/targets/pmcp-run/synth.js'
import { cfnLintAll, errorsOnly } from '../../testkit/synth.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

/** Everything that shapes the aws-lambda stack, to show none of it reaches the pmcp.run one, and what does. */
const PMCP_RUN_FULL = `
[target]
type = "pmcp-run"
version = "1.0.0"
[aws]
region = "eu-west-1"
[server]
name = "weather-mcp"
memory_mb = 1024
timeout_seconds = 45
mcp_path = "/mcp"
[environment]
RUST_LOG = "debug"
PMCP_ORGANIZATION_ID = "acme"
GREETING = "hello"
OPENAI_API_KEY = "declared in [environment] too, but a [secrets] name"
[secrets]
OPENAI_API_KEY = "OpenAI key for the forecast tool"
[auth]
enabled = true
provider = "cognito"
callback_urls = ["https://claude.ai/api/mcp/auth_callback"]
[observability]
log_retention_days = 14
[observability.alarms]
error_threshold = 4
latency_threshold_ms = 1500
[api_gateway]
rate_limit = 100
cors_origins = ["https://app.example.com"]
[[iam.tables]]
name = "Forecasts"
actions = ["read"]
include_indexes = true
[[iam.statements]]
effect = "Allow"
actions = ["sqs:SendMessage"]
resources = ["arn:aws:sqs:*:*:forecast-queue"]
[metadata]
server_type = "graph-rag"
`

/** What cargo pmcp reads the server's mcp:* metadata from (McpMetadata::from_pmcp_toml). */
const PMCP_TOML = `
[server]
name = "weather-server"
[[secrets.definitions]]
name = "OPENAI_API_KEY"
description = "OpenAI key"
[[tools]]
name = "forecast"
`

/** A preview with nothing sized and no [environment]: the stack's own 256 MB and 30 s, and its own variables. */
const PMCP_RUN_BARE = '[target]\ntype = "pmcp-run"\nversion = "1.0.0"\n[server]\nname = "weather-mcp"\n'

const OWN_FIXTURE = path.join(REPO_ROOT, 'testkit', 'fixtures', 'cargo-pmcp-0.28-pmcp-run-own')

function planFor(dir: string, preview = false): Plan {
  const inputs = { ...readInputs(dir), workingDirectory: dir, ...(preview ? { environment: 'preview' as const, previewId: '7' } : {}) }
  return resolvePlan(inputs, { ...readRunContext({}), workspace: dir }, { setByUser: [], env: {} })
}

/**
 * The fixture's deploy/ copied, its stack.ts also putting the `mcp:customStack` context it receives
 * into the Metadata (as `test:customStack`), so the test sees the taint.
 */
function ownProject(dir: string): string {
  fs.cpSync(OWN_FIXTURE, dir, { recursive: true })
  const stack = path.join(dir, 'deploy', 'lib', 'stack.ts')
  const source = fs.readFileSync(stack, 'utf8')
  const probe = "metadata['test:customStack'] = this.node.tryGetContext('mcp:customStack') ?? 'absent';\n    "
  fs.writeFileSync(stack, source.replace('this.templateOptions.metadata = metadata;', `${probe}this.templateOptions.metadata = metadata;`))
  return dir
}

interface Made {
  plan: Plan
  made: PmcpRunTemplate
  json: Record<string, any>
  template: Template
}

async function make(dir: string, preview = false): Promise<Made> {
  const plan = planFor(dir, preview)
  const made = await pmcpRunTemplate(plan, await cdkProjectFor(plan))
  const json = JSON.parse(made.template) as Record<string, any>
  return { plan, made, json, template: Template.fromJSON(json) }
}

const functionOf = (made: Made): [string, Record<string, any>] => {
  const functions = Object.entries(made.template.findResources('AWS::Lambda::Function'))
  expect(functions).toHaveLength(1)
  return [functions[0][0], functions[0][1].Properties]
}

let rendered: Made
let renderedPreview: Made & { facts: ReportFacts; status: string }
let own: Made
let ownPreview: Made
const removers: (() => void)[] = []

function workDir(prefix: string): string {
  const work = makeWorkDir(prefix)
  removers.push(work.remove)
  return work.dir
}

beforeAll(async () => {
  const full = writeConfig(workDir('pmcprun-full'), PMCP_RUN_FULL)
  fs.writeFileSync(path.join(full, 'pmcp.toml'), PMCP_TOML)
  const bare = writeConfig(workDir('pmcprun-bare'), PMCP_RUN_BARE)
  fs.writeFileSync(path.join(bare, 'Cargo.toml'), '[package]\nname = "weather-crate"\nversion = "0.1.0"\n')
  const previewPlan = planFor(bare, true)
  const facts: ReportFacts = { outputs: {} }
  // Four synths, two at a time.
  ;[rendered, own] = await Promise.all([make(full), make(ownProject(workDir('pmcprun-own')))])
  const [status, preview] = await Promise.all([
    pmcpRunSynthCommand(previewPlan).run({ plan: previewPlan, facts, phase: (_name, work) => Promise.resolve(work()) }),
    make(ownProject(workDir('pmcprun-own-preview')), true)
  ])
  ownPreview = preview
  const text = fs.readFileSync(facts.templatePath!, 'utf8')
  const json = JSON.parse(text) as Record<string, any>
  renderedPreview = {
    plan: previewPlan,
    made: { templatePath: facts.templatePath!, template: text, synth: undefined as never },
    json,
    template: Template.fromJSON(json),
    facts,
    status
  }
}, 300_000)

afterAll(() => removers.forEach(remove => remove()))

describe('the rendered pmcp.run stack', () => {
  const logicalIdOf = (type: string): string => Object.keys(rendered.template.findResources(type))[0]

  it('creates exactly the function, its role and policy, and its log group', () => {
    expect(rendered.made.synth.resourceCounts).toEqual({
      'AWS::Lambda::Function': 1,
      'AWS::IAM::Role': 1,
      'AWS::IAM::Policy': 1,
      'AWS::Logs::LogGroup': 1
    })
    // Nothing pmcp.run provides itself: no HTTP API, alias, Cognito, dashboard, alarms or secrets.
    const types = JSON.stringify(Object.keys(rendered.made.synth.resourceCounts))
    for (const absent of ['ApiGateway', 'Alias', 'Version', 'Cognito', 'CloudWatch', 'SecretsManager', 'Permission'])
      expect(types).not.toContain(absent)
    expect(rendered.made.template).not.toContain('secretsmanager')
    // No CDK bootstrap parameter or rule, no asset: the template is self-contained.
    expect(rendered.json.Parameters).toBeUndefined()
    expect(rendered.json.Rules).toBeUndefined()
    expect(rendered.json.Description).toBe('MCP Server: weather-mcp')
  })

  it('is written beside the synthesized template, which has not got the merges', () => {
    const { templatePath, template, synth } = rendered.made
    expect(templatePath).toBe(path.join(path.dirname(synth.templatePath), 'weather-mcp-stack.pmcp-run.template.json'))
    expect(fs.readFileSync(templatePath, 'utf8')).toBe(template)
    const synthesized = JSON.parse(fs.readFileSync(synth.templatePath, 'utf8'))
    const [, properties] = Object.entries(synthesized.Resources).find(([, r]: [string, any]) => r.Type === 'AWS::Lambda::Function')! as [
      string,
      any
    ]
    expect(properties.Properties).toMatchObject({ MemorySize: 256, Timeout: 30 })
    expect(properties.Properties.Environment.Variables).not.toHaveProperty('GREETING')
  })

  it("has the mcp:* Metadata pmcp.run reads: extracted from pmcp.toml, [metadata] over it, cargo-pmcp's renderer shape", () => {
    expect(JSON.stringify(rendered.json.Metadata)).toBe(
      JSON.stringify({
        'mcp:capabilities': { tools: ['forecast'], resources: false, composition: false },
        'mcp:resources': { secrets: [{ name: 'OPENAI_API_KEY', description: 'OpenAI key', required: true }] },
        'mcp:serverId': 'weather-server',
        'mcp:serverType': 'graph-rag',
        'mcp:version': '1.0'
      })
    )
  })

  it('sizes the function from [server] and gives it [environment] over the composition variables, without the secret', () => {
    rendered.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'weather-mcp',
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 45,
      Code: { S3Bucket: 'pmcp-run-pending-upload', S3Key: 'weather-mcp/bootstrap.zip' },
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON' },
      Tags: Match.arrayWith([
        { Key: 'managed-by', Value: 'pmcp' },
        { Key: 'service', Value: 'weather-mcp' },
        { Key: 'target', Value: 'pmcp-run' }
      ])
    })
    const [, properties] = functionOf(rendered)
    expect(properties.Environment.Variables).toEqual({
      RUST_LOG: 'debug',
      PMCP_ORGANIZATION_ID: 'acme',
      PMCP_SERVER_ID: 'weather-mcp',
      MCP_SERVERS_TABLE: 'McpServer',
      GREETING: 'hello'
    })
    expect(rendered.made.template).not.toContain('declared in [environment] too')
  })

  it('keeps logs 7 days whatever [observability] says, as cargo pmcp does on pmcp.run', () => {
    const { template } = rendered
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: {
        RetentionInDays: 7,
        LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: logicalIdOf('AWS::Lambda::Function') }]] }
      },
      DeletionPolicy: 'Delete'
    })
  })

  it('lets the function read the registry, invoke other servers and do what [iam] declares, in the account and region of pmcp.run', () => {
    const inAccount = (service: string, resource: string): unknown => ({
      'Fn::Join': ['', [`arn:aws:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]]
    })
    const table = (resource: string): unknown => ({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]
      ]
    })
    rendered.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:Query'],
            Resource: [inAccount('dynamodb', 'table/McpServer'), inAccount('dynamodb', 'table/McpServer/*')]
          },
          { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: inAccount('lambda', 'function:*') },
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem'],
            Resource: [table('table/Forecasts'), table('table/Forecasts/index/*')]
          },
          { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:*:*:forecast-queue' }
        ])
      }
    })
    rendered.template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] }
      ]
    })
    // [aws] region is eu-west-1, but pmcp.run deploys into its own region: the template names none.
    expect(rendered.made.template).not.toMatch(/(eu|us|ap|sa|ca|me|af|il|mx)-(west|east|central|north|south|southeast|northeast)-\d/)
  })

  it("has cargo pmcp's pmcp-run outputs, which pmcp.run reads", () => {
    const functionId = logicalIdOf('AWS::Lambda::Function')
    expect(Object.keys(rendered.json.Outputs).sort()).toEqual(['ApiUrl', 'DashboardUrl', 'LambdaArn', 'LambdaName', 'McpRoleArn'])
    rendered.template.hasOutput('LambdaArn', { Value: { 'Fn::GetAtt': [functionId, 'Arn'] } })
    rendered.template.hasOutput('LambdaName', { Value: { Ref: functionId } })
    rendered.template.hasOutput('ApiUrl', { Value: 'https://api.pmcp.run/{use-deployment-id}/mcp' })
    rendered.template.hasOutput('DashboardUrl', {
      Value: { 'Fn::Join': ['', ['https://console.aws.amazon.com/cloudwatch/home?region=', { Ref: 'AWS::Region' }]] }
    })
    rendered.template.hasOutput('McpRoleArn', {
      Value: { 'Fn::GetAtt': [logicalIdOf('AWS::IAM::Role'), 'Arn'] },
      Export: { Name: 'pmcp-weather-mcp-McpRoleArn' }
    })
  })

  it("as a preview (command: synth): the preview's function, the stack's own size and variables when deploy.toml declares none", () => {
    expect(renderedPreview.status).toBe('synthesized')
    expect(renderedPreview.facts.templatePath).toMatch(/weather-mcp-pr7-stack\.pmcp-run\.template\.json$/)
    const [, properties] = functionOf(renderedPreview)
    expect(properties).toMatchObject({ FunctionName: 'weather-mcp-pr7', MemorySize: 256, Timeout: 30 })
    expect(properties.Environment.Variables).toEqual({
      RUST_LOG: 'info',
      PMCP_ORGANIZATION_ID: 'default-org',
      PMCP_SERVER_ID: 'weather-mcp-pr7',
      MCP_SERVERS_TABLE: 'McpServer'
    })
    expect(renderedPreview.json.Metadata).toEqual({
      'mcp:capabilities': { resources: false, composition: false },
      'mcp:resources': {},
      'mcp:serverId': 'weather-crate',
      'mcp:serverType': 'custom',
      'mcp:version': '1.0'
    })
    renderedPreview.template.hasOutput('McpRoleArn', { Export: { Name: 'pmcp-weather-mcp-pr7-McpRoleArn' } })
  })
})

describe("the repository's own deploy/ project (cargo pmcp's pmcp-run scaffold, edited)", () => {
  const ownMetadata = {
    'mcp:version': '1.0',
    'mcp:serverType': 'graph-rag',
    'mcp:serverId': 'own-run-server',
    'mcp:resources': {
      secrets: [
        {
          name: 'FORECAST_API_KEY',
          description: "Key for the forecast service's API",
          required: true,
          env_var: 'FORECAST_API_KEY',
          obtain_url: 'https://forecast.example.com/keys'
        }
      ]
    },
    'mcp:capabilities': { tools: ['forecast', 'alerts'], resources: false, composition: false },
    // The scaffold's own literal: a string, not the renderer's boolean.
    'mcp:snapshotBaked': 'true',
    // The taint cargo pmcp gives a stack.ts it did not write, read back by the test's probe.
    'test:customStack': 'true'
  }

  it('is used as it is, and gets the mcp:* metadata as CDK context, which its stack.ts turns into Metadata', () => {
    expect(own.made.synth.templatePath).toContain(path.join('deploy', 'cdk.out'))
    expect(own.json.Metadata).toEqual(ownMetadata)
  })

  it('gets [server] sizing over its hand-edited memory, and [environment] without the secret, after synth', () => {
    const [, properties] = functionOf(own)
    expect(properties).toMatchObject({ FunctionName: 'own-run', MemorySize: 512, Timeout: 60 })
    expect(properties.Environment.Variables).toEqual({
      RUST_LOG: 'debug',
      PMCP_ORGANIZATION_ID: 'default-org',
      PMCP_SERVER_ID: 'own-run',
      // Read by its stack from the cdk process environment, which carries [environment], and merged again.
      MCP_SERVERS_TABLE: 'Registry'
    })
    expect(own.made.template).not.toContain('also a [secrets] name')
    const synthesized = fs.readFileSync(own.made.synth.templatePath, 'utf8')
    expect(synthesized).toContain('"MemorySize": 1024')
    own.template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 7 } })
  })

  it("as a preview: made from production's synthesis with the preview's names, then merged onto the preview's function", () => {
    expect(ownPreview.made.synth.preview).toBeDefined()
    expect(ownPreview.made.templatePath).toMatch(/own-run-pr7-stack\.pmcp-run\.template\.json$/)
    const [, properties] = functionOf(ownPreview)
    expect(properties).toMatchObject({ FunctionName: 'own-run-pr7', MemorySize: 512, Timeout: 60 })
    expect(properties.Environment.Variables).toMatchObject({ RUST_LOG: 'debug', MCP_SERVERS_TABLE: 'Registry' })
    expect(ownPreview.json.Metadata).toEqual(ownMetadata)
    ownPreview.template.hasOutput('McpRoleArn', { Export: { Name: 'pmcp-own-run-pr7-McpRoleArn' } })
  })
})

it('every final template passes cfn-lint without errors', () => {
  const findings = cfnLintAll([rendered, renderedPreview, own, ownPreview].map(made => made.made.templatePath))
  for (const [file, found] of findings) expect({ file, errors: errorsOnly(found) }).toEqual({ file, errors: [] })
})
