import { afterAll, beforeAll, expect, it } from '@jest/globals'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { failedStackEvents, readStack } from '../../src/aws/stack.js'
import { deployStack } from '../../src/cdk/deploy.js'
import { ActionError } from '../../src/errors.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { captureStdout, copyFixture, deployOptions } from '../../testkit/deploy-env.js'

// moto with CloudFormation's real failure semantics: a resource that cannot be created gets a
// CREATE_FAILED event and the stack ends in ROLLBACK_COMPLETE (see moto-cfn-rollback.py).
const plugin = path.join(path.dirname(fileURLToPath(import.meta.url)), 'moto-cfn-rollback.py')

describeWithMoto('a failed first create against moto', () => {
  let moto: MotoServer
  let restoreEnv: () => void
  let project: ReturnType<typeof copyFixture>
  let stdout: ReturnType<typeof captureStdout>

  beforeAll(async () => {
    moto = await startMoto({ plugin })
    restoreEnv = useMotoEnvironment(moto)
    project = copyFixture()
    stdout = captureStdout()
  })

  afterAll(async () => {
    stdout?.restore()
    project?.remove()
    restoreEnv?.()
    await moto?.stop()
  })

  it('reports the failed resource (logical id, type, reason) and throws', async () => {
    const options = deployOptions(project.dir, 'flaky', { cdkArgs: ['--method=direct', '--context', 'failWith=missing-role'] })
    const error = await deployStack(options).catch(e => e)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.title).toBe('Deploy of flaky-stack failed')
    expect(error.message).toContain('stack status ROLLBACK_COMPLETE')
    expect(error.message).toMatch(
      /- Server[0-9A-F]{8} \(AWS::Lambda::Function\) CREATE_FAILED: The role defined for the function cannot be assumed by Lambda\./
    )
    expect(error.message).toContain('deleted automatically before the next deploy')

    const stack = await readStack('flaky-stack', options)
    expect(stack?.status).toBe('ROLLBACK_COMPLETE')
    expect(await failedStackEvents('flaky-stack', options)).toEqual([
      {
        logicalId: expect.stringMatching(/^Server[0-9A-F]{8}$/),
        resourceType: 'AWS::Lambda::Function',
        status: 'CREATE_FAILED',
        reason: 'The role defined for the function cannot be assumed by Lambda.'
      }
    ])
  })

  it('deletes the ROLLBACK_COMPLETE stack, says so, and deploys again', async () => {
    const options = deployOptions(project.dir, 'flaky')
    const failedStackId = (await readStack('flaky-stack', options))?.stackId
    const result = await deployStack(options)

    expect(stdout.text()).toContain('Stack flaky-stack is in ROLLBACK_COMPLETE: its first create failed')
    expect(stdout.text()).toContain('Deleted stack flaky-stack')
    expect(result.status).toBe('CREATE_COMPLETE')
    expect(result.stackId).not.toBe(failedStackId)
    expect(result.outputs.McpUrl).toBe('https://flaky-stack.example.invalid/mcp')
  })
})
