import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { loadConfig, type DeployConfig } from '../../src/config/index.js'
import { ActionError, ActionErrors, reportError } from '../../src/errors.js'
import { captureStdout, parseAnnotations } from '../../testkit/annotations.js'
import { REPO_ROOT } from '../../testkit/workdir.js'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-config-'))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

function write(toml: string): void {
  fs.mkdirSync(path.join(dir, '.pmcp'), { recursive: true })
  fs.writeFileSync(path.join(dir, '.pmcp', 'deploy.toml'), toml)
}

function load(toml: string): DeployConfig {
  write(toml)
  return loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })
}

/** Warnings other than "cargo pmcp 0.28 refuses this file" (a [target] without version, an [auth] without enabled). */
function ownWarnings(output: string): ReturnType<typeof parseAnnotations> {
  return parseAnnotations(output).filter(a => a.level === 'warning' && !String(a.properties.title).includes('refuses this file'))
}

/** The problems loadConfig reports, with their lines; fails the test when the file is accepted. */
function problems(toml: string): { line?: number; message: string; title: string }[] {
  try {
    load(toml)
  } catch (error) {
    const errors = error instanceof ActionErrors ? error.errors : [error as ActionError]
    return errors.map(e => ({ line: e.location.line, message: e.message, title: e.title }))
  }
  throw new Error('expected deploy.toml to be rejected')
}

const CARGO_PMCP_FORM = `
[target]
type = "aws-lambda"
version = "1.0"

[aws]
region = "eu-west-1"
account_id = "123456789012"

[server]
name = "weather-mcp"
memory_mb = 1024
timeout_seconds = 60
reserved_concurrency = 5
mcp_path = "/mcp"

[environment]
RUST_LOG = "debug"
API_BASE = "https://api.example.com"

[auth]
enabled = false
provider = "none"

[observability]
log_retention_days = 14
enable_xray = false
create_dashboard = true

[observability.alarms]
error_threshold = 3
latency_threshold_ms = 2000

[api_gateway]
rate_limit = 100
burst_limit = 200
cors_origins = ["https://app.example.com"]
`

const BOOK_FORM = `
[target]
target_type = "aws-lambda"

[server]
name = "book-server"

[lambda]
memory_size = 256
timeout_seconds = 15
architecture = "x86_64"
provisioned_concurrency = 2
tracing = "PassThrough"

[lambda.environment]
FEATURE = "on"

[api_gateway]
throttling_rate = 50
throttling_burst = 75

[vpc]
vpc_id = "vpc-0abc123"
subnet_ids = ["subnet-0a1", "subnet-0b2"]
security_group_ids = ["sg-0c3"]
`

