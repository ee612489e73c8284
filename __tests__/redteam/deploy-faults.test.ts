/**
 * Red team: AWS failing while the stack is being deployed (the two cases that need a real `cdk
 * deploy`, kept to two because each costs one). The CDK CLI and the action both talk to moto through
 * the fault proxy; the CLI's requests are told apart by their user agent (`aws-cdk/…`).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { awsQueryError, CLOUDFORMATION_NAMESPACE, type ProxiedRequest } from '../../testkit/fault-proxy.js'
import { describeWithMoto } from '../../testkit/moto.js'
import { expectHandledFault } from '../../testkit/red-team.js'
import { PUSH, SECRET_VALUE, SLOW_CALL_SECONDS, SERVER, startFaultBench, type FaultBench } from './fault-bench.js'

/** A production deploy with the secret it declares; a request-timeout for moto answering a whole cdk deploy under load. */
const DEPLOY_INPUTS = { command: 'deploy', secrets: `API_KEY=${SECRET_VALUE}`, 'request-timeout': String(SLOW_CALL_SECONDS) }
/** A cdk deploy on moto takes 10-90 s on a loaded 2-core machine: only a run past this counts as hanging. */
const DEPLOY_KILL_AFTER_MS = 240_000

function fromCdkCli(request: ProxiedRequest): boolean {
  return /aws-cdk/i.test([request.headers['user-agent'], request.headers['x-amz-user-agent']].flat().join(' '))
}

describeWithMoto('red team: AWS failing during the deploy', () => {
  let bench: FaultBench

  beforeAll(async () => {
    bench = await startFaultBench({ withFunction: false })
  }, 300_000)

  afterAll(async () => {
    await bench?.stop()
  })

  it("a connection dropped under the CDK CLI's CreateStack: one error saying the deploy failed", async () => {
    bench.reset()
    bench.aws.inject({ operation: 'CreateStack', when: fromCdkCli, fault: { kind: 'drop' } })
    const run = await bench.run(PUSH, DEPLOY_INPUTS, { killAfterMs: DEPLOY_KILL_AFTER_MS })
    expectHandledFault(run, { error: new RegExp(`${SERVER}-stack`), secrets: bench.secrets() })
    expect(bench.aws.faulted().length).toBeGreaterThan(0)
  }, 300_000)

  it('a stack that cannot be read after the deploy is reported as unreadable, not as missing', async () => {
    bench.reset()
    const deployed = (): boolean => bench.aws.requests.some(request => request.operation === 'CreateStack' && request.outcome === 'pass')
    bench.aws.inject({
      operation: 'DescribeStacks',
      when: request => !fromCdkCli(request) && deployed(),
      fault: awsQueryError(
        403,
        'AccessDenied',
        `User: arn:aws:sts::123456789012:assumed-role/pmcp-deploy/pmcp-deploy is not authorized to perform: cloudformation:DescribeStacks`,
        CLOUDFORMATION_NAMESPACE
      )
    })
    const run = await bench.run(PUSH, DEPLOY_INPUTS, { killAfterMs: DEPLOY_KILL_AFTER_MS })
    expectHandledFault(run, { error: /DescribeStacks/, secrets: bench.secrets() })
    expect(
      run.stdout
        .split('\n')
        .filter(line => line.startsWith('::error'))
        .join('\n')
    ).not.toMatch(/does not exist/)
    expect(bench.aws.faulted().length).toBeGreaterThan(0)
  }, 300_000)
})
