import { Match, Template } from 'aws-cdk-lib/assertions'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { cfnLintAll, errorsOnly, synthesizeDir, type LintFinding, type SynthesizedFixture } from '../../testkit/synth.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

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
[[iam.tables]]
name = "weather-cache"
actions = ["readwrite"]
include_indexes = true
[[iam.buckets]]
name = "weather-maps"
actions = ["read"]
[[iam.statements]]
effect = "Deny"
actions = ["s3:DeleteObject"]
resources = ["arn:aws:s3:::weather-maps/archive/*"]
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
[auth]
enabled = true
provider = "cognito"
callback_urls = ["https://book.example.com/callback"]
[auth.cognito]
domain = "book-login"
`

/** Auth with a new pool, secrets in both spellings' table form, alarms: a production deploy. */
const AUTH_AND_SECRETS = `
[aws]
region = "eu-west-1"
[server]
name = "weather-mcp"
[auth]
enabled = true
provider = "cognito"
callback_urls = ["http://localhost:3000/callback", "https://claude.ai/api/mcp/auth_callback"]
[auth.cognito]
domain = "weather-login"
[secrets]
OPENAI_API_KEY = "OpenAI key for the forecast tool"
db-password = "database password"
[observability]
create_dashboard = true
[observability.alarms]
error_threshold = 4
latency_threshold_ms = 1500
`

/** Auth in an existing pool the organisation already runs: only the clients are created. */
const AUTH_EXISTING_POOL = `
[server]
name = "pool-user"
[auth]
enabled = true
provider = "cognito"
callback_urls = ["https://app.example.com/oauth/callback"]
[auth.cognito]
user_pool_id = "us-west-2_AbC123xyz"
resource_server_id = "tools"
[observability]
create_dashboard = false
`

const AUTH_OUTPUTS = ['OAuthDiscoveryUrl', 'UserPoolId', 'ClientId', 'MachineClientId', 'OAuthTokenUrl']
const OAUTH_ENV = ['OAUTH_ISSUER', 'OAUTH_AUDIENCE', 'COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID', 'COGNITO_MACHINE_CLIENT_ID']
const PROTECTED_ROUTES = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'].flatMap(method => [`${method} /`, `${method} /{proxy+}`])
const METADATA_ROUTES = ['ANY /.well-known/oauth-protected-resource', 'ANY /.well-known/oauth-protected-resource/{proxy+}']

/** cfn-lint's findings for every rendered template, from one run of the linter over all of them (see beforeAll). */
let lintFindings = new Map<string, LintFinding[]>()

function cfnLint(templatePath: string): LintFinding[] {
  const findings = lintFindings.get(path.resolve(templatePath))
  if (!findings) throw new Error(`${templatePath} was not linted`)
  return findings
}

function logicalIdOf(template: Record<string, any>, type: string): string {
  const ids = Object.keys(template.Resources).filter(id => template.Resources[id].Type === type)
  expect(ids).toHaveLength(1)
  return ids[0]
}

function resourcesOf(template: Record<string, any>, type: string): any[] {
  return Object.values(template.Resources as Record<string, any>).filter(r => r.Type === type)
}

function functionEnvironment(fixture: SynthesizedFixture): Record<string, unknown> {
  return resourcesOf(fixture.template, 'AWS::Lambda::Function')[0].Properties.Environment.Variables
}

function secretStatements(fixture: SynthesizedFixture): any[] {
  return resourcesOf(fixture.template, 'AWS::IAM::Policy').flatMap(policy =>
    policy.Properties.PolicyDocument.Statement.filter((statement: any) => JSON.stringify(statement).includes('secretsmanager'))
  )
}

/** `Fn::Join` of a secret ARN, as formatArn writes it for a stack with a known region. */
function secretArn(region: string, secretName: string, suffix = ''): unknown {
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:${region}:`, { Ref: 'AWS::AccountId' }, `:secret:${secretName}${suffix}`]
    ]
  }
}

