import { awsSession } from '../../aws/session.js'
import { readStack } from '../../aws/stack.js'
import { withMcpUrl } from '../../cdk/mcp-endpoint.js'
import { ActionError } from '../../errors.js'
import { functionNameOf, rollback } from '../../lifecycle/rollback.js'
import type { CommandPipeline } from '../../pipeline.js'
import type { Plan } from '../../plan.js'
import { smokeTestDeployment } from '../../smoke/index.js'
import { runCacheService, setupMcpTester } from '../../toolchain/index.js'

/** `command: rollback`: alias `live` moves to an earlier version in seconds, no rebuild; then smoke test. */
export function rollbackCommand(plan: Plan): CommandPipeline {
  const { config, names, inputs } = plan
  let moved = false
  return {
    async run({ phase, facts }) {
      const session = await phase('credentials', () => awsSession(plan))
      facts.awsAccountId = session.accountId
      const result = await phase('rollback', async () => {
        facts.outputs = withMcpUrl((await readStack(names.stackName, session.aws))?.outputs ?? {}, config.server.mcpPath)
        return rollback({ functionName: functionNameOf(facts.outputs, names), target: inputs.rollbackTo, aws: session.aws })
      })
      moved = true
      Object.assign(facts, result)
      const mcpTester =
        inputs.smokeTest === 'mcp-tester'
          ? await phase('toolchain', () =>
              setupMcpTester({ version: inputs.mcpTesterVersion, urlTemplate: inputs.mcpTesterUrl }, runCacheService(plan))
            )
          : undefined
      facts.smoke = await phase('smoke test', () => smokeTestDeployment(inputs, facts.outputs, mcpTester))
      if (facts.smoke.outcome === 'failed') {
        throw new ActionError(
          'Smoke test failed after the rollback',
          `Alias live now points at version ${result.functionVersion}, and its smoke test failed; see the job summary.`
        )
      }
      return 'rolled back'
    },
    statusAfterFailure: () => (moved ? 'rolled back' : 'failed')
  }
}
