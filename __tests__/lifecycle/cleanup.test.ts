import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation'
import { awsClient, type AwsContext } from '../../src/aws/clients.js'
import { readStack } from '../../src/aws/stack.js'
import { cleanupPreviews, githubPullRequestReader, previewPrNumber, type CleanupRow } from '../../src/lifecycle/cleanup.js'
import type { RunReport } from '../../src/report/model.js'
import { renderSummary } from '../../src/report/summary.js'
import { cleanupAwsPreviews, listPreviewStacks } from '../../src/targets/aws-lambda/cleanup.js'
import { cleanupPmcpRunPreviews } from '../../src/targets/pmcp-run/commands.js'
import { connectPmcpRun } from '../../src/targets/pmcp-run/index.js'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { PmcpRunService } from '../../testkit/pmcp-run-service.js'

const aws: AwsContext = { region: 'us-east-1', retry: { sleep: async () => {} } }
const REPO = { owner: 'acme', repo: 'hello' }
const DAY_MS = 24 * 60 * 60 * 1000
const OUR_DESCRIPTION = (stage: string): string => `MCP server hello (${stage}), deployed by pmcp/deploy-action`

let github: FakeGitHubApi
let logged: string[]

beforeAll(async () => {
  github = await FakeGitHubApi.start()
  logged = []
  jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    logged.push(String(chunk))
    return true
  })
})

afterAll(async () => {
  jest.restoreAllMocks()
  await github?.stop()
})

function reader(): ReturnType<typeof githubPullRequestReader> {
  return githubPullRequestReader({ token: 'ghs_test', repository: `${REPO.owner}/${REPO.repo}`, apiUrl: github.url })
}

function pullRequests(): void {
  github.reset()
  github.setPullRequest({ ...REPO, number: 1 }, { state: 'closed' })
  github.setPullRequest({ ...REPO, number: 2 })
  github.setPullRequest({ ...REPO, number: 3 }, { createdAt: new Date(Date.now() - 40 * DAY_MS).toISOString() })
  github.setPullRequest({ ...REPO, number: 6 }, { merged: true })
  // PR 4 is not there: GET answers 404.
}

function cleanupReport(rows: CleanupRow[], stackName = 'hello-stack'): RunReport {
  return {
    command: 'cleanup',
    status: 'cleaned',
    stackName,
    stage: 'production',
    commitSha: '0123456789abcdef0123456789abcdef01234567',
    outputs: {},
    phases: [],
    cleanup: rows
  }
}

describe('preview names', () => {
  it('reads N from <name>-pr<N>[-stack] of this server only', () => {
    expect(previewPrNumber('hello', 'hello-pr12-stack', '-stack')).toBe(12)
    expect(previewPrNumber('hello', 'hello-pr12')).toBe(12)
    expect(previewPrNumber('hello', 'hello-stack', '-stack')).toBeUndefined()
    expect(previewPrNumber('hello', 'hello-world-pr1-stack', '-stack')).toBeUndefined()
    expect(previewPrNumber('hello', 'hello-prx-stack', '-stack')).toBeUndefined()
    expect(previewPrNumber('hello', 'hello-pr01-stack', '-stack')).toBeUndefined()
  })
})

describe('the GitHub pull request reader', () => {
  it('reads open, closed and merged, and fails on 404 and without a token', async () => {
    pullRequests()
    const read = reader()
    expect(await read(1)).toEqual({ state: 'closed', merged: false })
    expect(await read(2)).toEqual({ state: 'open', merged: false })
    expect(await read(6)).toEqual({ state: 'closed', merged: true })
    await expect(read(4)).rejects.toMatchObject({ status: 404 })
    expect(github.requestsOf('GET', /^\/repos\/acme\/hello\/pulls\/\d+$/).map(r => r.authorization)).toEqual(
      expect.arrayContaining(['token ghs_test'])
    )
    await expect(githubPullRequestReader({ repository: 'acme/hello', apiUrl: github.url })(1)).rejects.toThrow("'github-token' is empty")
  })
})

