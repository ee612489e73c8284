/**
 * AWS SDK calls against servers that fail as real endpoints do (pointed at them with
 * AWS_ENDPOINT_URL, as an emulator would be): each ends, within the deadline budget, as one
 * ActionError that names the service, the call, the endpoint and what to do.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { ActionError } from '../../src/errors.js'
import { awsCall, awsClient, awsErrorName, type AwsContext } from '../../src/aws/clients.js'
import { configureAwsCredentials } from '../../src/aws/credentials.js'
import { currentAliasVersion } from '../../src/aws/lambda.js'
import { readStack } from '../../src/aws/stack.js'
import { DEFAULT_REQUEST_TIMEOUT_SECONDS, setRequestTimeout } from '../../src/net/deadline.js'
import { FaultError } from '../../src/net/faults.js'
import { captureStdout } from '../../testkit/annotations.js'
import { failureOf, startAnsweringServer, startDroppingServer, startHangingServer, type FaultServer } from './fault-servers.js'

const TIMEOUT_S = 0.5
/** Attempts end after the request timeout and none starts after the budget (2×): three timeouts at most, plus slack. */
const WITHIN_BUDGET_MS = 3 * TIMEOUT_S * 1000 + 1000

const aws: AwsContext = { region: 'eu-west-1', retry: { baseDelayMs: 1, maxDelayMs: 5 } }
const saved = { ...process.env }
let server: FaultServer | undefined

beforeAll(() => setRequestTimeout(TIMEOUT_S))
afterAll(() => setRequestTimeout(DEFAULT_REQUEST_TIMEOUT_SECONDS))

afterEach(async () => {
  await server?.stop()
  server = undefined
  process.env = { ...saved }
})

async function use(started: Promise<FaultServer>): Promise<FaultServer> {
  server = await started
  Object.assign(process.env, { AWS_ENDPOINT_URL: server.url, AWS_ACCESS_KEY_ID: 'AKIATESTING', AWS_SECRET_ACCESS_KEY: 'testing' })
  delete process.env.AWS_SESSION_TOKEN
  delete process.env.HTTP_PROXY
  delete process.env.HTTPS_PROXY
  return server
}

function asFault(error: unknown): FaultError {
  expect(error).toBeInstanceOf(FaultError)
  return error as FaultError
}

