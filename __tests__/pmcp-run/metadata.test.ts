/**
 * The `mcp:*` metadata of a pmcp-run deploy, extracted as cargo-pmcp 0.28's McpMetadata::extract
 * does (builtin-manifest.toml, .pmcp/template-info.toml, pmcp.toml, .pmcp/config.toml, Cargo.toml,
 * the directory's name, first found wins), `[metadata]` over it, and written out as the renderer's
 * template Metadata and as `cdk synth -c` context.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  applyMetadataOverrides,
  cdkContext,
  extractMetadata,
  extractMetadataWithLog,
  MetadataError,
  serverMetadata,
  templateMetadata,
  type McpMetadata
} from '../../src/targets/pmcp-run/metadata.js'

let root: string

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-metadata-'))
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** A project directory named `name` holding `files` (relative path → content). */
function project(files: Record<string, string>, name = 'project'): string {
  const dir = fs.mkdtempSync(path.join(root, `${name}-`))
  const named = path.join(dir, name)
  for (const [relative, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(named, relative)), { recursive: true })
    fs.writeFileSync(path.join(named, relative), content)
  }
  fs.mkdirSync(named, { recursive: true })
  return named
}

const MANIFEST = `
[server]
type = "graphql-api"
config = "instances/weather.toml"

[server.template]
id = "types/graphql"
version = "1.2.0"

[features]
secrets_from_config = true
composition_enabled = true

[build]
pre_build = ["make schema"]

[[resources.parameters]]
name = "ENDPOINT"
env_var = "GRAPHQL_ENDPOINT"
value = "https://api.example.com/graphql"

[[resources.permissions]]
id = "upstream"
type = "outbound_https"
targets = ["api.example.com"]
description = "Calls the GraphQL API"

[[resources.permissions]]
id = "cache"
type = "s3_read"
`

const INSTANCE = `
[server]
id = "weather-gql"
name = "Weather GraphQL"
version = "0.3.0"

[secrets]
provider = "auto"

[[secrets.definitions]]
name = "API_KEY"
description = "Key for the upstream API"
obtain_url = "https://example.com/keys"

[[secrets.definitions]]
name = "OPTIONAL_TOKEN"
required = false
env_var = "TOKEN"

[backend]
endpoint = "https://api.example.com/graphql"
[backend.http]
timeout_seconds = 10

[[tools]]
name = "get_weather"
description = "Current weather"

[[tools]]
name = "get_alerts"

[code_mode]
allow_writes = false
[[code_mode.operations]]
id = "getWeather"
category = "read"
`

const defaultsFor = (serverId: string): McpMetadata => ({
  version: '1.0',
  serverType: 'custom',
  serverId,
  resources: { secrets: [], parameters: [], permissions: [] },
  capabilities: { tools: [], resources: false, prompts: [], composition: false },
  snapshotBaked: false
})

