import { credentialKind, tokenSource, type PmcpRunCredentials } from './auth.js'
import { resolveEndpoints, type PmcpRunEndpoints } from './endpoints.js'
import { PmcpRunApi } from './graphql.js'

export { credentialKind, tokenSource, type PmcpRunCredentials, type TokenSource } from './auth.js'
export { DASHBOARD_URL, PMCP_RUN_DEFAULTS, resolveEndpoints, type PmcpRunEndpoints } from './endpoints.js'
export { PmcpRunApi, type Deployment, type UploadUrls } from './graphql.js'
export {
  deployToPmcpRun,
  mcpUrlOf,
  waitForDeployment,
  PMCP_RUN_RUNTIME,
  type PmcpRunDeployment,
  type PmcpRunDeployOptions,
  type WaitOptions
} from './deploy.js'
export { destroyPmcpRunDeployment, type PmcpRunDestroyOptions, type PmcpRunDestroyResult } from './destroy.js'
export { serverVersion } from './version.js'
export { uploadToPresignedUrl, zipBootstrap } from './upload.js'

export interface PmcpRunSession {
  api: PmcpRunApi
  endpoints: PmcpRunEndpoints
}

/**
 * Endpoints and a first access token (so a credentials problem shows before anything is uploaded),
 * and the API client that uses and refreshes it.
 */
export async function connectPmcpRun(credentials: PmcpRunCredentials, env: NodeJS.ProcessEnv = process.env): Promise<PmcpRunSession> {
  credentialKind(credentials)
  const endpoints = await resolveEndpoints({ env })
  const tokens = tokenSource(credentials, endpoints.tokenUrl)
  await tokens.token()
  return { api: new PmcpRunApi({ graphqlUrl: endpoints.graphqlUrl, tokens }), endpoints }
}
