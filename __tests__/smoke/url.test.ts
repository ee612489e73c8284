import { ActionError } from '../../src/errors.js'
import { pickSmokeTestUrl, skippedSmokeRun } from '../../src/smoke/index.js'

describe('pickSmokeTestUrl', () => {
  const outputs = {
    ApiUrl: 'https://abc.execute-api.us-east-1.amazonaws.com/',
    McpUrl: 'https://abc.execute-api.us-east-1.amazonaws.com/mcp'
  }

  it('prefers the smoke-test-url input', () => {
    expect(pickSmokeTestUrl('https://mcp.example.com/', outputs)).toBe('https://mcp.example.com/')
  })

  it("falls back to the stack's McpUrl output", () => {
    expect(pickSmokeTestUrl(undefined, outputs)).toBe(outputs.McpUrl)
    expect(pickSmokeTestUrl('  ', outputs)).toBe(outputs.McpUrl)
  })

  it('says how to fix a missing URL', () => {
    expect(() => pickSmokeTestUrl(undefined, { ApiUrl: outputs.ApiUrl })).toThrow(ActionError)
    expect(() => pickSmokeTestUrl(undefined, undefined)).toThrow(/Set smoke-test-url .*or set smoke-test: none/)
  })

  it('rejects a URL that is not http(s)', () => {
    expect(() => pickSmokeTestUrl('ftp://example.com', outputs)).toThrow("'ftp://example.com' is not an http(s) URL")
    expect(() => pickSmokeTestUrl('not a url', outputs)).toThrow(ActionError)
  })
})

describe('skippedSmokeRun', () => {
  it('is an empty report with outcome skipped', () => {
    expect(skippedSmokeRun('https://x/mcp')).toEqual({
      engine: 'mcp-tester',
      url: 'https://x/mcp',
      outcome: 'skipped',
      report: { tests: [], summary: { total: 0, passed: 0, failed: 0, warnings: 0, skipped: 0 } }
    })
  })
})