describe('extracting the metadata', () => {
  it('reads builtin-manifest.toml and the instance config it names (relative to the manifest)', () => {
    const dir = project({
      'builtin-manifest.toml': MANIFEST,
      'instances/weather.toml': INSTANCE,
      'pmcp.toml': '[server]\nname = "loses"\n'
    })
    expect(extractMetadata(dir)).toEqual({
      version: '1.0',
      serverType: 'graphql-api',
      // The instance's id, not its name.
      serverId: 'weather-gql',
      templateId: 'types/graphql',
      templateVersion: '1.2.0',
      resources: {
        secrets: [
          {
            name: 'API_KEY',
            description: 'Key for the upstream API',
            required: true,
            envVar: undefined,
            obtainUrl: 'https://example.com/keys'
          },
          { name: 'OPTIONAL_TOKEN', description: undefined, required: false, envVar: 'TOKEN', obtainUrl: undefined }
        ],
        parameters: [{ name: 'ENDPOINT', value: 'https://api.example.com/graphql', envVar: 'GRAPHQL_ENDPOINT', description: undefined }],
        permissions: [
          { id: 'upstream', type: 'outbound_https', targets: ['api.example.com'], description: 'Calls the GraphQL API' },
          { id: 'cache', type: 's3_read', targets: [], description: undefined }
        ]
      },
      capabilities: { tools: ['get_weather', 'get_alerts'], resources: false, prompts: [], composition: true },
      snapshotBaked: false
    })
  })

  it('takes secrets from the instance config only with [features] secrets_from_config; the name when there is no id', () => {
    const manifest = '[server]\ntype = "openapi-api"\nconfig = "server.toml"\n'
    const instance = INSTANCE.replace('id = "weather-gql"\n', '')
    const metadata = extractMetadata(project({ 'builtin-manifest.toml': manifest, 'server.toml': instance }))
    expect(metadata).toMatchObject({ serverType: 'openapi-api', serverId: 'Weather GraphQL' })
    expect(metadata.resources).toEqual({ secrets: [], parameters: [], permissions: [] })
    expect(metadata.capabilities).toEqual({ tools: ['get_weather', 'get_alerts'], resources: false, prompts: [], composition: false })
    expect(metadata.templateId).toBeUndefined()
  })

  it("names the server after its directory when the manifest's instance config does not exist", () => {
    const metadata = extractMetadata(project({ 'builtin-manifest.toml': MANIFEST }, 'weather-dir'))
    expect(metadata).toMatchObject({ serverType: 'graphql-api', serverId: 'weather-dir', templateId: 'types/graphql' })
    expect(metadata.resources.secrets).toEqual([])
    expect(metadata.capabilities.tools).toEqual([])
  })

  it('fails where cargo-pmcp fails: a manifest or instance config that does not deserialize', () => {
    const cases: Record<string, string>[] = [
      { 'builtin-manifest.toml': '[server]\ntype = "graphql-api"\n' }, // no config
      { 'builtin-manifest.toml': '[server\ntype = ' }, // not TOML
      { 'builtin-manifest.toml': MANIFEST.replace('composition_enabled = true', 'composition_enabled = "yes"') },
      { 'builtin-manifest.toml': MANIFEST, 'instances/weather.toml': INSTANCE.replace('name = "get_alerts"', 'title = "get_alerts"') },
      { 'builtin-manifest.toml': MANIFEST, 'instances/weather.toml': INSTANCE.replace('timeout_seconds = 10', 'timeout_seconds = -1') },
      // serde's alias: `id` and `name` both given is a duplicate field.
      {
        'builtin-manifest.toml': MANIFEST,
        'instances/weather.toml': INSTANCE.replace('id = "getWeather"', 'id = "getWeather"\nname = "x"')
      }
    ]
    for (const files of cases) {
      const dir = project(files)
      expect(() => extractMetadata(dir)).toThrow(MetadataError)
      const lines: string[] = []
      expect(extractMetadataWithLog(dir, line => lines.push(line))).toBeUndefined()
      expect(lines).toEqual(['Extracting MCP server metadata...', '  No metadata found (using defaults)'])
      // No metadata, so [metadata] has nothing to apply to.
      expect(serverMetadata(dir, { serverType: 'graph-rag', snapshotBaked: true }, () => undefined)).toBeUndefined()
    }
    // Unknown keys are ignored, as serde ignores them.
    expect(() => extractMetadata(project({ 'builtin-manifest.toml': `${MANIFEST}\n[extra]\nkey = 1\n` }))).not.toThrow()
  })

  it('reads .pmcp/template-info.toml as a builtin manifest (its config relative to .pmcp/), else falls back to Cargo.toml', () => {
    const info = '[server]\ntype = "openapi-api"\nconfig = "instance.toml"\n[features]\nsecrets_from_config = true\n'
    const asManifest = extractMetadata(
      project({ '.pmcp/template-info.toml': info, '.pmcp/instance.toml': INSTANCE, 'instance.toml': '[server]\nname = "wrong-place"\n' })
    )
    expect(asManifest).toMatchObject({ serverType: 'openapi-api', serverId: 'weather-gql' })
    expect(asManifest.resources.secrets.map(secret => secret.name)).toEqual(['API_KEY', 'OPTIONAL_TOKEN'])

    const other = project({
      '.pmcp/template-info.toml': 'template = "types/rest"\n',
      'pmcp.toml': '[server]\nname = "not-read"\n',
      'Cargo.toml': '[package]\nname = "from-cargo"\n'
    })
    expect(extractMetadata(other)).toEqual(defaultsFor('from-cargo'))
  })

  it('reads pmcp.toml as an instance config: the name (not the id), every secret, the tools, type custom', () => {
    const metadata = extractMetadata(project({ 'pmcp.toml': INSTANCE, '.pmcp/config.toml': '[server]\nname = "loses"\n' }))
    expect(metadata).toEqual({
      ...defaultsFor('Weather GraphQL'),
      resources: {
        secrets: [
          {
            name: 'API_KEY',
            description: 'Key for the upstream API',
            required: true,
            envVar: undefined,
            obtainUrl: 'https://example.com/keys'
          },
          { name: 'OPTIONAL_TOKEN', description: undefined, required: false, envVar: 'TOKEN', obtainUrl: undefined }
        ],
        parameters: [],
        permissions: []
      },
      capabilities: { tools: ['get_weather', 'get_alerts'], resources: false, prompts: [], composition: false }
    })
  })

  it("names the server after the file's directory when pmcp.toml or .pmcp/config.toml is not an instance config", () => {
    expect(extractMetadata(project({ 'pmcp.toml': '[server]\nid = "no-name"\n' }, 'custom-dir'))).toEqual(defaultsFor('custom-dir'))
    // .pmcp/config.toml's directory is .pmcp, as in cargo-pmcp.
    expect(extractMetadata(project({ '.pmcp/config.toml': 'not = [toml' }))).toEqual(defaultsFor('.pmcp'))
    expect(extractMetadata(project({ '.pmcp/config.toml': '[server]\nname = "cfg-server"\n' }))).toEqual(defaultsFor('cfg-server'))
  })

  it("takes Cargo.toml's first line that starts with `name`, in any table, without parsing TOML", () => {
    const cargo = (text: string): string => extractMetadata(project({ 'Cargo.toml': text })).serverId
    expect(cargo('[package]\nname = "my-mcp-server"\nversion = "0.1.0"\n')).toBe('my-mcp-server')
    expect(cargo('[[bin]]\nname = "first-bin"\n[package]\nname = "pkg"\n')).toBe('first-bin')
    expect(cargo('[package]\nname.workspace = true\n')).toBe('true')
    expect(cargo("[package]\nname = 'single'\r\n")).toBe("'single'")
    expect(cargo('[package]\n  name = "indented"\n')).toBe('unknown')
    expect(cargo('[package]\nversion = "1"\n')).toBe('unknown')
  })

  it("is the directory's name with nothing to read, and logs what it found", () => {
    const dir = project({}, 'bare-server')
    const lines: string[] = []
    expect(extractMetadataWithLog(dir, line => lines.push(line))).toEqual(defaultsFor('bare-server'))
    expect(lines).toEqual(['Extracting MCP server metadata...', '  Server: bare-server (custom)'])

    const counted: string[] = []
    extractMetadataWithLog(project({ 'pmcp.toml': INSTANCE }), line => counted.push(line))
    expect(counted).toEqual(['Extracting MCP server metadata...', '  Server: Weather GraphQL (custom)', '  Secrets: 2', '  Tools: 2'])
  })
})

