import { CognitoIdentityProviderClient, DescribeUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider'
import { ActionError, errorMessage } from '../errors.js'
import { maskSecret } from '../masking.js'
import { awsCall, awsClient, awsErrorName, type AwsContext } from './clients.js'

/** The stack outputs that let CI get a token of its own: the machine client and its token endpoint. */
export interface MachineClient {
  userPoolId: string
  clientId: string
  tokenUrl: string
}

/** The machine client the stack outputs when `[auth]` is on and the pool has a hosted domain. */
export function machineClientOf(outputs: Record<string, string>): MachineClient | undefined {
  const { UserPoolId: userPoolId, MachineClientId: clientId, OAuthTokenUrl: tokenUrl } = outputs
  return userPoolId && clientId && tokenUrl ? { userPoolId, clientId, tokenUrl } : undefined
}

/** The machine client's secret, read from Cognito (it is never a stack output) and masked at once. */
export async function machineClientSecret(client: MachineClient, aws: AwsContext): Promise<string> {
  const cognito = awsClient(CognitoIdentityProviderClient, aws)
  let secret: string | undefined
  try {
    const response = await awsCall(`Reading Cognito client ${client.clientId}`, aws, () =>
      cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: client.userPoolId, ClientId: client.clientId }))
    )
    secret = response.UserPoolClient?.ClientSecret
  } catch (error) {
    const denied = awsErrorName(error) === 'AccessDeniedException'
    throw new ActionError(
      'Cannot read the machine client',
      `The smoke test needs a token from the machine client ${client.clientId} of user pool ${client.userPoolId}, ` +
        `but reading it failed: ${errorMessage(error)}. ` +
        (denied
          ? 'Allow cognito-idp:DescribeUserPoolClient on the pool for the deploy role, or pass a token in smoke-test-token.'
          : 'Pass a token in smoke-test-token, or set smoke-test: none.')
    )
  }
  if (!secret) {
    throw new ActionError(
      'Machine client has no secret',
      `Cognito client ${client.clientId} of user pool ${client.userPoolId} has no client secret, ` +
        'so it cannot use the client-credentials flow. Pass a token in smoke-test-token.'
    )
  }
  maskSecret(secret)
  return secret
}
