import { ActionError } from '../action-error.js'

/**
 * The roots of the Google APIs the action calls. Each can be replaced by an environment variable,
 * for tests (loopback stand-ins) and for private installations that reach Google through their own
 * gateway. A root is scheme, host and port only: the action appends the API's own paths (`/v1/token`,
 * `/v2/projects/…`), so a root with a path would silently send every call to the wrong place.
 */
export interface GcpEndpoints {
  /** Security Token Service: `POST /v1/token` exchanges the GitHub OIDC token. */
  sts: string
  /** IAM Service Account Credentials: `generateAccessToken`, `generateIdToken`. */
  iamCredentials: string
  /** Cloud Run Admin API v2 (`/v2/projects/…`). */
  run: string
  /** Artifact Registry API v1 (`/v1/projects/…/repositories`). */
  artifactRegistry: string
}

/** The variable that overrides each root. */
export const GCP_ENDPOINT_VARIABLES: Readonly<Record<keyof GcpEndpoints, string>> = {
  sts: 'PMCP_GCP_STS_URL',
  iamCredentials: 'PMCP_GCP_IAMCREDENTIALS_URL',
  run: 'PMCP_GCP_RUN_URL',
  artifactRegistry: 'PMCP_GCP_ARTIFACTREGISTRY_URL'
}

export const DEFAULT_GCP_ENDPOINTS: Readonly<GcpEndpoints> = {
  sts: 'https://sts.googleapis.com',
  iamCredentials: 'https://iamcredentials.googleapis.com',
  run: 'https://run.googleapis.com',
  artifactRegistry: 'https://artifactregistry.googleapis.com'
}

function invalidRoot(variable: string, value: string, why: string): ActionError {
  return new ActionError(
    `${variable} is not an API root`,
    `${variable} = '${value}' ${why}. It must be the root of the API only — scheme, host and optionally a port, ` +
      `such as '${DEFAULT_GCP_ENDPOINTS[keyOf(variable)]}' or 'http://127.0.0.1:8085' — because the action adds the API's paths itself. ` +
      `Remove the path, query or credentials, or unset ${variable} to use Google's endpoint.`
  )
}

function keyOf(variable: string): keyof GcpEndpoints {
  return (Object.keys(GCP_ENDPOINT_VARIABLES) as (keyof GcpEndpoints)[]).find(key => GCP_ENDPOINT_VARIABLES[key] === variable) ?? 'run'
}

/** `value` as an origin (`https://host:port`, no trailing slash), or an ActionError naming the variable. */
function parseRoot(variable: string, value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalidRoot(variable, value, 'is not a URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalidRoot(variable, value, `has the scheme ${url.protocol} (only https: or http:)`)
  if (url.username || url.password) throw invalidRoot(variable, '(credentials hidden)', 'carries a user name or password')
  if (url.pathname !== '/' && url.pathname !== '') throw invalidRoot(variable, value, `has the path ${url.pathname}`)
  if (url.search || url.hash || value.includes('?') || value.includes('#')) throw invalidRoot(variable, value, 'has a query or fragment')
  return url.origin
}

/** The API roots for this run: Google's, except where the environment overrides one. */
export function gcpEndpoints(env: NodeJS.ProcessEnv = process.env): GcpEndpoints {
  const root = (key: keyof GcpEndpoints): string => {
    const variable = GCP_ENDPOINT_VARIABLES[key]
    const value = env[variable]?.trim()
    return value ? parseRoot(variable, value) : DEFAULT_GCP_ENDPOINTS[key]
  }
  return { sts: root('sts'), iamCredentials: root('iamCredentials'), run: root('run'), artifactRegistry: root('artifactRegistry') }
}
