import { jest } from '@jest/globals'
import { ACTIONS_BOT_LOGIN, type CommentOptions, commentMarker, publishComment, renderComment } from '../../src/report/comment.js'
import { ACTIONS_BOT, FakeGitHubApi, MAX_COMMENT_CHARS, SECONDARY_RATE_LIMIT_MESSAGE } from '../../testkit/github-api.js'
import { MCP_URL, STACK, deployedReport, hugeSmokeRun } from './sample.js'

const PR = { owner: 'acme', repo: 'weather', number: 12 }
/** Rate-limit waits and retry backoff in milliseconds instead of seconds; no 1 s between writes. */
const FAST = { msPerSecond: 1, spaceWrites: false }
const APP_TOKEN = 'ghs_app-installation-token'
const APP_BOT = 'pmcp-deployer[bot]'

let api: FakeGitHubApi
let stdout: string[]

function options(overrides: Partial<CommentOptions> = {}): CommentOptions {
  return {
    comment: true,
    githubToken: 'ghs_test-token',
    apiUrl: api.url,
    repository: 'acme/weather',
    event: { name: 'pull_request', payload: { pull_request: { number: PR.number } } },
    limits: FAST,
    ...overrides
  }
}

function warnings(): string[] {
  return stdout.filter(line => line.startsWith('::warning'))
}

beforeAll(async () => {
  api = await FakeGitHubApi.start()
})

afterAll(async () => {
  await api.stop()
})

beforeEach(() => {
  api.reset()
  api.authenticatedUser = 'deploy-bot'
  stdout = []
  jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    stdout.push(String(chunk))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
})

