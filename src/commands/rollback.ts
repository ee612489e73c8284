import { readStack } from '../aws/stack.js'
import type { RunContext } from '../context.js'
import { ActionError } from '../errors.js'
import type { ActionInputs } from '../inputs.js'
import { functionNameOf, rollback } from '../lifecycle/rollback.js'
import type { RunReport } from '../report/index.js'
import { setupMcpTester } from '../toolchain/index.js'
import { awsSession, failureOf, PhaseClock, prepare, report, reportBase, smokeTest } from './common.js'

/** `command: rollback`: alias `live` moves to an earlier version in seconds, no rebuild; then smoke test. */
export async function rollbackCommand(inputs: ActionInputs, context: RunContext): Promise<void> {
  const { names, region } = prepare(inputs, context)
  const clock = new PhaseClock()
  const base = reportBase('rollback', names, region, context)
  const state: Partial<Pick<RunReport, 'outputs' | 'functionVersion' | 'previousVersion' | 'versions' | 'smoke'>> = {}
  let moved = false
  try {
    const { aws } = await clock.time('credentials', () => awsSession(inputs, region))
    const result = await clock.time('rollback', async () => {
      state.outputs = (await readStack(names.stackName, aws))?.outputs ?? {}
      return rollback({ functionName: functionNameOf(state.outputs, names), target: inputs.rollbackTo, aws })
    })
    moved = true
    Object.assign(state, result)
    const mcpTester = inputs.smokeTest === 'mcp-tester' ? await clock.time('toolchain', () => setupMcpTester({ version: inputs.mcpTesterVersion, urlTemplate: inputs.mcpTesterUrl }, inputs.cache)) : undefined
    state.smoke = await clock.time('smoke test', () => smokeTest(inputs, state.outputs ?? {}, mcpTester))
    if (state.smoke.outcome === 'failed') {
      throw new ActionError('Smoke test failed after the rollback', `Alias live now points at version ${result.functionVersion}, and its smoke test failed; see the job summary.`)
    }
    await report(inputs, context, { ...base, ...state, status: 'rolled back', phases: clock.timings })
  } catch (error) {
    await report(inputs, context, { ...base, ...state, status: moved ? 'rolled back' : 'failed', phases: clock.timings, failure: failureOf(error, clock) })
    throw error
  }
}