describeWithMoto('command cleanup on moto (CloudFormation)', () => {
  let moto: MotoServer
  let restoreEnvironment: () => void

  beforeAll(async () => {
    moto = await startMoto()
    restoreEnvironment = useMotoEnvironment(moto)
  })

  afterAll(async () => {
    restoreEnvironment?.()
    await moto?.stop()
  })

  async function createStack(stackName: string, description?: string, tags?: Record<string, string>): Promise<void> {
    const template = {
      Resources: { Marker: { Type: 'AWS::SSM::Parameter', Properties: { Name: `/${stackName}/marker`, Type: 'String', Value: 'x' } } }
    }
    await awsClient(CloudFormationClient, aws).send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: JSON.stringify(description ? { Description: description, ...template } : template),
        Tags: tags ? Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) : undefined
      })
    )
    expect((await readStack(stackName, aws))?.status).toBe('CREATE_COMPLETE')
  }

  it('removes the previews of closed PRs and too old ones, keeps open, unreadable, production and others', async () => {
    pullRequests()
    await createStack('hello-pr1-stack', OUR_DESCRIPTION('preview'))
    await createStack('hello-pr2-stack', OUR_DESCRIPTION('preview'))
    await createStack('hello-pr3-stack', OUR_DESCRIPTION('preview'))
    await createStack('hello-pr4-stack', OUR_DESCRIPTION('preview'))
    await createStack('hello-pr6-stack', undefined, { 'managed-by': 'pmcp' })
    await createStack('hello-stack', OUR_DESCRIPTION('production'))
    await createStack('x-pr5-stack', 'someone else')
    // Another tool's stack whose name matches this server's previews: kept, listed as not ours.
    await createStack('hello-pr7-stack', 'made by another tool')

    const listed = await listPreviewStacks('hello', aws)
    expect(listed.map(c => [c.name, c.prNumber, c.ours]).sort()).toEqual([
      ['hello-pr1-stack', 1, true],
      ['hello-pr2-stack', 2, true],
      ['hello-pr3-stack', 3, true],
      ['hello-pr4-stack', 4, true],
      ['hello-pr6-stack', 6, true],
      ['hello-pr7-stack', 7, false]
    ])

    const rows = await cleanupAwsPreviews({
      serverName: 'hello',
      aws,
      readPullRequest: reader(),
      maxAgeDays: 14,
      wait: { pollMs: 10 },
      // moto stamps every stack with the time it was made: PR 3's is made 30 days old here.
      listStacks: async (name, context) =>
        (await listPreviewStacks(name, context)).map(c => (c.prNumber === 3 ? { ...c, createdAt: new Date(Date.now() - 30 * DAY_MS) } : c))
    })

    expect(rows.map(row => [row.name, row.state, row.action])).toEqual([
      ['hello-pr1-stack', 'closed', 'removed'],
      ['hello-pr2-stack', 'open', 'kept'],
      ['hello-pr3-stack', 'open', 'removed'],
      ['hello-pr4-stack', 'unknown', 'kept'],
      ['hello-pr6-stack', 'merged', 'removed'],
      ['hello-pr7-stack', 'not checked', 'kept']
    ])
    expect(rows.find(r => r.prNumber === 3)?.reason).toBe('PR #3 is open, but the preview is 30 days old (max-preview-age 14)')
    expect(rows.find(r => r.prNumber === 2)?.reason).toBe('PR #2 is open, 0 of at most 14 days old')
    expect(rows.find(r => r.prNumber === 4)?.reason).toContain('PR #4 could not be read (HTTP 404')
    expect(rows.find(r => r.prNumber === 7)?.reason).toContain('not ours')
    expect(logged.join('')).toContain('::warning title=pmcp-deploy%3A preview kept::Kept hello-pr4-stack: PR #4 could not be read')

    for (const gone of ['hello-pr1-stack', 'hello-pr3-stack', 'hello-pr6-stack']) expect(await readStack(gone, aws)).toBeUndefined()
    for (const kept of ['hello-pr2-stack', 'hello-pr4-stack', 'hello-pr7-stack', 'hello-stack', 'x-pr5-stack']) {
      expect((await readStack(kept, aws))?.status).toBe('CREATE_COMPLETE')
    }
    // The pull request of another tool's stack is never asked for.
    expect(github.requestsOf('GET', /\/pulls\/7$/)).toHaveLength(0)

    const summary = renderSummary(cleanupReport(rows))
    expect(summary).toContain('## 🧹 Previews of <code>hello</code> cleaned up: 3 removed, 3 kept')
    expect(summary).toContain('### Previews')
    expect(summary).toContain('| Preview | PR | State | Age | Action | Reason |')
    expect(summary).toContain('| <code>hello-pr1-stack</code> | #1 | closed | 0 d | 🗑️ removed | PR #1 is closed |')
    expect(summary).toContain('| <code>hello-pr3-stack</code> | #3 | open | 30 d | 🗑️ removed |')
    expect(summary).toContain('| <code>hello-pr2-stack</code> | #2 | open | 0 d | kept | PR #2 is open, 0 of at most 14 days old |')
    expect(summary).toMatch(/\| <code>hello-pr4-stack<\/code> \| #4 \| unknown \| 0 d \| kept \| PR #4 could not be read \(HTTP 404/)
    expect(summary).toMatch(/\| <code>hello-pr7-stack<\/code> \| #7 \| not checked \| 0 d \| kept \| not ours/)
    expect(summary).not.toContain('x-pr5-stack')
    // Removed rows come first.
    expect(summary.indexOf('hello-pr6-stack')).toBeLessThan(summary.indexOf('hello-pr2-stack'))
  })
})

