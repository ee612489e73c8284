/**
 * `run()` in-process for target aws-lambda against moto: inputs and run context injected, the plan,
 * the pipeline and the target's phases real, the report caught at the publish seam.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import { readRunContext, type RunContext } from '../../src/context.js'
import { readInputs } from '../../src/inputs.js'
import { runInProcess, type InProcessRun } from '../../testkit/in-process.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { makeWorkDir, writeConfig } from '../../testkit/workdir.js'

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
