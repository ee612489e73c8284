import type { TargetModule } from '../index.js'

/** Google Cloud Run: one service per server; previews are revision tags, rollback moves traffic. */
export const googleCloudRun: TargetModule = {
  commands: {},
  reportsAwsRegion: false
}
