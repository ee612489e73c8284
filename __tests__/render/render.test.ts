import * as fs from 'node:fs'
import * as path from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { resourceNames } from '../../src/names.js'
import { CDK_PROJECT_VERSIONS, createRenderer, renderProject, toTypeScriptLiteral } from '../../src/render/index.js'
import { synthesizeDir, typecheckProject } from '../helpers/synth.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../helpers/workdir.js'

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

  it('pins the rendered project to the CDK versions the action is tested with', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
    expect(CDK_PROJECT_VERSIONS).toEqual({
      awsCdkLib: manifest.devDependencies['aws-cdk-lib'],
      constructs: manifest.devDependencies.constructs,
      awsCdk: manifest.devDependencies['aws-cdk'],
      tsx: manifest.devDependencies.tsx,
      typescript: manifest.devDependencies.typescript
    })
    expect(manifest.devDependencies['aws-cdk']).toMatch(/^\^2\./)
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
      const options = { config, names: resourceNames('hostile-values', 'production'), architecture: 'arm64' as const, commitSha: 'a', runId: '1', outDir }
      renderProject(options)
      fs.writeFileSync(path.join(outDir, 'lib', 'stack.ts'), 'stale')
      fs.mkdirSync(path.join(outDir, '.build'))
      fs.writeFileSync(path.join(outDir, '.build', 'bootstrap'), 'binary')
      const written = renderProject(options)
      expect(written.sort()).toEqual(['bin/app.ts', 'cdk.json', 'lib/stack.ts', 'package.json', 'tsconfig.json'])
      expect(fs.readFileSync(path.join(outDir, 'lib', 'stack.ts'), 'utf8')).toContain('class HostileValuesStack')
      expect(fs.readFileSync(path.join(outDir, '.build', 'bootstrap'), 'utf8')).toBe('binary')
    })
  })
})
