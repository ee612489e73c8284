/**
 * Rollback (alias move + verification read) against a redeploy of the previous version, on moto.
 *   node --import tsx bench/rollback.ts
 * rollback: the action's `rollback` (read alias live, list versions, move the alias, read it back).
 * redeploy, two ways, both with the previous build still at hand (no rebuild):
 *   - API only: UpdateFunctionCode with the previous zip, wait until updated, PublishVersion, UpdateAlias
 *     (the floor of any redeploy);
 *   - as the action redeploys: `cdk deploy` (deployStack, --method=direct) of the stack with the
 *     previous build. moto's CloudFormation answers an update of Lambda code with an HTML 500, so
 *     each round deploys the same stack under a new name: a create, which does the same CLI, asset
 *     upload and CloudFormation work as an update.
 * Goal: rollback at least 20× faster than the redeploy.
 */
import {
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2
} from '@aws-sdk/client-lambda'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import { awsClient, type AwsContext } from '../src/aws/clients.js'
import { deployStack } from '../src/cdk/deploy.js'
import { currentAliasVersion, moveAlias } from '../src/aws/lambda.js'
import { rollback } from '../src/lifecycle/rollback.js'
import { bootstrapZip, createDeployedFunction, createExecutionRole, sha, type Deploy } from '../testkit/lambda-fixture.js'
import { startMoto, useMotoEnvironment } from '../testkit/moto.js'
import { list, median, timed, verdict as goalVerdict } from './report.js'

const GOAL_RATIO = 20
const ROUNDS = 7
/** A release build of a pmcp server, zipped, is a few MB (incompressible here, like a binary). */
const PACKAGE_BYTES = 4 * 1024 * 1024
const FUNCTION_NAME = 'bench-server'

async function redeploy(lambda: LambdaClient, previous: Deploy, runId: number): Promise<void> {
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: FUNCTION_NAME, ZipFile: previous.zip }))
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 300, minDelay: 1 }, { FunctionName: FUNCTION_NAME })
  const published = await lambda.send(
    new PublishVersionCommand({ FunctionName: FUNCTION_NAME, Description: `${previous.commit} run ${runId}` })
  )
  await lambda.send(new UpdateAliasCommand({ FunctionName: FUNCTION_NAME, Name: 'live', FunctionVersion: published.Version }))
}

const CDK_ROUNDS = 3

/** Times `cdk deploy` of the moto-compatible fixture stack, each round with new function code. */
async function cdkRedeployTimes(aws: AwsContext): Promise<number[]> {
  const work = path.resolve('.test-work')
  fs.mkdirSync(work, { recursive: true })
  const dir = fs.mkdtempSync(path.join(work, 'bench-cdk-'))
  try {
    fs.cpSync(path.resolve('testkit', 'fixtures', 'moto-cdk-app'), dir, { recursive: true })
    fs.mkdirSync(path.join(dir, '.build'))
    fs.writeFileSync(path.join(dir, '.build', 'bootstrap'), randomBytes(PACKAGE_BYTES), { mode: 0o755 })
    let round = 0
    const deploy = (): Promise<unknown> => {
      const name = `bench-cdk-server-${round++}`
      return deployStack({
        ...aws,
        cdkDir: dir,
        stackName: `${name}-stack`,
        account: '123456789012',
        env: {
          PMCP_STACK_NAME: `${name}-stack`,
          PMCP_FUNCTION_NAME: name,
          PMCP_SERVER_NAME: name,
          SERVER_NAME: name,
          PMCP_ENVIRONMENT: 'production',
          PMCP_CONFIG_JSON: '{}'
        },
        cdkArgs: ['--method=direct'],
        hotswap: false,
        cdkBootstrap: true
      })
    }
    await deploy() // bootstrap and a first deploy, untimed
    const times: number[] = []
    for (let timedRound = 0; timedRound < CDK_ROUNDS; timedRound++) times.push(await timed(deploy))
    return times
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const moto = await startMoto()
  useMotoEnvironment(moto)
  const aws: AwsContext = { region: 'us-east-1' }
  const lambda = awsClient(LambdaClient, aws)
  // Keep the log quiet: @actions/core writes to stdout.
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = () => true
  try {
    const deploys: Deploy[] = ['a1', 'b2'].map((seed, i) => ({
      commit: sha(seed),
      runId: String(i + 1),
      zip: bootstrapZip(seed, randomBytes(PACKAGE_BYTES))
    }))
    const [previous] = deploys
    await createDeployedFunction(aws, { functionName: FUNCTION_NAME, roleArn: await createExecutionRole(aws), deploys })

    const rollbackMs: number[] = []
    const redeployMs: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const broken = await currentAliasVersion(FUNCTION_NAME, aws)
      // rollback() reads the alias back after moving it (the verification).
      rollbackMs.push(await timed(() => rollback({ functionName: FUNCTION_NAME, target: previous.commit, aws })))
      await moveAlias(FUNCTION_NAME, broken ?? '', aws) // back to the "broken" version, untimed
      redeployMs.push(await timed(() => redeploy(lambda, previous, 100 + round)))
      await moveAlias(FUNCTION_NAME, broken ?? '', aws)
    }

    const cdkMs = await cdkRedeployTimes(aws)

    const rollbackTime = median(rollbackMs)
    const verdict = (ms: number): string => {
      const ratio = ms / rollbackTime
      return `${ratio.toFixed(1)}× slower than rollback (goal ≥ ${GOAL_RATIO}×): ${goalVerdict(ratio >= GOAL_RATIO)}`
    }
    const lines = [
      `rollback vs redeploy on moto (medians; package ${(PACKAGE_BYTES / 1024 / 1024).toFixed(0)} MB, no rebuild counted)`,
      `  rollback (alias move + verification):      ${rollbackTime.toFixed(1)} ms   ${list(rollbackMs)}`,
      `  redeploy, API only (floor of any redeploy): ${median(redeployMs).toFixed(1)} ms   ${list(redeployMs)}` +
        `  ${verdict(median(redeployMs))}`,
      `  redeploy as the action does (cdk deploy):   ${median(cdkMs).toFixed(1)} ms   ${list(cdkMs)}  ${verdict(median(cdkMs))}`
    ]
    write(`${lines.join('\n')}\n`)
  } finally {
    process.stdout.write = write
    await moto.stop()
  }
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})