describe('sticky PR comment', () => {
  it('creates the comment with the stack marker on the first run', async () => {
    const result = await publishComment(deployedReport(), options())

    expect(result.action).toBe('created')
    const comments = api.comments(PR)
    expect(comments).toHaveLength(1)
    expect(comments[0].body.startsWith(commentMarker(STACK))).toBe(true)
    expect(comments[0].body).toContain(`<!-- pmcp-deploy:${STACK} -->`)
    expect(comments[0].body).toContain(MCP_URL)
    expect(comments[0].user.login).toBe('deploy-bot')
    const create = api.requestsOf('POST', /\/comments$/)
    expect(create).toHaveLength(1)
    expect(create[0].path).toBe('/repos/acme/weather/issues/12/comments')
    expect(create[0].authorization).toBe('token ghs_test-token')
  })

  it('updates the same comment on the second run instead of adding one', async () => {
    const first = await publishComment(deployedReport({ functionVersion: '7' }), options())
    const second = await publishComment(deployedReport({ functionVersion: '8', previousVersion: '7' }), options())

    expect(second.action).toBe('updated')
    expect(second.action === 'updated' && first.action === 'created' && second.id === first.id).toBe(true)
    const comments = api.comments(PR)
    expect(comments).toHaveLength(1)
    expect(comments[0].body).toContain('version 8')
    expect(comments[0].body).not.toContain('version 7)')
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(1)
    expect(api.requestsOf('PATCH')).toHaveLength(1)
  })

  it('keeps one comment per stack', async () => {
    await publishComment(deployedReport(), options())
    await publishComment(deployedReport({ stackName: 'other-pr12-stack' }), options())
    await publishComment(deployedReport(), options())

    const bodies = api.comments(PR).map(comment => comment.body)
    expect(bodies).toHaveLength(2)
    expect(bodies.filter(body => body.includes(commentMarker(STACK)))).toHaveLength(1)
    expect(bodies.filter(body => body.includes(commentMarker('other-pr12-stack')))).toHaveLength(1)
  })

  it('pages through 250 comments and finds the marker on page 3', async () => {
    for (let index = 0; index < 249; index++) api.addComment(PR, `review comment ${index}`, `reviewer-${index % 7}`)
    const ours = api.addComment(PR, `${commentMarker(STACK)}\nold body`, 'deploy-bot')
    expect(api.comments(PR)).toHaveLength(250)

    const result = await publishComment(deployedReport(), options())

    expect(result).toMatchObject({ action: 'updated', id: ours.id })
    const pages = api.requestsOf('GET', /\/comments$/).map(request => request.query)
    // octokit.paginate asks for the first page without `page`, then follows the Link header.
    expect(pages).toEqual([{ per_page: '100' }, { per_page: '100', page: '2' }, { per_page: '100', page: '3' }])
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(0)
    expect(api.comments(PR)).toHaveLength(250)
    expect(api.comments(PR)[249].body).toContain(MCP_URL)
  })

  it('reads every page and creates the comment when the marker is on none of them', async () => {
    for (let index = 0; index < 201; index++) api.addComment(PR, `comment ${index}`, 'reviewer')

    const result = await publishComment(deployedReport(), options())

    expect(result.action).toBe('created')
    expect(api.requestsOf('GET', /\/comments$/)).toHaveLength(3)
    expect(api.comments(PR)).toHaveLength(202)
  })

  it('leaves a comment by another user with the same marker alone', async () => {
    const foreign = api.addComment(PR, `${commentMarker(STACK)}\nquoted by a reviewer`, 'octocat')

    const result = await publishComment(deployedReport(), options())

    expect(result.action).toBe('created')
    expect(api.requestsOf('PATCH')).toHaveLength(0)
    const comments = api.comments(PR)
    expect(comments).toHaveLength(2)
    expect(comments.find(comment => comment.id === foreign.id)?.body).toBe(`${commentMarker(STACK)}\nquoted by a reviewer`)
    expect(comments[1].user.login).toBe('deploy-bot')
  })

  it('treats comments by github-actions[bot] as its own with the Actions token (GraphQL viewer, no GET /user)', async () => {
    api.authenticatedUser = null
    const mine = api.addComment(PR, `${commentMarker(STACK)}\nold`, ACTIONS_BOT)
    api.addComment(PR, `${commentMarker(STACK)}\nby a person`, 'deploy-bot')

    const result = await publishComment(deployedReport(), options())

    expect(ACTIONS_BOT_LOGIN).toBe(ACTIONS_BOT)
    expect(result).toMatchObject({ action: 'updated', id: mine.id })
    expect(api.requestsOf('GET', /^\/user$/)).toHaveLength(0)
    expect(api.requestsOf('POST', /^\/graphql$/)).toHaveLength(1)
    expect(api.comments(PR)[1].body).toBe(`${commentMarker(STACK)}\nby a person`)
    expect(warnings()).toEqual([])
  })

  it('a GitHub App installation token updates its own comment in place across two runs', async () => {
    api.identify(APP_TOKEN, APP_BOT)
    // Comments with the same marker by the Actions bot (an earlier token) and by a person stay as they are.
    const actions = api.addComment(PR, `${commentMarker(STACK)}\nwritten with GITHUB_TOKEN`, ACTIONS_BOT)
    const person = api.addComment(PR, `${commentMarker(STACK)}\nquoted`, 'octocat')

    const first = await publishComment(deployedReport({ functionVersion: '7' }), options({ githubToken: APP_TOKEN }))
    const second = await publishComment(deployedReport({ functionVersion: '8' }), options({ githubToken: APP_TOKEN }))

    expect(first.action).toBe('created')
    expect(second.action).toBe('updated')
    expect(first.action === 'created' && second.action === 'updated' && first.id === second.id).toBe(true)
    const comments = api.comments(PR)
    expect(comments).toHaveLength(3)
    expect(comments[2].user.login).toBe(APP_BOT)
    expect(comments[2].body).toContain('version 8')
    expect(comments.find(comment => comment.id === actions.id)?.body).toBe(`${commentMarker(STACK)}\nwritten with GITHUB_TOKEN`)
    expect(comments.find(comment => comment.id === person.id)?.body).toBe(`${commentMarker(STACK)}\nquoted`)
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(1)
    expect(api.requestsOf('PATCH')).toHaveLength(1)
    expect(api.requestsOf('POST', /^\/graphql$/).map(request => request.authorization)).toEqual([
      `token ${APP_TOKEN}`,
      `token ${APP_TOKEN}`
    ])
    expect(warnings()).toEqual([])
  })

  it('a personal access token finds the comments of its user', async () => {
    api.identify('ghp_personal', 'release-manager')
    const mine = api.addComment(PR, `${commentMarker(STACK)}\nold`, 'release-manager')

    const result = await publishComment(deployedReport(), options({ githubToken: 'ghp_personal' }))

    expect(result).toMatchObject({ action: 'updated', id: mine.id })
  })

  it('falls back to the marker alone when the token may not query GraphQL, and says so once', async () => {
    api.identify(APP_TOKEN, APP_BOT)
    api.failWith({ path: '/graphql', status: 403, message: 'Resource not accessible by integration' })
    api.addComment(PR, `${commentMarker('other-stack')}\nanother stack`, APP_BOT)
    const ours = api.addComment(PR, `${commentMarker(STACK)}\nold`, APP_BOT)

    const result = await publishComment(deployedReport(), options({ githubToken: APP_TOKEN }))

    expect(result).toMatchObject({ action: 'updated', id: ours.id })
    const said = stdout.filter(line => line.includes('finding the PR comment by its marker alone'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain('query { viewer { login } }')
    expect(warnings()).toEqual([])
    expect(api.requestsOf('POST', /^\/graphql$/)).toHaveLength(1)
  })

  it('waits out a secondary rate limit (403 with retry-after) instead of reporting a missing permission', async () => {
    api.secondaryRateLimit({ method: 'POST', path: /\/comments$/, times: 2, retryAfter: 5 })

    const result = await publishComment(deployedReport(), options())

    expect(result.action).toBe('created')
    expect(api.comments(PR)).toHaveLength(1)
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(3)
    const waits = stdout.filter(line => line.includes('GitHub API secondary rate limit'))
    expect(waits).toHaveLength(2)
    expect(waits[0]).toContain('waiting 5 s (wait 1 of at most 3)')
    expect(waits[1]).toContain('(wait 2 of at most 3)')
    expect(warnings()).toEqual([])
  })

  it('waits out secondary rate limits on GraphQL and on listing, and a used-up primary rate limit', async () => {
    api.identify(APP_TOKEN, APP_BOT)
    const ours = api.addComment(PR, `${commentMarker(STACK)}\nold`, APP_BOT)
    api.secondaryRateLimit({ path: '/graphql' })
    api.secondaryRateLimit({ method: 'GET', path: /\/comments$/ })
    api.primaryRateLimit({ method: 'PATCH', retryAfter: 0 })

    const result = await publishComment(deployedReport(), options({ githubToken: APP_TOKEN }))

    expect(result).toMatchObject({ action: 'updated', id: ours.id })
    expect(stdout.filter(line => line.includes('GitHub API secondary rate limit'))).toHaveLength(2)
    expect(stdout.filter(line => line.includes('GitHub API primary rate limit'))).toHaveLength(1)
    expect(api.requestsOf('PATCH')).toHaveLength(2)
  })

  it('gives up on a rate limit after a bounded number of waits, and says it was the rate limit', async () => {
    api.secondaryRateLimit({ method: 'POST', path: /\/comments$/, times: 99 })

    const result = await publishComment(deployedReport(), options())

    expect(result.action).toBe('failed')
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(4)
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toContain('rate limit')
    expect(warnings()[0]).not.toContain('pull-requests: write')
    expect(warnings()[0]).toContain(SECONDARY_RATE_LIMIT_MESSAGE.slice(0, 40))
  })

  it('does not wait out a rate limit that asks for more than maxWaitSeconds', async () => {
    api.secondaryRateLimit({ method: 'POST', path: /\/comments$/, retryAfter: 3600 })

    const result = await publishComment(deployedReport(), options({ limits: { ...FAST, maxWaitSeconds: 60 } }))

    expect(result.action).toBe('failed')
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(1)
    expect(stdout.some(line => line.includes('not waiting again'))).toBe(true)
  })

  it('turns a 403 on create into a warning naming pull-requests: write, without throwing', async () => {
    api.failWith({ method: 'POST', path: /\/comments$/, status: 403, message: 'Resource not accessible by integration' })

    const result = await publishComment(deployedReport(), options())

    expect(result.action).toBe('failed')
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toContain('pull-requests: write')
    expect(warnings()[0]).toContain('HTTP 403')
    expect(warnings()[0]).not.toContain('ghs_test-token')
    expect(process.exitCode).toBeUndefined()
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(1)
  })

  it('names the fork case for a 403 on a pull request from a fork', async () => {
    api.failWith({ method: 'POST', path: /\/comments$/, status: 403, message: 'Resource not accessible by integration' })
    const payload = {
      pull_request: {
        number: PR.number,
        head: { repo: { full_name: 'someone/weather' } },
        base: { repo: { full_name: 'acme/weather' } }
      }
    }

    const result = await publishComment(deployedReport(), options({ event: { name: 'pull_request', payload } }))

    expect(result.action).toBe('failed')
    expect(warnings()[0]).toContain('forks')
  })

  it('turns a 404 into a warning that points at pr-number and the permission', async () => {
    api.failWith({ path: /\/comments$/, status: 404 })

    const result = await publishComment(deployedReport(), options({ prNumber: 999 }))

    expect(result.action).toBe('failed')
    expect(warnings()[0]).toContain('HTTP 404')
    expect(warnings()[0]).toContain('pr-number')
    expect(warnings()[0]).toContain('pull-requests: write')
  })

  it('retries a transient server error', async () => {
    api.failWith({ method: 'GET', path: /\/comments$/, status: 502, times: 1 })

    const result = await publishComment(deployedReport(), options())

    expect(result.action).toBe('created')
    expect(api.requestsOf('GET', /\/comments$/)).toHaveLength(2)
  })

  it('does not retry a failed create, so a comment is never posted twice', async () => {
    api.failWith({ method: 'POST', path: /\/comments$/, status: 502, times: 1 })

    const result = await publishComment(deployedReport(), options())

    expect(result.action).toBe('failed')
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(1)
    expect(warnings()).toHaveLength(1)
  })

  it('posts for any event when a pr number is given', async () => {
    const result = await publishComment(deployedReport(), options({ event: { name: 'push', payload: {} }, prNumber: 12 }))

    expect(result.action).toBe('created')
    expect(api.comments(PR)).toHaveLength(1)
  })

  it('posts nothing outside pull requests, when comment is false, or for synth and cleanup', async () => {
    const push = await publishComment(deployedReport(), options({ event: { name: 'push', payload: {} } }))
    const off = await publishComment(deployedReport(), options({ comment: false }))
    const synth = await publishComment(deployedReport({ command: 'synth', status: 'synthesized' }), options())
    const cleanup = await publishComment(deployedReport({ command: 'cleanup', status: 'cleaned' }), options())

    expect([push.action, off.action, synth.action, cleanup.action]).toEqual(['skipped', 'skipped', 'skipped', 'skipped'])
    expect(api.requests).toHaveLength(0)
  })

  it('uses GITHUB_API_URL when no api url is given', async () => {
    const saved = process.env.GITHUB_API_URL
    process.env.GITHUB_API_URL = api.url
    try {
      const result = await publishComment(deployedReport(), options({ apiUrl: undefined }))
      expect(result.action).toBe('created')
    } finally {
      if (saved === undefined) delete process.env.GITHUB_API_URL
      else process.env.GITHUB_API_URL = saved
    }
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(1)
  })

  it('cuts a 2 MB smoke report below the comment limit and points to the job summary', async () => {
    const smoke = hugeSmokeRun(2_000_000)
    expect(JSON.stringify(smoke.report).length).toBeGreaterThanOrEqual(2_000_000)

    const result = await publishComment(deployedReport({ smoke }), options())

    expect(result.action).toBe('created')
    const body = api.comments(PR)[0].body
    expect(body.length).toBeLessThan(MAX_COMMENT_CHARS)
    expect(body).toMatch(/more tests not shown: see the \[job summary\]\(https:\/\/github\.com\/acme\/weather\/actions\/runs\/42\)/)
    expect(body).toContain('| tool\\_call\\_0 | Tools | ❌ Failed |')
    expect(body).toContain(MCP_URL)
    expect(body.trimEnd().endsWith('[workflow run and job summary](https://github.com/acme/weather/actions/runs/42)')).toBe(true)
  })
})

describe('comment body', () => {
  it('has the status line, the MCP client config, outputs, smoke summary and commit', () => {
    const body = renderComment(deployedReport())

    expect(body).toContain('### ✅ Preview <code>weather-pr12-stack</code> deployed (version 7)')
    const config = /```json\n([\s\S]*?)\n```/.exec(body)
    expect(config).not.toBeNull()
    expect(JSON.parse(config![1])).toEqual({ mcpServers: { 'weather-pr12': { type: 'http', url: MCP_URL } } })
    expect(body).toContain('| FunctionName | weather-pr12 |')
    expect(body).toContain('2 passed, 0 failed')
    expect(body).toContain('[0123456789ab](https://github.com/acme/weather/commit/0123456789abcdef0123456789abcdef01234567)')
  })

  it('says what failed, with the failed stack resources', () => {
    const body = renderComment(
      deployedReport({
        status: 'failed',
        smoke: undefined,
        outputs: {},
        failure: {
          phase: 'deploy',
          message: 'Stack weather-pr12-stack failed: UPDATE_ROLLBACK_COMPLETE',
          events: [
            { logicalId: 'Function', resourceType: 'AWS::Lambda::Function', status: 'CREATE_FAILED', reason: 'Memory size 99 is invalid' }
          ]
        }
      })
    )

    expect(body).toContain('deploy failed during deploy')
    expect(body).toContain('| Function | AWS::Lambda::Function | CREATE\\_FAILED | Memory size 99 is invalid |')
    expect(body).not.toContain('Connect an MCP client')
  })

  it('shows removal without connection details', () => {
    const body = renderComment(deployedReport({ command: 'destroy', status: 'removed', smoke: undefined }))
    expect(body).toContain('🗑️ Preview <code>weather-pr12-stack</code> removed')
    expect(body).not.toContain('MCP URL')
  })
})
