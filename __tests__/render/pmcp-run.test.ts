/**
 * Rendering for `target: pmcp-run`: templates/pmcp-run (cargo pmcp's Lambda-only pmcp.run stack)
 * with settings from deploy.toml, chosen by the target; the aws-lambda project stays as it is.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { loadConfig, type DeployConfig } from '../../src/config/index.js'
import { resourceNames } from '../../src/names.js'
import { pmcpRunStackSettings, renderProject, templatesRoot, type RenderOptions } from '../../src/render/index.js'
import { RENDERED_PROJECT_FILES, typecheckProject } from '../../testkit/synth.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

describe('rendering the pmcp-run target', () => {
  let dir: string
  let remove: () => void
  beforeAll(() => ({ dir, remove } = makeWorkDir('render-pmcprun')))
  afterAll(() => remove())

  function configOf(toml: string): DeployConfig {
    const file = `conf-${Math.random().toString(36).slice(2)}.toml`
    writeConfig(dir, toml, file)
    return loadConfig({ workingDirectory: dir, config: file, workspace: dir })
  }

  function options(config: DeployConfig, extra: Partial<RenderOptions> = {}): RenderOptions {
    const outDir = path.join(dir, `out-${Math.random().toString(36).slice(2)}`)
    // The plan picks the target (input, else [target] type); here the file's type stands in for it.
    const target = config.target.type
    return {
      config,
      names: resourceNames(config.server.name, 'production'),
      architecture: 'arm64',
      target,
      commitSha: 'abc1234',
      runId: '7',
      outDir,
      ...extra
    }
  }

  const stackSource = (outDir: string): string => fs.readFileSync(path.join(outDir, 'lib', 'stack.ts'), 'utf8')

  it('finds each target its own template directory', () => {
    expect(templatesRoot()).toBe(path.join(REPO_ROOT, 'templates', 'aws-lambda'))
    expect(templatesRoot('pmcp-run')).toBe(path.join(REPO_ROOT, 'templates', 'pmcp-run'))
  })

  it("renders the target asked for, else deploy.toml's [target] type", () => {
    const pmcpRunConfig = configOf('[target]\ntype = "pmcp-run"\n[server]\nname = "routed-mcp"\n')
    const byConfig = options(pmcpRunConfig)
    expect(renderProject(byConfig).sort()).toEqual([...RENDERED_PROJECT_FILES])
    expect(stackSource(byConfig.outDir)).toContain("'pmcp-run-pending-upload'")
    expect(stackSource(byConfig.outDir)).not.toContain('HttpApi')

    // The target input wins over the file, both ways.
    const asAwsLambda = options(pmcpRunConfig, { target: 'aws-lambda' })
    renderProject(asAwsLambda)
    expect(stackSource(asAwsLambda.outDir)).toContain("new apigw.HttpApi(this, 'HttpApi'")
    const asPmcpRun = options(configOf('[server]\nname = "routed-mcp"\n'), { target: 'pmcp-run' })
    renderProject(asPmcpRun)
    expect(stackSource(asPmcpRun.outDir)).toContain("new lambda.Function(this, 'McpFunction'")
  })

  it("settings: cargo pmcp's stack sizes and variables (deploy.toml's are merged after synth), architecture, [iam], no secrets", () => {
    const config = configOf(`
[target]
type = "pmcp-run"
[server]
name = "weather-mcp"
memory_mb = 1024
timeout_seconds = 45
[environment]
RUST_LOG = "debug"
PMCP_ORGANIZATION_ID = "acme"
GREETING = "merged after synth, not rendered"
[secrets]
OPENAI_API_KEY = "never in the template"
[observability]
log_retention_days = 14
[[iam.tables]]
name = "Forecasts"
actions = ["read"]
include_indexes = true
[[iam.statements]]
effect = "Allow"
actions = ["sqs:SendMessage"]
resources = ["arn:aws:sqs:*:*:forecast-queue"]
`)
    const settings = pmcpRunStackSettings(options(config, { names: resourceNames('weather-mcp', 'preview', '12'), architecture: 'x86_64' }))
    expect(settings).toEqual({
      stackName: 'weather-mcp-pr12-stack',
      stackDescription: 'MCP Server: weather-mcp-pr12',
      functionName: 'weather-mcp-pr12',
      architecture: 'x86_64',
      memoryMb: 256,
      timeoutSeconds: 30,
      // cargo pmcp's stack reads PMCP_ORGANIZATION_ID from its process environment, which carries [environment].
      environment: { RUST_LOG: 'info', PMCP_ORGANIZATION_ID: 'acme', PMCP_SERVER_ID: 'weather-mcp-pr12', MCP_SERVERS_TABLE: 'McpServer' },
      serversTable: 'McpServer',
      iamStatements: [
        {
          effect: 'Allow',
          actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem'],
          resources: [{ dynamodbTable: 'Forecasts', withIndexes: true }]
        },
        { effect: 'Allow', actions: ['sqs:SendMessage'], resources: [{ arn: 'arn:aws:sqs:*:*:forecast-queue' }] }
      ],
      // No working directory given: nothing to extract the metadata from.
      metadata: null,
      tags: { 'managed-by': 'pmcp', project: 'hosting', service: 'weather-mcp-pr12', target: 'pmcp-run' }
    })
    // A registry table named in [environment] is also the one the function may read.
    const ownTable = pmcpRunStackSettings(options(configOf('[server]\nname = "x-mcp"\n[environment]\nMCP_SERVERS_TABLE = "Registry"\n')))
    expect(ownTable).toMatchObject({
      serversTable: 'Registry',
      environment: { RUST_LOG: 'info', PMCP_ORGANIZATION_ID: 'default-org', PMCP_SERVER_ID: 'x-mcp', MCP_SERVERS_TABLE: 'Registry' }
    })
  })

  it('settings: the template Metadata extracted from the working directory, with [metadata] over it; none when extraction fails', () => {
    const server = fs.mkdtempSync(path.join(dir, 'server-'))
    fs.writeFileSync(path.join(server, 'Cargo.toml'), '[package]\nname = "weather-crate"\n')
    const config = configOf(
      '[target]\ntype = "pmcp-run"\n[server]\nname = "weather-mcp"\n[metadata]\nserver_type = "graph-rag"\nsnapshot_baked = true\n'
    )
    expect(pmcpRunStackSettings(options(config, { workingDirectory: server })).metadata).toEqual({
      'mcp:capabilities': { resources: false, composition: false },
      'mcp:resources': {},
      'mcp:serverId': 'weather-crate',
      'mcp:serverType': 'graph-rag',
      'mcp:snapshotBaked': true,
      'mcp:version': '1.0'
    })
    fs.writeFileSync(path.join(server, 'builtin-manifest.toml'), '[server]\ntype = "graphql-api"\n')
    expect(pmcpRunStackSettings(options(config, { workingDirectory: server })).metadata).toBeNull()
  })

  it('keeps hostile values data: the rendered project compiles and holds them only inside the settings literal', () => {
    const hostile = '${process.exit(7)}`; */ </script>'
    const server = fs.mkdtempSync(path.join(dir, 'hostile-'))
    fs.writeFileSync(
      path.join(server, 'pmcp.toml'),
      `[server]\nname = ${JSON.stringify(hostile)}\n[[tools]]\nname = ${JSON.stringify(hostile)}\n`
    )
    const rendered = options(configOf(`[target]\ntype = "pmcp-run"\n[server]\nname = "hostile-run"\n`), { workingDirectory: server })
    renderProject(rendered)
    const app = fs.readFileSync(path.join(rendered.outDir, 'bin', 'app.ts'), 'utf8')
    expect(app).not.toContain(hostile)
    expect(app).toContain('"mcp:serverId": "${process.exit(7)}`; */ \\u003c/script\\u003e"')
    expect(stackSource(rendered.outDir)).toContain('class HostileRunStack')
    typecheckProject(rendered.outDir)
  })
})
