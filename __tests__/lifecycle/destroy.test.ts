import { afterAll, beforeAll, expect, it, jest } from '@jest/globals'
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation'
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { awsClient, type AwsContext } from '../../src/aws/clients.js'
import { readStack } from '../../src/aws/stack.js'
import { ActionError } from '../../src/errors.js'
import { destroy, type DestroyOptions } from '../../src/lifecycle/destroy.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'

const aws: AwsContext = { region: 'us-east-1', retry: { sleep: async () => {} } }
const plugin = path.join(path.dirname(fileURLToPath(import.meta.url)), 'moto-cfn-delete-failed.py')

function template(resources: Record<string, unknown>): string {
  return JSON.stringify({ Resources: resources })
}

async function createStack(stackName: string, resources: Record<string, unknown>): Promise<void> {
  await awsClient(CloudFormationClient, aws).send(new CreateStackCommand({ StackName: stackName, TemplateBody: template(resources) }))
  expect((await readStack(stackName, aws))?.status).toBe('CREATE_COMPLETE')
}

async function rejection(promise: Promise<unknown>): Promise<ActionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(ActionError)
  return error as ActionError
}

const run = (options: Omit<DestroyOptions, 'aws' | 'wait'>) => destroy({ ...options, aws, wait: { pollMs: 10 } })

describeWithMoto('destroy on moto (CloudFormation)', () => {
  let moto: MotoServer
  let restoreEnvironment: () => void

  beforeAll(async () => {
    // moto, plus AWS's behaviour for a delete that fails (a non-empty bucket).
    moto = await startMoto({ plugin })
    restoreEnvironment = useMotoEnvironment(moto)
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
  })

  afterAll(async () => {
    jest.restoreAllMocks()
    restoreEnvironment?.()
    await moto?.stop()
  })

  it('removes a preview stack and what it created', async () => {
    await createStack('hello-pr7-stack', {
      Marker: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/hello-pr7/marker', Type: 'String', Value: 'x' } }
    })
    const ssm = awsClient(SSMClient, aws)
    expect((await ssm.send(new GetParameterCommand({ Name: '/hello-pr7/marker' }))).Parameter?.Value).toBe('x')
    expect(await run({ stackName: 'hello-pr7-stack', stage: 'preview' })).toEqual({ status: 'removed', stackName: 'hello-pr7-stack' })
    expect(await readStack('hello-pr7-stack', aws)).toBeUndefined()
    await expect(ssm.send(new GetParameterCommand({ Name: '/hello-pr7/marker' }))).rejects.toMatchObject({ name: 'ParameterNotFound' })
  })

  it("counts a stack that does not exist as success: 'nothing to remove'", async () => {
    expect(await run({ stackName: 'hello-pr8-stack', stage: 'preview' })).toEqual({
      status: 'nothing to remove',
      stackName: 'hello-pr8-stack'
    })
  })

  it('touches nothing in production without confirm-destroy naming the stack, and says what to set', async () => {
    await createStack('hello-stack', {
      Marker: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/hello/marker', Type: 'String', Value: 'production' } }
    })
    for (const confirmDestroy of [undefined, 'yes', 'hello-pr7-stack']) {
      const error = await rejection(run({ stackName: 'hello-stack', stage: 'production', confirmDestroy }))
      expect(error.title).toBe('Destroying production needs confirmation')
      expect(error.message).toContain("'confirm-destroy: hello-stack'")
      expect(error.message).toContain('nothing was touched')
      expect((await readStack('hello-stack', aws))?.status).toBe('CREATE_COMPLETE')
    }
    expect((await run({ stackName: 'hello-stack', stage: 'production', confirmDestroy: 'hello-stack' })).status).toBe('removed')
    expect(await readStack('hello-stack', aws)).toBeUndefined()
  })

  it('reports the resources of a delete that failed', async () => {
    await createStack('hello-pr9-stack', { Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'hello-pr9-data' } } })
    await fetch(`${moto.endpoint}/hello-pr9-data/kept.txt`, {
      method: 'PUT',
      body: 'still here',
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0' }
    })
    const error = await rejection(run({ stackName: 'hello-pr9-stack', stage: 'preview' }))
    expect(error.title).toBe('Could not delete stack hello-pr9-stack')
    expect(error.message).toContain('- Bucket (AWS::S3::Bucket) DELETE_FAILED: The bucket you tried to delete is not empty')
    expect((await readStack('hello-pr9-stack', aws))?.status).toBe('DELETE_FAILED')
  })
})
