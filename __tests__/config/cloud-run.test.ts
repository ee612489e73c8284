/**
 * deploy.toml for target google-cloud-run, as cargo-pmcp 0.28 reads it (config.rs `GcpConfig`, the
 * Cloud Run keys of `ServerConfig`, `RuntimeConfig`, `LayoutConfig`; deploy.rs `resolve_params`) and
 * as Cloud Run takes a service: the defaults resolved, the project and region from the environment
 * when the file leaves them to gcloud, what Cloud Run refuses refused on its line, and the keys of
 * the AWS targets reported as ignored.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { loadConfig, type DeployConfig } from '../../src/config/index.js'
import { RESERVED_CLOUD_RUN_VARIABLES } from '../../src/config/cloud-run.js'
import { ActionError, ActionErrors } from '../../src/errors.js'
import type { Target } from '../../src/types.js'
import { captureStdout, parseAnnotations } from '../../testkit/annotations.js'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cloud-run-config-'))
  fs.mkdirSync(path.join(dir, '.pmcp'))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

type Env = Record<string, string | undefined>
interface Loaded {
  config?: DeployConfig
  errors: { line?: number; title: string; message: string }[]
  warnings: { line: number; title: string; message: string }[]
}

/** Loads the file as the action does, with `env` as the whole process environment. */
async function load(toml: string, options: { env?: Env; target?: Target } = {}): Promise<Loaded> {
  fs.writeFileSync(path.join(dir, '.pmcp', 'deploy.toml'), toml)
  const { result, error, output } = await captureStdout(() =>
    loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir, env: options.env ?? {}, target: options.target })
  )
  const errors = error === undefined ? [] : error instanceof ActionErrors ? error.errors : [error as ActionError]
  expect(errors.every(e => e instanceof ActionError)).toBe(true)
  return {
    config: result,
    errors: errors.map(e => ({ line: e.location.line, title: e.title, message: e.message })),
    warnings: parseAnnotations(output)
      .filter(a => a.level === 'warning')
      .map(a => ({ line: Number(a.properties.line), title: a.properties.title, message: a.message }))
  }
}

async function accepted(
  toml: string,
  options: { env?: Env; target?: Target } = {}
): Promise<{ cloudRun: NonNullable<DeployConfig['cloudRun']>; config: DeployConfig; warnings: Loaded['warnings'] }> {
  const { config, errors, warnings } = await load(toml, options)
  expect(errors.map(e => e.message)).toEqual([])
  expect(config?.cloudRun).toBeDefined()
  return { cloudRun: config?.cloudRun as NonNullable<DeployConfig['cloudRun']>, config: config as DeployConfig, warnings }
}

/** The errors of a refused file; fails when it loads. */
async function refused(toml: string, options: { env?: Env; target?: Target } = {}): Promise<Loaded['errors']> {
  const { errors } = await load(toml, options)
  expect(errors.length).toBeGreaterThan(0)
  return errors
}

/** Lines 1–7: a complete Cloud Run file, so that only the lines under test differ. */
const BASE =
  '[target]\ntype = "google-cloud-run"\nversion = "1.0.0"\n' +
  '[gcp]\nproject_id = "acme-prod"\nregion = "us-central1"\n' +
  '[server]\nname = "hello-run"\n'
/** The line the first line after BASE has. */
const NEXT = 9

