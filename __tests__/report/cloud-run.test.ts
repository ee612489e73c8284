import { renderComment } from '../../src/report/comment.js'
import type { RunReport } from '../../src/report/model.js'
import { renderSummary } from '../../src/report/summary.js'

/** A Cloud Run production deploy as the google-cloud-run target reports it. */
function cloudRunReport(overrides: Partial<RunReport> = {}): RunReport {
  return {
    command: 'deploy',
    target: 'google-cloud-run',
    status: 'deployed',
    stackName: 'hello-run',
    stage: 'production',
    commitSha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    outputs: {
      McpUrl: 'https://hello-run-abc123-uc.a.run.app/mcp',
      ServiceName: 'hello-run',
      Region: 'us-central1',
      ProjectId: 'demo-project'
    },
    functionVersion: 'hello-run-a1b2c3d-x1',
    previousVersion: 'hello-run-0f0f0f0-x9',
    versions: [
      { version: 'hello-run-a1b2c3d-x1', commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', current: true },
      { version: 'hello-run-0f0f0f0-x9', commit: '0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f', previous: true }
    ],
    phases: [],
    ...overrides
  }
}

describe('reports of the google-cloud-run target', () => {
  it('name revisions, not Lambda versions, and link the Cloud Run console', () => {
    const summary = renderSummary(cloudRunReport())
    expect(summary).toContain('Production <code>hello-run</code> deployed (revision hello-run-a1b2c3d-x1)')
    expect(summary).toContain('Revisions')
    expect(summary).not.toContain('Lambda versions')
    expect(summary).toContain('| Revision | Commit | Created | Traffic |')
    expect(summary).toMatch(/\| hello-run-a1b2c3d-x1 \| <code>a1b2c3d4e5f6<\/code> \| {2}\| serving \|/)
    expect(summary).toContain('https://console.cloud.google.com/run/detail/us-central1/hello-run/revisions?project=demo-project')
    expect(summary).not.toContain('console.aws.amazon.com')
  })

  it('word a rollback after a failed smoke test and a preview with no tag to remove', () => {
    const rolledBack = renderComment(cloudRunReport({ status: 'rolled back', smoke: undefined }))
    expect(rolledBack).toContain('the smoke test failed, rolled back to revision hello-run-0f0f0f0-x9')
    const nothing = renderComment(cloudRunReport({ command: 'destroy', status: 'nothing to remove', stage: 'preview', versions: [] }))
    expect(nothing).toContain('nothing to remove (the service has no tag for this preview)')
    expect(nothing).not.toContain('stack does not exist')
  })

  it('keep the Lambda wording for aws-lambda', () => {
    const lambda = renderSummary(cloudRunReport({ target: 'aws-lambda', region: 'us-east-1' }))
    expect(lambda).toContain('(version hello-run-a1b2c3d-x1)')
    expect(lambda).toContain('Lambda versions')
    expect(lambda).toContain('console.aws.amazon.com')
  })
})
