import { credentialKind, tokenSource, type PmcpRunCredentials } from './auth.js'
import { rediscoverGraphqlUrl, resolveEndpoints, type PmcpRunEndpoints } from './endpoints.js'
import { PmcpRunApi } from './graphql.js'

export { credentialKind, tokenSource, type PmcpRunCredentials, type TokenSource } from './auth.js'
export {
  DASHBOARD_URL,
  discover,
  PMCP_RUN_DEFAULTS,
  rediscoverGraphqlUrl,
  resolveEndpoints,
  type Discovery,
  type PmcpRunEndpoints,
  type ResolveEndpointsOptions
} from './endpoints.js'
export {
  createDeploymentVariables,
  looksLikeUnknownSchema,
  PmcpRunApi,
  PMCP_RUN_MEMORY_SIZE,
  PMCP_RUN_TIMEOUT,
  type CompositionSettings,
  type ConfigureServerOAuthInput,
  type CreateDeploymentInput,
  type Deployment,
  type PmcpRunApiOptions,
  type ServerOAuthConfig,
  type ServerOAuthEndpoints,
  type UploadUrls
} from './graphql.js'
export {
  deployToPmcpRun,
  healthUrlOf,
  mcpUrlOf,
  waitForDeployment,
  PMCP_RUN_RUNTIME,
  type PmcpRunDeployment,
  type PmcpRunDeployOptions,
  type PmcpRunOAuthEndpoints,
  type PmcpRunOAuthSettings,
  type ServerPackage,
  type WaitOptions
} from './deploy.js'
export { destroyPmcpRunDeployment, type PmcpRunDestroyOptions, type PmcpRunDestroyResult } from './destroy.js'
export { serverVersion } from './version.js'
export { uploadToPresignedUrl } from './upload.js'

export interface PmcpRunSession {
  api: PmcpRunApi
  endpoints: PmcpRunEndpoints
}

export interface ConnectOptions {
  /** Waits between retries of discovery and API calls (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>
}

/**
 * Endpoints and a first access token (so a credentials problem shows before anything is uploaded),
 * and the API client that uses and refreshes it, and asks discovery again when its GraphQL URL
 * turns out stale.
 */
export async function connectPmcpRun(
  credentials: PmcpRunCredentials,
  env: NodeJS.ProcessEnv = process.env,
  options: ConnectOptions = {}
): Promise<PmcpRunSession> {
  credentialKind(credentials)
  const endpoints = await resolveEndpoints({ env, sleep: options.sleep })
  const tokens = tokenSource(credentials, endpoints.tokenUrl)
  await tokens.token()
  const api = new PmcpRunApi({
    graphqlUrl: endpoints.graphqlUrl,
    tokens,
    sleep: options.sleep,
    rediscover: () => rediscoverGraphqlUrl({ env, sleep: options.sleep })
  })
  return { api, endpoints }
}
