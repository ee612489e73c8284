import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { awsClient } from '../../src/aws/clients.js'
import { isBootstrapped, readStack } from '../../src/aws/stack.js'
import { bootstrapCommandLine, cdkDeployArgs, cdkErrorLines, deployStack } from '../../src/cdk/deploy.js'
import { ActionError } from '../../src/errors.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { captureStdout, copyFixture, deployOptions } from '../../testkit/deploy-env.js'

describe('cdk deploy command line', () => {
  it('deploys exactly the stack, without approval prompts, with an outputs file and the user args last', () => {
    expect(cdkDeployArgs('demo-stack', '/tmp/out.json', ['--method=direct', '--context', 'k=v'], false)).toEqual([
      'deploy',
      'demo-stack',
      '--require-approval',
      'never',
      '--outputs-file',
      '/tmp/out.json',
      '--method=direct',
      '--context',
      'k=v'
    ])
  })

  it('adds --hotswap-fallback for hotswap deploys', () => {
    expect(cdkDeployArgs('demo-pr7-stack', 'out.json', [], true)).toEqual([
      'deploy',
      'demo-pr7-stack',
      '--require-approval',
      'never',
      '--outputs-file',
      'out.json',
      '--hotswap-fallback'
    ])
  })
})

describe('cdkErrorLines', () => {
  it("prefers the CDK's ❌/‣ summary over the rest of its output", () => {
    const stdout = 'demo-stack: deploying... [1/1]\nsome error mentioned in passing\n'
    const stderr = '❌  demo-stack failed to deploy\n‣ ValidationError: Template error: bad\n'
    expect(cdkErrorLines({ exitCode: 1, stdout, stderr })).toBe('❌  demo-stack failed to deploy\n‣ ValidationError: Template error: bad')
  })

  it('falls back to lines that mention an error, then to the exit code', () => {
    const stderr = 'file:///app/bin/app.mjs:14\nError: PMCP_STACK_NAME is not set\n    at required (app.mjs:14)\n'
    expect(cdkErrorLines({ exitCode: 1, stdout: '', stderr })).toBe('Error: PMCP_STACK_NAME is not set')
    expect(cdkErrorLines({ exitCode: 2, stdout: 'done', stderr: '' })).toBe('cdk exited with code 2')
  })
})

describeWithMoto('deployStack against moto', () => {
  let moto: MotoServer
  let restoreEnv: () => void
  let project: ReturnType<typeof copyFixture>
  let stdout: ReturnType<typeof captureStdout>

  beforeAll(async () => {
    moto = await startMoto()
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

  it('fails with the exact bootstrap command when the environment is not bootstrapped', async () => {
    const options = deployOptions(project.dir, 'unbooted', { cdkBootstrap: false })
    expect(await isBootstrapped(options)).toBe(false)
    const error = await deployStack(options).catch(e => e)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.title).toBe('CDK bootstrap missing')
    expect(error.message).toContain('npx aws-cdk@^2 bootstrap aws://123456789012/us-east-1')
    expect(error.message).toContain("'cdk-bootstrap: true'")
    expect(bootstrapCommandLine('123456789012', 'us-east-1')).toBe('npx aws-cdk@^2 bootstrap aws://123456789012/us-east-1')
    expect(await readStack('unbooted-stack', options)).toBeUndefined()
  })

  it('bootstraps when asked, deploys the user CDK project, and reads the outputs from DescribeStacks', async () => {
    const options = deployOptions(project.dir, 'weather')
    const result = await deployStack(options)

    expect(await isBootstrapped(options)).toBe(true)
    expect(stdout.text()).toContain('aws://123456789012/us-east-1 is not bootstrapped for the CDK; running cdk bootstrap')
    expect(result).toMatchObject({
      status: 'CREATE_COMPLETE',
      deployMethod: 'cloudformation',
      outputs: {
        ApiUrl: 'https://weather-stack.example.invalid',
        McpUrl: 'https://weather-stack.example.invalid/mcp',
        FunctionName: 'weather'
      }
    })
    expect(result.outputs.FunctionVersionArn).toBeTruthy()
    // Really in moto, not just a green CLI: the stack and the function exist there.
    expect((await readStack('weather-stack', options))?.outputs).toEqual(result.outputs)
    const fn = await awsClient(LambdaClient, options).send(new GetFunctionCommand({ FunctionName: 'weather' }))
    expect(fn.Configuration?.Runtime).toBe('provided.al2023')
    expect(fn.Configuration?.Environment?.Variables?.SERVER_NAME).toBe('weather')
    const outputsFile = JSON.parse(fs.readFileSync(path.join(project.dir, 'cdk-outputs.json'), 'utf8'))
    expect(outputsFile['weather-stack'].McpUrl).toBe('https://weather-stack.example.invalid/mcp')
  })

  it('treats a deploy without changes as success', async () => {
    const result = await deployStack(deployOptions(project.dir, 'weather'))
    expect(result.status).toBe('CREATE_COMPLETE')
    expect(result.deployMethod).toBe('no-changes')
    expect(result.outputs.McpUrl).toBe('https://weather-stack.example.invalid/mcp')
  })

  it("fails with the app's own error when the CDK app cannot synthesize", async () => {
    const options = deployOptions(project.dir, 'nameless')
    delete options.env.PMCP_FUNCTION_NAME
    const error = await deployStack(options).catch(e => e)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.message).toContain('PMCP_FUNCTION_NAME is not set')
    expect(error.message).toContain('the stack does not exist')
  })

  it('fails a deploy whose template CloudFormation rejects, with the reason', async () => {
    const options = deployOptions(project.dir, 'broken', { cdkArgs: ['--method=direct', '--context', 'failWith=bad-attribute'] })
    const error = await deployStack(options).catch(e => e)
    expect(error).toBeInstanceOf(ActionError)
    expect(error.title).toBe('Deploy of broken-stack failed')
    expect(error.message).toContain('the stack does not exist')
    expect(error.message).toContain('does not support attribute type NoSuchAttribute')
    expect(error.message).toMatch(/cdk exit code [1-9]/)
    expect(await readStack('broken-stack', options)).toBeUndefined()
  })
})
