import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import { runCdk } from './cli.js'
import type { CdkProject } from './project.js'

export const CDK_OUT = 'cdk.out'

export interface SynthResult {
  templatePath: string
  /** Resource type → how many the template creates. */
  resourceCounts: Record<string, number>
  outputs: string[]
}

interface CloudAssemblyManifest {
  artifacts?: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }>
}

/** The template of the stack named `stackName` in a cloud assembly (the artifact id may differ). */
export function findTemplate(assemblyDir: string, stackName: string): string | undefined {
  const manifestPath = path.join(assemblyDir, 'manifest.json')
  if (!fs.existsSync(manifestPath)) return undefined
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as CloudAssemblyManifest
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue
    if ((artifact.properties?.stackName ?? id) === stackName && artifact.properties?.templateFile) {
      return path.join(assemblyDir, artifact.properties.templateFile)
    }
  }
  return undefined
}

export function summarizeTemplate(templatePath: string): Omit<SynthResult, 'templatePath'> {
  const template = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as {
    Resources?: Record<string, { Type: string }>
    Outputs?: Record<string, unknown>
  }
  const resourceCounts: Record<string, number> = {}
  for (const resource of Object.values(template.Resources ?? {})) {
    resourceCounts[resource.Type] = (resourceCounts[resource.Type] ?? 0) + 1
  }
  return { resourceCounts, outputs: Object.keys(template.Outputs ?? {}) }
}

/**
 * A rendered project needs `.build/bootstrap` as its Lambda asset. `synth` runs without building,
 * so it gets a placeholder that says so; deploy always builds first and replaces it.
 */
export function ensureBootstrapAsset(project: CdkProject): void {
  if (!project.rendered) return
  const bootstrap = path.join(project.dir, '.build', 'bootstrap')
  if (fs.existsSync(bootstrap)) return
  fs.mkdirSync(path.dirname(bootstrap), { recursive: true })
  fs.writeFileSync(
    bootstrap,
    '#!/bin/sh\necho "placeholder written by pmcp/deploy-action synth; deploy builds the real server" >&2\nexit 1\n',
    { mode: 0o755 }
  )
  core.info('No server binary built (synth does not build): .build/bootstrap is a placeholder')
}

/** `cdk synth` of exactly the stack the action deploys; no AWS credentials involved. */
export async function synthesize(project: CdkProject, stackName: string, env: Record<string, string>): Promise<SynthResult> {
  ensureBootstrapAsset(project)
  // No stack selector: the CLI selects by construct id, and a project of the user's own may give
  // its stack a construct id other than its stack name. The manifest maps one to the other.
  const result = await runCdk(['synth', '--quiet', '--output', CDK_OUT], {
    cwd: project.dir,
    env: { ...env, AWS_EC2_METADATA_DISABLED: 'true' },
    group: `cdk synth ${stackName}`
  })
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim().split('\n').slice(-15).join('\n')
    throw new ActionError('cdk synth failed', `cdk synth of ${stackName} in ${project.dir} exited with ${result.exitCode}:\n${detail}`)
  }
  const templatePath = findTemplate(path.join(project.dir, CDK_OUT), stackName)
  if (!templatePath) {
    throw new ActionError(
      'Stack not found in the CDK app',
      `The CDK app in ${project.dir} does not define the stack ${stackName}. ` +
        'A CDK project of your own must name its stack from the PMCP_STACK_NAME environment variable.'
    )
  }
  return { templatePath, ...summarizeTemplate(templatePath) }
}

export function logSynthSummary(stackName: string, result: SynthResult): void {
  const lines = Object.entries(result.resourceCounts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, count]) => `  ${String(count).padStart(3)} × ${type}`)
  core.info(
    [
      `Stack ${stackName}: ${lines.length} resource types`,
      ...lines,
      `  outputs: ${result.outputs.join(', ')}`,
      `  template: ${result.templatePath}`
    ].join('\n')
  )
}