describe('deploy.toml: valid files', () => {
  it('resolves a minimal file with every default', () => {
    const config = load('[server]\nname = "hello"\n')
    expect(config.target.type).toBe('aws-lambda')
    expect(config.server).toEqual({ name: 'hello', memoryMb: 512, timeoutSeconds: 30, mcpPath: '/', sizing: {} })
    // As declared: each stack adds RUST_LOG=info itself.
    expect(config.environment).toEqual({})
    // cargo-pmcp's serde defaults, which pmcp.run receives.
    expect(config.composition).toEqual({ tier: 'foundation', allowComposition: true, internalOnly: false })
    expect(config.auth.dcr).toEqual({
      enabled: true,
      publicClientPatterns: ['claude', 'desktop', 'cursor', 'mcp-inspector', 'chatgpt'],
      defaultScopes: ['openid', 'email', 'mcp/read'],
      allowedScopes: ['openid', 'email', 'profile', 'mcp/read', 'mcp/write']
    })
    expect(config.metadata).toEqual({})
    // cargo-pmcp 0.28's ObservabilityConfig::default(): never expire, no X-Ray, no dashboard, no alarms.
    expect(config.observability).toEqual({ logRetentionDays: 0, enableXray: false, createDashboard: false })
    expect(config.apiGateway.corsOrigins).toEqual(['*'])
    expect(config.architecture).toBeUndefined()
    expect(config.file).toBe('.pmcp/deploy.toml')
  })

  it("reads cargo-pmcp's spelling", () => {
    const config = load(CARGO_PMCP_FORM)
    expect(config.aws).toEqual({ region: 'eu-west-1', accountId: '123456789012' })
    expect(config.server).toMatchObject({
      name: 'weather-mcp',
      memoryMb: 1024,
      timeoutSeconds: 60,
      reservedConcurrency: 5,
      mcpPath: '/mcp',
      sizing: { memoryMb: 1024, timeoutSeconds: 60 }
    })
    expect(config.environment).toEqual({ RUST_LOG: 'debug', API_BASE: 'https://api.example.com' })
    expect(config.secrets).toEqual([])
    expect(config.observability).toEqual({
      logRetentionDays: 14,
      enableXray: false,
      createDashboard: true,
      alarms: { errorThreshold: 3, latencyThresholdMs: 2000 }
    })
    expect(config.apiGateway).toEqual({ rateLimit: 100, burstLimit: 200, corsOrigins: ['https://app.example.com'] })
  })

  it("reads the book's [lambda]/[vpc] spelling", () => {
    const config = load(BOOK_FORM)
    expect(config.server).toMatchObject({
      name: 'book-server',
      memoryMb: 256,
      timeoutSeconds: 15,
      provisionedConcurrency: 2,
      sizing: { memoryMb: 256, timeoutSeconds: 15 }
    })
    expect(config.architecture).toBe('x86_64')
    expect(config.observability.enableXray).toBe(false)
    expect(config.environment).toEqual({ FEATURE: 'on' })
    expect(config.apiGateway).toMatchObject({ rateLimit: 50, burstLimit: 75 })
    expect(config.vpc).toEqual({ vpcId: 'vpc-0abc123', subnetIds: ['subnet-0a1', 'subnet-0b2'], securityGroupIds: ['sg-0c3'] })
  })

  it('accepts every server name cargo-pmcp accepts, up to 64 characters', () => {
    for (const name of ['a', 'Acme2', 'a-b-c-1', `a${'b'.repeat(63)}`]) expect(load(`[server]\nname = "${name}"\n`).server.name).toBe(name)
  })

  it('reads [auth] with Cognito as cargo pmcp deploy init --oauth cognito writes it', () => {
    const config = load(`
[server]
name = "secure-mcp"

[auth]
enabled = true
provider = "cognito"
callback_urls = ["http://localhost:3000/callback", "https://claude.ai/api/mcp/auth_callback"]

[auth.cognito]
resource_server_id = "mcp"
mfa = "optional"
domain = "secure-login"

[auth.dcr]
enabled = true
`)
    expect(config.auth).toEqual({
      enabled: true,
      provider: 'cognito',
      callbackUrls: ['http://localhost:3000/callback', 'https://claude.ai/api/mcp/auth_callback'],
      cognito: { resourceServerId: 'mcp', domain: 'secure-login' },
      dcr: expect.objectContaining({ enabled: true })
    })
  })

  it('reads an existing pool from [auth.cognito] or the legacy [auth] user_pool_id', () => {
    const nested = load(
      '[server]\nname = "s"\n[auth]\nenabled = true\nprovider = "cognito"\ncallback_urls = ["https://a.example.com/cb"]\n' +
        '[auth.cognito]\nuser_pool_id = "us-east-1_AbC123"\ncreate_resource_server = true\n'
    )
    expect(nested.auth.cognito).toEqual({ userPoolId: 'us-east-1_AbC123', resourceServerId: 'mcp', createResourceServer: true })
    const legacy = load(
      '[server]\nname = "s"\n[auth]\nenabled = true\nprovider = "cognito"\ncallback_urls = ["https://a.example.com/cb"]\n' +
        'user_pool_id = "us-east-1_Old1"\n'
    )
    expect(legacy.auth.cognito.userPoolId).toBe('us-east-1_Old1')
  })

  it('reads [secrets] as a table (cargo-pmcp) or a list, and accepts the pmcp-run target', () => {
    expect(load('[server]\nname = "s"\n[secrets]\nOPENAI_API_KEY = "key for the model"\ndb-password = ""\n').secrets).toEqual([
      'OPENAI_API_KEY',
      'db-password'
    ])
    expect(load('secrets = ["TOKEN"]\n[server]\nname = "s"\n').secrets).toEqual(['TOKEN'])
    expect(load('[target]\ntype = "pmcp-run"\n[server]\nname = "s"\n').target.type).toBe('pmcp-run')
  })

  it('loads examples/hello-auth without a warning', async () => {
    const { result, output } = await captureStdout(() =>
      loadConfig({ workingDirectory: path.join(REPO_ROOT, 'examples', 'hello-auth'), config: '.pmcp/deploy.toml', workspace: REPO_ROOT })
    )
    expect(result?.auth).toMatchObject({ enabled: true, provider: 'cognito' })
    expect(result?.secrets).toEqual(['WEATHER_API_KEY'])
    expect(parseAnnotations(output)).toEqual([])
  })

  it('reads [build] features', () => {
    const config = load('[server]\nname = "s"\n[build]\nfeatures = ["x", "y"]\nno_default_features = true\n')
    expect(config.build).toEqual({ features: ['x', 'y'], noDefaultFeatures: true })
  })

  it('finds the file through working-directory and config inputs, naming it relative to the workspace', () => {
    const server = path.join(dir, 'servers', 'one')
    fs.mkdirSync(path.join(server, 'conf'), { recursive: true })
    fs.writeFileSync(path.join(server, 'conf', 'deploy.toml'), '[server]\nname = "one"\n')
    const config = loadConfig({ workingDirectory: server, config: 'conf/deploy.toml', workspace: dir })
    expect(config.server.name).toBe('one')
    expect(config.file).toBe('servers/one/conf/deploy.toml')
  })
})

