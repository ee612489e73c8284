import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import { resourceNames, type ResourceNames } from '../names.js'
import { runCdk } from './cli.js'
import { writePreviewAssembly, type PreviewChange, type PreviewRenaming } from './preview-assembly.js'
import type { CdkProject } from './project.js'

export const CDK_OUT = 'cdk.out'
/** Where the preview made from production's synthesis goes (see preview-assembly.ts), beside cdk.out. */
export const PREVIEW_OUT = 'cdk.preview.out'

export interface SynthResult {
  templatePath: string
  /** Resource type → how many the template creates. */
  resourceCounts: Record<string, number>
  outputs: string[]
  /**
   * Set when the app defines only production's stack and the preview was made from it: the cloud
   * assembly to deploy (`cdk deploy --app <assemblyDir>`), and what was renamed.
   */
  preview?: { assemblyDir: string; changes: PreviewChange[] }
}

export interface SynthOptions {
  /**
   * A preview of the repository's own project: when its app names its stack itself and defines only
   * production's, the preview is made from production's synthesis with these names.
   */
  renaming?: PreviewRenaming
  /** `key=value` pairs given to the app as CDK context (`--context key=value`); the app reads each as a string. */
  context?: string[]
}

interface CloudAssemblyManifest {
  artifacts?: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }>
}

/** The artifact id and template of the stack named `stackName` in a cloud assembly (the artifact id may differ). */
export function findStackArtifact(assemblyDir: string, stackName: string): { id: string; templatePath: string } | undefined {
  const manifestPath = path.join(assemblyDir, 'manifest.json')
  if (!fs.existsSync(manifestPath)) return undefined
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as CloudAssemblyManifest
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue
    if ((artifact.properties?.stackName ?? id) === stackName && artifact.properties?.templateFile) {
      return { id, templatePath: path.join(assemblyDir, artifact.properties.templateFile) }
    }
  }
  return undefined
}

/** The template of the stack named `stackName` in a cloud assembly (the artifact id may differ). */
export function findTemplate(assemblyDir: string, stackName: string): string | undefined {
  return findStackArtifact(assemblyDir, stackName)?.templatePath
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

const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/
/** `lambda.Code.fromAsset('.build')` and the like: cargo pmcp's scaffold reads the binary from `<deploy>/.build`. */
const READS_BUILD_DIR = /['"`]\.build(\/bootstrap)?['"`]|['"`]\.build\//

/** True when the project's own sources (bin/, lib/; not node_modules) read their Lambda asset from `.build/`. */
export function readsBuildDir(dir: string): boolean {
  const search = (at: string, depth: number): boolean => {
    if (depth > 4 || !fs.existsSync(at)) return false
    return fs.readdirSync(at, { withFileTypes: true }).some(entry => {
      const full = path.join(at, entry.name)
      if (entry.isDirectory()) return entry.name !== 'node_modules' && !entry.name.startsWith('.') && search(full, depth + 1)
      return SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts') && READS_BUILD_DIR.test(fs.readFileSync(full, 'utf8'))
    })
  }
  return search(path.join(dir, 'bin'), 0) || search(path.join(dir, 'lib'), 0)
}

/**
 * The project's Lambda asset, `.build/bootstrap` (where the build puts the binary, and where cargo
 * pmcp's scaffold reads it: `lambda.Code.fromAsset('.build')` in deploy/): `synth` runs without
 * building, so it gets a placeholder that says so; deploy always builds first and replaces it. A
 * binary already there is never touched, and a project of the user's own gets one only when its
 * sources read `.build`.
 */
export function ensureBootstrapAsset(project: CdkProject): void {
  if (!project.rendered && !readsBuildDir(project.dir)) return
  const bootstrap = path.join(project.dir, '.build', 'bootstrap')
  if (fs.existsSync(bootstrap)) return
  fs.mkdirSync(path.dirname(bootstrap), { recursive: true })
  fs.writeFileSync(
    bootstrap,
    '#!/bin/sh\necho "placeholder written by pmcp/deploy-action synth; deploy builds the real server" >&2\nexit 1\n',
    { mode: 0o755 }
  )
  core.info(`No server binary built (synth does not build): ${path.relative(process.cwd(), bootstrap) || bootstrap} is a placeholder`)
}

/** `cdk synth` of exactly the stack the action deploys; no AWS credentials involved. */
export async function synthesize(
  project: CdkProject,
  stackName: string,
  env: Record<string, string>,
  options: SynthOptions = {}
): Promise<SynthResult> {
  ensureBootstrapAsset(project)
  // No stack selector: the CLI selects by construct id, and a project of the user's own may give
  // its stack a construct id other than its stack name. The manifest maps one to the other.
  const context = (options.context ?? []).flatMap(pair => ['--context', pair])
  const result = await runCdk(['synth', '--quiet', '--output', CDK_OUT, ...context], {
    cwd: project.dir,
    env: { ...env, AWS_EC2_METADATA_DISABLED: 'true' },
    group: `cdk synth ${stackName}`
  })
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim().split('\n').slice(-15).join('\n')
    throw new ActionError('cdk synth failed', `cdk synth of ${stackName} in ${project.dir} exited with ${result.exitCode}:\n${detail}`)
  }
  const assemblyDir = path.join(project.dir, CDK_OUT)
  const templatePath = findTemplate(assemblyDir, stackName)
  if (templatePath) return { templatePath, ...summarizeTemplate(templatePath) }
  const production =
    options.renaming && !project.rendered ? findStackArtifact(assemblyDir, options.renaming.production.stackName) : undefined
  if (production && options.renaming) {
    core.info(
      `The CDK app in ${project.dir} names its stack ${options.renaming.production.stackName} itself (no PMCP_STACK_NAME): ` +
        `the preview ${stackName} is made from that synthesis, with the names it shares with production replaced`
    )
    const preview = writePreviewAssembly(assemblyDir, production.id, path.join(project.dir, PREVIEW_OUT), options.renaming)
    return {
      templatePath: preview.templatePath,
      ...summarizeTemplate(preview.templatePath),
      preview: { assemblyDir: preview.dir, changes: preview.changes }
    }
  }
  throw new ActionError(
    'Stack not found in the CDK app',
    `The CDK app in ${project.dir} does not define the stack ${stackName}. ` +
      'A CDK project of your own must name its stack from the PMCP_STACK_NAME environment variable.'
  )
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

/** A preview's names and production's, for SynthOptions.renaming: only previews are ever made from production's synthesis. */
export function previewRenaming(names: ResourceNames, serverName: string): PreviewRenaming | undefined {
  if (names.stage !== 'preview') return undefined
  const production = resourceNames(serverName, 'production')
  return {
    production: { stackName: production.stackName, functionName: production.functionName },
    preview: { stackName: names.stackName, functionName: names.functionName }
  }
}
