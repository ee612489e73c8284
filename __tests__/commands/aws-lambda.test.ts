/**
 * `run()` in-process for target aws-lambda against moto: inputs and run context injected, the plan,
 * the pipeline and the target's phases real, the report caught at the publish seam.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as path from 'node:path'
import { readRunContext, type RunContext } from '../../src/context.js'
import { readInputs, type ActionInputs } from '../../src/inputs.js'
import { reportOutputs } from '../../src/report/outputs.js'
import { renderSummary } from '../../src/report/summary.js'
import { runInProcess, type InProcessRun } from '../../testkit/in-process.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { createServerRepository } from '../../testkit/runner-setup.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

const TOPIC_TEMPLATE = JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } })

describeWithMoto('run() in-process, aws-lambda on moto', () => {
  let moto: MotoServer
  let restoreEnvironment: () => void
  let dir: string
  let remove: () => void

  beforeAll(async () => {
    moto = await startMoto()
    restoreEnvironment = useMotoEnvironment(moto)
    ;({ dir, remove } = makeWorkDir('run-aws-lambda'))
    writeConfig(dir, '[server]\nname = "svc"\n')
  })

  afterAll(async () => {
    restoreEnvironment()
    remove()
    await moto.stop()
  })

  async function destroyFor(prNumber: number): Promise<InProcessRun> {
    const context: RunContext = {
      ...readRunContext({}),
      eventName: 'pull_request',
      event: {
        action: 'closed',
        pull_request: { number: prNumber, head: { repo: { full_name: 'acme/svc' } }, base: { repo: { full_name: 'acme/svc' } } }
      },
      repository: 'acme/svc',
      workspace: dir,
      prNumber
    }
    return runInProcess({ ...readInputs(dir), command: 'destroy' }, context)
  }

  it("removes the closed pull request's preview stack, signed in with the environment's credentials", async () => {
    const cloudFormation = new CloudFormationClient({})
    const created = await cloudFormation.send(new CreateStackCommand({ StackName: 'svc-pr3-stack', TemplateBody: TOPIC_TEMPLATE }))
    await cloudFormation.send(new CreateStackCommand({ StackName: 'svc-stack', TemplateBody: TOPIC_TEMPLATE }))

    const { reports, errors } = await destroyFor(3)

    expect(errors).toEqual([])
    expect(reports).toEqual([
      expect.objectContaining({
        command: 'destroy',
        status: 'removed',
        stackName: 'svc-pr3-stack',
        stage: 'preview',
        region: 'us-east-1',
        awsAccountId: '123456789012'
      })
    ])
    expect(reports[0].phases.map(phase => phase.phase)).toEqual(['credentials', 'destroy'])
    const [preview] = (await cloudFormation.send(new DescribeStacksCommand({ StackName: created.StackId }))).Stacks ?? []
    expect(preview?.StackStatus).toBe('DELETE_COMPLETE')
    // The production stack of the same server is untouched.
    const production = await cloudFormation.send(new DescribeStacksCommand({ StackName: 'svc-stack' }))
    expect(production.Stacks?.[0]?.StackStatus).toBe('CREATE_COMPLETE')
  })

  it('reports nothing to remove for a pull request that never had a preview', async () => {
    const { reports, errors } = await destroyFor(4)
    expect(errors).toEqual([])
    expect(reports.map(report => [report.status, report.stackName])).toEqual([['nothing to remove', 'svc-pr4-stack']])
  })
})

describeWithMoto('run() in-process, aws-lambda deploy whose MCP endpoint cannot be reached (moto with Lambda aliases)', () => {
  let moto: MotoServer
  let restoreEnvironment: () => void
  let repo: { dir: string; remove: () => void }

  beforeAll(async () => {
    moto = await startMoto({ plugin: path.join(REPO_ROOT, 'testkit', 'fixtures', 'moto-cfn-lambda-alias.py') })
    restoreEnvironment = useMotoEnvironment(moto)
    repo = createServerRepository('run-unreachable', 'moto-alias-cdk-app')
    fs.writeFileSync(
      path.join(repo.dir, '.pmcp', 'deploy.toml'),
      '[target]\ntype = "aws-lambda"\n\n[server]\nname = "gone-mcp"\nmcp_path = "/mcp"\n'
    )
    // Any Linux executable: moto never runs it.
    fs.copyFileSync('/bin/true', path.join(repo.dir, 'bootstrap'))
  }, 120_000)

  afterAll(async () => {
    restoreEnvironment?.()
    repo?.remove()
    await moto?.stop()
  })

  async function push(sha: string, runId: string, inputs: Partial<ActionInputs>): Promise<InProcessRun> {
    const context: RunContext = {
      ...readRunContext({ GITHUB_SHA: sha, GITHUB_RUN_ID: runId, GITHUB_EVENT_NAME: 'push', GITHUB_REPOSITORY: 'acme/svc' }),
      workspace: repo.dir
    }
    return runInProcess(
      {
        ...readInputs(repo.dir),
        command: 'deploy',
        workingDirectory: repo.dir,
        awsRegion: 'us-east-1',
        buildCommand: 'true',
        binaryPath: 'bootstrap',
        architecture: 'x86_64',
        cache: false,
        comment: false,
        cdkArgs: ['--method=direct'],
        cdkBootstrap: true,
        hotswap: 'false',
        ...inputs
      },
      context
    )
  }

  const aliasVersion = async (): Promise<string | undefined> =>
    (await new LambdaClient({}).send(new GetAliasCommand({ FunctionName: 'gone-mcp', Name: 'live' }))).FunctionVersion

  it('an unreachable endpoint is a failed smoke test: output smoke-test=failed, the summary says so, alias live rolled back', async () => {
    const first = await push('600d600d0123456789abcdef0123456789abcdef', '100', { smokeTest: 'none' })
    expect(first.errors).toEqual([])
    expect(await aliasVersion()).toBe('1')

    // Nothing listens here any more.
    const closed = http.createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const unreachable = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/mcp`
    await new Promise(resolve => closed.close(resolve))

    const second = await push('bad0bad00123456789abcdef0123456789abcdef', '101', {
      smokeTest: 'builtin',
      smokeTestUrl: unreachable,
      smokeTestTimeoutSeconds: 2,
      rollbackOnFailure: true
    })
    expect(second.exitCode).toBe(1)
    const [report] = second.reports
    expect(report).toMatchObject({ status: 'rolled back', functionVersion: '2', previousVersion: '1' })
    expect(report.smoke?.outcome).toBe('failed')
    expect(report.smoke?.report.tests[0]).toMatchObject({ name: 'Initialize', status: 'Failed' })
    expect(report.smoke?.report.tests[0].error).toContain(`MCP endpoint unreachable: no answer from ${unreachable}`)
    expect(reportOutputs(report)['smoke-test']).toBe('failed')
    expect(renderSummary(report)).toMatch(/failed/i)
    expect(await aliasVersion()).toBe('1')
    expect(second.errors.join('\n')).toContain('The smoke test of version 2 failed: Initialize (MCP endpoint unreachable')
    expect(second.errors.join('\n')).toContain('Alias live was moved back to version 1; its smoke test failed.')
    expect(second.output).toContain('Smoke test of version 2 failed: alias live of gone-mcp moved back to version 1')
  }, 600_000)
})
