/**
 * Rollback (alias move + verification read) against a redeploy of the previous version, on moto.
 *   node --import tsx bench/rollback.ts
 * rollback: the action's `rollback` (read alias live, list versions, move the alias, read it back).
 * redeploy: the cheapest redeploy there is, with the previous build still at hand: UpdateFunctionCode
 *           with the previous zip, wait until the function is updated, PublishVersion, UpdateAlias.
 *           (A real redeploy also rebuilds and runs `cdk deploy`: minutes, not measured here.)
 * Goal: rollback at least 20× faster than the redeploy.
 */
import { LambdaClient, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand, waitUntilFunctionUpdatedV2 } from '@aws-sdk/client-lambda'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import * as net from 'node:net'
import { awsClient, type AwsContext } from '../src/aws/clients.js'
import { currentAliasVersion, moveAlias, rollback } from '../src/lifecycle/rollback.js'
import { bootstrapZip, createDeployedFunction, createExecutionRole, sha, type Deploy } from '../__tests__/lifecycle/lambda-fixture.js'

const GOAL_RATIO = 20
const ROUNDS = 7
/** A release build of a pmcp server, zipped, is a few MB (incompressible here, like a binary). */
const PACKAGE_BYTES = 4 * 1024 * 1024
const FUNCTION_NAME = 'bench-server'

/**
 * moto_server on a free loopback port. (__tests__/helpers/moto.ts imports jest, which does not load
 * outside jest.)
 */
async function startMoto(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const probe = net.createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = (probe.address() as net.AddressInfo).port
  probe.close()
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
  const failed = once(child, 'error')
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
  for (const started = Date.now(); Date.now() - started < 30_000; ) {
    const up = await Promise.race([
      fetch(`http://127.0.0.1:${port}/moto-api/data.json`).then(() => true, () => false),
      failed.then(() => {
        throw new Error('moto_server is not on PATH (pip install "moto[server]")')
      })
    ])
    if (up) return { endpoint: `http://localhost:${port}`, stop }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error('moto_server did not start within 30 s')
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await fn()
  return performance.now() - started
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function redeploy(lambda: LambdaClient, previous: Deploy, runId: number): Promise<void> {
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: FUNCTION_NAME, ZipFile: previous.zip }))
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 300, minDelay: 1 }, { FunctionName: FUNCTION_NAME })
  const published = await lambda.send(
    new PublishVersionCommand({ FunctionName: FUNCTION_NAME, Description: `${previous.commit} run ${runId}` })
  )
  await lambda.send(new UpdateAliasCommand({ FunctionName: FUNCTION_NAME, Name: 'live', FunctionVersion: published.Version }))
}

async function main(): Promise<void> {
  const moto = await startMoto()
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' })
  delete process.env.AWS_SESSION_TOKEN
  const aws: AwsContext = { region: 'us-east-1' }
  const lambda = awsClient(LambdaClient, aws)
  // Keep the log quiet: @actions/core writes to stdout.
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (() => true) as typeof process.stdout.write
  try {
    const deploys: Deploy[] = ['a1', 'b2'].map((seed, i) => ({ commit: sha(seed), runId: String(i + 1), zip: bootstrapZip(seed, randomBytes(PACKAGE_BYTES)) }))
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

    const rollbackTime = median(rollbackMs)
    const redeployTime = median(redeployMs)
    const ratio = redeployTime / rollbackTime
    const lines = [
      `rollback vs redeploy on moto (median of ${ROUNDS} rounds, package ${(PACKAGE_BYTES / 1024 / 1024).toFixed(0)} MB)`,
      `  rollback (alias move + verification): ${rollbackTime.toFixed(1)} ms   [${rollbackMs.map(ms => ms.toFixed(0)).join(', ')}]`,
      `  redeploy of the previous version:     ${redeployTime.toFixed(1)} ms   [${redeployMs.map(ms => ms.toFixed(0)).join(', ')}]`,
      `  ratio: rollback is ${ratio.toFixed(1)}× faster (goal ≥ ${GOAL_RATIO}×): ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'}`,
      '  (a real redeploy also rebuilds and runs cdk deploy: minutes on AWS; moto measures the API part only)'
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
