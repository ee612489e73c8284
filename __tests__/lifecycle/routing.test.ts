/**
 * The reusable workflow and src/lifecycle/routing.ts must route every event the same way: each row
 * is a real-shaped event; the workflow's own expressions (route job, job conditions, the action's
 * `with:`) are evaluated with GitHub's expression engine and compared with routeEvent().
 */
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import type { RunContext } from '../../src/context.js'
import { routeEvent, routingEventOf, skipMessage, type Route, type SkipReason } from '../../src/lifecycle/routing.js'
import { evaluateCondition, evaluateValue, interpolate, type Contexts } from './expressions.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const REPO = 'acme/weather-mcp'
const HEAD_SHA = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432'
const PUSH_SHA = '0123456789abcdef0123456789abcdef01234567'
const ROLE = 'arn:aws:iam::123456789012:role/pmcp-deploy'

interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  env?: Record<string, string>
  with?: Record<string, string>
}
interface Job {
  if?: string
  'runs-on'?: string
  'timeout-minutes'?: string
  env?: Record<string, string>
  environment?: { name: string; url: string }
  concurrency?: { group: string; 'cancel-in-progress': boolean }
  permissions?: Record<string, string>
  steps: Step[]
}
interface Workflow {
  on: Record<string, any>
  jobs: Record<string, Job>
}

function load(file: string): Workflow {
  return parse(fs.readFileSync(path.join(root, file), 'utf8')) as Workflow
}

const reusable = load('.github/workflows/deploy.yml')

// --- Events, shaped like GitHub's webhook payloads -------------------------------------------------

const repository = { full_name: REPO, name: 'weather-mcp', owner: { login: 'acme' }, fork: false }

function pullRequest(action: string, options: { number?: number; headRepo?: string | null; merged?: boolean } = {}) {
  const number = options.number ?? 42
  const headRepo = options.headRepo === undefined ? REPO : options.headRepo
  return {
    action,
    number,
    pull_request: {
      number,
      state: action === 'closed' ? 'closed' : 'open',
      merged: options.merged ?? false,
      head: {
        ref: 'feature/forecast',
        sha: HEAD_SHA,
        repo: headRepo === null ? null : { full_name: headRepo, fork: headRepo !== REPO }
      },
      base: { ref: 'main', sha: PUSH_SHA, repo: repository }
    },
    repository,
    sender: { login: 'octocat' }
  }
}

const push = {
  ref: 'refs/heads/main',
  before: '0'.repeat(40),
  after: PUSH_SHA,
  repository,
  pusher: { name: 'octocat' },
  head_commit: { id: PUSH_SHA }
}

interface Row {
  name: string
  eventName: string
  event: Record<string, any>
  inputs?: Record<string, string | boolean | number>
  expected: Route
}

