import { afterAll, beforeAll, expect, it } from '@jest/globals'
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand
} from '@aws-sdk/client-cognito-identity-provider'
import { awsClient, type AwsContext } from '../../src/aws/clients.js'
import { smokeTestToken } from '../../src/smoke/token.js'
import { captureStdout } from '../../testkit/annotations.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { startOAuthTokenEndpoint, type OAuthTokenEndpoint } from '../../testkit/oauth-token-endpoint.js'

const aws: AwsContext = { region: 'us-east-1', retry: { sleep: async () => {} } }

describeWithMoto('the smoke-test token of a server behind Cognito', () => {
  let moto: MotoServer
  let endpoint: OAuthTokenEndpoint
  let userPoolId: string
  let machineClientId: string
  let publicClientId: string
  let restoreEnvironment: () => void

  beforeAll(async () => {
    moto = await startMoto()
    restoreEnvironment = useMotoEnvironment(moto)
    const cognito = awsClient(CognitoIdentityProviderClient, aws)
    userPoolId = (await cognito.send(new CreateUserPoolCommand({ PoolName: 'weather' }))).UserPool!.Id!
    const machine = await cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: 'machine',
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials']
      })
    )
    machineClientId = machine.UserPoolClient!.ClientId!
    publicClientId = (
      await cognito.send(new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: 'app', GenerateSecret: false }))
    ).UserPoolClient!.ClientId!
    // The token endpoint knows the secret Cognito generated, as the pool's hosted domain does.
    endpoint = await startOAuthTokenEndpoint({ clientId: machineClientId, clientSecret: machine.UserPoolClient!.ClientSecret! })
  })

  afterAll(async () => {
    restoreEnvironment?.()
    await endpoint?.stop()
    await moto?.stop()
  })

  const outputs = (clientId: string): Record<string, string> => ({
    McpUrl: 'https://example.invalid/mcp',
    UserPoolId: userPoolId,
    MachineClientId: clientId,
    OAuthTokenUrl: endpoint.tokenUrl
  })

  it('gets a token with the machine client: its secret read from Cognito, client credentials at the token endpoint', async () => {
    const { result: token, output } = await captureStdout(() => smokeTestToken({ outputs: outputs(machineClientId), aws }))
    expect(token).toBe(endpoint.issued[0])
    expect(endpoint.requests).toHaveLength(1)
    expect(endpoint.requests[0]).toMatchObject({ form: { grant_type: 'client_credentials' }, answeredWith: 200 })
    expect(output).toContain(`::add-mask::${token}`)
  })

  it('uses smoke-test-token when it is given, without asking anyone', async () => {
    const before = endpoint.requests.length
    expect(await smokeTestToken({ given: 'given-token', outputs: outputs(machineClientId), aws })).toBe('given-token')
    expect(endpoint.requests).toHaveLength(before)
  })

  it('has no token for a stack without auth', async () => {
    expect(await smokeTestToken({ outputs: { McpUrl: 'https://example.invalid/mcp' }, aws })).toBeUndefined()
  })

  it('explains a machine client without a secret', async () => {
    await expect(smokeTestToken({ outputs: outputs(publicClientId), aws })).rejects.toThrow(
      new RegExp(`Cognito client ${publicClientId} of user pool ${userPoolId} has no client secret.*Pass a token in smoke-test-token`)
    )
  })
})
