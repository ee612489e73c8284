/** deploy.toml as cargo-pmcp 0.28 reads it (cargo-pmcp/src/deployment/config.rs): what loads, what warns, what is refused. */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { loadConfig, type DeployConfig, type LoadConfigOptions } from '../../src/config/index.js'
import { ActionError, ActionErrors } from '../../src/errors.js'
import { captureStdout, parseAnnotations } from '../../testkit/annotations.js'
import { REPO_ROOT } from '../../testkit/workdir.js'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-parity-'))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

/** A complete file as cargo-pmcp writes it, so that only the lines under test differ. */
const BASE = '[target]\ntype = "aws-lambda"\nversion = "1.0.0"\n[server]\nname = "s"\n[environment]\n'
/** Line numbers below count from this many lines of BASE. */
const BASE_LINES = 6

type Warning = { line: string; title: string; message: string }

async function run(
  toml: string,
  options: Pick<LoadConfigOptions, 'target'> = {}
): Promise<{ config?: DeployConfig; errors: ActionError[]; warnings: Warning[] }> {
  fs.mkdirSync(path.join(dir, '.pmcp'), { recursive: true })
  fs.writeFileSync(path.join(dir, '.pmcp', 'deploy.toml'), toml)
  const { result, error, output } = await captureStdout(() =>
    loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir, ...options })
  )
  const errors = error === undefined ? [] : error instanceof ActionErrors ? error.errors : [error as ActionError]
  const warnings = parseAnnotations(output)
    .filter(a => a.level === 'warning')
    .map(a => ({ line: String(a.properties.line), title: String(a.properties.title), message: a.message }))
  return { config: result, errors, warnings }
}

async function accepted(toml: string): Promise<{ config: DeployConfig; warnings: Warning[] }> {
  const { config, errors, warnings } = await run(toml)
  expect(errors.map(e => e.message)).toEqual([])
  return { config: config as DeployConfig, warnings }
}

async function refused(toml: string): Promise<{ line?: number; message: string }[]> {
  const { errors } = await run(toml)
  expect(errors.length).toBeGreaterThan(0)
  return errors.map(e => ({ line: e.location.line, message: e.message }))
}