describe('deploy.toml: unknown keys warn', () => {
  it('warns when provider is cognito but auth is not enabled, and still loads', async () => {
    write('[server]\nname = "s"\n[auth]\nenabled = false\nprovider = "cognito"\n')
    const { result, output } = await captureStdout(() => loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir }))
    expect(result?.auth.enabled).toBe(false)
    const warnings = ownWarnings(output)
    expect(warnings.map(w => w.properties.line)).toEqual(['4'])
    expect(warnings[0].message).toContain('deployed without OAuth')
  })

  it('warns on the line of each unknown key and still loads', async () => {
    write('[server]\nname = "s"\ncolour = "blue"\n\n[future_section]\nx = 1\n\n[[widgets]]\npath = "widget"\n')
    const { result, output } = await captureStdout(() => loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir }))
    expect(result?.server.name).toBe('s')
    const warnings = ownWarnings(output)
    expect(warnings.map(w => [w.properties.line, w.properties.file])).toEqual([
      ['3', '.pmcp/deploy.toml'],
      ['5', '.pmcp/deploy.toml'],
      ['8', '.pmcp/deploy.toml']
    ])
    expect(warnings[0].message).toContain('[server] colour is not a key pmcp/deploy-action knows')
    expect(warnings[1].message).toContain('[future_section]')
    expect(warnings[2].message).toContain('does not apply')
  })

  it('warns on each cargo-pmcp key it checks but does not apply, saying why, and still loads', async () => {
    write(`[target]
version = "1.0.0"
[aws]
account_id = "123456789012"
[server]
name = "s"
binary = "s-server"
[auth]
client_id = "abc123"
[build]
no_default_features = true
`)
    const { result, output } = await captureStdout(() => loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir }))
    expect(result?.server.name).toBe('s')
    const warnings = ownWarnings(output)
    expect(warnings.map(w => [w.properties.line, w.properties.title])).toEqual([
      ['7', '.pmcp/deploy.toml: [server] binary ignored'],
      ['9', '.pmcp/deploy.toml: [auth] client_id ignored']
    ])
    expect(warnings[0].message).toMatch(
      /\[server\] binary is not applied on target aws-lambda \(cargo-pmcp builds it for Google Cloud Run only.+\); it is ignored/
    )
    expect(warnings[1].message).toMatch(/is a cargo-pmcp setting that pmcp\/deploy-action does not apply \(.+\); it is ignored/)
    expect(result?.aws.accountId).toBe('123456789012')
    expect(result?.build.noDefaultFeatures).toBe(true)
  })

  it('still refuses a key it does not apply when its value is malformed, without also warning', async () => {
    write('[aws]\naccount_id = "12345"\n[server]\nname = "s"\n')
    const { error, output } = await captureStdout(() => loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir }))
    expect(error).toBeInstanceOf(ActionErrors)
    expect((error as ActionErrors).errors.map(e => e.message)).toEqual([
      expect.stringMatching(/\[aws\] account_id is the string "12345".*12-digit/)
    ])
    expect(ownWarnings(output)).toEqual([])
  })
})

