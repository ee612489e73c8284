/**
 * A repository prepared by `cargo pmcp deploy init` 0.28 for aws-lambda (testkit/fixtures/cargo-pmcp-0.28-own):
 * `cdk synth` of its deploy/ with real aws-cdk-lib, production and a preview, without a build, and cfn-lint.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { cdkEnvironment } from '../../src/cdk/environment.js'
import { installCdkDependencies, prepareCdkProject, type CdkProject } from '../../src/cdk/project.js'
import { previewRenaming, synthesize, type SynthResult } from '../../src/cdk/synth.js'
import { loadConfig } from '../../src/config/index.js'
import { resourceNames } from '../../src/names.js'
import type { Stage } from '../../src/types.js'
import { cfnLintAll } from '../../testkit/synth.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'

const FIXTURES = path.join(REPO_ROOT, 'testkit', 'fixtures', 'cargo-pmcp-0.28-own')
const TRICKY = `He said "hi" 'there' \${HOME} {{x}} $(whoami) \\ – ünïcödé 🚀`

interface Synthesized {
  project: CdkProject
  result: SynthResult
  template: Record<string, any>
}

async function synthesizeRepository(dir: string, stage: Stage): Promise<Synthesized> {
  const config = loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })
  const names = resourceNames(config.server.name, stage, stage === 'preview' ? '7' : undefined)
  const project = prepareCdkProject({
    workingDirectory: dir,
    config,
    names,
    architecture: 'arm64',
    region: 'us-east-1',
    target: 'aws-lambda',
    commitSha: 'abc1234def',
    runId: '99'
  })
  await installCdkDependencies(project.dir)
  const env = cdkEnvironment({ config, names, region: 'us-east-1' })
  const result = await synthesize(project, names.stackName, env, { renaming: previewRenaming(names, config.server.name) })
  return { project, result, template: JSON.parse(fs.readFileSync(result.templatePath, 'utf8')) as Record<string, any> }
}

function resourcesOf(template: Record<string, any>, type: string): Record<string, any>[] {
  return Object.values(template.Resources as Record<string, { Type: string; Properties: Record<string, any> }>)
    .filter(resource => resource.Type === type)
    .map(resource => resource.Properties)
}

describe('a repository cargo pmcp 0.28 prepared for aws-lambda', () => {
  const work: { remove: () => void }[] = []
  const repository = (fixture: string): string => {
    const made = makeWorkDir(`own-${fixture}`)
    work.push(made)
    fs.cpSync(path.join(FIXTURES, fixture), made.dir, { recursive: true })
    return made.dir
  }
  let untouched: { production: Synthesized; preview: Synthesized }
  let edited: { dir: string; production: Synthesized; preview: Synthesized }

  beforeAll(async () => {
    const untouchedDir = repository('untouched')
    const editedDir = repository('edited')
    // Two cores: production and preview of one project run one after the other (they share its cdk.out).
    const [u, e] = await Promise.all([
      (async () => ({
        production: await synthesizeRepository(untouchedDir, 'production'),
        preview: await synthesizeRepository(untouchedDir, 'preview')
      }))(),
      (async () => ({
        production: await synthesizeRepository(editedDir, 'production'),
        preview: await synthesizeRepository(editedDir, 'preview')
      }))()
    ])
    untouched = u
    edited = { dir: editedDir, ...e }
  }, 240_000)

  afterAll(() => work.forEach(made => made.remove()))

  it("renders the stack from deploy.toml over cargo pmcp's unmodified scaffold, as cargo pmcp does", () => {
    expect(untouched.production.project.rendered).toBe(true)
    expect(resourcesOf(untouched.production.template, 'AWS::Lambda::Function')[0].FunctionName).toBe('scaffold-weather')
    expect(untouched.production.result.outputs).toContain('McpUrl')
    expect(resourcesOf(untouched.preview.template, 'AWS::Lambda::Function')[0].FunctionName).toBe('scaffold-weather-pr7')
    expect(untouched.preview.result.preview).toBeUndefined()
  })

  it('uses an edited scaffold as it is, synthesized without a build: a placeholder where it reads its binary', () => {
    expect(edited.production.project).toEqual({ dir: path.join(edited.dir, 'deploy'), rendered: false })
    const bootstrap = path.join(edited.dir, 'deploy', '.build', 'bootstrap')
    expect(fs.readFileSync(bootstrap, 'utf8')).toContain('placeholder')
    const [fn] = resourcesOf(edited.production.template, 'AWS::Lambda::Function')
    expect(fn.FunctionName).toBe('edited-weather')
    expect(fn.MemorySize).toBe(1024)
  })

  it("gives the edited stack deploy.toml's [environment] verbatim, as cargo pmcp does (process.env of the cdk process)", () => {
    for (const synthesized of [edited.production, edited.preview]) {
      const [fn] = resourcesOf(synthesized.template, 'AWS::Lambda::Function')
      expect(fn.Environment.Variables).toEqual({ RUST_LOG: 'debug', GREETING: 'hello', TRICKY })
    }
  })

  it("makes the edited project's preview from production's synthesis: no name shared with production", () => {
    const { preview } = edited
    expect(preview.result.preview?.assemblyDir).toBe(path.join(edited.dir, 'deploy', 'cdk.preview.out'))
    const [fn] = resourcesOf(preview.template, 'AWS::Lambda::Function')
    expect(fn.FunctionName).toBe('edited-weather-pr7')
    const [logGroup] = resourcesOf(preview.template, 'AWS::Logs::LogGroup')
    expect(JSON.stringify(logGroup.LogGroupName)).toContain('"Ref"')
    expect(preview.template.Outputs.McpRoleArn.Export.Name).toBe('pmcp-edited-weather-pr7-McpRoleArn')
    expect(edited.production.template.Outputs.McpRoleArn.Export.Name).toBe('pmcp-edited-weather-McpRoleArn')
    // Tags name the project; they are kept.
    expect(fn.Tags).toEqual(expect.arrayContaining([{ Key: 'project', Value: 'edited-weather' }]))

    const manifest = JSON.parse(fs.readFileSync(path.join(preview.result.preview!.assemblyDir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; properties: { stackName?: string; stackTemplateAssetObjectUrl?: string } }>
    }
    const stacks = Object.values(manifest.artifacts).filter(artifact => artifact.type === 'aws:cloudformation:stack')
    expect(stacks.map(stack => stack.properties.stackName)).toEqual(['edited-weather-pr7-stack'])
    // The preview's template is published under its own hash, never as production's template.
    const productionManifest = JSON.parse(
      fs.readFileSync(path.join(edited.dir, 'deploy', 'cdk.out', 'manifest.json'), 'utf8')
    ) as typeof manifest
    const productionUrl = productionManifest.artifacts['edited-weather-stack'].properties.stackTemplateAssetObjectUrl
    expect(stacks[0].properties.stackTemplateAssetObjectUrl).not.toBe(productionUrl)
  })

  it('never overwrites a real build with the placeholder', async () => {
    const bootstrap = path.join(edited.dir, 'deploy', '.build', 'bootstrap')
    fs.writeFileSync(bootstrap, 'real binary')
    const { ensureBootstrapAsset } = await import('../../src/cdk/synth.js')
    ensureBootstrapAsset(edited.production.project)
    expect(fs.readFileSync(bootstrap, 'utf8')).toBe('real binary')
  })

  it('passes cfn-lint (production and preview, both projects)', () => {
    const templates = [untouched.production, untouched.preview, edited.production, edited.preview].map(s => s.result.templatePath)
    const errors = [...cfnLintAll(templates).entries()].flatMap(([file, findings]) =>
      findings.filter(finding => finding.Level === 'Error').map(finding => `${file}: ${finding.Rule.Id} ${finding.Message}`)
    )
    expect(errors).toEqual([])
  })
})