const rows: Row[] = [
  { name: 'push to main', eventName: 'push', event: push, expected: { command: 'deploy', stage: 'production' } },
  {
    name: 'push, even with rollback-to set by the caller',
    eventName: 'push',
    event: push,
    inputs: { 'rollback-to': 'previous' },
    expected: { command: 'deploy', stage: 'production' }
  },
  ...['opened', 'synchronize', 'reopened'].map((action): Row => ({
    name: `pull_request ${action}`,
    eventName: 'pull_request',
    event: pullRequest(action),
    expected: { command: 'deploy', stage: 'preview', previewId: '42' }
  })),
  {
    name: 'pull_request closed (merged)',
    eventName: 'pull_request',
    event: pullRequest('closed', { number: 7, merged: true }),
    expected: { command: 'destroy', stage: 'preview', previewId: '7' }
  },
  {
    name: 'pull_request closed (not merged)',
    eventName: 'pull_request',
    event: pullRequest('closed'),
    expected: { command: 'destroy', stage: 'preview', previewId: '42' }
  },
  {
    name: 'pull_request labeled',
    eventName: 'pull_request',
    event: pullRequest('labeled'),
    expected: { command: 'skip', reason: 'pull-request-action' }
  },
  {
    name: 'pull_request opened from a fork',
    eventName: 'pull_request',
    event: pullRequest('opened', { headRepo: 'mallory/weather-mcp' }),
    expected: { command: 'skip', reason: 'fork' }
  },
  {
    name: 'pull_request closed from a fork',
    eventName: 'pull_request',
    event: pullRequest('closed', { headRepo: 'mallory/weather-mcp' }),
    expected: { command: 'skip', reason: 'fork' }
  },
  {
    name: 'pull_request whose head repository was deleted',
    eventName: 'pull_request',
    event: pullRequest('synchronize', { headRepo: null }),
    expected: { command: 'skip', reason: 'fork' }
  },
  {
    name: 'pull_request_target opened (same repository)',
    eventName: 'pull_request_target',
    event: pullRequest('opened'),
    expected: { command: 'skip', reason: 'pull-request-target' }
  },
  {
    name: 'pull_request_target from a fork',
    eventName: 'pull_request_target',
    event: pullRequest('synchronize', { headRepo: 'mallory/weather-mcp' }),
    expected: { command: 'skip', reason: 'pull-request-target' }
  },
  {
    name: 'workflow_dispatch with rollback-to previous',
    eventName: 'workflow_dispatch',
    event: { ref: 'refs/heads/main', inputs: { 'rollback-to': 'previous' }, repository },
    inputs: { 'rollback-to': 'previous' },
    expected: { command: 'rollback', stage: 'production' }
  },
  {
    name: 'workflow_dispatch with rollback-to a SHA',
    eventName: 'workflow_dispatch',
    event: { ref: 'refs/heads/main', inputs: { 'rollback-to': 'a1b2c3d' }, repository },
    inputs: { 'rollback-to': 'a1b2c3d' },
    expected: { command: 'rollback', stage: 'production' }
  },
  {
    name: 'workflow_dispatch without rollback-to',
    eventName: 'workflow_dispatch',
    event: { ref: 'refs/heads/main', inputs: {}, repository },
    expected: { command: 'deploy', stage: 'production' }
  },
  { name: 'schedule', eventName: 'schedule', event: { schedule: '0 3 * * *' }, expected: { command: 'skip', reason: 'event' } },
  {
    name: 'release published',
    eventName: 'release',
    event: { action: 'published', repository },
    expected: { command: 'skip', reason: 'event' }
  }
]

// --- The workflow, evaluated ---------------------------------------------------------------------

function inputDefaults(workflow: Workflow): Record<string, string | boolean | number> {
  const declared = workflow.on.workflow_call.inputs as Record<string, { default?: string | boolean | number; type: string }>
  return Object.fromEntries(
    Object.entries(declared).map(([name, input]) => [name, input.default ?? (input.type === 'boolean' ? false : '')])
  )
}

function githubContext(row: Row): Record<string, unknown> {
  return {
    event_name: row.eventName,
    event: row.event,
    repository: REPO,
    sha: row.eventName === 'pull_request' ? `merge-${HEAD_SHA.slice(0, 8)}` : PUSH_SHA,
    ref: row.event.ref ?? (row.event.number ? `refs/pull/${row.event.number}/merge` : 'refs/heads/main')
  }
}

interface WorkflowRun {
  /** The route job's outputs. */
  route: Record<string, string>
  /** Jobs whose `if:` is true. */
  jobs: string[]
  contexts: Contexts
}

function runWorkflow(row: Row): WorkflowRun {
  const base: Contexts = { github: githubContext(row), inputs: { ...inputDefaults(reusable), 'role-to-assume': ROLE, ...row.inputs } }
  const env = reusable.jobs.route.env ?? {}
  const route = {
    command: interpolate(env.COMMAND, base),
    stage: interpolate(env.STAGE, base),
    'preview-id': interpolate(env.PREVIEW_ID, base)
  }
  const contexts = { ...base, secrets: {}, needs: { route: { outputs: route, result: 'success' } } }
  const jobs = Object.entries(reusable.jobs)
    .filter(([name, job]) => name !== 'route' && job.if !== undefined && evaluateCondition(job.if, contexts))
    .map(([name]) => name)
  return { route, jobs, contexts }
}

function actionStep(job: Job): Step {
  const step = job.steps.find(s => s.uses?.startsWith('pmcp/deploy-action@'))
  if (!step?.with) throw new Error('job has no pmcp/deploy-action step')
  return step
}

function runContextOf(row: Row): RunContext {
  return {
    eventName: row.eventName,
    event: row.event,
    repository: REPO,
    commitSha: row.event.pull_request?.head?.sha ?? PUSH_SHA,
    runId: '1',
    workspace: '/work',
    prNumber: row.event.pull_request?.number
  }
}

function routeOfCode(row: Row): Route {
  const rollbackTo = row.inputs?.['rollback-to']
  return routeEvent(routingEventOf(runContextOf(row), typeof rollbackTo === 'string' ? rollbackTo : undefined))
}