describe('cleanup decisions', () => {
  it('a failed destroy is its own row; the others still run; reasons are escaped once in the summary', async () => {
    const rows = await cleanupPreviews({
      candidates: [
        { name: 'hello-pr1-stack', prNumber: 1, ours: true },
        { name: 'hello-pr2-stack', prNumber: 2, ours: true }
      ],
      readPullRequest: async () => ({ state: 'closed', merged: false }),
      destroy: async name => {
        if (name === 'hello-pr1-stack') throw new Error('Bucket | not *empty*')
        return 'removed'
      }
    })
    expect(rows.map(r => [r.name, r.action])).toEqual([
      ['hello-pr1-stack', 'failed'],
      ['hello-pr2-stack', 'removed']
    ])
    const summary = renderSummary({ ...cleanupReport(rows), status: 'failed', failure: { phase: 'destroy', message: 'x' } })
    expect(summary).toContain('❌ destroy failed | PR #1 is closed; the destroy failed: Bucket \\| not \\*empty\\* |')
  })

  it('no previews: the summary says so', () => {
    expect(renderSummary(cleanupReport([]))).toContain('cleaned up: no previews found')
    expect(renderSummary(cleanupReport([]))).toContain('_No previews of this server found._')
  })
})

describe('command cleanup on pmcp.run', () => {
  it("destroys a closed PR's project through pmcp.run, keeps an open one and production", async () => {
    pullRequests()
    const service = await PmcpRunService.start({
      existing: [
        { id: 'dep-1', projectName: 'hello-pr1' },
        { id: 'dep-2', projectName: 'hello-pr2' },
        { id: 'dep-0', projectName: 'hello' },
        { id: 'dep-9', projectName: 'other-pr1' }
      ]
    })
    try {
      const session = await connectPmcpRun({ clientId: service.clientId, clientSecret: service.clientSecret }, service.env(), {
        sleep: async () => {}
      })
      const rows = await cleanupPmcpRunPreviews({
        api: session.api,
        serverName: 'hello',
        readPullRequest: reader(),
        maxAgeDays: 14,
        destroy: { intervalMs: 1, sleep: async () => {} }
      })
      expect(rows.map(r => [r.name, r.state, r.action, r.reason])).toEqual([
        ['hello-pr1', 'closed', 'removed', 'PR #1 is closed'],
        ['hello-pr2', 'open', 'kept', 'PR #2 is open']
      ])
      expect(service.calls('destroyDeployment').map(c => c.variables)).toEqual([{ id: 'dep-1' }])
      expect(service.deployments.get('dep-1')?.removed).toBe(true)
      for (const kept of ['dep-0', 'dep-2', 'dep-9']) expect(service.deployments.get(kept)?.removed).toBe(false)
    } finally {
      await service.stop()
    }
  })
})
