/**
 * The resolved deploy.toml reaches a CDK app through a file (PMCP_CONFIG_FILE) as well as inline
 * (PMCP_CONFIG_JSON) while it fits in one environment string: a config beyond Linux's 128 KiB per
 * string no longer kills the CDK process with `spawn E2BIG`, and an app of the user's own that
 * reads only PMCP_CONFIG_JSON is told what to change before anything runs.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { CONFIG_FILE_VARIABLE, CONFIG_JSON_VARIABLE, ENVIRONMENT_STRING_LIMIT_BYTES, handOverConfig } from '../../src/cdk/environment.js'
import { ActionError } from '../../src/errors.js'
import { NOT_STARTED_EXIT_CODE, runCommand } from '../../src/process.js'
import { captureStdout } from '../../testkit/annotations.js'
import { synthesizeDir } from '../../testkit/synth.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

const cleanups: (() => void)[] = []
afterAll(() => cleanups.forEach(cleanup => cleanup()))

function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-config-file-'))
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A project whose bin/app.mjs has this text. */
function projectWithApp(appText: string): string {
  const dir = scratch()
  fs.mkdirSync(path.join(dir, 'bin'))
  fs.writeFileSync(path.join(dir, 'bin', 'app.mjs'), appText)
  return dir
}

const BIG_JSON = JSON.stringify({ server: { name: 'big' }, padding: 'x'.repeat(ENVIRONMENT_STRING_LIMIT_BYTES) })

describe('handOverConfig', () => {
  it('writes the config to a file named by PMCP_CONFIG_FILE, and keeps PMCP_CONFIG_JSON when it fits', () => {
    const temp = scratch()
    const json = JSON.stringify({ server: { name: 'small' } })
    const env = handOverConfig({ [CONFIG_JSON_VARIABLE]: json, OTHER: 'kept' }, projectWithApp(''), temp)
    expect(env[CONFIG_JSON_VARIABLE]).toBe(json)
    expect(env.OTHER).toBe('kept')
    expect(path.dirname(env[CONFIG_FILE_VARIABLE])).toBe(temp)
    expect(fs.readFileSync(env[CONFIG_FILE_VARIABLE], 'utf8')).toBe(json)
  })

  it('leaves out PMCP_CONFIG_JSON when it is beyond one environment string, and says so', async () => {
    const temp = scratch()
    const { result, output } = await captureStdout(() => handOverConfig({ [CONFIG_JSON_VARIABLE]: BIG_JSON }, projectWithApp(''), temp))
    expect(result![CONFIG_JSON_VARIABLE]).toBeUndefined()
    expect(fs.readFileSync(result![CONFIG_FILE_VARIABLE], 'utf8')).toBe(BIG_JSON)
    expect(output).toContain(`finds it in ${CONFIG_FILE_VARIABLE} only`)
  })

  it('keeps a config of exactly the limit inline: NAME=value and its NUL are 128 KiB', () => {
    const json = 'x'.repeat(ENVIRONMENT_STRING_LIMIT_BYTES - `${CONFIG_JSON_VARIABLE}=`.length - 1)
    expect(handOverConfig({ [CONFIG_JSON_VARIABLE]: json }, projectWithApp(''), scratch())[CONFIG_JSON_VARIABLE]).toBe(json)
    expect(handOverConfig({ [CONFIG_JSON_VARIABLE]: `${json}x` }, projectWithApp(''), scratch())[CONFIG_JSON_VARIABLE]).toBeUndefined()
  })

  it('refuses a too-large config for an app that reads only PMCP_CONFIG_JSON, naming its file and the fix', () => {
    const dir = projectWithApp('const config = JSON.parse(process.env.PMCP_CONFIG_JSON ?? "{}")\n')
    let thrown: unknown
    try {
      handOverConfig({ [CONFIG_JSON_VARIABLE]: BIG_JSON }, dir, scratch())
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ActionError)
    expect((thrown as ActionError).message).toContain(path.join('bin', 'app.mjs'))
    expect((thrown as ActionError).message).toMatch(/more than one environment variable can carry on Linux \(128 KiB\)/)
    expect((thrown as ActionError).message).toContain(`process.env.${CONFIG_FILE_VARIABLE}`)
  })

  it('accepts it for an app that reads PMCP_CONFIG_FILE (falling back to PMCP_CONFIG_JSON or not)', () => {
    const dir = projectWithApp(
      'const text = process.env.PMCP_CONFIG_FILE ? fs.readFileSync(process.env.PMCP_CONFIG_FILE, "utf8") : process.env.PMCP_CONFIG_JSON\n'
    )
    expect(handOverConfig({ [CONFIG_JSON_VARIABLE]: BIG_JSON }, dir, scratch())[CONFIG_FILE_VARIABLE]).toBeDefined()
  })

  it('changes nothing when no config is handed over', () => {
    expect(handOverConfig({ A: 'b' }, projectWithApp(''), scratch())).toEqual({ A: 'b' })
  })
})