describe('event routing: the reusable workflow and routing.ts agree', () => {
  it.each(rows)('$name', row => {
    const route = routeOfCode(row)
    expect(route).toEqual(row.expected)
    const run = runWorkflow(row)

    if (route.command === 'skip') {
      expect(run.route.command).toBe(`skip-${route.reason}`)
      expect(run.jobs).toEqual([])
      return
    }
    expect(run.route.command).toBe(route.command)
    const jobName = route.command === 'destroy' ? 'destroy' : 'deploy'
    expect(run.jobs).toEqual([jobName])
    const job = reusable.jobs[jobName]
    const inputs = Object.fromEntries(Object.entries(actionStep(job).with ?? {}).map(([k, v]) => [k, interpolate(String(v), run.contexts)]))
    expect(inputs.command).toBe(route.command)
    expect(inputs.environment).toBe(route.stage)
    expect(inputs['preview-id']).toBe(route.previewId ?? '')
    expect(inputs['role-to-assume']).toBe(ROLE)

    // The code that was routed is what gets checked out: the PR head for previews.
    const checkout = job.steps.find(s => s.uses?.startsWith('actions/checkout@'))
    expect(interpolate(String(checkout?.with?.ref), run.contexts)).toBe(route.stage === 'preview' ? HEAD_SHA : PUSH_SHA)
    expect(checkout?.with?.['persist-credentials']).toBe(false)

    // One run per stack at a time; production is never cancelled midway.
    const group = interpolate(job.concurrency?.group ?? '', run.contexts)
    expect(group).toBe(`pmcp-deploy-${REPO}-.-.pmcp/deploy.toml-${route.stage}${route.previewId ?? ''}`)
    expect(job.concurrency?.['cancel-in-progress']).toBe(false)
    if (jobName === 'deploy') {
      // One GitHub environment per PR (a new deployment only makes that PR's earlier ones inactive); its link is the MCP URL.
      expect(interpolate(job.environment?.name ?? '', run.contexts)).toBe(route.previewId ? `preview/pr-${route.previewId}` : 'production')
      const url = 'https://abc123.execute-api.us-east-1.amazonaws.com/mcp'
      const withSteps = { ...run.contexts, steps: { pmcp: { outputs: { 'mcp-url': url } } } }
      expect(interpolate(job.environment?.url ?? '', withSteps)).toBe(url)
    } else {
      // The destroy job marks the deployments of the very environment the PR's deploys used.
      const step = job.steps.find(s => s.name === "Mark the preview's deployments inactive")
      expect(interpolate(step?.env?.ENVIRONMENT ?? '', run.contexts)).toBe(`preview/pr-${route.previewId}`)
    }
  })

  it('gives every stack its own concurrency group, shared by deploy, rollback and destroy of that stack', () => {
    const groupOf = (row: Row): string => {
      const run = runWorkflow(row)
      const job = reusable.jobs[run.jobs[0]]
      return interpolate(job.concurrency?.group ?? '', run.contexts)
    }
    const byName = (name: string): Row => rows.find(r => r.name === name) as Row
    expect(groupOf(byName('pull_request opened'))).toBe(groupOf(byName('pull_request closed (not merged)')))
    expect(groupOf(byName('push to main'))).toBe(groupOf(byName('workflow_dispatch with rollback-to previous')))
    expect(groupOf(byName('pull_request opened'))).not.toBe(groupOf(byName('pull_request closed (merged)')))
    expect(groupOf(byName('pull_request opened'))).not.toBe(groupOf(byName('push to main')))
  })

  it('has a notice for every reason to skip, in the workflow and in routing.ts', () => {
    const script = reusable.jobs.route.steps.map(s => s.run ?? '').join('\n')
    const reasons: SkipReason[] = ['fork', 'pull-request-target', 'pull-request-action', 'event']
    for (const reason of reasons) {
      expect(script).toMatch(new RegExp(`^\\s*skip-${reason}\\)\\n\\s*echo "::notice title=`, 'm'))
      expect(skipMessage(reason, { eventName: 'schedule', action: 'labeled' })).toMatch(/nothing was deployed|Nothing to do/)
    }
  })

  it('grants credentials and PR comments only to the jobs that deploy, and nothing at the workflow level', () => {
    const workflow = reusable as Workflow & { permissions: unknown }
    expect(workflow.permissions).toEqual({})
    expect(reusable.jobs.route.permissions).toEqual({})
    expect(reusable.jobs.deploy.permissions).toEqual({ 'id-token': 'write', contents: 'read', 'pull-requests': 'write' })
    expect(reusable.jobs.destroy.permissions).toEqual({
      'id-token': 'write',
      contents: 'read',
      'pull-requests': 'write',
      deployments: 'write'
    })
  })
})