describe('the file cargo pmcp deploy init 0.28 writes for aws-lambda', () => {
  it('loads with no error, warning only about the three sections init writes that the action does not apply', async () => {
    const { result, error, output } = await captureStdout(() =>
      loadConfig({
        workingDirectory: path.join(REPO_ROOT, 'testkit', 'fixtures', 'cargo-pmcp-0.28'),
        config: '.pmcp/deploy.toml',
        workspace: REPO_ROOT
      })
    )
    expect(error).toBeUndefined()
    const warnings = parseAnnotations(output)
    expect(warnings.map(w => [w.properties.line, w.properties.title])).toEqual([
      ['23', 'testkit/fixtures/cargo-pmcp-0.28/.pmcp/deploy.toml: [auth] dcr ignored'],
      ['45', 'testkit/fixtures/cargo-pmcp-0.28/.pmcp/deploy.toml: [auth] scopes ignored'],
      ['64', 'testkit/fixtures/cargo-pmcp-0.28/.pmcp/deploy.toml: [composition] ignored']
    ])
    expect(result?.target).toEqual({ type: 'aws-lambda', version: '1.0.0' })
    expect(result?.observability).toEqual({
      logRetentionDays: 30,
      enableXray: true,
      createDashboard: true,
      alarms: { errorThreshold: 10, latencyThresholdMs: 5000 }
    })
    expect(result?.assets).toEqual({ include: [], exclude: ['**/*.tmp', '**/.DS_Store', '**/Thumbs.db'], includeLine: 57 })
    expect(result?.iam).toEqual({ tables: [], buckets: [], statements: [] })
    expect(result?.secrets).toEqual([])
  })
  it('deployed to pmcp-run, applies [auth.dcr] and [composition] and says [observability] is not applied there', async () => {
    const { result, error, output } = await captureStdout(() =>
      loadConfig({
        workingDirectory: path.join(REPO_ROOT, 'testkit', 'fixtures', 'cargo-pmcp-0.28'),
        config: '.pmcp/deploy.toml',
        workspace: REPO_ROOT,
        target: 'pmcp-run'
      })
    )
    expect(error).toBeUndefined()
    const warnings = parseAnnotations(output)
    expect(warnings.map(w => [w.properties.line, w.properties.title])).toEqual([
      ['45', 'testkit/fixtures/cargo-pmcp-0.28/.pmcp/deploy.toml: [auth] scopes ignored'],
      ['47', 'testkit/fixtures/cargo-pmcp-0.28/.pmcp/deploy.toml: [observability] ignored']
    ])
    expect(warnings[1].message).toMatch(/not applied on target pmcp-run \(pmcp.run keeps function logs 7 days/)
    expect(result?.composition).toEqual({ tier: 'foundation', allowComposition: true, internalOnly: false })
    expect(result?.auth.dcr.publicClientPatterns).toEqual(['claude', 'desktop', 'cursor', 'mcp-inspector', 'chatgpt'])
  })
})

describe('[auth] on pmcp-run', () => {
  const AUTH_ONLY = '[target]\ntype = "pmcp-run"\nversion = "1.0.0"\n[server]\nname = "s"\n[auth]\nenabled = true\n'

  it("needs no Cognito provider or callback URLs: pmcp.run's own OAuth server is turned on", async () => {
    const { config, warnings } = await accepted(`${AUTH_ONLY}provider = "none"\n[auth.dcr]\nenabled = false\n`)
    expect(warnings).toEqual([])
    expect(config.auth).toMatchObject({ enabled: true, dcr: { enabled: false } })
  })

  it('warns that callback URLs and an OIDC provider are not used there', async () => {
    const { warnings } = await accepted(`${AUTH_ONLY}provider = "auth0"\ncallback_urls = ["https://a.example.com/cb"]\n`)
    expect(warnings.map(w => w.title)).toEqual([
      '.pmcp/deploy.toml: [auth] callback_urls ignored',
      '.pmcp/deploy.toml: [auth] provider not used on pmcp.run'
    ])
  })

  it('the same file for aws-lambda (the target input wins over [target] type) needs a provider', async () => {
    const { errors } = await run(AUTH_ONLY, { target: 'aws-lambda' })
    expect(errors.map(e => e.message)).toEqual([expect.stringMatching(/\[auth\] enabled is true but \[auth\] has no provider/)])
  })
})

describe('[target]', () => {
  it.each(['azure-container-apps', 'cloudflare-workers'])(
    'refuses %s as a cargo-pmcp target the action does not support yet, naming the supported ones',
    async target => {
      const found = await refused(`[target]\ntype = "${target}"\nversion = "1.0.0"\n[server]\nname = "s"\n[environment]\n`)
      expect(found).toEqual([
        {
          line: 2,
          message: expect.stringMatching(
            new RegExp(
              `\\[target\\] type is the string "${target}": ` +
                'it is a cargo-pmcp target that this action does not support yet.*"aws-lambda", "pmcp-run", "google-cloud-run"'
            )
          )
        }
      ])
    }
  )

  it('still calls a type cargo-pmcp does not know unknown, without "not supported yet"', async () => {
    const [found] = await refused('[target]\ntype = "heroku"\n[server]\nname = "s"\n')
    expect(found.line).toBe(2)
    expect(found.message).toMatch(/\[target\] type is the string "heroku"\. Allowed: "aws-lambda", "pmcp-run"/)
    expect(found.message).not.toMatch(/not support/)
  })

  it('warns on the [target] line that cargo pmcp 0.28 needs version, and deploys the file', async () => {
    const { config, warnings } = await accepted('[target]\ntype = "aws-lambda"\n[server]\nname = "s"\n[environment]\n')
    expect(config.target.type).toBe('aws-lambda')
    expect(warnings).toEqual([
      {
        line: '1',
        title: '.pmcp/deploy.toml: cargo pmcp 0.28 refuses this file',
        message: expect.stringMatching(/\[target\] version is missing.*Add version = "1.0.0" under \[target\]/)
      }
    ])
  })

  it('accepts version without a warning', async () => {
    expect((await accepted(BASE)).warnings).toEqual([])
  })
})

describe('[auth] provider', () => {
  it.each(['oidc', 'google', 'auth0', 'okta', 'entra'])(
    'accepts %s, warning on its line that the stack deploys no OAuth for it',
    async provider => {
      const { config, warnings } = await accepted(
        `${BASE}[auth]\nenabled = true\nprovider = "${provider}"\n[auth.oidc]\nissuer = "https://issuer.example.com"\nclient_id = "abc"\n`
      )
      expect(config.auth).toMatchObject({ enabled: true, provider })
      const own = warnings.filter(w => w.title.includes('provider'))
      expect(own).toEqual([
        {
          line: String(BASE_LINES + 3),
          title: '.pmcp/deploy.toml: [auth] provider not deployed',
          message: expect.stringMatching(/Cognito only.*no authorizer, no user pool.*open to any caller unless the server validates tokens/)
        }
      ])
      expect(warnings.filter(w => w.title.endsWith('[auth] oidc ignored')).map(w => w.line)).toEqual([String(BASE_LINES + 4)])
    }
  )

  it('does not ask an OIDC provider for callback URLs as Cognito needs them', async () => {
    const { config } = await accepted(`${BASE}[auth]\nenabled = true\nprovider = "google"\n`)
    expect(config.auth.callbackUrls).toEqual([])
  })

  it('refuses [auth.oidc] without issuer, as cargo-pmcp cannot read it', async () => {
    const found = await refused(`${BASE}[auth]\nenabled = true\nprovider = "oidc"\n[auth.oidc]\nclient_id = "abc"\n`)
    expect(found).toEqual([{ line: BASE_LINES + 4, message: expect.stringMatching(/\[auth.oidc\] issuer is missing.*add issuer = /) }])
  })

  it('warns that an [auth] table without enabled is refused by cargo pmcp 0.28, and deploys without OAuth', async () => {
    const { config, warnings } = await accepted(`${BASE}[auth]\nprovider = "none"\n`)
    expect(config.auth.enabled).toBe(false)
    expect(warnings.map(w => [w.line, w.message])).toEqual([[String(BASE_LINES + 1), expect.stringMatching(/\[auth\] has no enabled key/)]])
  })
})

describe('[observability]', () => {
  it('defaults as cargo-pmcp 0.28 does when omitted or partial: no expiry, no X-Ray, no dashboard, no alarms', async () => {
    expect((await accepted(BASE)).config.observability).toEqual({ logRetentionDays: 0, enableXray: false, createDashboard: false })
    expect((await accepted(`${BASE}[observability]\nenable_xray = true\n`)).config.observability).toEqual({
      logRetentionDays: 0,
      enableXray: true,
      createDashboard: false
    })
  })

  it.each([
    [10, 14],
    [31, 60],
    [5000, 0]
  ])('rounds log_retention_days = %i up to the CloudWatch period %i, warning on its line', async (days, used) => {
    const { config, warnings } = await accepted(`${BASE}[observability]\nlog_retention_days = ${days}\n`)
    expect(config.observability.logRetentionDays).toBe(used)
    expect(warnings).toEqual([
      {
        line: String(BASE_LINES + 2),
        title: '.pmcp/deploy.toml: [observability] log_retention_days rounded up',
        message: expect.stringMatching(
          new RegExp(`is ${days}, which CloudWatch Logs does not offer.*keeps them ${used === 0 ? 'without expiry' : `${used} days`}`)
        )
      }
    ])
  })

  it('refuses [observability.alarms] without latency_threshold_ms, which cargo-pmcp requires', async () => {
    const found = await refused(`${BASE}[observability.alarms]\nerror_threshold = 5\n`)
    expect(found).toEqual([{ line: BASE_LINES + 1, message: expect.stringMatching(/latency_threshold_ms is missing/) }])
  })
})

describe('[iam]', () => {
  const IAM = `${BASE}
[[iam.tables]]
name = "tenants"
actions = ["readwrite"]
include_indexes = true

[[iam.buckets]]
name = "snapshots"
actions = ["read"]

[[iam.statements]]
effect = "Allow"
actions = ["secretsmanager:GetSecretValue"]
resources = ["arn:aws:secretsmanager:us-west-2:*:secret:app/*"]
`

  it('resolves tables, buckets and statements without a warning', async () => {
    const { config, warnings } = await accepted(IAM)
    expect(warnings).toEqual([])
    expect(config.iam).toEqual({
      tables: [{ name: 'tenants', actions: ['readwrite'], includeIndexes: true }],
      buckets: [{ name: 'snapshots', actions: ['read'] }],
      statements: [
        { effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resources: ['arn:aws:secretsmanager:us-west-2:*:secret:app/*'] }
      ]
    })
  })

  it('refuses Allow of every action on every resource, on the line of that statement', async () => {
    const found = await refused(
      `${BASE}[[iam.statements]]\neffect = "Allow"\nactions = ["s3:GetObject"]\nresources = ["*"]\n` +
        '[[iam.statements]]\neffect = "Allow"\nactions = ["*"]\nresources = ["*"]\n'
    )
    expect(found).toEqual([
      { line: BASE_LINES + 5, message: expect.stringMatching(/\[iam\] statements\[1\] allows every action on every resource/) }
    ])
  })

  it.each([
    [
      'an unknown sugar keyword',
      '[[iam.tables]]\nname = "t"\nactions = ["admin"]\n',
      3,
      /\[iam.tables\[0\]\] actions item 1 is the string "admin".*"read", "write", "readwrite"/
    ],
    ['empty actions', '[[iam.buckets]]\nname = "b"\nactions = []\n', 3, /\[iam.buckets\[0\]\] actions is an empty list/],
    ['a missing name', '[[iam.buckets]]\nactions = ["read"]\n', 1, /\[iam.buckets\[0\]\] name is missing/],
    [
      'an effect other than Allow or Deny',
      '[[iam.statements]]\neffect = "allow"\nactions = ["s3:GetObject"]\nresources = ["*"]\n',
      2,
      /effect is the string "allow".*"Allow", "Deny"/
    ],
    [
      'a malformed action',
      '[[iam.statements]]\neffect = "Deny"\nactions = ["S3:Get Object"]\nresources = ["*"]\n',
      3,
      /actions item 1 is the string "S3:Get Object"/
    ],
    [
      'missing resources',
      '[[iam.statements]]\neffect = "Deny"\nactions = ["s3:GetObject"]\n',
      1,
      /\[iam.statements\[0\]\] resources is missing/
    ]
  ])('refuses %s, with its line', async (_name, iam, line, pattern) => {
    const found = await refused(`${BASE}${iam}`)
    expect(found).toEqual([{ line: BASE_LINES + line, message: expect.stringMatching(pattern) }])
  })

  it('warns, as cargo-pmcp does, about an unknown service prefix and an ARN pinned to one account', async () => {
    const { warnings } = await accepted(
      `${BASE}[[iam.statements]]\neffect = "Allow"\nactions = ["dynamodbb:GetItem"]\n` +
        'resources = ["arn:aws:dynamodb:us-east-1:123456789012:table/t"]\n'
    )
    expect(warnings.map(w => [w.line, w.title])).toEqual([
      [String(BASE_LINES + 3), '.pmcp/deploy.toml: [iam] unknown service'],
      [String(BASE_LINES + 4), '.pmcp/deploy.toml: [iam] resource pinned to an account']
    ])
  })
})

describe('[assets]', () => {
  it('resolves include and base_dir; no excludes unless listed (serde field default, as cargo-pmcp)', async () => {
    const { config, warnings } = await accepted(`${BASE}[assets]\ninclude = ["chinook.db", "resources/**/*.md"]\nbase_dir = "data"\n`)
    expect(warnings).toEqual([])
    expect(config.assets).toEqual({
      include: ['chinook.db', 'resources/**/*.md'],
      exclude: [],
      baseDir: 'data',
      includeLine: BASE_LINES + 2
    })
  })

  it('refuses an unclosed [ in a glob and a base_dir outside the workspace', async () => {
    const found = await refused(`${BASE}[assets]\ninclude = ["data/[ab.db"]\nbase_dir = "../elsewhere"\n`)
    expect(found).toEqual([
      {
        line: BASE_LINES + 2,
        message: expect.stringMatching(/\[assets\] include item 1 is the string "data\/\[ab.db".*a \[ must be closed/)
      },
      { line: BASE_LINES + 3, message: expect.stringMatching(/\[assets\] base_dir .*without "\.\." segments/) }
    ])
  })
})

describe('sections the action does not apply', () => {
  it.each([
    ['[[widgets]]', '[[widgets]]\npath = "widget"\nbuild = ["npm", "run", "build"]\n', 'build them in a step before this action'],
    ['[post_deploy_tests]', '[post_deploy_tests]\non_failure = "warn"\nchecks = ["connectivity"]\n', "'smoke' inputs"],
    ['[metadata]', '[metadata]\nserver_type = "graph-rag"\nsnapshot_baked = true\n', 'mcp:serverType'],
    ['[composition]', '[composition]\ntier = "domain"\n', 'pmcp.run'],
    ['[gcp]', '[gcp]\nproject_id = "my-project-123"\nregion = "us-central1"\n', 'the setting applies to target google-cloud-run'],
    ['[azure]', '[azure]\nlocation = "westus2"\ntarget_port = 9090\n', 'Azure Container Apps']
  ])('accepts %s with a warning saying why it is not applied', async (_name, section, reason) => {
    const { warnings } = await accepted(`${BASE}${section}`)
    expect(warnings).toEqual([
      { line: String(BASE_LINES + 1), title: expect.stringMatching(/ignored$/), message: expect.stringContaining(reason) }
    ])
  })

  it.each([
    ['a widget path with ..', '[[widgets]]\npath = "../ui"\n', 2, /\[widgets\[0\]\] path .*without "\.\." segments/],
    [
      'a widget build written as a string',
      '[[widgets]]\npath = "ui"\nbuild = "npm run build"\n',
      3,
      /build is the string "npm run build".*\["npm", "run", "build"\]/
    ],
    [
      'on_failure = "rollback"',
      '[post_deploy_tests]\non_failure = "rollback"\n',
      2,
      /on_failure is the string "rollback": it is not implemented by cargo-pmcp 0.28/
    ],
    ['an unknown apps_mode', '[post_deploy_tests]\napps_mode = "claude"\n', 2, /apps_mode .*"standard", "chatgpt", "claude-desktop"/],
    ['[layout] without primary', '[layout]\nkind = "multi-crate-isolated"\n', 1, /\[layout\] primary is missing/],
    [
      'a Cloud Run memory without unit',
      '[server]\nmemory = "256"\n',
      1,
      /\[server\] memory is the string "256".*M, G, Mi or Gi, e.g. "512Mi"/
    ],
    [
      'a misspelt [build] key (cargo-pmcp denies unknown fields)',
      '[build]\nfeature = ["x"]\n',
      2,
      /\[build\] feature is not a key of this table.*features, no_default_features/
    ]
  ])('still refuses %s, with its line', async (_name, section, line, pattern) => {
    const toml = section.startsWith('[server]')
      ? `[target]\ntype = "aws-lambda"\nversion = "1"\n[environment]\n[server]\nname = "s"\n${section.slice(9)}`
      : `${BASE}${section}`
    const found = await refused(toml)
    expect(found).toEqual([{ line: BASE_LINES + line, message: expect.stringMatching(pattern) }])
  })
})

describe('[environment]', () => {
  it('keeps a value of the wrong type an annotation on its line', async () => {
    const found = await refused(`${BASE}PORT = 8080\n`)
    expect(found).toEqual([
      { line: BASE_LINES + 1, message: expect.stringMatching(/\[environment\] PORT is the number 8080.*PORT = "8080"/) }
    ])
  })

  it('takes a file without [environment] as it is: the action needs none, and says nothing about cargo-pmcp needing one', async () => {
    const { warnings } = await accepted('[target]\ntype = "aws-lambda"\nversion = "1.0.0"\n[server]\nname = "s"\n')
    expect(warnings).toEqual([])
  })
})
