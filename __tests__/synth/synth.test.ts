import { Match, Template } from 'aws-cdk-lib/assertions'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { cfnLint, errorsOnly, synthesizeDir, type SynthesizedFixture } from '../helpers/synth.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../helpers/workdir.js'

const MINIMAL = '[server]\nname = "minimal-mcp"\n'

const FULL_CARGO_PMCP = `
[target]
type = "aws-lambda"
[aws]
region = "eu-west-1"
[server]
name = "weather-mcp"
memory_mb = 1024
timeout_seconds = 60
reserved_concurrency = 5
mcp_path = "/mcp"
[environment]
RUST_LOG = "debug"
[observability]
log_retention_days = 14
enable_xray = true
create_dashboard = false
[api_gateway]
rate_limit = 100
burst_limit = 200
cors_origins = ["https://app.example.com"]
`

const BOOK_X86 = `
[server]
name = "book-server"
[lambda]
memory_size = 256
timeout_seconds = 15
architecture = "x86_64"
tracing = false
[observability]
log_retention_days = 90
create_dashboard = true
[observability.alarms]
error_threshold = 3
latency_threshold_ms = 2000
`

function logicalIdOf(template: Record<string, any>, type: string): string {
  const ids = Object.keys(template.Resources).filter(id => template.Resources[id].Type === type)
  expect(ids).toHaveLength(1)
  return ids[0]
}

/** The assertions every rendered stack must pass: alias `live`, routes to the alias, outputs. */
function expectCoreStack(fixture: SynthesizedFixture): Template {
  const template = Template.fromJSON(fixture.template)
  const aliasId = logicalIdOf(fixture.template, 'AWS::Lambda::Alias')
  const versionId = logicalIdOf(fixture.template, 'AWS::Lambda::Version')
  const functionId = logicalIdOf(fixture.template, 'AWS::Lambda::Function')
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'provided.al2023',
    Handler: 'bootstrap',
    FunctionName: fixture.names.functionName,
    Description: 'abc1234def run 99'
  })
  template.hasResource('AWS::Lambda::Version', {
    Properties: { FunctionName: { Ref: functionId }, Description: 'abc1234def run 99' },
    DeletionPolicy: 'Retain'
  })
  template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] } })
  template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
    IntegrationType: 'AWS_PROXY',
    IntegrationUri: { Ref: aliasId }
  })
  template.resourceCountIs('AWS::ApiGatewayV2::Route', 2)
  for (const routeKey of ['ANY /', 'ANY /{proxy+}']) template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey })
  template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { Ref: aliasId } })
  for (const output of ['ApiUrl', 'McpUrl', 'FunctionName', 'AliasArn', 'LogGroupName']) template.hasOutput(output, {})
  template.hasOutput('McpUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([`${fixture.config.server.mcpPath}`])] } })
  template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/lambda/${fixture.names.functionName}` })
  expect(errorsOnly(cfnLint(fixture.result.templatePath))).toEqual([])
  return template
}

describe('synth of rendered projects (real aws-cdk-lib, assertions, cfn-lint)', () => {
  const workDirs: (() => void)[] = []
  afterAll(() => workDirs.forEach(remove => remove()))

  async function synth(toml: string, options: Parameters<typeof synthesizeDir>[1] = {}): Promise<SynthesizedFixture> {
    const { dir, remove } = makeWorkDir('synth')
    workDirs.push(remove)
    return synthesizeDir(writeConfig(dir, toml), options)
  }

  it('minimal config: arm64, defaults, dashboard, no alarms', async () => {
    const fixture = await synth(MINIMAL)
    expect(fixture.names.stackName).toBe('minimal-mcp-stack')
    const template = expectCoreStack(fixture)
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 30,
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { RUST_LOG: 'info' } }
    })
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 })
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1)
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0)
    template.hasOutput('DashboardUrl', {})
    expect(fixture.result.resourceCounts['AWS::Lambda::Function']).toBe(1)
  })

  it("full cargo-pmcp config: memory, timeout, reserved concurrency, CORS, throttling, MCP path", async () => {
    const fixture = await synth(FULL_CARGO_PMCP, { region: 'eu-west-1' })
    const template = expectCoreStack(fixture)
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 60,
      ReservedConcurrentExecutions: 5,
      Environment: { Variables: { RUST_LOG: 'debug' } }
    })
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://app.example.com'], ExposeHeaders: ['mcp-session-id'] })
    })
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }
    })
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 })
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0)
    expect(fixture.result.outputs).not.toContain('DashboardUrl')
  })

  it('book form as a preview: x86_64, no X-Ray, alarms with thresholds, preview names', async () => {
    const fixture = await synth(BOOK_X86, { stage: 'preview', previewId: '42' })
    expect(fixture.names).toEqual({ stage: 'preview', stackName: 'book-server-pr42-stack', functionName: 'book-server-pr42' })
    expect(path.basename(fixture.result.templatePath)).toBe('book-server-pr42-stack.template.json')
    const template = expectCoreStack(fixture)
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['x86_64'],
      MemorySize: 256,
      Timeout: 15,
      TracingConfig: Match.absent()
    })
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 3, MetricName: 'Errors', ComparisonOperator: 'GreaterThanOrEqualToThreshold' })
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 2000, MetricName: 'Duration', ExtendedStatistic: 'p99' })
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Delete' })
    const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'))
    for (const widget of ['Invocations', 'Errors', 'Duration', 'p95', 'p99', 'Throttles', 'Concurrent executions']) expect(dashboard).toContain(widget)
  })

  it("uses the repository's own CDK project as it is, with the action's environment", async () => {
    const { dir, remove } = makeWorkDir('user-cdk')
    workDirs.push(remove)
    writeConfig(dir, '[server]\nname = "own-stack"\n[environment]\nMODE = "custom"\n')
    fs.cpSync(path.join(REPO_ROOT, '__tests__', 'fixtures', 'user-cdk-project'), path.join(dir, 'deploy'), { recursive: true })
    const fixture = await synthesizeDir(dir, { stage: 'preview', previewId: 'feature/Login-Page', region: 'us-west-2' })
    expect(fixture.project).toEqual({ dir: path.join(dir, 'deploy'), rendered: false })
    expect(fs.existsSync(path.join(dir, '.pmcp', 'cdk'))).toBe(false)
    expect(fixture.names.stackName).toBe('own-stack-feature-login-page-stack')
    const outputs = fixture.template.Outputs as Record<string, { Value: string }>
    expect(outputs.SeenStackName.Value).toBe('own-stack-feature-login-page-stack')
    expect(outputs.SeenFunctionName.Value).toBe('own-stack-feature-login-page')
    expect(outputs.SeenEnvironment.Value).toBe('preview')
    expect(outputs.SeenServerName.Value).toBe('own-stack')
    expect(outputs.SeenRegion.Value).toBe('us-west-2')
    expect(JSON.parse(outputs.SeenConfigJson.Value)).toMatchObject({ server: { name: 'own-stack' }, environment: { MODE: 'custom' } })
  })
})
