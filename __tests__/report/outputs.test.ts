import * as fs from 'node:fs'
import { reportOutputs, setReportOutputs } from '../../src/report/outputs.js'
import { deployedReport } from './sample.js'
import { parseOutputFile, runnerFiles } from './files.js'

const files = runnerFiles()
const savedOutput = process.env.GITHUB_OUTPUT

beforeAll(() => {
  process.env.GITHUB_OUTPUT = files.outputFile
})

beforeEach(() => {
  fs.writeFileSync(files.outputFile, '')
})

afterAll(() => {
  if (savedOutput === undefined) delete process.env.GITHUB_OUTPUT
  else process.env.GITHUB_OUTPUT = savedOutput
  files.remove()
})

describe('action outputs', () => {
  it('writes every output a deploy knows', () => {
    const report = deployedReport()
    setReportOutputs(report)

    const outputs = parseOutputFile(files.outputFile)
    expect(outputs).toEqual({
      'stack-name': 'weather-pr12-stack',
      'api-url': 'https://abc123.execute-api.us-east-1.amazonaws.com/',
      'mcp-url': 'https://abc123.execute-api.us-east-1.amazonaws.com/mcp',
      'function-version': '7',
      'previous-version': '6',
      'smoke-test': 'passed',
      'outputs-json': expect.any(String)
    })
    expect(JSON.parse(outputs['outputs-json'])).toEqual(report.outputs)
  })

  it('reports a failed smoke test, and a deploy without one as skipped', () => {
    const failed = deployedReport()
    failed.smoke = { ...failed.smoke!, outcome: 'failed' }
    expect(reportOutputs(failed)['smoke-test']).toBe('failed')
    expect(reportOutputs(deployedReport({ smoke: undefined }))['smoke-test']).toBe('skipped')
  })

  it('writes cache-hit as true or false, and leaves it out when caching was off', () => {
    expect(reportOutputs(deployedReport({ cacheHit: true }))['cache-hit']).toBe('true')
    expect(reportOutputs(deployedReport({ cacheHit: false }))['cache-hit']).toBe('false')
    expect(reportOutputs(deployedReport())).not.toHaveProperty('cache-hit')
  })

  it('writes only what is known: a destroy sets the stack name and nothing empty', () => {
    setReportOutputs(
      deployedReport({
        command: 'destroy',
        status: 'removed',
        outputs: {},
        smoke: undefined,
        functionVersion: undefined,
        previousVersion: undefined
      })
    )

    expect(parseOutputFile(files.outputFile)).toEqual({ 'stack-name': 'weather-pr12-stack' })
  })

  it('keeps values with newlines and quotes intact', () => {
    const outputs = { ApiUrl: 'https://x.example/', Note: 'two\nlines "quoted" | piped' }
    setReportOutputs(deployedReport({ outputs, smoke: undefined }))

    const written = parseOutputFile(files.outputFile)
    expect(JSON.parse(written['outputs-json'])).toEqual(outputs)
    expect(written['mcp-url']).toBeUndefined()
    expect(written['api-url']).toBe('https://x.example/')
  })
})
