/**
 * Red team: the OIDC token service and each AWS call answering with an error (in the service's real
 * error shape), garbage, a hang and a dropped connection, through the fault proxy in front of the
 * token service and moto_server. Each run ends with exit 1 and one `::error` naming the call, within
 * the request-timeout's budget, with nothing deployed or moved.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda'
import {
  awsJsonError,
  awsQueryError,
  awsRestJsonError,
  CLOUDFORMATION_NAMESPACE,
  gitHubError,
  STS_NAMESPACE,
  type Fault,
  type FaultProxy,
  type FaultRule
} from '../../testkit/fault-proxy.js'
import { describeWithMoto } from '../../testkit/moto.js'
import { expectHandledFault } from '../../testkit/red-team.js'
import { DEADLINE_EXPLAINED, HANG_LIMIT_MS, PUSH, SECRET_VALUE, SERVER, startFaultBench, type FaultBench } from './fault-bench.js'

type Kind = Fault['kind']
const KINDS: Kind[] = ['error', 'garbage', 'hang', 'drop']

interface FaultedCall {
  /** The call, as the test names it. */
  call: string
  proxy: (bench: FaultBench) => FaultProxy
  rule: Omit<FaultRule, 'fault'>
  /** The error answer in the service's own shape. */
  error: Fault
  /** Inputs of the run that reaches the call (default: a rollback of rt-fn). */
  inputs?: Record<string, string>
  /** What the one `::error` must say, whatever the fault. */
  says: RegExp
}

const DENIED = `User: arn:aws:sts::123456789012:assumed-role/pmcp-deploy/pmcp-deploy is not authorized to perform`

const CALLS: FaultedCall[] = [
  {
    call: 'the OIDC token service',
    proxy: bench => bench.oidc,
    rule: {},
    error: gitHubError(403, 'Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable'),
    says: /OIDC/
  },
  {
    call: 'STS AssumeRoleWithWebIdentity',
    proxy: bench => bench.aws,
    rule: { operation: 'AssumeRoleWithWebIdentity' },
    error: awsQueryError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', STS_NAMESPACE),
    says: /AssumeRoleWithWebIdentity|assum(e|ing) (the )?role/i
  },
  {
    call: 'CloudFormation DescribeStacks',
    proxy: bench => bench.aws,
    rule: { operation: 'DescribeStacks' },
    error: awsQueryError(
      403,
      'AccessDenied',
      `${DENIED}: cloudformation:DescribeStacks on resource: arn:aws:cloudformation:us-east-1:123456789012:stack/${SERVER}-stack/*`,
      CLOUDFORMATION_NAMESPACE
    ),
    says: /DescribeStacks|[Rr]eading (the )?stack/
  },
  {
    call: 'Lambda GetAlias',
    proxy: bench => bench.aws,
    rule: { method: 'GET', path: new RegExp(`^/2015-03-31/functions/${SERVER}/aliases/live$`) },
    error: awsRestJsonError(
      403,
      'AccessDeniedException',
      `${DENIED}: lambda:GetAlias on resource: arn:aws:lambda:us-east-1:123456789012:function:${SERVER}:live`
    ),
    says: /GetAlias|alias live/
  },
  {
    call: 'Secrets Manager (writing the secrets input before the deploy)',
    proxy: bench => bench.aws,
    rule: { headers: { 'x-amz-target': /^secretsmanager\./ } },
    error: awsJsonError(
      400,
      'AccessDeniedException',
      `${DENIED}: secretsmanager:PutSecretValue on resource: ${SERVER}/API_KEY ` +
        'because no identity-based policy allows the secretsmanager:PutSecretValue action'
    ),
    inputs: { command: 'deploy', secrets: `API_KEY=${SECRET_VALUE}` },
    says: /[Ss]ecret/
  }
]

describeWithMoto('red team: the OIDC token service and AWS failing', () => {
  let bench: FaultBench
  let lambda: LambdaClient

  beforeAll(async () => {
    bench = await startFaultBench()
    lambda = new LambdaClient({
      region: 'us-east-1',
      endpoint: bench.moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }
    })
  }, 240_000)

  afterAll(async () => {
    lambda?.destroy()
    await bench?.stop()
  })

  async function liveVersion(): Promise<string | undefined> {
    return (await lambda.send(new GetAliasCommand({ FunctionName: SERVER, Name: 'live' }))).FunctionVersion
  }

  const cases = CALLS.flatMap(call => KINDS.map(kind => [`${call.call}: ${kind}`, call, kind] as const))

  it.each(cases)(
    '%s',
    async (_name, call, kind) => {
      bench.reset()
      const before = await liveVersion()
      call.proxy(bench).inject({ ...call.rule, fault: kind === 'error' ? call.error : { kind } })
      const run = await bench.run(PUSH, call.inputs)
      const faulted = call.proxy(bench).faulted().length
      const stacks = bench.aws.requests.filter(request => request.operation === 'CreateStack' || request.operation === 'UpdateStack')
      const after = await liveVersion()
      expectHandledFault(run, {
        error: call.says,
        secrets: bench.secrets(),
        maxMs: kind === 'hang' ? HANG_LIMIT_MS : undefined,
        sideEffects: [
          ...(after !== before ? [`alias live moved from ${before} to ${after} although ${call.call} failed`] : []),
          ...(stacks.length > 0 ? [`${stacks.length} CreateStack/UpdateStack calls although ${call.call} failed first`] : [])
        ]
      })
      if (kind === 'hang') expect(run.stdout).toMatch(DEADLINE_EXPLAINED)
      // The fault was met: the run failed because of it, not before it.
      expect(faulted).toBeGreaterThan(0)
    },
    60_000
  )
})