/** Routes by key, with the authorizer each uses. */
function routes(fixture: SynthesizedFixture): Record<string, { AuthorizationType?: string; AuthorizerId?: unknown }> {
  return Object.fromEntries(resourcesOf(fixture.template, 'AWS::ApiGatewayV2::Route').map(r => [r.Properties.RouteKey, r.Properties]))
}

/**
 * The assertions every rendered stack must pass: alias `live`, routes to the alias, outputs, and
 * nothing of auth or secrets unless asked.
 */
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
  for (const route of Object.values(routes(fixture)))
    expect(route).toMatchObject({ Target: { 'Fn::Join': ['', ['integrations/', { Ref: expect.any(String) }]] } })
  if (!fixture.config.auth.enabled) {
    expect(Object.keys(routes(fixture)).sort()).toEqual(['ANY /', 'ANY /{proxy+}'])
    expect(fixture.result.resourceCounts).not.toHaveProperty(['AWS::Cognito::UserPool'])
    expect(fixture.result.resourceCounts).not.toHaveProperty(['AWS::Cognito::UserPoolClient'])
    expect(fixture.result.resourceCounts).not.toHaveProperty(['AWS::ApiGatewayV2::Authorizer'])
    for (const output of AUTH_OUTPUTS) expect(fixture.result.outputs).not.toContain(output)
    for (const name of OAUTH_ENV) expect(functionEnvironment(fixture)).not.toHaveProperty([name])
  }
  if (fixture.config.secrets.length === 0) {
    expect(secretStatements(fixture)).toEqual([])
    expect(Object.keys(functionEnvironment(fixture)).filter(name => name.endsWith('_SECRET_ARN'))).toEqual([])
  }
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

  // One real synth per stack shape, all before the tests, so that one cfn-lint run checks every
  // rendered template; the tests below read these.
  const SHAPES = {
    minimal: [MINIMAL, {}],
    full: [FULL_CARGO_PMCP, { region: 'eu-west-1' }],
    book: [BOOK_X86, { stage: 'preview', previewId: '42' }],
    authAndSecrets: [AUTH_AND_SECRETS, { region: 'eu-west-1' }],
    existingPool: [AUTH_EXISTING_POOL, { region: 'us-west-2' }]
  } satisfies Record<string, [string, Parameters<typeof synthesizeDir>[1]]>
  const synthesized = {} as Record<keyof typeof SHAPES, SynthesizedFixture>

  beforeAll(
    async () => {
      for (const [shape, [toml, options]] of Object.entries(SHAPES)) synthesized[shape as keyof typeof SHAPES] = await synth(toml, options)
      lintFindings = cfnLintAll(Object.values(synthesized).map(fixture => fixture.result.templatePath))
    },
    120_000 * Object.keys(SHAPES).length
  )

  // cargo-pmcp 0.28's defaults when [observability] is omitted (ObservabilityConfig::default()): no X-Ray, no
  // dashboard, no alarms, retention 0 (logs never expire).
  it('minimal config: arm64, defaults (no X-Ray, logs kept, no dashboard, no alarms)', async () => {
    const fixture = synthesized.minimal
    expect(fixture.names.stackName).toBe('minimal-mcp-stack')
    const template = expectCoreStack(fixture)
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 30,
      TracingConfig: Match.absent(),
      Environment: { Variables: { RUST_LOG: 'info' } }
    })
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.absent() })
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0)
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0)
    expect(fixture.result.outputs).not.toContain('DashboardUrl')
    expect(fixture.result.resourceCounts['AWS::Lambda::Function']).toBe(1)
  })

  it('full cargo-pmcp config: memory, timeout, reserved concurrency, CORS, throttling, MCP path', async () => {
    const fixture = synthesized.full
    const template = expectCoreStack(fixture)
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 60,
      ReservedConcurrentExecutions: 5,
      Environment: { Variables: { RUST_LOG: 'debug' } }
    })
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://app.example.com'],
        ExposeHeaders: ['mcp-session-id', 'www-authenticate']
      })
    })
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }
    })
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 })
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0)
    expect(fixture.result.outputs).not.toContain('DashboardUrl')
  })

  it('[iam]: table (and its indexes) in the stack account, bucket objects, raw statements, on the function role', () => {
    const template = Template.fromJSON(synthesized.full.template)
    const tableArn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:eu-west-1:', { Ref: 'AWS::AccountId' }, ':table/weather-cache']]
    }
    const tableIndexes = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:eu-west-1:', { Ref: 'AWS::AccountId' }, ':table/weather-cache/index/*']
      ]
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: [
              'dynamodb:GetItem',
              'dynamodb:Query',
              'dynamodb:Scan',
              'dynamodb:BatchGetItem',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
              'dynamodb:DeleteItem',
              'dynamodb:BatchWriteItem'
            ],
            Resource: [tableArn, tableIndexes]
          },
          { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::weather-maps/*' },
          { Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::weather-maps/archive/*' }
        ])
      }
    })
  })

  it('book form as a preview: x86_64, no X-Ray, alarms with thresholds, preview names, a pool of its own', async () => {
    const fixture = synthesized.book
    expect(fixture.names).toEqual({ stage: 'preview', stackName: 'book-server-pr42-stack', functionName: 'book-server-pr42' })
    expect(path.basename(fixture.result.templatePath)).toBe('book-server-pr42-stack.template.json')
    const template = expectCoreStack(fixture)
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['x86_64'],
      MemorySize: 256,
      Timeout: 15,
      TracingConfig: Match.absent()
    })
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 3,
      MetricName: 'Errors',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold'
    })
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 2000, MetricName: 'Duration', ExtendedStatistic: 'p99' })
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Delete' })
    const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'))
    for (const widget of ['Invocations', 'Errors', 'Duration', 'p95', 'p99', 'Throttles', 'Concurrent executions'])
      expect(dashboard).toContain(widget)
    // A preview's pool goes with its stack, and its hosted domain cannot take production's prefix.
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Delete' })
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['', ['book-server-pr42-', { Ref: 'AWS::AccountId' }]] }
    })
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'book-server-pr42-app',
      CallbackURLs: ['https://book.example.com/callback']
    })
  })

  describe('OAuth with a new user pool, secrets, alarms (production)', () => {
    let fixture: SynthesizedFixture
    let template: Template
    beforeAll(async () => {
      fixture = synthesized.authAndSecrets
      template = expectCoreStack(fixture)
    })

    it('creates a retained pool with the MCP resource server, both clients and the hosted domain', () => {
      template.resourceCountIs('AWS::Cognito::UserPool', 1)
      template.hasResource('AWS::Cognito::UserPool', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({ UserPoolName: 'weather-mcp-users' })
      })
      const resourceServerId = logicalIdOf(fixture.template, 'AWS::Cognito::UserPoolResourceServer')
      const poolId = logicalIdOf(fixture.template, 'AWS::Cognito::UserPool')
      template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
        Identifier: 'mcp',
        UserPoolId: { Ref: poolId },
        Scopes: [Match.objectLike({ ScopeName: 'read' }), Match.objectLike({ ScopeName: 'write' })]
      })
      const scope = (name: string): unknown => ({ 'Fn::Join': ['', [{ Ref: resourceServerId }, `/${name}`]] })
      template.resourceCountIs('AWS::Cognito::UserPoolClient', 2)
      template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        ClientName: 'weather-mcp-app',
        GenerateSecret: false,
        AllowedOAuthFlows: ['code'],
        AllowedOAuthScopes: ['openid', 'email', 'profile', scope('read'), scope('write')],
        CallbackURLs: ['http://localhost:3000/callback', 'https://claude.ai/api/mcp/auth_callback']
      })
      template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        ClientName: 'weather-mcp-machine',
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthScopes: [scope('read'), scope('write')],
        CallbackURLs: Match.absent()
      })
      template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'weather-login', UserPoolId: { Ref: poolId } })
    })

    it('puts the JWT authorizer (issuer = the pool, audience = both clients) on every route but the metadata ones', () => {
      const poolId = logicalIdOf(fixture.template, 'AWS::Cognito::UserPool')
      const authorizerId = logicalIdOf(fixture.template, 'AWS::ApiGatewayV2::Authorizer')
      const clientIds = Object.keys(template.findResources('AWS::Cognito::UserPoolClient'))
      template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          Issuer: { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: poolId }]] },
          Audience: Match.arrayEquals(clientIds.map(id => ({ Ref: id })))
        }
      })
      const byKey = routes(fixture)
      expect(Object.keys(byKey).sort()).toEqual([...PROTECTED_ROUTES, ...METADATA_ROUTES].sort())
      for (const key of PROTECTED_ROUTES)
        expect(byKey[key]).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } })
      for (const key of METADATA_ROUTES) {
        expect(byKey[key].AuthorizationType ?? 'NONE').toBe('NONE')
        expect(byKey[key].AuthorizerId).toBeUndefined()
      }
      // No route matches OPTIONS, so API Gateway answers CORS preflights itself, without a token.
      expect(
        Object.keys(byKey).filter(key => key.startsWith('OPTIONS ') || (key.startsWith('ANY ') && !METADATA_ROUTES.includes(key)))
      ).toEqual([])
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        CorsConfiguration: Match.objectLike({
          AllowMethods: ['*'],
          AllowHeaders: Match.arrayWith(['authorization']),
          ExposeHeaders: Match.arrayWith(['www-authenticate'])
        })
      })
    })

    it('outputs the discovery URL, pool, both client ids and the token URL', () => {
      const poolId = logicalIdOf(fixture.template, 'AWS::Cognito::UserPool')
      const domainId = logicalIdOf(fixture.template, 'AWS::Cognito::UserPoolDomain')
      template.hasOutput('OAuthDiscoveryUrl', {
        Value: {
          'Fn::Join': [
            '',
            ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: poolId }, '/.well-known/openid-configuration']
          ]
        }
      })
      template.hasOutput('UserPoolId', { Value: { Ref: poolId } })
      template.hasOutput('ClientId', {
        Value: {
          Ref: Object.keys(template.findResources('AWS::Cognito::UserPoolClient', { Properties: { ClientName: 'weather-mcp-app' } }))[0]
        }
      })
      template.hasOutput('MachineClientId', {
        Value: {
          Ref: Object.keys(template.findResources('AWS::Cognito::UserPoolClient', { Properties: { ClientName: 'weather-mcp-machine' } }))[0]
        }
      })
      template.hasOutput('OAuthTokenUrl', {
        Value: { 'Fn::Join': ['', ['https://', { Ref: domainId }, '.auth.eu-west-1.amazoncognito.com/oauth2/token']] }
      })
    })

    it('gives the server the issuer, audience, pool and client ids, and the ARN of each secret', () => {
      const env = functionEnvironment(fixture)
      const poolId = logicalIdOf(fixture.template, 'AWS::Cognito::UserPool')
      expect(Object.keys(env).sort()).toEqual([...OAUTH_ENV, 'DB_PASSWORD_SECRET_ARN', 'OPENAI_API_KEY_SECRET_ARN', 'RUST_LOG'].sort())
      expect(env.COGNITO_USER_POOL_ID).toEqual({ Ref: poolId })
      expect(env.OAUTH_ISSUER).toEqual({
        'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: poolId }]]
      })
      expect(env.OAUTH_AUDIENCE).toEqual({ 'Fn::Join': [',', [{ Ref: expect.any(String) }, { Ref: expect.any(String) }]] })
      expect(env.OPENAI_API_KEY_SECRET_ARN).toEqual(secretArn('eu-west-1', 'weather-mcp/OPENAI_API_KEY'))
      expect(env.DB_PASSWORD_SECRET_ARN).toEqual(secretArn('eu-west-1', 'weather-mcp/db-password'))
    })

    it('lets the function read exactly the declared secrets, and creates none', () => {
      expect(secretStatements(fixture)).toEqual([
        {
          Sid: 'ReadDeclaredSecrets',
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: [
            secretArn('eu-west-1', 'weather-mcp/OPENAI_API_KEY', '-??????'),
            secretArn('eu-west-1', 'weather-mcp/db-password', '-??????')
          ]
        }
      ])
      expect(fixture.result.resourceCounts).not.toHaveProperty(['AWS::SecretsManager::Secret'])
    })

    it('keeps the dashboard and sets the alarm thresholds from [observability.alarms]', () => {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1)
      template.hasOutput('DashboardUrl', {})
      template.resourceCountIs('AWS::CloudWatch::Alarm', 2)
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Statistic: 'Sum', Threshold: 4, Period: 300 })
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 1500 })
    })
  })

  describe('OAuth with an existing user pool', () => {
    let fixture: SynthesizedFixture
    let template: Template
    beforeAll(async () => {
      fixture = synthesized.existingPool
      template = expectCoreStack(fixture)
    })

    it('creates only the two clients in the pool: no pool (so none to delete), resource server or domain', () => {
      expect(fixture.result.resourceCounts).not.toHaveProperty(['AWS::Cognito::UserPool'])
      expect(fixture.result.resourceCounts).not.toHaveProperty(['AWS::Cognito::UserPoolResourceServer'])
      expect(fixture.result.resourceCounts).not.toHaveProperty(['AWS::Cognito::UserPoolDomain'])
      template.resourceCountIs('AWS::Cognito::UserPoolClient', 2)
      template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        UserPoolId: 'us-west-2_AbC123xyz',
        ClientName: 'pool-user-app',
        AllowedOAuthScopes: ['openid', 'email', 'profile', 'tools/read', 'tools/write']
      })
      template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        UserPoolId: 'us-west-2_AbC123xyz',
        ClientName: 'pool-user-machine',
        AllowedOAuthScopes: ['tools/read', 'tools/write']
      })
    })

    it('checks tokens of that pool on every route but the metadata ones, and has no token URL without a domain', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        JwtConfiguration: Match.objectLike({
          Issuer: { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/us-west-2_AbC123xyz']] }
        })
      })
      const byKey = routes(fixture)
      expect(Object.keys(byKey).sort()).toEqual([...PROTECTED_ROUTES, ...METADATA_ROUTES].sort())
      for (const key of PROTECTED_ROUTES) expect(byKey[key].AuthorizationType).toBe('JWT')
      expect(fixture.result.outputs).toEqual(expect.arrayContaining(['OAuthDiscoveryUrl', 'UserPoolId', 'ClientId', 'MachineClientId']))
      expect(fixture.result.outputs).not.toContain('OAuthTokenUrl')
      expect(fixture.result.outputs).not.toContain('DashboardUrl')
      template.hasOutput('UserPoolId', { Value: 'us-west-2_AbC123xyz' })
      expect(functionEnvironment(fixture).COGNITO_USER_POOL_ID).toBe('us-west-2_AbC123xyz')
    })
  })

  it("uses the repository's own CDK project as it is, with the action's environment", async () => {
    const { dir, remove } = makeWorkDir('user-cdk')
    workDirs.push(remove)
    writeConfig(dir, '[server]\nname = "own-stack"\n[environment]\nMODE = "custom"\n')
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'user-cdk-project'), path.join(dir, 'deploy'), { recursive: true })
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
