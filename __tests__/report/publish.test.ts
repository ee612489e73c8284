import { jest } from '@jest/globals'
import * as fs from 'node:fs'
import { type ReportOptions, publishReport } from '../../src/report/index.js'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { parseOutputFile, runnerFiles } from './files.js'
import { MCP_URL, deployedReport } from './sample.js'

const PR = { owner: 'acme', repo: 'weather', number: 12 }
const files = runnerFiles()
const savedEnv = { output: process.env.GITHUB_OUTPUT, summary: process.env.GITHUB_STEP_SUMMARY }
let api: FakeGitHubApi
let stdout: string[]

function options(overrides: Partial<ReportOptions> = {}): ReportOptions {
  return {
    comment: true,
    githubToken: 'ghs_test-token',
    prNumber: PR.number,
    apiUrl: api.url,
    repository: 'acme/weather',
    event: { name: 'push', payload: {} },
    limits: { msPerSecond: 1, spaceWrites: false },
    ...overrides
  }
}

beforeAll(async () => {
  api = await FakeGitHubApi.start({ authenticatedUser: null })
  process.env.GITHUB_OUTPUT = files.outputFile
  process.env.GITHUB_STEP_SUMMARY = files.summaryFile
})

afterAll(async () => {
  await api.stop()
  for (const [name, value] of [
    ['GITHUB_OUTPUT', savedEnv.output],
    ['GITHUB_STEP_SUMMARY', savedEnv.summary]
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  files.remove()
})

beforeEach(() => {
  api.reset()
  fs.writeFileSync(files.outputFile, '')
  fs.writeFileSync(files.summaryFile, '')
  stdout = []
  jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    stdout.push(String(chunk))
    return true
  })
})

afterEach(() => {
  jest.restoreAllMocks()
})

describe('publishReport', () => {
  it('sets the outputs, writes the summary and the PR comment', async () => {
    const result = await publishReport(deployedReport(), options())

    expect(result.summaryWritten).toBe(true)
    expect(result.comment.action).toBe('created')
    expect(parseOutputFile(files.outputFile)['mcp-url']).toBe(MCP_URL)
    expect(fs.readFileSync(files.summaryFile, 'utf8')).toContain('| Output | Value |')
    expect(api.comments(PR)).toHaveLength(1)
    expect(api.comments(PR)[0].user.login).toBe('github-actions[bot]')
  })

  it('turns a 403 into a warning; outputs and summary are still written and the step does not fail', async () => {
    api.failWith({ status: 403, message: 'Resource not accessible by integration' })

    const result = await publishReport(deployedReport(), options())

    expect(result.comment.action).toBe('failed')
    const warnings = stdout.filter(line => line.startsWith('::warning'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('pull-requests: write')
    expect(stdout.some(line => line.startsWith('::error'))).toBe(false)
    expect(process.exitCode).toBeUndefined()
    expect(parseOutputFile(files.outputFile)['stack-name']).toBe('weather-pr12-stack')
    expect(fs.readFileSync(files.summaryFile, 'utf8')).toContain('deployed (version 7)')
  })

  it('warns instead of throwing when the summary cannot be written', async () => {
    // A directory where the summary file should be: appending fails (for root too).
    fs.rmSync(files.summaryFile)
    fs.mkdirSync(files.summaryFile)
    try {
      const result = await publishReport(deployedReport(), options({ comment: false }))
      expect(result.summaryWritten).toBe(false)
    } finally {
      fs.rmdirSync(files.summaryFile)
      fs.writeFileSync(files.summaryFile, '')
    }
    expect(stdout.filter(line => line.startsWith('::warning'))).toEqual([expect.stringContaining('Could not write the job summary')])
    expect(parseOutputFile(files.outputFile)['smoke-test']).toBe('passed')
    expect(api.requests).toHaveLength(0)
  })

  it('warns when there is a pull request but no token', async () => {
    const result = await publishReport(deployedReport(), options({ githubToken: undefined }))

    expect(result.comment.action).toBe('skipped')
    expect(stdout.filter(line => line.startsWith('::warning'))).toEqual([expect.stringContaining("'github-token' is empty")])
  })
})
