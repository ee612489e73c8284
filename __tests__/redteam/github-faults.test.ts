/**
 * Red team: each GitHub API call the action makes answering with an error, garbage, a hang and a
 * dropped connection, through the fault proxy in front of the GitHub API stand-in. The PR comment
 * and the pull request's state are best effort (a warning naming the call, the run's own result
 * stands); the production branch read is not (one `::error` naming the API, nothing deployed).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { gitHubError, type Fault, type FaultRule } from '../../testkit/fault-proxy.js'
import { describeWithMoto } from '../../testkit/moto.js'
import { expectHandledFault, type HandledFaultExpectations } from '../../testkit/red-team.js'
import { DEADLINE_EXPLAINED, HANG_LIMIT_MS, PR, PUSH, pullRequestEvent, startFaultBench, type FaultBench } from './fault-bench.js'

type Kind = Fault['kind']
const KINDS: Kind[] = ['error', 'garbage', 'hang', 'drop']
const REPO_PATH = `/repos/${PR.owner}/${PR.repo}`

interface FaultedCall {
  call: string
  rule: Omit<FaultRule, 'fault'>
  error: Fault
  event: { name: string; payload: object }
  inputs: Record<string, string>
  /** exit 0 with this warning, or exit 1 with this error. */
  expected: Pick<HandledFaultExpectations, 'exitCode' | 'error' | 'warning'>
}

const CALLS: FaultedCall[] = [
  {
    call: 'PR comments (list, create, update)',
    rule: { path: new RegExp(`^${REPO_PATH}/issues/(${PR.number}/comments|comments/\\d+)$`) },
    error: gitHubError(403, 'Resource not accessible by integration'),
    // The preview of a closed PR that was never deployed: nothing to remove, then the comment says so.
    event: pullRequestEvent('closed'),
    inputs: { command: 'destroy' },
    expected: { exitCode: 0, warning: /comment/i }
  },
  {
    call: 'the pull request (GET pulls/19)',
    rule: { method: 'GET', path: `${REPO_PATH}/pulls/${PR.number}` },
    error: gitHubError(404, 'Not Found'),
    // A synchronize run whose payload already says closed: with the API unreadable, the payload decides.
    event: pullRequestEvent('synchronize', 'closed'),
    inputs: { command: 'deploy', comment: 'false' },
    expected: { exitCode: 0, warning: /pull request #19/i }
  },
  {
    call: 'the repository (GET repos/octo-org/octo-repo, for the default branch)',
    rule: { method: 'GET', path: REPO_PATH },
    error: gitHubError(403, 'Resource not accessible by integration'),
    event: { name: 'push', payload: { ...PUSH.payload, repository: { default_branch: '' } } },
    inputs: { command: 'rollback' },
    expected: { error: /production[ -]branch/i }
  },
  {
    call: 'GraphQL (viewer login, to find our own PR comment)',
    rule: { method: 'POST', path: '/graphql' },
    error: gitHubError(403, 'Resource not accessible by integration'),
    event: pullRequestEvent('closed'),
    inputs: { command: 'destroy' },
    expected: { exitCode: 0 }
  }
]

describeWithMoto('red team: the GitHub API failing', () => {
  let bench: FaultBench

  beforeAll(async () => {
    bench = await startFaultBench()
  }, 240_000)

  afterAll(async () => {
    await bench?.stop()
  })

  const cases = CALLS.flatMap(call => KINDS.map(kind => [`${call.call}: ${kind}`, call, kind] as const))

  it.each(cases)(
    '%s',
    async (_name, call, kind) => {
      bench.reset()
      bench.api.inject({ ...call.rule, fault: kind === 'error' ? call.error : { kind } })
      const run = await bench.run(call.event, call.inputs)
      const stacks = bench.aws.requests.filter(request => request.operation === 'CreateStack' || request.operation === 'UpdateStack')
      expectHandledFault(run, {
        ...call.expected,
        secrets: bench.secrets(),
        written: bench.github.comments(PR).map(comment => comment.body),
        maxMs: kind === 'hang' ? HANG_LIMIT_MS : undefined,
        sideEffects: stacks.length > 0 ? [`${stacks.length} CreateStack/UpdateStack calls`] : []
      })
      if (kind === 'hang') expect(run.stdout).toMatch(DEADLINE_EXPLAINED)
      expect(bench.api.faulted().length).toBeGreaterThan(0)
    },
    60_000
  )

  it('a 403 with x-ratelimit-remaining: 0 on the PR comment is reported as a rate limit, not as a missing permission', async () => {
    bench.reset()
    const reset = String(Math.ceil(Date.now() / 1000) + 1)
    bench.api.inject({
      path: new RegExp(`^${REPO_PATH}/issues/`),
      fault: gitHubError(403, 'API rate limit exceeded for installation ID 1.', {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': reset
      })
    })
    const run = await bench.run(pullRequestEvent('closed'), { command: 'destroy' })
    expectHandledFault(run, { exitCode: 0, warning: /rate limit/i, secrets: bench.secrets(), maxMs: HANG_LIMIT_MS })
    expect(run.stdout).not.toMatch(/pull-requests: write/)
  }, 60_000)

  it('command: deploy on a closed pull_request event deploys no preview (it removes it instead)', async () => {
    bench.reset()
    const run = await bench.run(pullRequestEvent('closed'), { command: 'deploy' })
    expectHandledFault(run, { exitCode: 0, secrets: bench.secrets() })
    expect(run.stdout).toMatch(/::notice title=Deploy skipped::Pull request #19 is closed/)
    const stacks = bench.aws.requests.filter(request => request.operation === 'CreateStack' || request.operation === 'UpdateStack')
    expect(stacks).toHaveLength(0)
  }, 60_000)

  it('a garbage GraphQL answer still leaves exactly one PR comment, found by its marker', async () => {
    bench.reset()
    bench.api.inject({ method: 'POST', path: '/graphql', fault: { kind: 'garbage' } })
    const run = await bench.run(pullRequestEvent('closed'), { command: 'destroy' })
    expectHandledFault(run, { exitCode: 0, secrets: bench.secrets() })
    expect(bench.github.comments(PR)).toHaveLength(1)
  }, 60_000)
})
