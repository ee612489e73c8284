/**
 * The CloudFormation template pmcp.run receives, made as `cargo pmcp deploy --target pmcp-run`
 * makes it, one step for `command: deploy` and `command: synth` alike:
 *
 * - the `mcp:*` metadata extracted from the project (metadata.ts), with deploy.toml's `[metadata]` over it;
 * - `cdk synth` of the rendered pmcp.run stack, which has the metadata as its template Metadata
 *   through its settings, or of the repository's own deploy/ project, which gets it as CDK context
 *   (`-c mcp:*`) as cargo pmcp gives it to a stack.ts it did not write (tainted `mcp:customStack`);
 * - deploy.toml's `[environment]` and `[server]` sizing merged into the synthesized template (template.ts).
 *
 * No region or account: pmcp.run deploys into its own, and the template names neither.
 */
import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { cdkEnvironment } from '../../cdk/environment.js'
import { cdkProjectFor, USER_CDK_DIR, type CdkProject } from '../../cdk/project.js'
import { logSynthSummary, previewRenaming, synthesize, type SynthResult } from '../../cdk/synth.js'
import type { CommandPipeline } from '../../pipeline.js'
import type { Plan } from '../../plan.js'
import { cdkContext, serverMetadata } from './metadata.js'
import { applyPostSynthMerges } from './template.js'

export interface PmcpRunTemplate {
  /** The final template (merges applied), beside the synthesized one: `<stack>.pmcp-run.template.json`. */
  templatePath: string
  /** Its text, as uploaded. */
  template: string
  /** The `cdk synth` it was made from (its templatePath is the template before the merges). */
  synth: SynthResult
}

/** Where the final template goes: beside the synthesized one, in the same cloud assembly directory. */
export function pmcpRunTemplatePath(synthesizedPath: string, stackName: string): string {
  return path.join(path.dirname(synthesizedPath), `${stackName}.pmcp-run.template.json`)
}

/**
 * Synthesizes the project (rendered, or the repository's own deploy/) and merges deploy.toml into the
 * result: the template pmcp.run deploys. A preview of a deploy/ project that names its stack itself
 * is made from production's synthesis with the preview's names, as for aws-lambda.
 */
export async function pmcpRunTemplate(plan: Plan, project: CdkProject): Promise<PmcpRunTemplate> {
  const { config, names, inputs } = plan
  core.info(
    project.rendered
      ? 'pmcp.run template: the rendered pmcp.run stack (the mcp:* metadata is its template Metadata)'
      : `pmcp.run template: your ${USER_CDK_DIR}/ project (the mcp:* metadata goes to it as CDK context, ` +
          'marked mcp:customStack as cargo pmcp marks a stack.ts it did not write)'
  )
  const metadata = serverMetadata(inputs.workingDirectory, config.metadata)
  const context = !project.rendered && metadata ? cdkContext(metadata, { customStack: true }) : []
  const synth = await synthesize(project, names.stackName, cdkEnvironment({ config, names }), {
    renaming: previewRenaming(names, config.server.name),
    context
  })
  logSynthSummary(names.stackName, synth)
  const template = applyPostSynthMerges(fs.readFileSync(synth.templatePath, 'utf8'), config, names.functionName)
  const templatePath = pmcpRunTemplatePath(synth.templatePath, names.stackName)
  fs.writeFileSync(templatePath, template)
  core.info(`Template for pmcp.run: ${templatePath} (${Buffer.byteLength(template)} bytes)`)
  return { templatePath, template, synth }
}

/** `command: synth` with `target: pmcp-run`: the template pmcp.run would receive; no credentials, nothing deployed. */
export function pmcpRunSynthCommand(plan: Plan): CommandPipeline {
  return {
    async run({ phase, facts }) {
      const project = await phase('render', () => cdkProjectFor(plan))
      const result = await phase('synth', () => pmcpRunTemplate(plan, project))
      facts.templatePath = result.templatePath
      return 'synthesized'
    }
  }
}
