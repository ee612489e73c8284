import * as core from '@actions/core'
import type { RunContext } from '../context.js'
import type { ActionInputs } from '../inputs.js'
import { checkDestroyAllowed, destroy } from '../lifecycle/destroy.js'
import { awsSession, failureOf, PhaseClock, prepare, report, reportBase, untrustedRunNotice } from './common.js'

/** `command: destroy`: deletes the stack (a production one only with `confirm-destroy`). */
export async function destroyCommand(inputs: ActionInputs, context: RunContext): Promise<void> {
  // A fork's pull request never had a preview, and gets no OIDC token to look with.
  const skip = untrustedRunNotice(context)
  if (skip) {
    core.notice(skip, { title: 'Destroy skipped' })
    return
  }
  const { names, region } = prepare(inputs, context)
  checkDestroyAllowed({ stackName: names.stackName, stage: names.stage, confirmDestroy: inputs.confirmDestroy })
  const clock = new PhaseClock()
  const base = reportBase('destroy', names, region, context)
  try {
    const { aws } = await clock.time('credentials', () => awsSession(inputs, region))
    const result = await clock.time('destroy', () => destroy({ stackName: names.stackName, stage: names.stage, confirmDestroy: inputs.confirmDestroy, aws }))
    await report(inputs, context, { ...base, status: result.status, phases: clock.timings })
  } catch (error) {
    await report(inputs, context, { ...base, status: 'failed', phases: clock.timings, failure: failureOf(error, clock) })
    throw error
  }
}
