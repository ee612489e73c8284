import * as core from '@actions/core'
import type { AwsContext } from '../aws/clients.js'
import { machineClientOf, machineClientSecret } from '../aws/cognito.js'
import { fetchClientCredentialsToken } from '../oauth/client-credentials.js'

export interface SmokeTokenOptions {
  /** The `smoke-test-token` input; when given it is used as it is. */
  given?: string
  /** The stack outputs: with `[auth]` on they name the machine client and its token endpoint. */
  outputs: Record<string, string>
  aws: AwsContext
}

/**
 * The bearer token of the smoke test: `smoke-test-token`, else (for a server behind Cognito) one
 * the stack's machine client obtains with the client-credentials flow, else none.
 */
export async function smokeTestToken(options: SmokeTokenOptions): Promise<string | undefined> {
  if (options.given) return options.given
  const client = machineClientOf(options.outputs)
  if (!client) return undefined
  const clientSecret = await machineClientSecret(client, options.aws)
  const token = await fetchClientCredentialsToken({ tokenUrl: client.tokenUrl, clientId: client.clientId, clientSecret })
  core.info(`Smoke test authenticates as Cognito machine client ${client.clientId} (client credentials at ${client.tokenUrl})`)
  return token.accessToken
}