describe('example caller workflows route as documented', () => {
  function callerRoute(file: string, row: Row): Route & { workflowCommand: string } {
    const caller = load(file)
    const job = Object.values(caller.jobs)[0] as unknown as { uses: string; with: Record<string, string> }
    expect(job.uses).toBe('pmcp/deploy-action/.github/workflows/deploy.yml@v1')
    const callerContexts: Contexts = { github: githubContext(row), inputs: row.event.inputs ?? {}, vars: {} }
    const inputs = Object.fromEntries(
      Object.entries(job.with).map(([k, v]) => [k, typeof v === 'string' ? interpolate(v, callerContexts) : v])
    )
    const passed: Row = { ...row, inputs }
    return { ...routeOfCode(passed), workflowCommand: runWorkflow(passed).route.command }
  }

  it('mcp-server.yml: production on push, a preview per PR, removed when the PR closes', () => {
    const triggers = load('examples/workflows/mcp-server.yml').on
    expect(triggers.pull_request.types).toEqual(expect.arrayContaining(['opened', 'synchronize', 'reopened', 'closed']))
    expect(callerRoute('examples/workflows/mcp-server.yml', rows[0])).toMatchObject({
      command: 'deploy',
      stage: 'production',
      workflowCommand: 'deploy'
    })
    const opened = rows.find(r => r.name === 'pull_request opened') as Row
    expect(callerRoute('examples/workflows/mcp-server.yml', opened)).toMatchObject({
      command: 'deploy',
      stage: 'preview',
      workflowCommand: 'deploy'
    })
    const closed = rows.find(r => r.name === 'pull_request closed (merged)') as Row
    expect(callerRoute('examples/workflows/mcp-server.yml', closed)).toMatchObject({ command: 'destroy', workflowCommand: 'destroy' })
  })

  it('rollback.yml: a workflow_dispatch rolls production back to the version asked for', () => {
    const dispatch = load('examples/workflows/rollback.yml').on.workflow_dispatch
    expect(dispatch.inputs['rollback-to']).toMatchObject({ required: true, default: 'previous' })
    const row: Row = {
      name: 'dispatch',
      eventName: 'workflow_dispatch',
      event: { ref: 'refs/heads/main', inputs: { 'rollback-to': '12' } },
      expected: { command: 'rollback', stage: 'production' }
    }
    expect(callerRoute('examples/workflows/rollback.yml', row)).toMatchObject({
      command: 'rollback',
      stage: 'production',
      workflowCommand: 'rollback'
    })
  })
})

