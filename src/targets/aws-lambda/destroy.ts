import { awsSession } from '../../aws/session.js'
import { checkDestroyAllowed, destroy } from '../../lifecycle/destroy.js'
import type { CommandPipeline } from '../../pipeline.js'
import type { Plan } from '../../plan.js'

/** `command: destroy`: deletes the stack (a production one only with `confirm-destroy`). */
export function destroyCommand(plan: Plan): CommandPipeline {
  const { names, inputs } = plan
  return {
    async run({ phase, facts }) {
      checkDestroyAllowed({ stackName: names.stackName, stage: names.stage, confirmDestroy: inputs.confirmDestroy })
      const session = await phase('credentials', () => awsSession(plan))
      facts.awsAccountId = session.accountId
      const result = await phase('destroy', () =>
        destroy({ stackName: names.stackName, stage: names.stage, confirmDestroy: inputs.confirmDestroy, aws: session.aws })
      )
      return result.status
    }
  }
}
