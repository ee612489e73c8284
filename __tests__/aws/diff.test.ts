import { afterAll, beforeAll, expect, it, jest } from '@jest/globals'
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation'
import { awsClient, type AwsContext } from '../../src/aws/clients.js'
import { destructiveChangesError, productionDiff } from '../../src/cdk/diff.js'
import { renderComment } from '../../src/report/comment.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { deployedReport } from '../report/sample.js'

const context: AwsContext = { region: 'us-east-1', retry: { sleep: async () => {} } }
const PRODUCTION = 'weather-diff-stack'

function template(retention: number, logGroupName = '/aws/lambda/weather-diff'): Record<string, unknown> {
  return {
    Resources: {
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: logGroupName, RetentionInDays: retention } },
      Marker: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/pmcp/diff-test', Type: 'String', Value: 'v1' } }
    },
    Outputs: { LogGroupName: { Value: { Ref: 'Logs' } } }
  }
}

describeWithMoto('the infrastructure diff against production, on moto', () => {
  let moto: MotoServer
  let restoreEnvironment: () => void

  beforeAll(async () => {
    moto = await startMoto()
    restoreEnvironment = useMotoEnvironment(moto)
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
  })

  afterAll(async () => {
    jest.restoreAllMocks()
    restoreEnvironment?.()
    await moto?.stop()
  })

  it('says everything is new while production does not exist', async () => {
    const diff = await productionDiff(PRODUCTION, template(7), context)
    expect(diff.state).toBe('no production')
    expect(diff.resources.map(row => `${row.logicalId} ${row.change}`).sort()).toEqual(['Logs added', 'Marker added'])
    expect(renderComment(deployedReport({ infraDiff: diff }))).toContain(
      'Production <code>weather-diff-stack</code> does not exist yet: everything is new (2 added).'
    )
  })

  it('shows a changed property of the deployed production stack in the preview comment', async () => {
    await awsClient(CloudFormationClient, context).send(
      new CreateStackCommand({ StackName: PRODUCTION, TemplateBody: JSON.stringify(template(7)) })
    )
    const diff = await productionDiff(PRODUCTION, template(30), context)
    expect(diff.state).toBe('compared')
    expect(diff.resources).toEqual([
      { logicalId: 'Logs', type: 'AWS::Logs::LogGroup', change: 'changed', properties: ['RetentionInDays'], destructive: false }
    ])
    expect(destructiveChangesError(diff)).toBeUndefined()
    const comment = renderComment(deployedReport({ infraDiff: diff }))
    expect(comment).toContain('Against production <code>weather-diff-stack</code>: 1 changed.')
    expect(comment).toContain('| <code>Logs</code> | AWS::Logs::LogGroup | ✏️ changed | RetentionInDays |')
  })

  it('fail-on-destructive-changes: a log group replaced fails, naming the resource', async () => {
    const diff = await productionDiff(PRODUCTION, template(7, '/aws/lambda/weather-diff-renamed'), context)
    expect(diff.resources[0]).toMatchObject({ logicalId: 'Logs', change: 'replaced', destructive: true })
    const error = destructiveChangesError(diff)
    expect(error?.message).toContain('Logs (AWS::Logs::LogGroup) replaced')
    expect(error?.message).toContain('weather-diff-stack')
    expect(renderComment(deployedReport({ infraDiff: diff }))).toContain('🛑 **Destructive changes to production**')
  })

  it('reports production it cannot read as a line, not a failure', async () => {
    const saved = process.env.AWS_ENDPOINT_URL
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9'
    try {
      const diff = await productionDiff(PRODUCTION, template(7), { ...context, retry: { attempts: 1, sleep: async () => {} } })
      expect(diff.state).toBe('unavailable')
      expect(renderComment(deployedReport({ infraDiff: diff }))).toContain(
        '⚠️ No infrastructure diff: production <code>weather-diff-stack</code> could not be read'
      )
    } finally {
      process.env.AWS_ENDPOINT_URL = saved
    }
  })
})
