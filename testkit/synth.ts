import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { cdkEnvironment } from '../src/cdk/environment.js'
import { installCdkDependencies, prepareCdkProject, type CdkProject } from '../src/cdk/project.js'
import { synthesize, type SynthResult } from '../src/cdk/synth.js'
import { loadConfig, type DeployConfig } from '../src/config/index.js'
import { resourceNames, type ResourceNames } from '../src/names.js'
import type { Architecture, Stage } from '../src/types.js'

export interface SynthesizedFixture {
  config: DeployConfig
  names: ResourceNames
  project: CdkProject
  result: SynthResult
  template: Record<string, any>
}

/** Loads deploy.toml from dir, renders (or takes dir/deploy) and runs the real `cdk synth`. */
export async function synthesizeDir(
  dir: string,
  options: { stage?: Stage; previewId?: string; architecture?: Architecture; region?: string } = {}
): Promise<SynthesizedFixture> {
  const config = loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })
  const names = resourceNames(config.server.name, options.stage ?? 'production', options.previewId)
  const architecture = options.architecture ?? config.architecture ?? 'arm64'
  const project = prepareCdkProject({
    workingDirectory: dir,
    config,
    names,
    architecture,
    region: options.region,
    target: config.target.type,
    commitSha: 'abc1234def',
    runId: '99'
  })
  await installCdkDependencies(project.dir)
  const result = await synthesize(project, names.stackName, cdkEnvironment({ config, names, region: options.region }))
  const template = JSON.parse(fs.readFileSync(result.templatePath, 'utf8')) as Record<string, any>
  return { config, names, project, result, template }
}

export interface LintFinding {
  Level: string
  Rule: { Id: string }
  Message: string
}

/** cfn-lint's findings for a template (the real linter, JSON output). */
export function cfnLint(templatePath: string): LintFinding[] {
  try {
    execFileSync('cfn-lint', ['--format', 'json', templatePath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    return []
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout ?? ''
    if (!stdout.trim().startsWith('[')) throw error
    return JSON.parse(stdout) as LintFinding[]
  }
}

/**
 * cfn-lint's findings for several templates from one run of the linter (it starts in seconds, a
 * template takes it a fraction of that), by template path; [] for a template without findings.
 */
export function cfnLintAll(templatePaths: string[]): Map<string, LintFinding[]> {
  const byPath = new Map(templatePaths.map(templatePath => [path.resolve(templatePath), [] as LintFinding[]]))
  let stdout: string
  try {
    stdout = execFileSync('cfn-lint', ['--format', 'json', ...byPath.keys()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    stdout = (error as { stdout?: string }).stdout ?? ''
    if (!stdout.trim().startsWith('[')) throw error
  }
  for (const finding of JSON.parse(stdout.trim() || '[]') as (LintFinding & { Filename: string })[]) {
    const findings = byPath.get(path.resolve(finding.Filename))
    if (!findings) throw new Error(`cfn-lint reported a template it was not given: ${finding.Filename}`)
    findings.push(finding)
  }
  return byPath
}

export const errorsOnly = (findings: LintFinding[]): LintFinding[] => findings.filter(f => f.Level === 'Error')

export function typecheckProject(dir: string): void {
  const tsc = path.resolve('node_modules', 'typescript', 'bin', 'tsc')
  execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' })
}

/** Every file a rendered CDK project holds (templates/shared + templates/<target>), in path order. */
export const RENDERED_PROJECT_FILES = [
  'bin/app.ts',
  'bin/defaults.js',
  'cdk.json',
  'lib/stack.ts',
  'package-lock.json',
  'package.json',
  'tsconfig.json'
] as const
