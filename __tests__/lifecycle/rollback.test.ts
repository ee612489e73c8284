import { afterAll, beforeAll, expect, it, jest } from '@jest/globals'
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { awsClient, type AwsContext } from '../../src/aws/clients.js'
import { ActionError } from '../../src/errors.js'
import { currentAliasVersion, listPublishedVersions, moveAlias } from '../../src/aws/lambda.js'
import { functionNameOf, rollback, versionTable } from '../../src/lifecycle/rollback.js'
import { resourceNames } from '../../src/names.js'
import { runSmokeTest } from '../../src/smoke/index.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'
import { bootstrapZip, createDeployedFunction, createExecutionRole, publishDeploy, sha, type Deploy } from '../../testkit/lambda-fixture.js'

const aws: AwsContext = { region: 'us-east-1', retry: { sleep: async () => {} } }
const calculatorScenario = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'testkit',
  'fixtures',
  'scenarios',
  'calculator.yaml'
)

const COMMITS = [sha('a1'), sha('b2'), sha('c3')]
const deploys = (commits: string[]): Deploy[] => commits.map((commit, i) => ({ commit, runId: String(100 + i), zip: bootstrapZip(commit) }))

async function aliasVersion(functionName: string): Promise<string | undefined> {
  const alias = await awsClient(LambdaClient, aws).send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }))
  return alias.FunctionVersion
}

async function rejection(promise: Promise<unknown>): Promise<ActionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(ActionError)
  return error as ActionError
}

