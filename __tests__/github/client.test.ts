/**
 * The GitHub client of the action (src/github/client.ts) against the GitHub stand-in and against
 * loopback servers that hang, drop the connection or answer a page instead of JSON: every failure
 * ends within the deadline budget and is explained as what it is (a rate limit is not a missing
 * permission).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { explainGitHubFailure, githubClient, readPullRequest } from '../../src/github/client.js'
import { DEFAULT_REQUEST_TIMEOUT_SECONDS, setRequestTimeout } from '../../src/net/deadline.js'
import { publishComment } from '../../src/report/comment.js'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { failureOf, startAnsweringServer, startDroppingServer, startHangingServer, type FaultServer } from '../net/fault-servers.js'
import { deployedReport } from '../report/sample.js'
import { captureStdout } from '../../testkit/annotations.js'

const TIMEOUT_S = 0.5
/** Three attempts (plugin-retry's two retries) of one timeout each, their 1 ms and 4 ms waits, and slack. */
const WITHIN_BUDGET_MS = 3 * TIMEOUT_S * 1000 + 1000
const fast = { msPerSecond: 1, maxRateLimitWaits: 1, spaceWrites: false }
const PR = { owner: 'acme', repo: 'tools', number: 7 }

let server: FaultServer | undefined
let github: FakeGitHubApi

beforeAll(async () => {
  setRequestTimeout(TIMEOUT_S)
  github = await FakeGitHubApi.start()
})
afterAll(async () => {
  setRequestTimeout(DEFAULT_REQUEST_TIMEOUT_SECONDS)
  await github.stop()
})
afterEach(async () => {
  await server?.stop()
  server = undefined
  github.reset()
})

async function readFrom(apiUrl: string): Promise<unknown> {
  return readPullRequest(await githubClient({ token: 'ghs_token', apiUrl, limits: fast }), 'acme/tools', PR.number)
}

describe('the GitHub client', () => {
  it("reads a pull request's state from the stand-in", async () => {
    github.setPullRequest(PR, { merged: true })
    expect(await readFrom(github.url)).toEqual({ state: 'closed', merged: true })
    expect(github.requestsOf('GET', /^\/repos\/acme\/tools\/pulls\/7$/)[0].authorization).toMatch(/ghs_token$/)
  })

  it('gives up on an API that accepts and never answers within the budget, and says so', async () => {
    server = await startHangingServer()
    const { error, ms } = await failureOf(() => readFrom(server!.url))
    const reason = explainGitHubFailure(error, { permission: 'pull-requests: read' })
    expect(reason).toContain(`GitHub API GET /repos/acme/tools/pulls/7 (${server.url}/repos/acme/tools/pulls/7)`)
    expect(reason).toContain('no complete answer within 0.5 s (request-timeout)')
    expect(ms).toBeLessThan(WITHIN_BUDGET_MS)
    expect(server.requests()).toBe(3)
  })

  it('names a dropped connection', async () => {
    server = await startDroppingServer()
    const { error } = await failureOf(() => readFrom(server!.url))
    expect(explainGitHubFailure(error)).toMatch(/the connection was dropped|other side closed|socket hang up/)
  })

  it('refuses an answer that is not JSON (a proxy login page) and says what came', async () => {
    server = await startAnsweringServer({
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: '<html><title>Proxy login</title></html>'
    })
    const reason = explainGitHubFailure((await failureOf(() => readFrom(server!.url))).error)
    expect(reason).toContain('answered HTTP 200 with text/html instead of JSON: <html><title>Proxy login</title></html>')
  })

  it('refuses a body announced as JSON that is not', async () => {
    server = await startAnsweringServer({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"state": "op'
    })
    const reason = explainGitHubFailure((await failureOf(() => readFrom(server!.url))).error)
    expect(reason).toContain('instead of JSON: {"state": "op')
  })

  it('reports a used-up primary rate limit (403, x-ratelimit-remaining 0) as the rate limit, not a permission', async () => {
    github.setPullRequest(PR)
    github.primaryRateLimit({ times: 99 })
    const { error } = await failureOf(() => readFrom(github.url))
    const reason = explainGitHubFailure(error, { permission: 'pull-requests: read' })
    expect(reason).toContain('was refused by the rate limit (HTTP 403, x-ratelimit-remaining 0')
    expect(reason).toContain('This is not a missing permission')
    expect(reason).not.toContain("needs the permission 'pull-requests: read'")
  })

  it('names the permission a plain 403 lacks', async () => {
    github.failWith({ status: 403, message: 'Resource not accessible by integration' })
    const reason = explainGitHubFailure((await failureOf(() => readFrom(github.url))).error, { permission: 'pull-requests: read' })
    expect(reason).toContain(
      "answered HTTP 403 (Resource not accessible by integration). The token needs the permission 'pull-requests: read'"
    )
  })

  it('lets a PR comment against a hanging API end as a warning within the budget', async () => {
    server = await startHangingServer()
    const started = Date.now()
    const { result } = await captureStdout(() =>
      publishComment(deployedReport(), {
        comment: true,
        githubToken: 'ghs_token',
        prNumber: PR.number,
        repository: 'acme/tools',
        apiUrl: server!.url,
        event: {},
        limits: fast
      })
    )
    expect(result).toMatchObject({ action: 'failed' })
    expect((result as { reason: string }).reason).toContain('no complete answer within 0.5 s')
    // GraphQL viewer, then the comment list: each one bounded.
    expect(Date.now() - started).toBeLessThan(2 * WITHIN_BUDGET_MS)
  })
})