describe('AWS calls that cannot end well end as one ActionError', () => {
  it('a CloudFormation endpoint that accepts and never answers: the deadline, retried within the budget', async () => {
    const hanging = await use(startHangingServer())
    const { error, ms } = await failureOf(() => readStack('weather-stack', aws))
    const fault = asFault(error)
    expect(fault.title).toBe('AWS CloudFormation did not answer')
    expect(fault.message).toContain(`AWS CloudFormation DescribeStacks (${hanging.url}/)`)
    expect(fault.message).toContain('while reading stack weather-stack')
    expect(fault.message).toContain('request-timeout')
    expect(ms).toBeLessThan(WITHIN_BUDGET_MS)
    expect(hanging.requests()).toBeGreaterThanOrEqual(2)
  })

  it('a dropped connection (reset as soon as the request arrives) on Lambda GetAlias', async () => {
    const dropping = await use(startDroppingServer())
    const { error, ms } = await failureOf(() => currentAliasVersion('weather', aws))
    const fault = asFault(error)
    expect(fault.title).toBe('AWS Lambda unreachable')
    expect(fault.message).toMatch(/^AWS Lambda GetAlias .*while reading alias live of weather,? failed: the connection was dropped/)
    expect(fault.message).toContain('ECONNRESET')
    expect(ms).toBeLessThan(WITHIN_BUDGET_MS)
    expect(dropping.requests()).toBeGreaterThanOrEqual(2)
  })

  it('an answer that is not AWS XML (a proxy page) is not read as a missing stack', async () => {
    await use(startAnsweringServer({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body>Sign in to the Wi-Fi' }))
    const fault = asFault((await failureOf(() => readStack('weather-stack', aws))).error)
    expect(fault.title).toBe('AWS CloudFormation answered something else')
    expect(fault.message).toContain('<html><body>Sign in to the Wi-Fi')
    expect(fault.message).not.toMatch(/does not exist/)
  })

  it('a 502 that persists: unavailable after the retries', async () => {
    const failing = await use(
      startAnsweringServer({ status: 502, headers: { 'content-type': 'text/html' }, body: '<html>Bad Gateway</html>' })
    )
    const fault = asFault((await failureOf(() => currentAliasVersion('weather', aws))).error)
    expect(fault.title).toBe('AWS Lambda unavailable')
    expect(fault.message).toContain('HTTP 502 after the retries')
    expect(failing.requests()).toBeGreaterThanOrEqual(2)
  })

  it('AccessDenied from Lambda GetAlias names the permission and that the setup template grants it', async () => {
    const denying = await use(
      startAnsweringServer({
        status: 403,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
        body: JSON.stringify({ Message: 'User: arn:aws:sts::1:assumed-role/pmcp-deploy/s is not authorized to perform: lambda:GetAlias' })
      })
    )
    const fault = asFault((await failureOf(() => currentAliasVersion('weather', aws))).error)
    expect(fault.title).toBe('AWS denied lambda:GetAlias')
    expect(fault.message).toContain('is not authorized to perform: lambda:GetAlias')
    expect(fault.message).toContain('The deploy role needs lambda:GetAlias')
    expect(fault.message).toContain("templates/aws-setup/github-oidc-role.yaml grants it on the server's functions")
    expect(awsErrorName(fault)).toBe('AccessDeniedException')
    // A refusal is not retried.
    expect(denying.requests()).toBe(1)
  })

  it('AccessDenied from Secrets Manager', async () => {
    await use(
      startAnsweringServer({
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify({ __type: 'AccessDeniedException', Message: 'not authorized to perform: secretsmanager:DescribeSecret' })
      })
    )
    const client = awsClient(SecretsManagerClient, aws)
    const call = (): Promise<unknown> =>
      awsCall('Looking up secret weather/API_KEY', aws, () => client.send(new DescribeSecretCommand({ SecretId: 'weather/API_KEY' })))
    const fault = asFault((await failureOf(call)).error)
    expect(fault.title).toBe('AWS denied secretsmanager:DescribeSecret')
    expect(fault.message).toContain("grants it on the server's secrets (<ServerName>/*)")
  })

  it('expired credentials on STS GetCallerIdentity say so, not that the credentials were rejected', async () => {
    await use(
      startAnsweringServer({
        status: 403,
        headers: { 'content-type': 'text/xml' },
        body:
          '<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>' +
          '<Message>The security token included in the request is expired</Message></Error><RequestId>1</RequestId></ErrorResponse>'
      })
    )
    const { error } = await captureStdout(() => configureAwsCredentials({ ...aws, roleSessionName: 's', roleDurationSeconds: 3600 }))
    const fault = asFault(error)
    expect(fault.title).toBe('AWS credentials expired')
    expect(fault.message).toContain('AWS STS GetCallerIdentity')
    expect(fault.message).toContain("'role-duration-seconds'")
  })

  it('a fault that reaches reportError unexplained is explained there, not called a bug', async () => {
    await use(startDroppingServer())
    const { LambdaClient, GetAliasCommand } = await import('@aws-sdk/client-lambda')
    const raw = await new LambdaClient({ region: 'eu-west-1', maxAttempts: 1 })
      .send(new GetAliasCommand({ FunctionName: 'weather', Name: 'live' }))
      .catch((error: unknown) => error)
    expect(raw).not.toBeInstanceOf(ActionError)
    const { reportError } = await import('../../src/errors.js')
    const { output } = await captureStdout(() => Promise.resolve(reportError(raw)))
    expect(output).not.toContain('unexpected')
    expect(output).toMatch(/::error title=AWS unreachable::.*the connection was dropped/)
  })
})
