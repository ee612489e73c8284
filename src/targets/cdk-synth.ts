import { cdkEnvironment } from '../cdk/environment.js'
import { cdkProjectFor } from '../cdk/project.js'
import { logSynthSummary, previewRenaming, synthesize } from '../cdk/synth.js'
import type { CommandPipeline } from '../pipeline.js'
import type { Plan } from '../plan.js'

/**
 * `command: synth`, the same for every CDK-based target: render (or take the repository's own CDK
 * project), install, `cdk synth`; no credentials, nothing deployed. For pmcp-run this is the
 * template pmcp.run receives.
 */
export function synthCommand(plan: Plan): CommandPipeline {
  const { config, names, region } = plan
  return {
    async run({ phase, facts }) {
      const project = await phase('render', () => cdkProjectFor(plan))
      const renaming = previewRenaming(names, config.server.name)
      const result = await phase('synth', () =>
        synthesize(project, names.stackName, cdkEnvironment({ config, names, region }), { renaming })
      )
      logSynthSummary(names.stackName, result)
      facts.templatePath = result.templatePath
      return 'synthesized'
    }
  }
}
