import * as core from '@actions/core'
import { cdkEnvironment } from '../cdk/environment.js'
import { logSynthSummary, synthesize } from '../cdk/synth.js'
import type { RunContext } from '../context.js'
import type { ActionInputs } from '../inputs.js'
import { cdkProjectFor, failureOf, PhaseClock, prepare, report, reportBase } from './common.js'

/** `command: synth`: render (or take the repository's CDK project), install, `cdk synth`; no AWS. */
export async function synthCommand(inputs: ActionInputs, context: RunContext): Promise<void> {
  const prepared = prepare(inputs, context)
  const { config, names, region } = prepared
  const clock = new PhaseClock()
  const base = reportBase('synth', names, region, context)
  try {
    const project = await clock.time('render', () => cdkProjectFor(inputs, context, prepared))
    const result = await clock.time('synth', () => synthesize(project, names.stackName, cdkEnvironment({ config, names, region })))
    logSynthSummary(names.stackName, result)
    core.setOutput('template-path', result.templatePath)
    await report(inputs, context, { ...base, status: 'synthesized', phases: clock.timings })
  } catch (error) {
    await report(inputs, context, { ...base, status: 'failed', phases: clock.timings, failure: failureOf(error, clock) })
    throw error
  }
}