describe("deploy.toml's [metadata]", () => {
  const base = defaultsFor('my-server')

  it('replaces the server type and sets snapshot_baked when declared, and leaves what it does not declare', () => {
    expect(applyMetadataOverrides(base, { serverType: 'graph-rag', snapshotBaked: true })).toEqual({
      ...base,
      serverType: 'graph-rag',
      snapshotBaked: true
    })
    expect(applyMetadataOverrides({ ...base, serverType: 'graphql-api', snapshotBaked: true }, { snapshotBaked: false })).toEqual({
      ...base,
      serverType: 'graphql-api',
      snapshotBaked: false
    })
    expect(applyMetadataOverrides(base, {})).toEqual(base)
    // A copy: the extracted metadata stays as it was.
    expect(base.serverType).toBe('custom')
  })

  it('applies to what was extracted', () => {
    const dir = project({ 'Cargo.toml': '[package]\nname = "cargo-name"\n' })
    expect(serverMetadata(dir, { serverType: 'graph-rag' }, () => undefined)).toEqual({
      ...defaultsFor('cargo-name'),
      serverType: 'graph-rag'
    })
  })
})

describe('writing the metadata out', () => {
  const full: McpMetadata = {
    version: '1.0',
    serverType: 'graphql-api',
    serverId: 'weather-gql',
    templateId: 'types/graphql',
    templateVersion: '1.2.0',
    resources: {
      secrets: [
        { name: 'API_KEY', description: "The team's key", required: true, envVar: 'API_KEY', obtainUrl: 'https://example.com/keys' },
        { name: 'TOKEN', required: false }
      ],
      parameters: [{ name: 'ENDPOINT', value: 'https://api.example.com', envVar: 'GRAPHQL_ENDPOINT', description: 'Upstream' }],
      permissions: [
        { id: 'upstream', type: 'outbound_https', targets: ['api.example.com'], description: 'Calls' },
        { id: 'cache', type: 's3_read', targets: [] }
      ]
    },
    capabilities: { tools: ['get_weather'], resources: false, prompts: [], composition: true },
    snapshotBaked: true
  }

  it("is the renderer's template Metadata: keys sorted, snake_case inside, struct order, snapshotBaked a boolean", () => {
    const metadata = templateMetadata(full)
    expect(JSON.stringify(metadata)).toBe(
      JSON.stringify({
        'mcp:capabilities': { tools: ['get_weather'], resources: false, composition: true },
        'mcp:resources': {
          secrets: [
            { name: 'API_KEY', description: "The team's key", required: true, env_var: 'API_KEY', obtain_url: 'https://example.com/keys' },
            { name: 'TOKEN', required: false }
          ],
          parameters: [{ name: 'ENDPOINT', value: 'https://api.example.com', env_var: 'GRAPHQL_ENDPOINT', description: 'Upstream' }],
          permissions: [
            { id: 'upstream', type: 'outbound_https', targets: ['api.example.com'], description: 'Calls' },
            { id: 'cache', type: 's3_read' }
          ]
        },
        'mcp:serverId': 'weather-gql',
        'mcp:serverType': 'graphql-api',
        'mcp:snapshotBaked': true,
        'mcp:templateId': 'types/graphql',
        'mcp:templateVersion': '1.2.0',
        'mcp:version': '1.0'
      })
    )
    // Nothing optional when nothing is there: {} resources, the two capability flags, no snapshotBaked.
    expect(JSON.stringify(templateMetadata(defaultsFor('my-server')))).toBe(
      JSON.stringify({
        'mcp:capabilities': { resources: false, composition: false },
        'mcp:resources': {},
        'mcp:serverId': 'my-server',
        'mcp:serverType': 'custom',
        'mcp:version': '1.0'
      })
    )
  })

  it("is cargo-pmcp's -c context: each key=value unquoted, resources and capabilities compact JSON, the taint when asked", () => {
    expect(cdkContext(full, { customStack: true })).toEqual([
      'mcp:version=1.0',
      'mcp:serverType=graphql-api',
      'mcp:serverId=weather-gql',
      'mcp:templateId=types/graphql',
      'mcp:templateVersion=1.2.0',
      'mcp:snapshotBaked=true',
      'mcp:customStack=true',
      'mcp:resources={"secrets":[{"name":"API_KEY","description":"The team\'s key","required":true,"env_var":"API_KEY",' +
        '"obtain_url":"https://example.com/keys"},{"name":"TOKEN","required":false}],' +
        '"parameters":[{"name":"ENDPOINT","value":"https://api.example.com","env_var":"GRAPHQL_ENDPOINT","description":"Upstream"}],' +
        '"permissions":[{"id":"upstream","type":"outbound_https","targets":["api.example.com"],"description":"Calls"},' +
        '{"id":"cache","type":"s3_read"}]}',
      'mcp:capabilities={"tools":["get_weather"],"resources":false,"composition":true}'
    ])
    expect(cdkContext(defaultsFor('my-server'), { customStack: false })).toEqual([
      'mcp:version=1.0',
      'mcp:serverType=custom',
      'mcp:serverId=my-server',
      'mcp:resources={}',
      'mcp:capabilities={"resources":false,"composition":false}'
    ])
  })
})