describeWithMoto('rollback on moto (Lambda versions and alias live)', () => {
  let moto: MotoServer
  let restoreEnvironment: () => void
  let roleArn: string
  let counter = 0
  /** A fresh function per test: versions 1..3 from COMMITS, alias live on 3. */
  async function deployedFunction(commits = COMMITS, alias = true): Promise<string> {
    const functionName = `hello-${++counter}`
    await createDeployedFunction(aws, { functionName, roleArn, deploys: deploys(commits), alias })
    return functionName
  }

  beforeAll(async () => {
    moto = await startMoto()
    restoreEnvironment = useMotoEnvironment(moto)
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
    roleArn = await createExecutionRole(aws)
  })

  afterAll(async () => {
    jest.restoreAllMocks()
    restoreEnvironment?.()
    await moto?.stop()
  })

  it('lists published versions with the commit from their description, $LATEST left out', async () => {
    const functionName = await deployedFunction()
    const versions = await listPublishedVersions(functionName, aws)
    expect(versions.map(v => [v.version, v.commit])).toEqual([
      ['1', COMMITS[0]],
      ['2', COMMITS[1]],
      ['3', COMMITS[2]]
    ])
    for (const v of versions) expect(new Date(v.date ?? '').toISOString()).toBe(v.date)
  })

  it("rolls back to 'previous': the version before the current one", async () => {
    const functionName = await deployedFunction()
    const result = await rollback({ functionName, target: 'previous', aws })
    expect(result).toMatchObject({ functionVersion: '2', previousVersion: '3' })
    expect(await aliasVersion(functionName)).toBe('2')
    expect(result.versions.map(r => [r.version, r.commit, r.current ?? false, r.previous ?? false])).toEqual([
      ['3', COMMITS[2], false, true],
      ['2', COMMITS[1], true, false],
      ['1', COMMITS[0], false, false]
    ])
    // Again: 'previous' is relative to where the alias is now.
    expect((await rollback({ functionName, target: 'previous', aws })).functionVersion).toBe('1')
    expect(await aliasVersion(functionName)).toBe('1')
  })

  it('rolls back to a version number', async () => {
    const functionName = await deployedFunction()
    expect(await rollback({ functionName, target: '1', aws })).toMatchObject({ functionVersion: '1', previousVersion: '3' })
    expect(await aliasVersion(functionName)).toBe('1')
  })

  it('rolls back to the newest version of a commit, by SHA prefix or full SHA', async () => {
    // The same commit deployed twice (a re-run): versions 2 and 3 carry b2…; 4 is c3….
    const functionName = await deployedFunction([COMMITS[0], COMMITS[1], COMMITS[1], COMMITS[2]])
    expect((await rollback({ functionName, target: COMMITS[1].slice(0, 7).toUpperCase(), aws })).functionVersion).toBe('3')
    expect(await aliasVersion(functionName)).toBe('3')
    expect((await rollback({ functionName, target: COMMITS[0], aws })).functionVersion).toBe('1')
    expect(await aliasVersion(functionName)).toBe('1')
  })

  it('changes nothing for a target that does not exist, and lists the versions that do', async () => {
    const functionName = await deployedFunction()
    for (const target of ['9', 'deadbee', sha('f0')]) {
      const error = await rejection(rollback({ functionName, target, aws }))
      expect(error.title).toBe('Rollback target not found')
      expect(error.message).toContain('Nothing was changed')
      expect(error.message).toMatch(new RegExp(`- 3 \\(${COMMITS[2].slice(0, 12)}, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d, current\\)`))
      expect(error.message).toContain(`- 2 (${COMMITS[1].slice(0, 12)}`)
      expect(error.message).toContain(`- 1 (${COMMITS[0].slice(0, 12)}`)
      expect(await aliasVersion(functionName)).toBe('3')
    }
  })

  it("refuses 'previous' on the oldest version and a target that is not a version or SHA", async () => {
    const functionName = await deployedFunction()
    await rollback({ functionName, target: '1', aws })
    const oldest = await rejection(rollback({ functionName, target: 'previous', aws }))
    expect(oldest.message).toContain('no version before the current one (1)')
    const invalid = await rejection(rollback({ functionName, target: 'last-tuesday', aws }))
    expect(invalid.title).toBe("Invalid input 'rollback-to'")
    expect(await aliasVersion(functionName)).toBe('1')
  })

  it("explains a function without alias 'live' (an older cargo-pmcp stack) and a missing function", async () => {
    const functionName = await deployedFunction(COMMITS, false)
    const noAlias = await rejection(rollback({ functionName, target: 'previous', aws }))
    expect(noAlias.title).toBe(`No alias 'live' on ${functionName}`)
    expect(noAlias.message).toMatch(/older cargo-pmcp stack/)
    expect(noAlias.message).toMatch(/'command: deploy'/)
    expect(await currentAliasVersion(functionName, aws)).toBeUndefined()

    const missing = await rejection(rollback({ functionName: 'hello-absent', target: 'previous', aws }))
    expect(missing.title).toBe('Function hello-absent not found')
    expect(await currentAliasVersion('hello-absent', aws)).toBeUndefined()
  })

  it('takes the function name from the stack output, else from the naming rules', () => {
    const names = resourceNames('hello', 'preview', '42')
    expect(functionNameOf({ FunctionName: 'custom-fn' }, names)).toBe('custom-fn')
    expect(functionNameOf({}, names)).toBe('hello-pr42')
    expect(functionNameOf(undefined, resourceNames('hello', 'production'))).toBe('hello')
  })

  it('moves the alias back after a deploy whose smoke test fails, and the old version passes again', async () => {
    // Each version is "served" by its own real MCP server; the alias picks which one answers, as
    // API Gateway → alias live does. Version 2 returns a wrong sum.
    const good = await startMcpServer()
    const broken = await startMcpServer({ broken: true })
    const servers: TestMcpServer[] = [good, broken]
    try {
      const functionName = await deployedFunction([COMMITS[0]])
      const before = await currentAliasVersion(functionName, aws)
      expect(before).toBe('1')
      const newVersion = await publishDeploy(aws, functionName, deploys([COMMITS[1]])[0])
      await moveAlias(functionName, newVersion, aws)
      const urlOf: Record<string, string> = { 1: good.url, [newVersion]: broken.url }
      const smoke = async () =>
        runSmokeTest({
          engine: 'builtin',
          url: urlOf[(await currentAliasVersion(functionName, aws)) ?? ''],
          scenarioPath: calculatorScenario,
          timeoutSeconds: 10,
          sleep: async () => {}
        })

      expect((await smoke()).outcome).toBe('failed')
      await moveAlias(functionName, before ?? '', aws)
      expect(await aliasVersion(functionName)).toBe('1')
      expect((await smoke()).outcome).toBe('passed')
      const rows = await versionTable(functionName, aws, { current: '1', previous: newVersion })
      expect(rows.map(r => [r.version, r.current ?? false, r.previous ?? false])).toEqual([
        ['2', false, true],
        ['1', true, false]
      ])
    } finally {
      await Promise.all(servers.map(s => s.close()))
    }
  })

  it('refuses to move the alias to a version that does not exist', async () => {
    const functionName = await deployedFunction()
    await expect(moveAlias(functionName, '42', aws)).rejects.toThrow()
    expect(await aliasVersion(functionName)).toBe('3')
  })
})
