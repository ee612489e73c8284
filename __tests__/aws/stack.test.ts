import { afterAll, beforeAll, expect, it, jest } from '@jest/globals'
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { awsClient, type AwsContext } from '../../src/aws/clients.js'
import { deleteStack, ensureStackDeployable, failedStackEvents, isBootstrapped, readStack } from '../../src/aws/stack.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'

const context: AwsContext = { region: 'us-east-1', retry: { sleep: async () => {} } }

const TEMPLATE = JSON.stringify({
  Resources: { Marker: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/pmcp/stack-test', Type: 'String', Value: 'v1' } } },
  Outputs: { McpUrl: { Value: 'https://example.invalid/mcp' }, ParameterName: { Value: { Ref: 'Marker' } } }
})

describeWithMoto('CloudFormation and SSM against moto', () => {
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

  it('reads a stack that does not exist as undefined', async () => {
    expect(await readStack('pmcp-absent-stack', context)).toBeUndefined()
  })

  it('reads status and every output of a stack (through AWS_ENDPOINT_URL)', async () => {
    await awsClient(CloudFormationClient, context).send(new CreateStackCommand({ StackName: 'pmcp-read-stack', TemplateBody: TEMPLATE }))
    const stack = await readStack('pmcp-read-stack', context)
    expect(stack).toMatchObject({
      name: 'pmcp-read-stack',
      status: 'CREATE_COMPLETE',
      outputs: { McpUrl: 'https://example.invalid/mcp', ParameterName: '/pmcp/stack-test' }
    })
    expect(stack?.stackId).toMatch(/^arn:aws:cloudformation:us-east-1:123456789012:stack\/pmcp-read-stack\//)
    expect(await failedStackEvents('pmcp-read-stack', context)).toEqual([])
  })

  it('leaves a healthy stack alone before a deploy', async () => {
    await ensureStackDeployable('pmcp-read-stack', context)
    expect((await readStack('pmcp-read-stack', context))?.status).toBe('CREATE_COMPLETE')
  })

  it('deletes a stack and waits until it is gone', async () => {
    expect(await deleteStack('pmcp-read-stack', context, { pollMs: 10 })).toBe(true)
    expect(await readStack('pmcp-read-stack', context)).toBeUndefined()
    expect(await deleteStack('pmcp-read-stack', context, { pollMs: 10 })).toBe(false)
  })

  it('detects the CDK bootstrap by its SSM version parameter', async () => {
    expect(await isBootstrapped(context)).toBe(false)
    await awsClient(SSMClient, context).send(
      new PutParameterCommand({ Name: '/cdk-bootstrap/custom1/version', Type: 'String', Value: '30' })
    )
    expect(await isBootstrapped(context, 'custom1')).toBe(true)
    expect(await isBootstrapped(context)).toBe(false)
  })
})
