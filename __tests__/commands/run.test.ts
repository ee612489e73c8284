/**
 * `run()` in-process, the way the runner calls it, with its seams injected: inputs, the run's
 * context and where the report goes. These cover what the pipeline decides before and around a
 * target's phases; the end-to-end tests run the same paths through dist/index.js.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { readRunContext, type RunContext } from '../../src/context.js'
import { readInputs, type ActionInputs, type InputName } from '../../src/inputs.js'
import { runInProcess, type InProcessRun } from '../../testkit/in-process.js'
import { PmcpRunService } from '../../testkit/pmcp-run-service.js'
import { makeWorkDir, writeConfig } from '../../testkit/workdir.js'

let dir: string
let remove: () => void

beforeAll(() => {
  ;({ dir, remove } = makeWorkDir('run-in-process'))
})
afterAll(() => remove())
afterEach(() => {
  process.exitCode = undefined
})

function contextOf(eventName: string, event: Record<string, unknown> = {}): RunContext {
  return {
    ...readRunContext({}),
    eventName,
    event,
    repository: 'acme/tools',
    workspace: dir,
    prNumber: (event.pull_request as { number?: number })?.number
  }
}

function runWith(inputs: Partial<ActionInputs>, context: RunContext, setByUser: InputName[] = []): Promise<InProcessRun> {
  return runInProcess({ ...readInputs(dir), ...inputs }, context, setByUser)
}

describe('run() in-process', () => {
  it('a deploy.toml error is reported like any failure: annotation on its line, and a report that reaches the summary', async () => {
    writeConfig(dir, '[server]\nname = "Bad_Name"\n', '.pmcp/bad.toml')
    const result = await runWith({ command: 'synth', config: '.pmcp/bad.toml' }, contextOf('push'))
    expect(result.exitCode).toBe(1)
    expect(result.annotations.some(a => a.level === 'error' && a.properties.file === '.pmcp/bad.toml' && a.properties.line === '2')).toBe(
      true
    )
    expect(result.reports).toHaveLength(1)
    expect(result.reports[0]).toMatchObject({
      command: 'synth',
      status: 'failed',
      stackName: '.pmcp/bad.toml',
      failure: { phase: 'config' }
    })
    expect(result.reports[0].failure?.message).toContain('Bad_Name')
  })

  it('a fork pull request gets a notice for deploy, destroy and cleanup, and nothing is read or reported', async () => {
    const fork = {
      action: 'opened',
      pull_request: { number: 4, head: { repo: { full_name: 'someone/tools' } }, base: { repo: { full_name: 'acme/tools' } } }
    }
    const titles = { deploy: 'Deploy skipped', destroy: 'Destroy skipped', cleanup: 'Cleanup skipped' } as const
    for (const command of ['deploy', 'destroy', 'cleanup'] as const) {
      // No deploy.toml at this path: the notice comes before the plan, so no config error either.
      const result = await runWith({ command, config: '.pmcp/missing.toml' }, contextOf('pull_request', fork))
      expect(result.exitCode).toBeUndefined()
      expect(result.reports).toEqual([])
      expect(result.annotations).toEqual([expect.objectContaining({ level: 'notice', properties: { title: titles[command] } })])
    }
  })

  it('destroying production without confirm-destroy fails before any credentials, and the report says so', async () => {
    writeConfig(dir, '[server]\nname = "guarded"\n[aws]\nregion = "eu-west-1"\n', '.pmcp/guarded.toml')
    const result = await runWith({ command: 'destroy', config: '.pmcp/guarded.toml' }, contextOf('workflow_dispatch'))
    expect(result.exitCode).toBe(1)
    expect(result.annotations.map(a => a.properties.title)).toEqual(['Destroying production needs confirmation'])
    expect(result.reports).toEqual([
      expect.objectContaining({
        command: 'destroy',
        status: 'failed',
        stackName: 'guarded-stack',
        stage: 'production',
        region: 'eu-west-1',
        phases: [],
        failure: expect.objectContaining({ phase: 'inputs' })
      })
    ])
  })

  it('a command the target does not have is refused by name, with what it has', async () => {
    writeConfig(dir, '[target]\ntype = "pmcp-run"\nversion = "1.0.0"\n[server]\nname = "hosted"\n', '.pmcp/hosted.toml')
    const result = await runWith({ command: 'rollback', config: '.pmcp/hosted.toml' }, contextOf('workflow_dispatch'))
    expect(result.exitCode).toBe(1)
    const [error] = result.annotations
    expect(error.properties.title).toBe('Rollback is not supported for pmcp-run')
    expect(error.message).toContain('it has: deploy, synth, destroy')
    // pmcp.run owns the AWS account: no region in its report, so no console links.
    expect(result.reports[0]).toMatchObject({ command: 'rollback', status: 'failed', stackName: 'hosted-stack' })
    expect(result.reports[0].region).toBeUndefined()
  })

  it('the target input set by the user wins over [target] type', async () => {
    const saved = { ...process.env }
    delete process.env.AWS_REGION
    delete process.env.AWS_DEFAULT_REGION
    let result: InProcessRun
    try {
      result = await runWith({ command: 'rollback', config: '.pmcp/hosted.toml', target: 'aws-lambda' }, contextOf('workflow_dispatch'), [
        'target'
      ])
    } finally {
      process.env = saved
    }
    // aws-lambda has rollback; with no region anywhere it stops at the credentials phase.
    expect(result.annotations.map(a => a.properties.title)).toEqual(['No AWS region'])
    expect(result.reports[0]).toMatchObject({ status: 'failed', failure: { phase: 'credentials' } })
  })

  describe('pmcp-run destroy against the stand-in service', () => {
    let service: PmcpRunService
    const saved = { ...process.env }
    beforeAll(async () => {
      service = await PmcpRunService.start({ existing: [{ id: 'dep-1', projectName: 'hosted-pr9' }] })
      Object.assign(process.env, service.env())
    })
    afterAll(async () => {
      process.env = saved
      await service.stop()
    })

    it('removes the preview of the pull request and reports it', async () => {
      const closed = {
        action: 'closed',
        pull_request: { number: 9, head: { repo: { full_name: 'acme/tools' } }, base: { repo: { full_name: 'acme/tools' } } }
      }
      const result = await runWith(
        { command: 'destroy', config: '.pmcp/hosted.toml', pmcpClientId: service.clientId, pmcpClientSecret: service.clientSecret },
        contextOf('pull_request', closed)
      )
      expect(result.annotations.filter(a => a.level === 'error')).toEqual([])
      expect(result.exitCode).toBeUndefined()
      expect(result.reports).toEqual([
        expect.objectContaining({ command: 'destroy', status: 'removed', stackName: 'hosted-pr9-stack', stage: 'preview' })
      ])
      expect(result.reports[0].phases.map(p => p.phase)).toEqual(['credentials', 'destroy'])
      expect(service.calls('destroyDeployment')).toHaveLength(1)
    })
  })
})
