/**
 * `cdk synth` of the rendered pmcp-run project: the Lambda-only stack cargo pmcp uploads to
 * pmcp.run (function, role and policy, log group; outputs LambdaArn, LambdaName, ApiUrl
 * placeholder, DashboardUrl, McpRoleArn) and nothing pmcp.run puts in front itself.
 */
import { Match, Template } from 'aws-cdk-lib/assertions'
import { cfnLint, errorsOnly, synthesizeDir, type SynthesizedFixture } from '../../testkit/synth.js'
import { makeWorkDir, writeConfig } from '../../testkit/workdir.js'

/** Everything that shapes the aws-lambda stack, to show none of it reaches the pmcp.run one. */
const PMCP_RUN_FULL = `
[target]
type = "pmcp-run"
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
`

describe('synth of the rendered pmcp-run project (real aws-cdk-lib, assertions, cfn-lint)', () => {
  let fixture: SynthesizedFixture
  let template: Template
  let remove: () => void

  beforeAll(async () => {
    const work = makeWorkDir('synth-pmcprun')
    remove = work.remove
    fixture = await synthesizeDir(writeConfig(work.dir, PMCP_RUN_FULL), { region: 'eu-west-1' })
    template = Template.fromJSON(fixture.template)
  }, 120_000)

  afterAll(() => remove())

  const logicalIdOf = (type: string): string => Object.keys(template.findResources(type))[0]

  it('creates exactly the function, its role and policy, and its log group', () => {
    expect(fixture.project.rendered).toBe(true)
    expect(fixture.result.resourceCounts).toEqual({
      'AWS::Lambda::Function': 1,
      'AWS::IAM::Role': 1,
      'AWS::IAM::Policy': 1,
      'AWS::Logs::LogGroup': 1
    })
    // Nothing pmcp.run provides itself: no HTTP API, alias, Cognito, dashboard, alarms or secrets.
    const types = JSON.stringify(Object.keys(fixture.result.resourceCounts))
    for (const absent of ['ApiGateway', 'Alias', 'Version', 'Cognito', 'CloudWatch', 'SecretsManager', 'Permission'])
      expect(types).not.toContain(absent)
    expect(JSON.stringify(fixture.template)).not.toContain('secretsmanager')
    // No CDK bootstrap parameter or rule, no asset: the template is self-contained.
    expect(fixture.template.Parameters).toBeUndefined()
    expect(fixture.template.Rules).toBeUndefined()
    expect(fixture.template.Description).toBe('MCP Server: weather-mcp')
  })

  it('sizes and configures the function from deploy.toml, with the composition variables', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'weather-mcp',
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 45,
      Code: { S3Bucket: 'pmcp-run-pending-upload', S3Key: 'weather-mcp/bootstrap.zip' },
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON' },
      Environment: {
        Variables: { RUST_LOG: 'debug', PMCP_ORGANIZATION_ID: 'acme', PMCP_SERVER_ID: 'weather-mcp', MCP_SERVERS_TABLE: 'McpServer' }
      },
      Tags: Match.arrayWith([
        { Key: 'managed-by', Value: 'pmcp' },
        { Key: 'service', Value: 'weather-mcp' },
        { Key: 'target', Value: 'pmcp-run' }
      ])
    })
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: {
        RetentionInDays: 14,
        LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: logicalIdOf('AWS::Lambda::Function') }]] }
      },
      DeletionPolicy: 'Delete'
    })
  })

  it('lets the function read the server registry and invoke other pmcp.run servers, in whatever account pmcp.run uses', () => {
    const inAccount = (service: string, resource: string): unknown => ({
      'Fn::Join': ['', [`arn:aws:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]]
    })
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:Query'],
            Resource: [inAccount('dynamodb', 'table/McpServer'), inAccount('dynamodb', 'table/McpServer/*')]
          },
          { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: inAccount('lambda', 'function:*') }
        ])
      }
    })
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] }
      ]
    })
  })

  it("has cargo pmcp's pmcp-run outputs, which pmcp.run reads", () => {
    const functionId = logicalIdOf('AWS::Lambda::Function')
    expect(Object.keys(fixture.template.Outputs).sort()).toEqual(['ApiUrl', 'DashboardUrl', 'LambdaArn', 'LambdaName', 'McpRoleArn'])
    template.hasOutput('LambdaArn', { Value: { 'Fn::GetAtt': [functionId, 'Arn'] } })
    template.hasOutput('LambdaName', { Value: { Ref: functionId } })
    template.hasOutput('ApiUrl', { Value: 'https://api.pmcp.run/{use-deployment-id}/mcp' })
    template.hasOutput('DashboardUrl', {
      Value: { 'Fn::Join': ['', ['https://console.aws.amazon.com/cloudwatch/home?region=', { Ref: 'AWS::Region' }]] }
    })
    template.hasOutput('McpRoleArn', {
      Value: { 'Fn::GetAtt': [logicalIdOf('AWS::IAM::Role'), 'Arn'] },
      Export: { Name: 'pmcp-weather-mcp-McpRoleArn' }
    })
  })

  it('passes cfn-lint without errors', () => {
    expect(errorsOnly(cfnLint(fixture.result.templatePath))).toEqual([])
  })
})