describe('a minimal Cloud Run deploy.toml', () => {
  it("resolves cargo-pmcp's defaults: 512Mi, 1 CPU, 0 to 10 instances, public, distroless, MCP at /mcp", async () => {
    const { cloudRun, config, warnings } = await accepted(BASE)
    expect(warnings).toEqual([])
    expect(cloudRun).toEqual({
      projectId: 'acme-prod',
      region: 'us-central1',
      memory: '512Mi',
      cpu: '1',
      minInstances: 0,
      maxInstances: 10,
      allowUnauthenticated: true,
      base: 'gcr.io/distroless/cc-debian12',
      aptPackages: [],
      lines: { server: 7 }
    })
    expect(config.target.type).toBe('google-cloud-run')
    expect(config.server.mcpPath).toBe('/mcp')
    expect(config.environment).toEqual({})
    expect(config.secrets).toEqual([])
  })

  it('takes every Cloud Run key as written', async () => {
    const { cloudRun, config } = await accepted(
      `${BASE}mcp_path = "/"\nmemory = "2Gi"\ncpu = "2"\nmin_instances = 1\nmax_instances = 3\n` +
        'ingress = "internal-and-cloud-load-balancing"\nallow_unauthenticated = false\nbinary = "serve"\n' +
        '[runtime]\nbase = "debian:bookworm-slim"\napt_packages = ["ca-certificates", "libpq5"]\n' +
        '[layout]\nkind = "multi-crate-isolated"\nprimary = "gcp-cloud-run"\npath_deps = ["core", "shared_types"]\n'
    )
    expect(cloudRun).toMatchObject({
      memory: '2Gi',
      cpu: '2',
      minInstances: 1,
      maxInstances: 3,
      ingress: 'internal-and-cloud-load-balancing',
      allowUnauthenticated: false,
      binary: 'serve',
      base: 'debian:bookworm-slim',
      aptPackages: ['ca-certificates', 'libpq5'],
      layout: { kind: 'multi-crate-isolated', primary: 'gcp-cloud-run', pathDeps: ['core', 'shared_types'] },
      lines: { server: 7, binary: NEXT + 7, base: NEXT + 9, aptPackages: NEXT + 10, layout: NEXT + 11 }
    })
    expect(config.server.mcpPath).toBe('/')
  })

  it('keeps [gcp] repository, the Artifact Registry repository a new cargo pmcp init records', async () => {
    const { cloudRun } = await accepted(BASE.replace('region = "us-central1"\n', 'region = "us-central1"\nrepository = "pmcp"\n'))
    expect(cloudRun.repository).toBe('pmcp')
  })

  it('gives an aws-lambda file no Cloud Run settings, and the target input decides', async () => {
    const lambda = await load('[target]\ntype = "aws-lambda"\nversion = "1.0.0"\n[server]\nname = "hello-run"\n')
    expect(lambda.config && 'cloudRun' in lambda.config).toBe(false)
    expect(lambda.config?.server.mcpPath).toBe('/')
    const { cloudRun } = await accepted('[server]\nname = "hello-run"\n', {
      target: 'google-cloud-run',
      env: { GOOGLE_CLOUD_PROJECT: 'acme-prod', CLOUDSDK_RUN_REGION: 'europe-west1' }
    })
    expect([cloudRun.projectId, cloudRun.region]).toEqual(['acme-prod', 'europe-west1'])
  })
})

/** What `cargo pmcp deploy init --target-type google-cloud-run` 0.28 writes (`default_for_cloud_run_server`, toml pretty). */
const CARGO_PMCP_INIT = `[target]
type = "google-cloud-run"
version = "1.0.0"

[gcp]
project_id = "your-gcp-project-id"
region = "us-central1"
repository = "pmcp"

[server]
name = "hello-run"
memory_mb = 512
timeout_seconds = 30
memory = "256Mi"
cpu = "1"
ingress = "all"
allow_unauthenticated = true
max_instances = 10
min_instances = 0
binary = "hello-run"

[environment]
RUST_LOG = "info"

[secrets]

[auth]
enabled = false
provider = "none"
callback_urls = []

[auth.dcr]
enabled = true
public_client_patterns = ["claude", "desktop", "cursor", "mcp-inspector", "chatgpt"]
default_scopes = ["openid", "email", "mcp/read"]
allowed_scopes = ["openid", "email", "profile", "mcp/read", "mcp/write"]

[auth.scopes.custom]

[observability]
log_retention_days = 30
enable_xray = false
create_dashboard = false

[assets]
include = []
exclude = ["**/*.tmp", "**/.DS_Store", "**/Thumbs.db"]

[composition]
tier = "foundation"
allow_composition = true
internal_only = false
`

