import * as core from '@actions/core'
import { cdkEnvironment } from '../cdk/environment.js'
import { installCdkDependencies, prepareCdkProject } from '../cdk/project.js'
import { logSynthSummary, synthesize } from '../cdk/synth.js'
import type { RunContext } from '../context.js'
import type { ActionInputs } from '../inputs.js'
import { failureOf, PhaseClock, prepare, report, reportBase } from './common.js'

/** `command: synth`: render (or take the repository's CDK project), install, `cdk synth`; no AWS. */
export async function synthCommand(inputs: ActionInputs, context: RunContext): Promise<void> {
  const { config, names, architecture, region } = prepare(inputs, context)
  const clock = new PhaseClock()
  const base = reportBase('synth', names, region, context)
  try {
    const project = await clock.time('render', async () => {
      const rendered = prepareCdkProject({ workingDirectory: inputs.workingDirectory, config, names, architecture, region, commitSha: context.commitSha, runId: context.runId })
      await installCdkDependencies(rendered.dir)
      return rendered
    })
    const result = await clock.time('synth', () => synthesize(project, names.stackName, cdkEnvironment({ config, names, region })))
    logSynthSummary(names.stackName, result)
    core.setOutput('template-path', result.templatePath)
    await report(inputs, context, { ...base, status: 'synthesized', phases: clock.timings })
  } catch (error) {
    await report(inputs, context, { ...base, status: 'failed', phases: clock.timings, failure: failureOf(error, clock) })
    throw error
  }
}