describe('a program the kernel refuses to start', () => {
  it('is a result with the reason (E2BIG), not a rejection; the handed-over environment starts', async () => {
    const env = { [CONFIG_JSON_VARIABLE]: BIG_JSON }
    const refused = await runCommand(process.execPath, ['-e', ''], { env, silent: true })
    expect(refused.exitCode).toBe(NOT_STARTED_EXIT_CODE)
    expect(refused.stderr).toMatch(/could not be started: .*E2BIG/)
    const handedOver = handOverConfig(env, projectWithApp(''), scratch())
    const started = await runCommand(
      process.execPath,
      ['-e', `process.stdout.write(String(require('fs').readFileSync(process.env.${CONFIG_FILE_VARIABLE}, 'utf8').length))`],
      { env: handedOver, silent: true }
    )
    expect(started).toMatchObject({ exitCode: 0, stdout: String(BIG_JSON.length) })
  })
})

const longArn = (index: number): string => `arn:aws:s3:::bucket-${index}/${'p'.repeat(60)}/*`

describe("a CDK project of the user's own, with a deploy.toml too large for one environment variable", () => {
  it('synthesizes with the real CDK CLI: the app reads the whole config from PMCP_CONFIG_FILE', async () => {
    const { dir, remove } = makeWorkDir('config-file')
    cleanups.push(remove)
    // 1500 statements of a long ARN: a resolved config of about 200 KiB.
    const statements = Array.from(
      { length: 1500 },
      (_, index) => `[[iam.statements]]\neffect = "Allow"\nactions = ["s3:GetObject"]\nresources = ["${longArn(index)}"]\n`
    ).join('')
    writeConfig(dir, `[server]\nname = "big-config"\n${statements}`)
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'user-cdk-project'), path.join(dir, 'deploy'), { recursive: true })
    fs.writeFileSync(
      path.join(dir, 'deploy', 'bin', 'app.mjs'),
      [
        "import * as fs from 'node:fs'",
        "import * as cdk from 'aws-cdk-lib'",
        "import * as sns from 'aws-cdk-lib/aws-sns'",
        "const config = JSON.parse(fs.readFileSync(process.env.PMCP_CONFIG_FILE, 'utf8'))",
        'const app = new cdk.App()',
        "const stack = new cdk.Stack(app, 'OwnStack', { stackName: process.env.PMCP_STACK_NAME })",
        "new sns.Topic(stack, 'Topic')",
        "new cdk.CfnOutput(stack, 'Statements', { value: String(config.iam.statements.length) })",
        "new cdk.CfnOutput(stack, 'Inline', { value: process.env.PMCP_CONFIG_JSON === undefined ? 'unset' : 'set' })"
      ].join('\n')
    )
    const { result, error } = await captureStdout(() => synthesizeDir(dir))
    if (error !== undefined) throw error as Error
    const outputs = result!.template.Outputs as Record<string, { Value: string }>
    expect(outputs.Statements.Value).toBe('1500')
    expect(outputs.Inline.Value).toBe('unset')
  }, 120_000)
})