const AUTH = '[server]\nname = "s"\n[auth]\nenabled = true\nprovider = "cognito"\n'

describe('deploy.toml: errors name the file, line and key', () => {
  const cases: [string, string, number, RegExp][] = [
    ['syntax: missing value', '[server]\nname = "ok"\nmemory_mb =\n', 3, /TOML syntax error|line 3, column/],
    ['syntax: unclosed string', '[server]\nname = "abc\n', 2, /line 2, column/],
    ['syntax: broken table header', '[server\nname = "x"\n', 1, /line 1, column/],
    ['missing [server] name', '[target]\ntype = "aws-lambda"\n\n[server]\nmemory_mb = 512\n', 4, /\[server\] name is missing/],
    ['no [server] at all', '[target]\ntype = "aws-lambda"\n', 1, /\[server\] name is missing/],
    [
      'name starts with a digit',
      '[server]\nname = "1abc"\n',
      2,
      /\[server\] name is the string "1abc".*a letter, then letters, digits or hyphens, at most 64/
    ],
    ['name too long', `[server]\nname = "${'a'.repeat(65)}"\n`, 2, /\[server\] name/],
    ['name ending with a hyphen', '[server]\nname = "weather-"\n', 2, /\[server\] name is the string "weather-".*not ending with a hyphen/],
    ['name with underscore', '[server]\n\nname = "my_server"\n', 3, /\[server\] name is the string "my_server"/],
    ['memory too small', '[server]\nname = "s"\nmemory_mb = 64\n', 3, /\[server\] memory_mb is 64, out of range.*128 to 10240/],
    ['memory too large', '[server]\nname = "s"\nmemory_mb = 20000\n', 3, /memory_mb is 20000, out of range/],
    ['memory as a string', '[server]\nname = "s"\nmemory_mb = "512"\n', 3, /memory_mb is the string "512".*whole number/],
    ['memory as a decimal', '[server]\nname = "s"\nmemory_mb = 512.5\n', 3, /memory_mb is the decimal 512.5/],
    ['timeout zero', '[server]\nname = "s"\ntimeout_seconds = 0\n', 3, /timeout_seconds is 0, out of range.*1 to 900/],
    ['timeout too long', '[server]\nname = "s"\ntimeout_seconds = 901\n', 3, /timeout_seconds is 901/],
    [
      'unknown target type',
      '[target]\ntype = "gcp"\n[server]\nname = "s"\n',
      2,
      /\[target\] type is the string "gcp".*"aws-lambda", "pmcp-run", "google-cloud-run"/
    ],
    ['unknown target_type', '[target]\ntarget_type = "azure"\n[server]\nname = "s"\n', 2, /\[target\] target_type/],
    ['bad region', '[aws]\nregion = "mars-1"\n[server]\nname = "s"\n', 2, /\[aws\] region.*AWS region/],
    [
      'account id as a number',
      '[aws]\naccount_id = 123456789012\n[server]\nname = "s"\n',
      2,
      /account_id is the number 123456789012.*quoted/
    ],
    [
      'environment value not a string',
      '[server]\nname = "s"\n[environment]\nPORT = 8080\n',
      4,
      /\[environment\] PORT is the number 8080.*PORT = "8080"/
    ],
    [
      'environment value a table (an inline table cannot even be turned into text)',
      '[server]\nname = "s"\n[environment]\nRUST_LOG = { level = "info" }\n',
      4,
      /\[environment\] RUST_LOG is a table.*one quoted string, e\.g\. RUST_LOG = "…"/
    ],
    ['reserved environment name', '[server]\nname = "s"\n[environment]\nAWS_REGION = "x"\n', 4, /AWS_REGION is reserved by AWS Lambda/],
    ['invalid environment name', '[server]\nname = "s"\n[environment]\n"1BAD" = "x"\n', 4, /1BAD is not a valid environment variable name/],
    [
      'retention not a whole number',
      '[server]\nname = "s"\n[observability]\nlog_retention_days = 10.5\n',
      4,
      /log_retention_days is the decimal 10.5/
    ],
    [
      'xray not a boolean',
      '[server]\nname = "s"\n[observability]\nenable_xray = "yes"\n',
      4,
      /enable_xray is the string "yes".*true or false/
    ],
    [
      'unknown architecture',
      '[server]\nname = "s"\n[lambda]\narchitecture = "arm"\n',
      4,
      /\[lambda\] architecture is the string "arm".*"arm64", "x86_64"/
    ],
    [
      'contradicting spellings',
      '[server]\nname = "s"\nmemory_mb = 512\n[lambda]\nmemory_size = 1024\n',
      5,
      /\[lambda\] memory_size \(1024\) contradicts \[server\] memory_mb \(512\)/
    ],
    [
      'cors origins not a list',
      '[server]\nname = "s"\n[api_gateway]\ncors_origins = "*"\n',
      4,
      /cors_origins is the string "\*".*list of strings/
    ],
    ['unknown auth provider', '[server]\nname = "s"\n[auth]\nprovider = "keycloak"\n', 4, /\[auth\] provider.*"none", "cognito", "oidc"/],
    [
      'bad subnet id',
      '[server]\nname = "s"\n[vpc]\nvpc_id = "vpc-0a"\nsubnet_ids = ["bad"]\n',
      5,
      /\[vpc\] subnet_ids item 1 is the string "bad"/
    ],
    ['vpc without subnets', '[server]\nname = "s"\n[vpc]\nvpc_id = "vpc-0a"\n', 3, /\[vpc\] needs vpc_id and at least one of subnet_ids/],
    ['features not a list', '[server]\nname = "s"\n[build]\nfeatures = "x"\n', 4, /\[build\] features is the string "x"/],
    ['server not a table', 'server = "s"\n', 1, /\[server\] is the string "s".*a table \[server\]/],
    ['tracing value unknown', '[server]\nname = "s"\n[lambda]\ntracing = "Sometimes"\n', 4, /\[lambda\] tracing.*"Active", "PassThrough"/],
    ['mcp path without slash', '[server]\nname = "s"\nmcp_path = "mcp"\n', 3, /mcp_path.*starting with '\/'/],
    [
      'auth on without a provider',
      '[server]\nname = "s"\n[auth]\nenabled = true\ncallback_urls = ["https://a.example.com/cb"]\n',
      4,
      /\[auth\] enabled is true but \[auth\] has no provider.*provider = "cognito"/
    ],
    [
      'auth on with provider none',
      '[server]\nname = "s"\n[auth]\nenabled = true\nprovider = "none"\ncallback_urls = ["https://a.example.com/cb"]\n',
      5,
      /\[auth\] provider is "none" while \[auth\] enabled is true.*"cognito"/
    ],
    [
      'auth on without callback urls',
      '[server]\nname = "s"\n[auth]\nenabled = true\nprovider = "cognito"\n',
      4,
      /\[auth\] enabled needs the redirect URLs.*callback_urls = \["http:\/\/localhost:3000\/callback"\]/
    ],
    ['auth on with an empty callback list', `${AUTH}callback_urls = []\n`, 6, /\[auth\] callback_urls needs the redirect URLs/],
    [
      'plain http callback off localhost',
      `${AUTH}callback_urls = ["http://app.example.com/cb"]\n`,
      6,
      /\[auth\] callback_urls item 1 is the string "http:\/\/app.example.com\/cb".*plain http only for localhost/
    ],
    [
      'callback url with a fragment',
      `${AUTH}callback_urls = ["https://a.example.com/cb#x"]\n`,
      6,
      /callback_urls item 1.*without a #fragment/
    ],
    [
      'hosted domain with a reserved word',
      `${AUTH}callback_urls = ["https://a.example.com/cb"]\n[auth.cognito]\ndomain = "my-aws-login"\n`,
      8,
      /\[auth.cognito\] domain is the string "my-aws-login".*without the words aws, amazon or cognito/
    ],
    [
      'hosted domain in upper case',
      `${AUTH}callback_urls = ["https://a.example.com/cb"]\n[auth.cognito]\ndomain = "Login"\n`,
      8,
      /\[auth.cognito\] domain/
    ],
    [
      'user pool id malformed',
      `${AUTH}callback_urls = ["https://a.example.com/cb"]\n[auth.cognito]\nuser_pool_id = "pool"\n`,
      8,
      /user_pool_id is the string "pool".*us-east-1_AbC123/
    ],
    [
      'user pool in another region',
      `[aws]\nregion = "eu-west-1"\n${AUTH}callback_urls = ["https://a.example.com/cb"]\n` +
        '[auth.cognito]\nuser_pool_id = "us-east-1_AbC123"\n',
      10,
      /\(us-east-1_AbC123\) is a pool in another region than \[aws\] region \(eu-west-1\)/
    ],
    [
      'two user pool ids',
      `${AUTH}callback_urls = ["https://a.example.com/cb"]\nuser_pool_id = "us-east-1_One"\n` +
        '[auth.cognito]\nuser_pool_id = "us-east-1_Two"\n',
      7,
      /\[auth\] user_pool_id \(us-east-1_One\) contradicts \[auth.cognito\] user_pool_id \(us-east-1_Two\)/
    ],
    [
      'environment key the auth stack sets',
      `${AUTH}callback_urls = ["https://a.example.com/cb"]\n[environment]\nCOGNITO_CLIENT_ID = "x"\n`,
      8,
      /\[environment\] COGNITO_CLIENT_ID is set by the stack when \[auth\] is enabled/
    ],
    [
      'two secrets for one variable',
      '[server]\nname = "s"\n[secrets]\napiKey = "a"\nAPI_KEY = "b"\n',
      5,
      /\[secrets\] API_KEY and "apiKey" both become the environment variable API_KEY_SECRET_ARN/
    ],
    [
      'secret variable set by [environment]',
      '[server]\nname = "s"\n[environment]\nTOKEN_SECRET_ARN = "x"\n[secrets]\ntoken = "t"\n',
      6,
      /\[secrets\] token becomes the environment variable TOKEN_SECRET_ARN, which \[environment\] sets too/
    ],
    [
      'secret name like an ARN suffix',
      '[server]\nname = "s"\n[secrets]\nmy-openai = "x"\n',
      4,
      /\[secrets\] my-openai ends in a hyphen and six characters/
    ],
    [
      'secret name with a path',
      '[server]\nname = "s"\n[secrets]\n"api/key" = "x"\n',
      4,
      /\[secrets\] api\/key has the secret name the string "api\/key"/
    ],
    [
      'alarm threshold zero',
      '[server]\nname = "s"\n[observability.alarms]\nerror_threshold = 0\nlatency_threshold_ms = 100\n',
      4,
      /\[observability.alarms\] error_threshold is 0/
    ]
  ]

  it.each(cases)('%s', (_name, toml, line, pattern) => {
    const found = problems(toml)
    expect(found).toHaveLength(1)
    expect(found[0].line).toBe(line)
    expect(found[0].message).toMatch(pattern)
    expect(found[0].message).toContain('deploy.toml')
  })

  it('reports every problem of a file at once, each as an annotation with file, line and title', async () => {
    write('[server]\nname = "bad_name"\nmemory_mb = 1\n[observability]\nenable_xray = 1\n')
    let thrown: unknown
    try {
      loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })
    } catch (error) {
      thrown = error
    }
    const { output } = await captureStdout(() => reportError(thrown))
    const errors = parseAnnotations(output).filter(a => a.level === 'error')
    expect(errors.map(e => e.properties.line)).toEqual(['2', '3', '5'])
    expect(errors.every(e => e.properties.file === '.pmcp/deploy.toml')).toBe(true)
    expect(errors[1].properties.title).toBe('.pmcp/deploy.toml: invalid [server] memory_mb')
    expect(output).not.toMatch(/at .*\.ts:\d+/)
  })

  it('says how to create a missing file', () => {
    expect(() => loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })).toThrow(/cargo pmcp deploy init/)
  })
})