describe('per-PR deployments, timeouts, runners and secrets', () => {
  const byName = (name: string): Row => rows.find(r => r.name === name) as Row
  const withInputs = (row: Row, inputs: Record<string, string | boolean | number>): Row => ({
    ...row,
    inputs: { ...row.inputs, ...inputs }
  })

  it('gives each PR its own environment and leaves production as it was', () => {
    const environmentOf = (row: Row): string => {
      const run = runWorkflow(row)
      return interpolate(reusable.jobs.deploy.environment?.name ?? '', run.contexts)
    }
    expect(environmentOf(byName('pull_request opened'))).toBe('preview/pr-42')
    const other = { ...byName('pull_request synchronize'), event: pullRequest('synchronize', { number: 43 }) }
    expect(environmentOf(other)).toBe('preview/pr-43')
    expect(environmentOf(byName('push to main'))).toBe('production')
    expect(environmentOf(byName('workflow_dispatch with rollback-to previous'))).toBe('production')
    expect(environmentOf(byName('workflow_dispatch without rollback-to'))).toBe('production')
    expect(reusable.jobs.deploy.environment?.url).toBe('${{ steps.pmcp.outputs.mcp-url }}')
  })

  it("marks the closed PR's deployments inactive with the REST API, only on the close path", () => {
    const marking = (job: Job): Step[] => job.steps.filter(s => /deployments\/\$id\/statuses/.test(s.run ?? ''))
    expect(marking(reusable.jobs.deploy)).toEqual([])
    expect(marking(reusable.jobs.route)).toEqual([])
    const [step] = marking(reusable.jobs.destroy)
    // After the stack is gone (the action's step first), and with the job's token.
    expect(reusable.jobs.destroy.steps.indexOf(step)).toBeGreaterThan(
      reusable.jobs.destroy.steps.indexOf(actionStep(reusable.jobs.destroy))
    )
    expect(step.env?.GH_TOKEN).toBe('${{ github.token }}')
    expect(step.run).toMatch(/gh api --paginate -X GET "repos\/\$REPOSITORY\/deployments" -f environment="\$ENVIRONMENT"/)
    expect(step.run).toMatch(/-f state=inactive/)
    expect(reusable.jobs.destroy.permissions?.deployments).toBe('write')
    expect(reusable.jobs.deploy.permissions?.deployments).toBeUndefined()

    const run = runWorkflow(byName('pull_request closed (merged)'))
    expect(run.jobs).toEqual(['destroy'])
    expect(interpolate(step.env?.REPOSITORY ?? '', run.contexts)).toBe(REPO)
    expect(interpolate(step.env?.ENVIRONMENT ?? '', run.contexts)).toBe('preview/pr-7')
    for (const name of ['push to main', 'pull_request opened', 'workflow_dispatch with rollback-to previous', 'pull_request labeled']) {
      expect([name, runWorkflow(byName(name)).jobs.includes('destroy')]).toEqual([name, false])
    }
  })

  it('puts timeout-minutes on every job, from the input (default 30)', () => {
    const declared = reusable.on.workflow_call.inputs['timeout-minutes']
    expect(declared).toMatchObject({ type: 'number', default: 30 })
    for (const [name, job] of Object.entries(reusable.jobs)) {
      expect([name, evaluateValue(job['timeout-minutes'], runWorkflow(byName('push to main')).contexts)]).toEqual([name, 30])
      expect([
        name,
        evaluateValue(job['timeout-minutes'], runWorkflow(withInputs(byName('pull_request opened'), { 'timeout-minutes': 90 })).contexts)
      ]).toEqual([name, 90])
    }
  })

  it('runs every job on a label, a JSON list of labels or a JSON runner group', () => {
    expect(reusable.on.workflow_call.inputs['runs-on']).toMatchObject({ type: 'string', default: 'ubuntu-latest' })
    const cases: Array<[string | undefined, unknown]> = [
      [undefined, 'ubuntu-latest'],
      ['ubuntu-24.04-arm', 'ubuntu-24.04-arm'],
      ['self-hosted', 'self-hosted'],
      ['["self-hosted", "linux", "arm64"]', ['self-hosted', 'linux', 'arm64']],
      ['["ubuntu-latest"]', ['ubuntu-latest']],
      ['{"group": "deployers", "labels": ["linux"]}', { group: 'deployers', labels: ['linux'] }]
    ]
    for (const [input, expected] of cases) {
      const run = runWorkflow(input === undefined ? byName('push to main') : withInputs(byName('push to main'), { 'runs-on': input }))
      for (const [name, job] of Object.entries(reusable.jobs)) {
        expect([name, input, evaluateValue(job['runs-on'], run.contexts)]).toEqual([name, input, expected])
      }
    }
  })

  it('passes the secrets by name, or with `secrets: inherit` from PMCP_DEPLOY_SECRETS and PMCP_SMOKE_TEST_TOKEN', () => {
    const declared = reusable.on.workflow_call.secrets as Record<string, { required: boolean }>
    for (const name of ['smoke-test-token', 'deploy-secrets', 'PMCP_SMOKE_TEST_TOKEN', 'PMCP_DEPLOY_SECRETS']) {
      expect([name, declared[name]?.required]).toEqual([name, false])
    }
    const run = runWorkflow(byName('push to main'))
    const step = actionStep(reusable.jobs.deploy)
    const passed = (secrets: Record<string, string>): [string, string] => {
      const contexts = { ...run.contexts, secrets }
      return [interpolate(step.with?.secrets ?? '', contexts), interpolate(step.with?.['smoke-test-token'] ?? '', contexts)]
    }
    expect(passed({ 'deploy-secrets': 'API_KEY=a', 'smoke-test-token': 't' })).toEqual(['API_KEY=a', 't'])
    expect(passed({ PMCP_DEPLOY_SECRETS: 'API_KEY=b', PMCP_SMOKE_TEST_TOKEN: 'u', OTHER: 'x' })).toEqual(['API_KEY=b', 'u'])
    expect(passed({})).toEqual(['', ''])
  })
})
