/**
 * Every value the action masks is redacted from what it writes besides the log: the action outputs,
 * the job summary and the PR comment (publishReport, on runner files and the local GitHub API).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import { maskSecretsInput } from '../../src/aws/secrets.js'
import { maskSecret } from '../../src/masking.js'
import { escapeMarkdown } from '../../src/report/markdown.js'
import { publishReport, type RunReport } from '../../src/report/index.js'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { parseOutputFile, runnerFiles } from '../report/files.js'
import { deployedReport, smokeRun } from '../report/sample.js'

const hex = (bytes: number): string => randomBytes(bytes).toString('hex')
const PR = { owner: 'acme', repo: 'weather', number: 12 }

/** One value of each kind the action masks, fresh for this run. */
const secrets = {
  smokeTestToken: `smk-${hex(12)}`,
  awsAccessKeyId: `ASIA${hex(8).toUpperCase()}`,
  awsSecretAccessKey: `${hex(10)}/${hex(9)}+Zq`,
  awsSessionToken: `IQoJb3JpZ2luX2VjE${hex(40)}==`,
  pmcpAccessToken: `eyJhbGciOiJSUzI1NiJ9.${hex(20)}.${hex(16)}`,
  githubToken: `ghs_${hex(18)}`,
  apiKey: `sk-live-${hex(10)}`,
  // Markdown and HTML characters: escaping would turn the value into another string in the summary.
  dbPassword: `p|a<s*s_w0rd\`${hex(4)}`
}

/** A failed deploy whose every part quotes a secret, the way servers, functions and AWS errors do. */
function leakyReport(): RunReport {
  const { smokeTestToken, awsAccessKeyId, awsSecretAccessKey, awsSessionToken, pmcpAccessToken, githubToken, apiKey, dbPassword } = secrets
  return deployedReport({
    status: 'deployed',
    outputs: {
      ...deployedReport().outputs,
      DebugUrl: `https://abc123.execute-api.us-east-1.amazonaws.com/debug?token=${encodeURIComponent(smokeTestToken)}`,
      UpstreamKey: apiKey
    },
    smoke: smokeRun(
      [
        {
          name: 'initialize',
          category: 'Core',
          status: 'Failed',
          duration: { secs: 0, nanos: 1 },
          error:
            'HTTP 400: Error POSTing to endpoint: Rejected. Request headers:\n' +
            `authorization: Bearer ${smokeTestToken}\nx-db: ${dbPassword}`,
          details: { headers: { authorization: `Bearer ${smokeTestToken}` } }
        }
      ],
      'failed'
    ),
    failure: {
      phase: 'smoke test',
      // The comment shows the first 3000 characters: the token straddles the cut.
      message: `Smoke test failed: ${'.'.repeat(2975)} the server said ${smokeTestToken} was refused`,
      events: [
        {
          logicalId: 'Function',
          resourceType: 'AWS::Lambda::Function',
          status: 'CREATE_FAILED',
          reason: `The security token included in the request is invalid (key ${awsAccessKeyId}, token ${awsSessionToken})`
        }
      ],
      logLines: [`aws: signing with ${awsSecretAccessKey}`, `git: https://x-access-token:${githubToken}@github.com/acme/weather`]
    },
    functionLogs: {
      logGroupName: '/aws/lambda/weather-pr12',
      since: '2026-11-21T10:00:00.000Z',
      lines: [
        `2026-11-21T10:00:01.000Z ERROR config: API_KEY=${apiKey} rejected by upstream`,
        `2026-11-21T10:00:02.000Z DEBUG pmcp.run answered for Bearer ${pmcpAccessToken}`,
        `2026-11-21T10:00:03.000Z DEBUG DB_PASSWORD=${dbPassword}`
      ]
    }
  })
}

describe('publishReport with masked values in the report', () => {
  const files = runnerFiles()
  const saved = { output: process.env.GITHUB_OUTPUT, summary: process.env.GITHUB_STEP_SUMMARY }
  let api: FakeGitHubApi

  beforeAll(async () => {
    api = await FakeGitHubApi.start({ authenticatedUser: null })
    process.env.GITHUB_OUTPUT = files.outputFile
    process.env.GITHUB_STEP_SUMMARY = files.summaryFile
  })

  afterAll(async () => {
    await api.stop()
    for (const [name, value] of [
      ['GITHUB_OUTPUT', saved.output],
      ['GITHUB_STEP_SUMMARY', saved.summary]
    ] as const) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    files.remove()
  })

  beforeEach(() => {
    // The ::add-mask:: lines and the log of the publish stay out of the test output.
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
  })

  afterEach(() => {
    jest.restoreAllMocks()
  })

  it('writes outputs, summary and comment with every masked value replaced by ***', async () => {
    // Masked where the action masks them: the inputs and credentials one by one, the secrets input line by line.
    for (const value of [
      secrets.smokeTestToken,
      secrets.awsAccessKeyId,
      secrets.awsSecretAccessKey,
      secrets.awsSessionToken,
      secrets.pmcpAccessToken,
      secrets.githubToken
    ]) {
      maskSecret(value)
    }
    maskSecretsInput(`API_KEY=${secrets.apiKey}\nDB_PASSWORD=${secrets.dbPassword}\n`)
    const report = leakyReport()

    const result = await publishReport(report, {
      comment: true,
      githubToken: 'ghs_publish-test',
      prNumber: PR.number,
      apiUrl: api.url,
      repository: 'acme/weather',
      event: { name: 'push', payload: {} },
      limits: { msPerSecond: 1, spaceWrites: false }
    })

    expect(result.summaryWritten).toBe(true)
    expect(result.comment.action).toBe('created')
    const summary = fs.readFileSync(files.summaryFile, 'utf8')
    const outputFile = fs.readFileSync(files.outputFile, 'utf8')
    const outputs = parseOutputFile(files.outputFile)
    const [comment] = api.comments(PR)
    for (const [name, value] of Object.entries(secrets)) {
      for (const [where, text] of [
        ['summary', summary],
        ['outputs', outputFile],
        ['comment', comment.body]
      ]) {
        // Not even the start of it, as a truncation would leave it, nor as markdown escaping writes it.
        const leaked = [value, escapeMarkdown(value)].some(form => text.includes(form.slice(0, 8)))
        expect({ name, where, leaked }).toEqual({ name, where, leaked: false })
      }
    }
    // What was around the secrets is still reported.
    expect(JSON.parse(outputs['outputs-json'])).toMatchObject({
      DebugUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/debug?token=***',
      UpstreamKey: '***'
    })
    expect(outputs['smoke-test']).toBe('failed')
    expect(summary).toContain('API_KEY=*** rejected by upstream')
    expect(summary).toContain('authorization: Bearer \\*\\*\\*')
    expect(summary).toContain('The security token included in the request is invalid (key \\*\\*\\*, token \\*\\*\\*)')
    expect(comment.body).toContain('<!-- pmcp-deploy:weather-pr12-stack -->')
    expect(comment.body).toContain('DB_PASSWORD=***')
    // The report the command built is left as it was: only what is written is redacted.
    expect(report.outputs.UpstreamKey).toBe(secrets.apiKey)
  })
})
