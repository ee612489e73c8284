/**
 * The guards src/pipeline.ts runs once the plan is known: a preview deploy of a closed or merged
 * pull request removes the preview instead, and production deploys and rollbacks run only from the
 * production branch. `run()` in-process against the GitHub API stand-in and the pmcp.run stand-in.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { readRunContext, type RunContext } from '../../src/context.js'
import { readInputs, type ActionInputs, type InputName } from '../../src/inputs.js'
import { guardRun } from '../../src/lifecycle/guards.js'
import { resolvePlan } from '../../src/plan.js'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { runInProcess, type InProcessRun } from '../../testkit/in-process.js'
import { PmcpRunService } from '../../testkit/pmcp-run-service.js'
import { makeWorkDir, writeConfig } from '../../testkit/workdir.js'

const HOSTED = '[target]\ntype = "pmcp-run"\nversion = "1.0.0"\n[server]\nname = "hosted"\n'
const REPO = { owner: 'acme', repo: 'tools' }

let dir: string
let remove: () => void
let api: FakeGitHubApi
let service: PmcpRunService
const saved = { ...process.env }

beforeAll(async () => {
  ;({ dir, remove } = makeWorkDir('guards'))
  writeConfig(dir, HOSTED, '.pmcp/hosted.toml')
  api = await FakeGitHubApi.start()
})
afterAll(async () => {
  remove()
  await api.stop()
})
beforeEach(async () => {
  service = await PmcpRunService.start({ existing: [{ id: 'dep-1', projectName: 'hosted-pr9' }] })
  process.env = { ...saved, ...service.env(), GITHUB_API_URL: api.url, GITHUB_REPOSITORY: 'acme/tools' }
  delete process.env.GITHUB_REF
})
afterEach(async () => {
  process.env = saved
  process.exitCode = undefined
  api.reset()
  await service.stop()
})

function contextOf(eventName: string, event: Record<string, unknown> = {}): RunContext {
  return {
    ...readRunContext({}),
    eventName,
    event,
    repository: 'acme/tools',
    workspace: dir,
    prNumber: (event.pull_request as { number?: number } | undefined)?.number
  }
}

function pullRequestEvent(action: string, number: number, state: 'open' | 'closed', merged = false): Record<string, unknown> {
  const repo = { full_name: 'acme/tools' }
  return { action, pull_request: { number, state, merged, head: { repo }, base: { repo } }, repository: { default_branch: 'main' } }
}

function hostedInputs(inputs: Partial<ActionInputs> = {}): ActionInputs {
  return {
    ...readInputs(dir),
    config: '.pmcp/hosted.toml',
    githubToken: 'ghs_token',
    pmcpClientId: service.clientId,
    pmcpClientSecret: service.clientSecret,
    ...inputs
  }
}

function runWith(inputs: Partial<ActionInputs>, context: RunContext, setByUser: InputName[] = []): Promise<InProcessRun> {
  return runInProcess(hostedInputs(inputs), context, setByUser)
}

function titles(result: InProcessRun, level: string): string[] {
  return result.annotations.filter(a => a.level === level).map(a => a.properties.title ?? '')
}

describe('preview deploys check the pull request', () => {
  it('a late synchronize after the closed run: no deploy, and the existing preview is removed', async () => {
    api.setPullRequest({ ...REPO, number: 9 }, { merged: true })
    const result = await runWith({ command: 'deploy' }, contextOf('pull_request', pullRequestEvent('synchronize', 9, 'open')))
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBeUndefined()
    expect(titles(result, 'notice')).toContain('Deploy skipped')
    expect(result.output).toContain('Pull request #9 is merged')
    expect(result.reports).toEqual([
      expect.objectContaining({ command: 'deploy', status: 'removed', stackName: 'hosted-pr9-stack', stage: 'preview' })
    ])
    // Nothing was built or deployed: only the destroy command's phases ran.
    expect(result.reports[0].phases.map(p => p.phase)).toEqual(['credentials', 'destroy'])
    expect(service.calls('destroyDeployment')).toHaveLength(1)
    expect(api.requestsOf('GET', /^\/repos\/acme\/tools\/pulls\/9$/)).toHaveLength(1)
    expect(api.requestsOf('GET', /^\/repos\/acme\/tools\/pulls\/9$/)[0].authorization).toMatch(/ghs_token$/)
  })

  it('command deploy on a closed event does not deploy; no preview left is nothing to remove', async () => {
    const result = await runWith({ command: 'deploy' }, contextOf('pull_request', pullRequestEvent('closed', 10, 'closed')))
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBeUndefined()
    expect(titles(result, 'notice')).toContain('Deploy skipped')
    expect(result.reports).toEqual([
      expect.objectContaining({ command: 'deploy', status: 'nothing to remove', stackName: 'hosted-pr10-stack' })
    ])
    expect(service.calls('destroyDeployment')).toHaveLength(0)
    // The closed event says it all: the API is not asked.
    expect(api.requestsOf('GET', /\/pulls\//)).toHaveLength(0)
  })

  it('the API answers 403: a warning, and the payload state (closed) is used', async () => {
    api.failWith({ method: 'GET', path: /\/pulls\/9$/, status: 403, message: 'Resource not accessible by integration' })
    const result = await runWith({ command: 'deploy' }, contextOf('pull_request', pullRequestEvent('synchronize', 9, 'closed')))
    expect(result.errors).toEqual([])
    expect(titles(result, 'warning')).toContain('Pull request state unknown')
    expect(result.output).toContain('HTTP 403')
    expect(result.output).toContain('going by the event payload, which says it is closed')
    expect(result.reports).toEqual([expect.objectContaining({ command: 'deploy', status: 'removed', stackName: 'hosted-pr9-stack' })])
    expect(service.calls('destroyDeployment')).toHaveLength(1)
  })

  it('the API cannot be read and the payload says open: a warning, and the deploy goes on (the plan is unchanged)', async () => {
    api.failWith({ method: 'GET', path: /\/pulls\/9$/, status: 404 })
    const context = contextOf('pull_request', pullRequestEvent('synchronize', 9, 'open'))
    const plan = resolvePlan(hostedInputs({ command: 'deploy' }), context, { setByUser: [] })
    expect(await guardRun(plan)).toBe(plan)
    // Without a token the API is not asked at all.
    const noToken = resolvePlan(hostedInputs({ command: 'deploy', githubToken: undefined }), context, { setByUser: [] })
    expect(await guardRun(noToken)).toBe(noToken)
    expect(api.requestsOf('GET', /\/pulls\//)).toHaveLength(1)
  })

  it('an open pull request deploys (the plan is unchanged)', async () => {
    api.setPullRequest({ ...REPO, number: 9 })
    const plan = resolvePlan(hostedInputs({ command: 'deploy' }), contextOf('pull_request', pullRequestEvent('synchronize', 9, 'open')), {
      setByUser: []
    })
    expect(await guardRun(plan)).toBe(plan)
  })
})

describe('production only from the production branch', () => {
  const push = { repository: { default_branch: 'main' } }

  it('a production deploy from a feature branch is refused before anything is built', async () => {
    process.env.GITHUB_REF = 'refs/heads/feature/x'
    const result = await runWith({ command: 'deploy' }, contextOf('push', push))
    expect(result.exitCode).toBe(1)
    expect(titles(result, 'error')).toEqual(['Production deploy refused: refs/heads/feature/x is not the production branch'])
    expect(result.errors[0]).toContain('production branch main')
    expect(result.errors[0]).toContain("'production-branch: feature/x'")
    expect(result.errors[0]).toContain("'environment: preview'")
    expect(result.reports).toEqual([expect.objectContaining({ command: 'deploy', status: 'failed', stage: 'production', phases: [] })])
    expect(service.calls('destroyDeployment')).toHaveLength(0)
  })

  it('a rollback from a tag or a pull request ref is refused too', async () => {
    for (const ref of ['refs/tags/v1.0.0', 'refs/pull/9/merge']) {
      process.env.GITHUB_REF = ref
      const plan = resolvePlan(hostedInputs({ command: 'rollback' }), contextOf('workflow_dispatch', push), { setByUser: [] })
      await expect(guardRun(plan)).rejects.toThrow(`this run is on ${ref}`)
    }
  })

  it('from the production branch, outside a runner, and for synth and destroy, nothing is refused', async () => {
    for (const [ref, command] of [
      ['refs/heads/main', 'deploy'],
      ['refs/heads/main', 'rollback'],
      [undefined, 'deploy'],
      ['refs/heads/feature/x', 'synth'],
      ['refs/heads/feature/x', 'destroy']
    ] as const) {
      if (ref) process.env.GITHUB_REF = ref
      else delete process.env.GITHUB_REF
      const plan = resolvePlan(hostedInputs({ command }), contextOf('push', push), { setByUser: [] })
      expect(await guardRun(plan)).toBe(plan)
    }
  })

  it('the production-branch input overrides the default branch', async () => {
    process.env.GITHUB_REF = 'refs/heads/release'
    const release = resolvePlan(hostedInputs({ command: 'deploy', productionBranch: 'release' }), contextOf('push', push), {
      setByUser: []
    })
    expect(await guardRun(release)).toBe(release)
    process.env.GITHUB_REF = 'refs/heads/main'
    await expect(guardRun({ ...release })).rejects.toThrow("production branch release (input 'production-branch')")
  })

  it('without a default branch in the payload, the API says it; without either, the run is refused', async () => {
    process.env.GITHUB_REF = 'refs/heads/trunk'
    api.setRepository('acme', 'tools', { default_branch: 'trunk' })
    const plan = resolvePlan(hostedInputs({ command: 'deploy' }), contextOf('workflow_dispatch', {}), { setByUser: [] })
    expect(await guardRun(plan)).toBe(plan)
    expect(api.requestsOf('GET', /^\/repos\/acme\/tools$/)).toHaveLength(1)

    api.reset()
    await expect(guardRun(plan)).rejects.toThrow(/could not be read.*HTTP 404/)
    const noToken = resolvePlan(hostedInputs({ command: 'deploy', githubToken: undefined }), contextOf('workflow_dispatch', {}), {
      setByUser: []
    })
    await expect(guardRun(noToken)).rejects.toThrow("Set the input 'production-branch'")
  })
})
