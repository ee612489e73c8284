import type { TargetModule } from '../index.js'
import { cloudRunCleanupCommand, cloudRunDestroyCommand, cloudRunRollbackCommand, cloudRunSynthCommand } from './commands.js'
import { cloudRunDeployCommand } from './deploy.js'

/** Google Cloud Run: one service per server; previews are revision tags of it, rollback moves its traffic. */
export const googleCloudRun: TargetModule = {
  commands: {
    deploy: cloudRunDeployCommand,
    synth: cloudRunSynthCommand,
    rollback: cloudRunRollbackCommand,
    destroy: cloudRunDestroyCommand,
    cleanup: cloudRunCleanupCommand
  },
  // The service lives in a Google Cloud project: the report links to its console from the outputs.
  reportsAwsRegion: false
}