describe('the file cargo pmcp deploy init 0.28 writes for google-cloud-run', () => {
  it("deploys with the project from the environment (google-github-actions/auth exports it) in place of init's placeholder", async () => {
    const { cloudRun, config, warnings } = await accepted(CARGO_PMCP_INIT, { env: { GOOGLE_CLOUD_PROJECT: 'acme-prod' } })
    expect(cloudRun).toEqual({
      projectId: 'acme-prod',
      region: 'us-central1',
      repository: 'pmcp',
      memory: '256Mi',
      cpu: '1',
      minInstances: 0,
      maxInstances: 10,
      ingress: 'all',
      allowUnauthenticated: true,
      binary: 'hello-run',
      base: 'gcr.io/distroless/cc-debian12',
      aptPackages: [],
      lines: { server: 10, binary: 20 }
    })
    expect(config.environment).toEqual({ RUST_LOG: 'info' })
    expect(config.server.mcpPath).toBe('/mcp')
    // What init writes for the AWS targets is said to be ignored, once per key, on its line.
    expect(warnings.map(w => [w.line, w.title])).toEqual([
      [12, '.pmcp/deploy.toml: [server] memory_mb ignored'],
      [13, '.pmcp/deploy.toml: [server] timeout_seconds ignored'],
      [32, '.pmcp/deploy.toml: [auth] dcr ignored'],
      [38, '.pmcp/deploy.toml: [auth] scopes ignored'],
      [40, '.pmcp/deploy.toml: [observability] ignored'],
      [45, '.pmcp/deploy.toml: [assets] ignored'],
      [49, '.pmcp/deploy.toml: [composition] ignored']
    ])
    expect(warnings[0].message).toMatch(/not applied on target google-cloud-run \(on Cloud Run the container's memory is \[server\] memory/)
  })

  it('with no project in the environment, refuses the placeholder on its line, saying where a project comes from', async () => {
    const errors = await refused(CARGO_PMCP_INIT)
    expect(errors).toEqual([
      {
        line: 6,
        title: '.pmcp/deploy.toml: invalid [gcp] project_id',
        message: expect.stringMatching(
          new RegExp(
            '^\\[gcp\\] project_id is "your-gcp-project-id", the placeholder cargo pmcp deploy init writes, ' +
              'and none of GOOGLE_CLOUD_PROJECT, CLOUDSDK_CORE_PROJECT is set.*project_id = "my-project-123"',
            's'
          )
        )
      }
    ])
  })
})

describe('[gcp] project and region', () => {
  const NO_GCP = '[target]\ntype = "google-cloud-run"\nversion = "1.0.0"\n[server]\nname = "hello-run"\n'

  it('come from GOOGLE_CLOUD_PROJECT, else CLOUDSDK_CORE_PROJECT, and CLOUD_RUN_REGION, else CLOUDSDK_RUN_REGION', async () => {
    const first = await accepted(NO_GCP, {
      env: {
        GOOGLE_CLOUD_PROJECT: 'from-google',
        CLOUDSDK_CORE_PROJECT: 'from-sdk',
        CLOUD_RUN_REGION: 'asia-east1',
        CLOUDSDK_RUN_REGION: 'us-east4'
      }
    })
    expect([first.cloudRun.projectId, first.cloudRun.region]).toEqual(['from-google', 'asia-east1'])
    const second = await accepted(NO_GCP, { env: { CLOUDSDK_CORE_PROJECT: 'from-sdk', CLOUDSDK_RUN_REGION: 'us-east4' } })
    expect([second.cloudRun.projectId, second.cloudRun.region]).toEqual(['from-sdk', 'us-east4'])
  })

  it('accept a domain-scoped project (example.com:my-project)', async () => {
    const { cloudRun } = await accepted(BASE.replace('project_id = "acme-prod"', 'project_id = "example.com:acme-prod"'))
    expect(cloudRun.projectId).toBe('example.com:acme-prod')
  })

  it('take the file over the environment', async () => {
    const { cloudRun } = await accepted(BASE, { env: { GOOGLE_CLOUD_PROJECT: 'other-project', CLOUD_RUN_REGION: 'us-east4' } })
    expect([cloudRun.projectId, cloudRun.region]).toEqual(['acme-prod', 'us-central1'])
  })

  it('missing everywhere: one error saying to add [gcp] with both, with an example', async () => {
    const errors = await refused(NO_GCP)
    expect(errors).toEqual([
      {
        line: 1,
        title: '.pmcp/deploy.toml: invalid [gcp]',
        message: expect.stringContaining(
          '[gcp] is missing, and neither the project (GOOGLE_CLOUD_PROJECT, CLOUDSDK_CORE_PROJECT) ' +
            'nor the region (CLOUD_RUN_REGION, CLOUDSDK_RUN_REGION)'
        )
      }
    ])
    expect(errors[0].message).toContain('[gcp]\nproject_id = "my-project-123"\nregion = "us-central1"')
  })

  it('only the region missing: an error about the region alone', async () => {
    const errors = await refused(NO_GCP, { env: { GOOGLE_CLOUD_PROJECT: 'acme-prod' } })
    expect(errors.map(e => e.message)).toEqual([
      expect.stringMatching(/^\[gcp\] region is not set, and none of CLOUD_RUN_REGION, CLOUDSDK_RUN_REGION/)
    ])
  })

  it('an empty region in the file is unset, as in cargo-pmcp', async () => {
    const { cloudRun } = await accepted(BASE.replace('region = "us-central1"', 'region = ""'), {
      env: { CLOUDSDK_RUN_REGION: 'europe-west4' }
    })
    expect(cloudRun.region).toBe('europe-west4')
  })

  it('a malformed project in the environment is refused, naming the variable', async () => {
    const errors = await refused(NO_GCP, { env: { GOOGLE_CLOUD_PROJECT: 'Not A Project', CLOUD_RUN_REGION: 'us-central1' } })
    expect(errors.map(e => e.message)).toEqual([
      expect.stringMatching(
        /\[gcp\] project_id is not set in deploy.toml, and the environment variable GOOGLE_CLOUD_PROJECT holds "Not A Project"/
      )
    ])
  })

  it('a [gcp] table without region is refused as cargo-pmcp refuses it, once', async () => {
    const errors = await refused(BASE.replace('region = "us-central1"\n', ''), { env: { CLOUD_RUN_REGION: 'us-central1' } })
    expect(errors.map(e => [e.line, e.message])).toEqual([
      [4, expect.stringMatching(/\[gcp\] region is missing \(cargo-pmcp cannot read the table without it\)/)]
    ])
  })

  it.each([
    [
      'a project id with capitals',
      'project_id = "Acme_Prod"',
      5,
      /\[gcp\] project_id is the string "Acme_Prod".*6 to 30 lower-case letters/
    ],
    ['a project id too short', 'project_id = "acme"', 5, /\[gcp\] project_id is the string "acme"/],
    ['a region that is not one', 'region = "us central 1"', 6, /\[gcp\] region is the string "us central 1".*"us-central1"/]
  ])('refuses %s on its line', async (_name, line, at, pattern) => {
    const key = line.split(' ')[0]
    const toml = BASE.replace(new RegExp(`${key} = "[^"]*"`), line)
    const errors = await refused(toml)
    expect(errors).toEqual([{ line: at, title: `.pmcp/deploy.toml: invalid [gcp] ${key}`, message: expect.stringMatching(pattern) }])
  })

  it.each(['Bad_Repo', '-pmcp', 'pmcp-', '1pmcp', 'pm cp', 'a'.repeat(64)])(
    'refuses the repository %j (Artifact Registry repository ids)',
    async repository => {
      const errors = await refused(BASE.replace('region = "us-central1"\n', `region = "us-central1"\nrepository = "${repository}"\n`))
      expect(errors).toEqual([
        { line: 7, title: '.pmcp/deploy.toml: invalid [gcp] repository', message: expect.stringContaining('e.g. "pmcp"') }
      ])
    }
  )
})

describe('[server] on Cloud Run', () => {
  it.each([
    ['memory without a unit', 'memory = "512"', /\[server\] memory is the string "512".*M, G, Mi or Gi/],
    ['memory in MB', 'memory = "512MB"', /\[server\] memory is the string "512MB"/],
    ['memory below 128Mi', 'memory = "64Mi"', /\[server\] memory is "64Mi", out of Cloud Run's range.*from 128Mi to 32Gi/],
    ['memory above 32Gi', 'memory = "64Gi"', /\[server\] memory is "64Gi", out of Cloud Run's range/],
    [
      'more memory than 1 CPU allows',
      'memory = "8Gi"',
      /memory "8Gi" with cpu = "1" \(the default\): Cloud Run gives 1 CPU at most 4Gi.*or cpu = "2" for 8Gi/
    ],
    [
      'a CPU count Cloud Run does not offer',
      'cpu = "3"',
      /\[server\] cpu is "3", a CPU count Cloud Run does not offer.*"1", "2", "4", "6" or "8"/
    ],
    ['less than one CPU', 'cpu = "0.5"', /\[server\] cpu is "0.5": Cloud Run runs less than 1 CPU only with concurrency 1/],
    ['less than one CPU in millicores', 'cpu = "500m"', /\[server\] cpu is "500m": Cloud Run runs less than 1 CPU/],
    [
      '4 CPUs with the default memory',
      'cpu = "4"',
      /\[server\] cpu asks for memory "512Mi" \(the default\) with cpu = "4": Cloud Run needs at least 2Gi/
    ],
    ['cpu as a number', 'cpu = 1', /\[server\] cpu is the number 1.*cpu = "1"/],
    [
      'an ingress Cloud Run does not know',
      'ingress = "public"',
      /\[server\] ingress is the string "public".*"all", "internal", "internal-and-cloud-load-balancing"/
    ],
    ['allow_unauthenticated as a string', 'allow_unauthenticated = "yes"', /allow_unauthenticated is the string "yes".*true or false/],
    ['no instance at most', 'max_instances = 0', /\[server\] max_instances is 0, out of range.*from 1 to 2147483647/],
    [
      'more instances at least than at most',
      'min_instances = 5\nmax_instances = 3',
      /\[server\] min_instances asks for at least 5 instances and at most 3/
    ],
    [
      'more instances at least than the default at most',
      'min_instances = 20',
      /at least 20 instances and at most 10 \(the default max_instances\)/
    ],
    [
      'a binary name a Dockerfile line cannot hold',
      'binary = "serve; rm -rf /"',
      /\[server\] binary is the string "serve; rm -rf \/".*ASCII letters, digits, - or _/
    ],
    ['an mcp_path without a leading slash', 'mcp_path = "mcp"', /\[server\] mcp_path is the string "mcp"/]
  ])('refuses %s on its line', async (_name, lines, pattern) => {
    const errors = await refused(`${BASE}${lines}\n`)
    expect(errors).toEqual([
      { line: NEXT, title: expect.stringMatching(/^\.pmcp\/deploy\.toml: invalid \[server\] /), message: expect.stringMatching(pattern) }
    ])
  })

  it.each([
    ['1', '4Gi'],
    ['2', '8Gi'],
    ['4', '2Gi'],
    ['6', '24Gi'],
    ['8', '32Gi'],
    ['2000m', '1G']
  ])('accepts cpu = %j with memory = %j', async (cpu, memory) => {
    const { cloudRun } = await accepted(`${BASE}cpu = "${cpu}"\nmemory = "${memory}"\n`)
    expect([cloudRun.cpu, cloudRun.memory]).toEqual([cpu, memory])
  })

  it.each([
    ['capitals', 'Hello-Run', /e.g. name = "hello-run"/],
    ['50 characters', `h${'e'.repeat(49)}`, /fewer than 50 characters/]
  ])('refuses a service name with %s, which Cloud Run does not take', async (_name, name, pattern) => {
    const errors = await refused(BASE.replace('name = "hello-run"', `name = "${name}"`))
    expect(errors).toEqual([
      {
        line: 8,
        title: '.pmcp/deploy.toml: invalid [server] name',
        message: expect.stringMatching(new RegExp(`which Cloud Run refuses as a service name.*${pattern.source}`))
      }
    ])
  })
})

describe('[runtime] and [layout]', () => {
  it('refuses apt_packages on the default distroless base, which has no apt-get', async () => {
    const errors = await refused(`${BASE}[runtime]\napt_packages = ["libpq5"]\n`)
    expect(errors).toEqual([
      {
        line: NEXT + 1,
        title: '.pmcp/deploy.toml: invalid [runtime] apt_packages',
        message: expect.stringMatching(
          /for base "gcr.io\/distroless\/cc-debian12" \(the default\), which has no apt-get.*base = "debian:bookworm-slim"/
        )
      }
    ])
  })

  it('refuses apt_packages on a base cargo-pmcp does not treat as Debian (its prefix rule: debian: or ubuntu:)', async () => {
    const errors = await refused(`${BASE}[runtime]\nbase = "docker.io/library/debian:12"\napt_packages = ["libpq5"]\n`)
    expect(errors.map(e => e.line)).toEqual([NEXT + 2])
  })

  it.each([
    [
      'a package with shell syntax',
      'base = "ubuntu:24.04"\napt_packages = ["curl; rm -rf /"]',
      NEXT + 2,
      /\[runtime\] apt_packages item 1 is the string "curl; rm -rf \/".*Debian package names/
    ],
    [
      'a base that is no image reference',
      'base = "debian bookworm"',
      NEXT + 1,
      /\[runtime\] base is the string "debian bookworm".*container image reference/
    ]
  ])('refuses %s', async (_name, body, at, pattern) => {
    const errors = await refused(`${BASE}[runtime]\n${body}\n`)
    expect(errors).toEqual([{ line: at, title: expect.any(String), message: expect.stringMatching(pattern) }])
  })

  it('warns about a layout kind cargo-pmcp does not know, which gets its default layout', async () => {
    const { cloudRun, warnings } = await accepted(`${BASE}[layout]\nkind = "monorepo"\nprimary = "svc"\n`)
    expect(cloudRun.layout).toEqual({ kind: 'monorepo', primary: 'svc', pathDeps: [] })
    expect(warnings).toEqual([
      { line: NEXT + 1, title: '.pmcp/deploy.toml: [layout] kind unknown', message: expect.stringContaining('only "multi-crate-isolated"') }
    ])
  })

  it.each([
    [
      'a primary outside the project',
      'kind = "multi-crate-isolated"\nprimary = "../svc"',
      NEXT + 2,
      /\[layout\] primary is the string "\.\.\/svc"/
    ],
    [
      'a path dependency with a slash',
      'kind = "multi-crate-isolated"\nprimary = "svc"\npath_deps = ["libs/core"]',
      NEXT + 3,
      /path_deps item 1/
    ],
    ['no primary', 'kind = "multi-crate-isolated"', NEXT, /\[layout\] primary is missing/]
  ])('refuses %s', async (_name, body, at, pattern) => {
    const errors = await refused(`${BASE}[layout]\n${body}\n`)
    expect(errors).toEqual([{ line: at, title: expect.any(String), message: expect.stringMatching(pattern) }])
  })
})

describe('[environment] on Cloud Run', () => {
  it.each(RESERVED_CLOUD_RUN_VARIABLES.map(name => [name]))('refuses %s, which Cloud Run sets itself', async name => {
    const errors = await refused(`${BASE}[environment]\nOK_VAR = "x"\n${name} = "mine"\n`)
    expect(errors).toEqual([
      {
        line: NEXT + 2,
        title: `.pmcp/deploy.toml: invalid [environment] ${name}`,
        message: expect.stringContaining('is set by Cloud Run itself')
      }
    ])
  })

  it.each([
    ['X_GOOGLE_TRACE', /starts with X_GOOGLE_/],
    ['1VAR', /not a variable name Cloud Run accepts/],
    ['"MY VAR"', /not a variable name Cloud Run accepts/],
    ['""', /not a variable name Cloud Run accepts/]
  ])('refuses the name %s', async (name, pattern) => {
    const errors = await refused(`${BASE}[environment]\n${name} = "v"\n`)
    expect(errors.map(e => [e.line, e.message])).toEqual([[NEXT + 1, expect.stringMatching(pattern)]])
  })

  it("accepts names Lambda would refuse but Cloud Run takes (dots, hyphens, one letter, Lambda's reserved names)", async () => {
    const { config } = await accepted(`${BASE}[environment]\n"my.setting" = "a"\nFEATURE-FLAG = "b"\nX = "c"\nAWS_REGION = "d"\n`)
    expect(config.environment).toEqual({ 'my.setting': 'a', 'FEATURE-FLAG': 'b', X: 'c', AWS_REGION: 'd' })
  })

  it('refuses a value beyond 32 KiB, a value that is not a string, and a NUL', async () => {
    const errors = await refused(`${BASE}[environment]\nBIG = "${'x'.repeat(32 * 1024 + 1)}"\nPORT_NUMBER = 8080\nTOKEN = "a\\u0000b"\n`)
    expect(errors.map(e => [e.line, e.message])).toEqual([
      [NEXT + 2, expect.stringMatching(/PORT_NUMBER is the number 8080.*PORT_NUMBER = "8080"/)],
      [NEXT + 3, expect.stringMatching(/TOKEN holds a NUL character/)],
      [NEXT + 1, expect.stringMatching(/BIG is 32769 bytes long, more than the 32768 bytes Cloud Run allows/)]
    ])
  })

  it('ignores [lambda.environment], the Lambda function table', async () => {
    const { config, warnings } = await accepted(`${BASE}[environment]\nA = "1"\n[lambda.environment]\nB = "2"\n`)
    expect(config.environment).toEqual({ A: '1' })
    expect(warnings.map(w => [w.line, w.title])).toEqual([[NEXT + 2, '.pmcp/deploy.toml: [lambda] ignored']])
  })
})

describe('[secrets] on Cloud Run: Secret Manager secrets given as variables of the same name', () => {
  it('resolves the ids of both spellings, without the Secrets Manager suffix rule', async () => {
    const list = await accepted(`secrets = ["OPENAI_KEY", "db-password", "api-key-abc123"]\n${BASE}`)
    expect(list.config.secrets).toEqual(['OPENAI_KEY', 'db-password', 'api-key-abc123'])
    const table = await accepted(`${BASE}[secrets]\nOPENAI_KEY = "the model key"\n`)
    expect(table.config.secrets).toEqual(['OPENAI_KEY'])
  })

  it.each([
    ['PORT', /has the secret "PORT", given to the server as the variable PORT, which is set by Cloud Run itself/],
    ['9LIVES', /variable 9LIVES, which is not a variable name Cloud Run accepts/],
    ['a.b', /\[secrets\] a\.b has the secret name the string "a\.b".*Secret Manager secret id: 1 to 255/],
    [`K${'k'.repeat(255)}`, /has the secret name the string "Kk+".*1 to 255/]
  ])('refuses the secret %j on its line', async (name, pattern) => {
    const errors = await refused(`${BASE}[secrets]\n"${name}" = "x"\n`)
    expect(errors.map(e => [e.line, e.message])).toEqual([[NEXT + 1, expect.stringMatching(pattern)]])
  })

  it('refuses a secret whose variable [environment] also sets', async () => {
    const errors = await refused(`${BASE}[environment]\nDB_URL = "postgres://x"\n[secrets]\nDB_URL = "the database"\n`)
    expect(errors.map(e => [e.line, e.message])).toEqual([
      [
        NEXT + 3,
        expect.stringMatching(/variable DB_URL, which \[environment\] sets too.*remove DB_URL from \[environment\] or from \[secrets\]/)
      ]
    ])
  })
})

describe('keys of the AWS targets under google-cloud-run', () => {
  it.each([
    ['[aws]', '[aws]\nregion = "us-east-1"\n', '[aws] ignored', 'the project and region come from [gcp]'],
    [
      '[lambda], once for the table',
      '[lambda]\narchitecture = "arm64"\ntracing = true\nmemory_size = 1024\n',
      '[lambda] ignored',
      '[server] memory, cpu and [environment]'
    ],
    ['[vpc]', '[vpc]\nvpc_id = "vpc-0abc"\nsubnet_ids = ["subnet-0abc"]\n', '[vpc] ignored', 'no VPC connector'],
    ['[api_gateway]', '[api_gateway]\nrate_limit = 10\n', '[api_gateway] ignored', 'no API Gateway'],
    ['[observability]', '[observability]\nenable_xray = true\n', '[observability] ignored', 'Cloud Logging'],
    [
      '[iam], even one that allows everything (no role is written)',
      '[[iam.statements]]\neffect = "Allow"\nactions = ["*"]\nresources = ["*"]\n',
      '[iam] ignored',
      'Google service account'
    ],
    [
      '[auth.cognito]',
      '[auth]\nenabled = false\n[auth.cognito]\nuser_pool_name = "p"\nmfa = "on"\n',
      '[auth] cognito ignored',
      'no Cognito user pool'
    ],
    ['[build]', '[build]\nfeatures = ["http"]\n', '[build] ignored', 'default features'],
    ['[assets]', '[assets]\ninclude = ["data/*.db"]\n', '[assets] ignored', 'include_bytes!'],
    ['[composition]', '[composition]\ntier = "domain"\n', '[composition] ignored', 'pmcp.run does'],
    ['[metadata]', '[metadata]\nserver_type = "graph-rag"\n', '[metadata] ignored', 'mcp:* metadata']
  ])('warns once that %s is not applied on Cloud Run, saying why', async (_name, section, title, reason) => {
    const { warnings } = await accepted(`${BASE}${section}`)
    expect(warnings).toEqual([{ line: expect.any(Number), title: `.pmcp/deploy.toml: ${title}`, message: expect.stringContaining(reason) }])
    expect(warnings[0].message).toContain('is not applied on target google-cloud-run (on Cloud Run ')
  })

  it('still refuses a malformed key of a table it ignores, without a warning', async () => {
    const { errors, warnings } = await load(`${BASE}[vpc]\nvpc_id = "not-a-vpc"\n`)
    expect(errors.map(e => e.message)).toEqual([expect.stringMatching(/\[vpc\] vpc_id is the string "not-a-vpc"/)])
    expect(warnings).toEqual([])
  })

  it('warns that [auth] enabled is not applied: Cloud Run access is allow_unauthenticated', async () => {
    const { warnings } = await accepted(`${BASE}[auth]\nenabled = true\nprovider = "cognito"\n`)
    expect(warnings).toEqual([
      {
        line: NEXT + 1,
        title: '.pmcp/deploy.toml: [auth] not applied on Cloud Run',
        message: expect.stringContaining('[server] allow_unauthenticated')
      }
    ])
  })
})

describe('Cloud Run keys under the AWS targets', () => {
  const LAMBDA = '[target]\ntype = "aws-lambda"\nversion = "1.0.0"\n[server]\nname = "s"\n'

  it.each([
    ['[server] memory', 'memory = "1Gi"', '[server] memory ignored'],
    ['[server] binary', 'binary = "serve"', '[server] binary ignored'],
    ['[runtime]', '[runtime]\nbase = "debian:bookworm-slim"', '[runtime] ignored'],
    ['[layout]', '[layout]\nkind = "multi-crate-isolated"\nprimary = "svc"', '[layout] ignored'],
    ['[gcp]', '[gcp]\nproject_id = "acme-prod"\nregion = "us-central1"', '[gcp] ignored']
  ])('warn that %s applies to google-cloud-run', async (_name, body, title) => {
    const { errors, warnings } = await load(`${LAMBDA}${body}\n`)
    expect(errors).toEqual([])
    expect(warnings.map(w => w.title)).toEqual([`.pmcp/deploy.toml: ${title}`])
    expect(warnings[0].message).toMatch(/is not applied on target aws-lambda \(.*(google-cloud-run|Google Cloud Run).*\)/)
  })

  it('[server] mcp_path: applied on aws-lambda and Cloud Run, ignored on pmcp-run', async () => {
    const file = `${LAMBDA}mcp_path = "/api/mcp"\n`
    expect((await load(file)).config?.server.mcpPath).toBe('/api/mcp')
    expect((await load(file, { target: 'pmcp-run' })).warnings.map(w => w.title)).toEqual(['.pmcp/deploy.toml: [server] mcp_path ignored'])
    const { config, warnings } = await accepted(file, {
      target: 'google-cloud-run',
      env: { GOOGLE_CLOUD_PROJECT: 'acme-prod', CLOUD_RUN_REGION: 'us-central1' }
    })
    expect(config.server.mcpPath).toBe('/api/mcp')
    expect(warnings).toEqual([])
  })
})
