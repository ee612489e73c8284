/**
 * The fault classifier (src/net/faults.ts) on the error shapes the AWS SDK, Octokit, fetch and Node
 * produce; the IAM table it quotes against the setup template; reportError's last resort; and the
 * event payload that cannot be read.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { awsOperation, SETUP_TEMPLATE, SETUP_TEMPLATE_GRANTS } from '../../src/aws/permissions.js'
import { readEventPayload } from '../../src/context.js'
import { ActionError, reportError } from '../../src/errors.js'
import { HttpStatusError } from '../../src/http.js'
import { DeadlineError } from '../../src/net/deadline.js'
import { classifyAwsFault, classifyFault, isRateLimited, networkFault, NotJsonAnswerError } from '../../src/net/faults.js'
import { captureStdout } from '../../testkit/annotations.js'

function awsError(
  name: string,
  message: string,
  status?: number,
  call = { clientName: 'LambdaClient', commandName: 'GetAliasCommand' }
): Error {
  const error = Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } })
  Object.defineProperty(error, 'pmcpCall', { value: { ...call, endpoint: 'https://lambda.eu-west-1.amazonaws.com/' } })
  return error
}

function octokitError(status: number, message: string, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(message), {
    name: 'HttpError',
    status,
    request: { method: 'POST', url: 'https://api.github.com/repos/acme/tools/issues/7/comments?x=1' },
    response: { headers, url: 'https://api.github.com/repos/acme/tools/issues/7/comments' }
  })
}

describe('the IAM permission table', () => {
  it('lists exactly the actions the setup template grants the deploy role', () => {
    const template = fs.readFileSync(path.join(process.cwd(), SETUP_TEMPLATE), 'utf8')
    const policy = template.slice(template.indexOf('Policies:'), template.indexOf('Outputs:'))
    const granted = new Set<string>()
    for (const match of policy.matchAll(/(?:Action:\s*\[([^\]]+)\]|Action:\s*([a-z0-9-]+:[A-Za-z]+)|^\s+- ([a-z0-9-]+:[A-Za-z]+)\s*$)/gm)) {
      const listed = match[1] ? match[1].split(',') : [match[2] ?? match[3]]
      for (const action of listed) granted.add(action.trim())
    }
    expect([...granted].sort()).toEqual(Object.keys(SETUP_TEMPLATE_GRANTS).sort())
  })

  it('derives the IAM action from the client and the command', () => {
    expect(awsOperation('LambdaClient', 'GetAliasCommand')).toEqual({
      service: 'AWS Lambda',
      operation: 'GetAlias',
      permission: 'lambda:GetAlias'
    })
    expect(awsOperation('CloudWatchLogsClient', 'FilterLogEventsCommand').permission).toBe('logs:FilterLogEvents')
    expect(awsOperation('SomethingNewClient', 'DoCommand')).toEqual({ service: 'SomethingNew', operation: 'Do' })
  })
})

describe('AWS errors', () => {
  it('AccessDenied: the permission, whether the template grants it, never retried into silence', () => {
    const fault = classifyAwsFault(awsError('AccessDeniedException', 'not authorized', 403), 'Reading alias live of weather')
    expect(fault?.title).toBe('AWS denied lambda:GetAlias')
    expect(fault?.message).toMatch(
      /^AWS Lambda GetAlias \(https:\/\/lambda\.eu-west-1\.amazonaws\.com\/\), while reading alias live of weather, was refused/
    )
    expect(fault?.message).toContain('grants it on')
  })

  it('a permission the template does not grant says so', () => {
    const call = { clientName: 'CloudFormationClient', commandName: 'ListExportsCommand' }
    const fault = classifyAwsFault(awsError('AccessDenied', 'denied', 403, call))
    expect(fault?.message).toContain('which the setup template templates/aws-setup/github-oidc-role.yaml does not grant')
  })

  it.each([
    ['ExpiredToken', 'AWS credentials expired'],
    ['InvalidClientTokenId', 'AWS credentials rejected'],
    ['ThrottlingException', 'AWS throttled GetAlias'],
    ['CredentialsProviderError', 'No AWS credentials']
  ])('%s → %s', (name, title) => {
    expect(classifyAwsFault(awsError(name, 'x', 400))?.title).toBe(title)
  })

  it('leaves an answer for the caller to interpret alone, unless asked for everything', () => {
    const missing = awsError('ValidationError', 'Stack with id x does not exist', 400)
    expect(classifyAwsFault(missing)).toBeUndefined()
    expect(classifyFault(missing)?.title).toBe('AWS Lambda GetAlias failed')
  })

  it('a 5xx after the retries', () => {
    expect(classifyAwsFault(awsError('InternalFailure', 'boom', 500))?.title).toBe('AWS Lambda unavailable')
  })
})

describe('network errors', () => {
  it.each([
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'dropped'],
    [new Error('socket hang up'), 'dropped'],
    [
      new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) }),
      'refused'
    ],
    [
      new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND nope.invalid'), { code: 'ENOTFOUND' }) }),
      'does not resolve'
    ],
    [new Error('AWS SDK error wrapper for TimeoutError: read ECONNRESET'), 'dropped'],
    [new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) }), 'TLS']
  ])('%s', (error, words) => {
    expect(networkFault(error)).toContain(words)
    const fault = classifyFault(error, { service: 'pmcp.run', call: 'POST /graphql', url: 'https://api.pmcp.run/graphql' })
    expect(fault?.title).toBe('pmcp.run unreachable')
    expect(fault?.message).toContain('pmcp.run POST /graphql (https://api.pmcp.run/graphql) failed')
  })

  it('our deadline', () => {
    const fault = classifyFault(new DeadlineError('GET https://example.com/x', 1500), { service: 'The release server' })
    expect(fault?.title).toBe('The release server did not answer')
    expect(fault?.message).toContain('no complete answer within 1.5 s (request-timeout)')
  })
})

describe('HTTP answers', () => {
  it('a 403 without requests left is the rate limit, not a missing permission', () => {
    const error = octokitError(403, 'API rate limit exceeded', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1900000000' })
    expect(isRateLimited(error)).toBe(true)
    const fault = classifyFault(error, { service: 'GitHub API', permission: 'pull-requests: write' })
    expect(fault?.title).toBe('GitHub API rate limit exceeded')
    expect(fault?.message).toContain('POST /repos/acme/tools/issues/7/comments')
    expect(fault?.message).toContain('The limit resets at 2030-03-17T17:46:40.000Z')
    expect(fault?.message).not.toContain('pull-requests: write')
    expect(fault?.message).not.toContain('x=1')
  })

  it('a plain 403 names the permission', () => {
    const fault = classifyFault(octokitError(403, 'Resource not accessible by integration'), {
      service: 'GitHub API',
      permission: 'pull-requests: write'
    })
    expect(fault?.message).toContain("The token needs the permission 'pull-requests: write'")
  })

  it('a 5xx after the retries, and an answer that is not JSON', () => {
    expect(classifyFault(new HttpStatusError(503, 'https://x.example/y', 'HTTP 503'), { service: 'pmcp.run' })?.title).toBe(
      'pmcp.run unavailable'
    )
    const notJson = classifyFault(new NotJsonAnswerError('https://api.github.com/x', 200, 'text/html', '<html>'), { service: 'GitHub API' })
    expect(notJson?.title).toBe('GitHub API answered something that is not JSON')
    expect(notJson?.message).toContain('GITHUB_API_URL')
  })
})

describe('reportError', () => {
  const report = async (error: unknown): Promise<string> => (await captureStdout(() => Promise.resolve(reportError(error)))).output

  it('explains a fault that slipped through instead of calling it unexpected', async () => {
    const output = await report(
      new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) })
    )
    expect(output).toContain('::error title=A server unreachable::')
    expect(output).not.toContain('unexpected')
  })

  it('still asks for a report of a genuine bug', async () => {
    const output = await report(new TypeError("Cannot read properties of undefined (reading 'x')"))
    expect(output).toContain('title=pmcp-deploy%3A unexpected error')
    expect(output).toContain('please report it')
  })
})

describe('the event payload', () => {
  let dir: string | undefined
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
    dir = undefined
  })

  it.each([
    ['', 'is empty'],
    ['null', 'holds null, not a JSON object'],
    ['{"pull_request": ', 'is not JSON'],
    ['[1]', 'holds an array']
  ])('%j: an error naming GITHUB_EVENT_PATH', (content, words) => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-event-'))
    const file = path.join(dir, 'event.json')
    fs.writeFileSync(file, content)
    let error: unknown
    try {
      readEventPayload({ GITHUB_EVENT_PATH: file })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ActionError)
    expect((error as ActionError).title).toBe('Event payload unreadable')
    expect((error as ActionError).message).toContain(`GITHUB_EVENT_PATH names ${file}, which ${words}`)
  })

  it('outside a runner (no GITHUB_EVENT_PATH) is empty; a GITHUB_EVENT_PATH naming no file is an error', () => {
    expect(readEventPayload({})).toEqual({})
    expect(() => readEventPayload({ GITHUB_EVENT_PATH: '/nonexistent/event.json' })).toThrow(
      'GITHUB_EVENT_PATH names /nonexistent/event.json, which does not exist'
    )
  })
})
