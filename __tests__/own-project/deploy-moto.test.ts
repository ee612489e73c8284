/**
 * `run()` in-process, command deploy, of a repository whose deploy/ is cargo pmcp 0.28's aws-lambda
 * scaffold edited by hand (moto-compatible: no HTTP API), against moto: production, then a pull
 * request's preview beside it, made from production's synthesis; production stays untouched.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { readRunContext, type RunContext } from '../../src/context.js'
import { readInputs, type ActionInputs } from '../../src/inputs.js'
import { runInProcess, type InProcessRun } from '../../testkit/in-process.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'

const TRICKY = `He said "hi" 'there' \${HOME} {{x}} $(whoami) \\ – ünïcödé 🚀`

describeWithMoto('run() in-process: deploy of an edited cargo pmcp 0.28 deploy/ on moto', () => {
  let moto: MotoServer
  let restoreEnvironment: () => void
  let dir: string
  let remove: () => void

  beforeAll(async () => {
    moto = await startMoto()
    restoreEnvironment = useMotoEnvironment(moto)
    ;({ dir, remove } = makeWorkDir('own-deploy'))
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'cargo-pmcp-0.28-own', 'edited'), dir, { recursive: true })
    // Any Linux executable: moto never runs it.
    fs.copyFileSync('/bin/true', path.join(dir, 'bootstrap'))
  })

  afterAll(async () => {
    restoreEnvironment()
    remove()
    await moto.stop()
  })

  async function deploy(context: Partial<RunContext>): Promise<InProcessRun> {
    const inputs: ActionInputs = {
      ...readInputs(dir),
      command: 'deploy',
      workingDirectory: dir,
      awsRegion: 'us-east-1',
      buildCommand: 'true',
      binaryPath: 'bootstrap',
      // /bin/true is x86_64 here; the check is the action's, the stack (arm64) is the user's and moto runs nothing.
      architecture: 'x86_64',
      smokeTest: 'none',
      cache: false,
      comment: false,
      cdkArgs: ['--method=direct'],
      cdkBootstrap: true,
      hotswap: 'false'
    }
    const runContext: RunContext = { ...readRunContext({}), repository: 'acme/weather', workspace: dir, ...context }
    return runInProcess(inputs, runContext)
  }

  const environmentOf = async (functionName: string): Promise<Record<string, string> | undefined> =>
    (await new LambdaClient({}).send(new GetFunctionConfigurationCommand({ FunctionName: functionName }))).Environment?.Variables

  it('deploys production, then a preview beside it; production is untouched', async () => {
    const production = await deploy({ eventName: 'workflow_dispatch', event: {} })
    expect(production.errors).toEqual([])
    expect(production.reports[0]).toMatchObject({ status: 'deployed', stackName: 'edited-weather-stack' })
    // No McpUrl output: the MCP URL is ApiUrl + [server] mcp_path, as cargo pmcp computes it.
    expect(production.reports[0].outputs.McpUrl).toBe('https://edited-weather-stack.example.invalid/mcp')
    expect(await environmentOf('edited-weather')).toEqual({ RUST_LOG: 'debug', GREETING: 'hello', TRICKY })
    const cloudFormation = new CloudFormationClient({})
    const before = (await cloudFormation.send(new DescribeStacksCommand({ StackName: 'edited-weather-stack' }))).Stacks?.[0]

    const preview = await deploy({
      eventName: 'pull_request',
      event: {
        action: 'synchronize',
        pull_request: { number: 7, head: { repo: { full_name: 'acme/weather' } }, base: { repo: { full_name: 'acme/weather' } } }
      },
      prNumber: 7
    })
    expect(preview.errors).toEqual([])
    expect(preview.reports[0]).toMatchObject({ status: 'deployed', stackName: 'edited-weather-pr7-stack', stage: 'preview' })
    expect(preview.reports[0].outputs.McpUrl).toBe('https://edited-weather-pr7-stack.example.invalid/mcp')
    expect(await environmentOf('edited-weather-pr7')).toEqual({ RUST_LOG: 'debug', GREETING: 'hello', TRICKY })

    const after = (await cloudFormation.send(new DescribeStacksCommand({ StackName: 'edited-weather-stack' }))).Stacks?.[0]
    expect(after?.LastUpdatedTime ?? after?.CreationTime).toEqual(before?.LastUpdatedTime ?? before?.CreationTime)
    expect(after?.Outputs?.find(o => o.OutputKey === 'McpRoleArn')?.ExportName).toBe('pmcp-edited-weather-McpRoleArn')
    const previewStack = (await cloudFormation.send(new DescribeStacksCommand({ StackName: 'edited-weather-pr7-stack' }))).Stacks?.[0]
    expect(previewStack?.Outputs?.find(o => o.OutputKey === 'McpRoleArn')?.ExportName).toBe('pmcp-edited-weather-pr7-McpRoleArn')
  }, 300_000)
})
