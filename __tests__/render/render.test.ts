import * as fs from 'node:fs'
import * as path from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { resourceNames } from '../../src/names.js'
import {
  authSettings,
  createRenderer,
  derivedDomainBase,
  renderProject,
  stackSettings,
  toTypeScriptLiteral
} from '../../src/render/index.js'
import { RENDERED_PROJECT_FILES, synthesizeDir, typecheckProject } from '../../testkit/synth.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

/** Values that would break out of a string, a comment or a template literal if spliced as code. */
const HOSTILE = {
  QUOTES: `say "hi" and 'bye'`,
  BACKTICK: 'a `template` here',
  INTERPOLATION: '${process.exit(7)}',
  COMMENT_END: '*/ process.exit(8) /*',
  NEWLINES: 'line one\nline two\r\n// not a comment',
  UNICODE: 'naïve – 東京 – 🚀 – \u2028 separator',
  MARKUP: '</script><script>alert(1)</script> & {{handlebars}}'
}

function hostileToml(): string {
  const lines = Object.entries(HOSTILE).map(([name, value]) => `${name} = ${JSON.stringify(value)}`)
  return `[server]\nname = "hostile-values"\n\n[environment]\n${lines.join('\n')}\n`
}

describe('rendering', () => {
  it('helpers change case and encode values as TypeScript literals', () => {
    const hbs = createRenderer()
    const render = (source: string, value: unknown): string => hbs.compile(source)({ value })
    expect(render('{{upper value}}', 'my-Server')).toBe('MY-SERVER')
    expect(render('{{lower value}}', 'My-Server')).toBe('my-server')
    expect(render('{{kebab value}}', 'myServer_name')).toBe('my-server-name')
    expect(render('{{snake value}}', 'my-server Name')).toBe('my_server_name')
    expect(render('{{pascal value}}', 'weather-mcp2-server')).toBe('WeatherMcp2Server')
    expect(render('{{json value}}', { a: '</x>&' })).toBe('{\n  "a": "\\u003c/x\\u003e\\u0026"\n}')
    expect(JSON.parse(toTypeScriptLiteral(HOSTILE))).toEqual(HOSTILE)
  })

  it('derives a hosted-domain prefix Cognito accepts from the function name', () => {
    expect(derivedDomainBase('weather-mcp')).toBe('weather-mcp')
    expect(derivedDomainBase('AWS-Docs-mcp-pr12')).toBe('docs-mcp-pr12')
    expect(derivedDomainBase('myamazonCognitoTool')).toBe('my-tool')
    expect(derivedDomainBase('caawsws')).toBe('ca-ws')
    expect(derivedDomainBase('aws')).toBe('mcp')
    const long = derivedDomainBase(`server-${'x'.repeat(60)}`)
    expect(long.length).toBeLessThanOrEqual(50)
    expect(long).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/)
  })

  describe('what the stack creates for [auth] and [secrets]', () => {
    let dir: string
    let remove: () => void
    beforeAll(() => ({ dir, remove } = makeWorkDir('auth-settings')))
    afterAll(() => remove())

    const base =
      '[server]\nname = "tool-server"\n[auth]\nenabled = true\nprovider = "cognito"\ncallback_urls = ["https://a.example.com/cb"]\n'
    function settingsFor(toml: string, stage: 'production' | 'preview' = 'production') {
      writeConfig(dir, toml)
      const config = loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })
      const names = resourceNames(config.server.name, stage, stage === 'preview' ? '7' : undefined)
      return { config, names, auth: authSettings(config, names) }
    }

    it('a new pool gets a resource server and a domain: the given prefix in production, a derived one in previews', () => {
      expect(settingsFor(`${base}[auth.cognito]\ndomain = "tools-login"\n`).auth).toEqual({
        existingUserPoolId: null,
        userPoolName: 'tool-server-users',
        resourceServerId: 'mcp',
        createResourceServer: true,
        domain: { prefix: 'tools-login', appendAccountId: false },
        callbackUrls: ['https://a.example.com/cb']
      })
      expect(settingsFor(`${base}[auth.cognito]\ndomain = "tools-login"\n`, 'preview').auth).toMatchObject({
        userPoolName: 'tool-server-pr7-users',
        createResourceServer: true,
        domain: { prefix: 'tool-server-pr7', appendAccountId: true }
      })
      expect(settingsFor(base).auth?.domain).toEqual({ prefix: 'tool-server', appendAccountId: true })
    })

    it('an existing pool gets a resource server and a domain only when asked, and never from a preview', () => {
      const pool = '[auth.cognito]\nuser_pool_id = "us-east-1_AbC123"\n'
      expect(settingsFor(`${base}${pool}`).auth).toMatchObject({
        existingUserPoolId: 'us-east-1_AbC123',
        createResourceServer: false,
        domain: null
      })
      const asked = `${base}${pool}create_resource_server = true\ndomain = "tools-login"\n`
      expect(settingsFor(asked).auth).toMatchObject({
        createResourceServer: true,
        domain: { prefix: 'tools-login', appendAccountId: false }
      })
      expect(settingsFor(asked, 'preview').auth).toMatchObject({ createResourceServer: false, domain: null })
    })

    it('renders examples/hello-auth (OAuth, secrets) into TypeScript that compiles', () => {
      const config = loadConfig({
        workingDirectory: path.join(REPO_ROOT, 'examples', 'hello-auth'),
        config: '.pmcp/deploy.toml',
        workspace: REPO_ROOT
      })
      const outDir = path.join(dir, 'hello-auth')
      renderProject({
        config,
        names: resourceNames(config.server.name, 'production'),
        architecture: 'arm64',
        target: 'aws-lambda',
        commitSha: 'a',
        runId: '1',
        outDir
      })
      expect(fs.readFileSync(path.join(outDir, 'bin', 'app.ts'), 'utf8')).toContain('"secretName": "hello-auth-mcp/WEATHER_API_KEY"')
      typecheckProject(outDir)
    })

    it('no auth settings unless enabled with Cognito; secrets map to <server>/<name> and an ARN variable', () => {
      const { config, names, auth } = settingsFor(
        '[server]\nname = "tool-server"\n[auth]\nprovider = "cognito"\n[secrets]\nopenaiKey = "x"\ndb-password = "y"\n',
        'preview'
      )
      expect(auth).toBeNull()
      expect(
        stackSettings({ config, names, architecture: 'arm64', target: 'aws-lambda', commitSha: 'a', runId: '1', outDir: dir }).secrets
      ).toEqual([
        { name: 'openaiKey', secretName: 'tool-server/openaiKey', arnVariable: 'OPENAI_KEY_SECRET_ARN' },
        { name: 'db-password', secretName: 'tool-server/db-password', arnVariable: 'DB_PASSWORD_SECRET_ARN' }
      ])
    })
  })

  describe('hostile values from deploy.toml', () => {
    let dir: string
    let remove: () => void
    beforeAll(() => ({ dir, remove } = makeWorkDir('render')))
    afterAll(() => remove())

    it('stay data: the generated TypeScript compiles and the template holds them verbatim', async () => {
      writeConfig(dir, hostileToml())
      const fixture = await synthesizeDir(dir)
      const cdkDir = fixture.project.dir
      const appSource = fs.readFileSync(path.join(cdkDir, 'bin', 'app.ts'), 'utf8')
      expect(appSource).not.toContain('${process.exit(7)}`')
      expect(appSource).not.toContain('</script>')
      typecheckProject(cdkDir)
      const fn = Object.values(fixture.template.Resources as Record<string, any>).find(r => r.Type === 'AWS::Lambda::Function')
      expect(fn.Properties.Environment.Variables).toEqual({ RUST_LOG: 'info', ...HOSTILE })
    })

    it('re-rendering overwrites the files it owns and keeps others', () => {
      const config = loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })
      const outDir = path.join(dir, 'rerender')
      const options = {
        config,
        names: resourceNames('hostile-values', 'production'),
        architecture: 'arm64' as const,
        target: 'aws-lambda' as const,
        commitSha: 'a',
        runId: '1',
        outDir
      }
      renderProject(options)
      fs.writeFileSync(path.join(outDir, 'lib', 'stack.ts'), 'stale')
      fs.mkdirSync(path.join(outDir, '.build'))
      fs.writeFileSync(path.join(outDir, '.build', 'bootstrap'), 'binary')
      const written = renderProject(options)
      expect(written.sort()).toEqual([...RENDERED_PROJECT_FILES])
      expect(fs.readFileSync(path.join(outDir, 'lib', 'stack.ts'), 'utf8')).toContain('class HostileValuesStack')
      expect(fs.readFileSync(path.join(outDir, '.build', 'bootstrap'), 'utf8')).toBe('binary')
    })
  })
})
