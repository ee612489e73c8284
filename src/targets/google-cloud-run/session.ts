import { CloudRunApi } from '../../gcp/run-api.js'
import { GcpCredentials, parseServiceAccount, parseWorkloadIdentityProvider, type GcpCredentialOptions } from '../../gcp/credentials.js'
import type { CloudRunConfig } from '../../config/types.js'
import { INPUT_DEFAULTS } from '../../inputs.js'
import type { Plan } from '../../plan.js'

/** The Google side of one run: who it is, and the Cloud Run API of the service's project and region. */
export interface CloudRunSession {
  credentials: GcpCredentials
  api: CloudRunApi
  /** The service id (the server's name). */
  service: string
  cloudRun: CloudRunConfig
}

/** deploy.toml's Cloud Run settings; the config loader always resolves them for this target. */
export function cloudRunSettings(plan: Plan): CloudRunConfig {
  const cloudRun = plan.config.cloudRun
  if (!cloudRun) throw new Error(`deploy.toml was read without its Cloud Run settings (target ${plan.target})`)
  return cloudRun
}

function credentialOptions(plan: Plan): GcpCredentialOptions {
  const { inputs, context } = plan
  return {
    workloadIdentityProvider: inputs.workloadIdentityProvider,
    serviceAccount: inputs.serviceAccount,
    // `audience` is AWS's by default; only a value the user set is a Google audience.
    audience: inputs.audience === INPUT_DEFAULTS.audience ? undefined : inputs.audience,
    event: { name: context.eventName, payload: context.event }
  }
}

/** The Google inputs, checked before anything is built: a typo costs seconds, not a whole build. */
export function checkGoogleInputs(plan: Plan): void {
  parseWorkloadIdentityProvider(plan.inputs.workloadIdentityProvider)
  parseServiceAccount(plan.inputs.serviceAccount)
}

/** Signs in through Workload Identity Federation (the first access token proves the setup) and opens the Cloud Run API. */
export async function cloudRunSession(plan: Plan): Promise<CloudRunSession> {
  const cloudRun = cloudRunSettings(plan)
  const credentials = await GcpCredentials.authenticate(credentialOptions(plan))
  const api = new CloudRunApi({ project: cloudRun.projectId, region: cloudRun.region, credentials })
  return { credentials, api, service: plan.names.stackName, cloudRun }
}
