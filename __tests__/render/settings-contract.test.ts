/**
 * templates/<target>/settings.ts is the one declaration of what the stack reads: src/render builds
 * a value of its type, and the rendered lib/stack.ts carries its text, so a key added or dropped on
 * one side only fails a typecheck (the action's own `tsc` for src/render, the rendered project's for
 * the settings literal in bin/app.ts).
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import type { Target } from '../../src/types.js'
import { resourceNames } from '../../src/names.js'
import { renderProject, SETTINGS_CONTRACT_FILE, templatesRoot } from '../../src/render/index.js'
import { RENDERED_PROJECT_FILES } from '../../testkit/synth.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

const TARGETS: Target[] = ['aws-lambda', 'pmcp-run']

/** The rendered project's own `tsc`: its output when it fails, else null. */
function typecheckErrors(dir: string): string | null {
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  try {
    execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' })
    return null
  } catch (error) {
    return String((error as { stdout?: string }).stdout)
  }
}

describe('the settings contract between the action and the rendered stack', () => {
  let dir: string
  let remove: () => void
  beforeAll(() => {
    ;({ dir, remove } = makeWorkDir('settings-contract'))
    writeConfig(dir, '[server]\nname = "contract-mcp"\n')
  })
  afterAll(() => remove())

  function render(target: Target): string {
    const config = loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })
    const outDir = path.join(dir, target)
    renderProject({
      config,
      names: resourceNames(config.server.name, 'production'),
      architecture: 'arm64',
      target,
      commitSha: 'a',
      runId: '1',
      outDir
    })
    return outDir
  }

  const appPath = (outDir: string): string => path.join(outDir, 'bin', 'app.ts')

  it.each(TARGETS)('%s: lib/stack.ts carries settings.ts verbatim, and settings.ts is not a file of the project', target => {
    const outDir = render(target)
    const contract = fs.readFileSync(path.join(templatesRoot(target), SETTINGS_CONTRACT_FILE), 'utf8').trimEnd()
    expect(fs.readFileSync(path.join(outDir, 'lib', 'stack.ts'), 'utf8')).toContain(contract)
    expect(fs.existsSync(path.join(outDir, SETTINGS_CONTRACT_FILE))).toBe(false)
    expect(fs.readFileSync(appPath(outDir), 'utf8')).toContain('const settings: StackSettings = {')
  })

  it('a settings literal without a key the stack declares fails the rendered project typecheck', () => {
    const outDir = render('aws-lambda')
    const app = fs.readFileSync(appPath(outDir), 'utf8')
    const withoutMemory = app.replace(/^ {2}"memoryMb": \d+,\n/m, '')
    expect(withoutMemory).not.toBe(app)
    fs.writeFileSync(appPath(outDir), withoutMemory)
    expect(typecheckErrors(outDir)).toMatch(/Property 'memoryMb' is missing .* 'StackSettings'/)
  })

  it('a settings literal with a key the stack does not declare fails the rendered project typecheck', () => {
    const outDir = render('pmcp-run')
    const app = fs.readFileSync(appPath(outDir), 'utf8')
    const withUnknown = app.replace('  "stackName":', '  "undeclaredSetting": true,\n  "stackName":')
    expect(withUnknown).not.toBe(app)
    fs.writeFileSync(appPath(outDir), withUnknown)
    expect(typecheckErrors(outDir)).toMatch(/'"undeclaredSetting"' does not exist in type 'StackSettings'/)
  })

  it("renders templates/shared with the target's files, a target's own file winning over a shared one", () => {
    const ownTemplates = path.join(dir, 'own-templates')
    fs.cpSync(templatesRoot('aws-lambda'), ownTemplates, { recursive: true })
    fs.writeFileSync(path.join(ownTemplates, 'cdk.json.hbs'), '{ "app": "own {{server.name}}" }\n')
    const config = loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })
    const outDir = path.join(dir, 'own-project')
    const written = renderProject({
      config,
      names: resourceNames(config.server.name, 'production'),
      architecture: 'arm64',
      target: 'aws-lambda',
      templatesDir: ownTemplates,
      commitSha: 'a',
      runId: '1',
      outDir
    })
    expect(written).toEqual([...RENDERED_PROJECT_FILES])
    expect(fs.readFileSync(path.join(outDir, 'cdk.json'), 'utf8')).toBe('{ "app": "own contract-mcp" }\n')
    expect(fs.readFileSync(path.join(outDir, 'package.json'), 'utf8')).toContain('"name": "contract-mcp-cdk"')
  })
})
