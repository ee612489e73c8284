import type { TargetModule } from '../index.js'
import { synthCommand } from '../cdk-synth.js'
import { cleanupCommand } from './cleanup.js'
import { deployCommand } from './deploy.js'
import { destroyCommand } from './destroy.js'
import { rollbackCommand } from './rollback.js'

/** AWS Lambda in the user's own account, through a CDK stack: every command. */
export const awsLambda: TargetModule = {
  commands: { deploy: deployCommand, synth: synthCommand, rollback: rollbackCommand, destroy: destroyCommand, cleanup: cleanupCommand },
  reportsAwsRegion: true
}
