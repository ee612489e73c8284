/**
 * What a CDK project of the user's own receives from deploy.toml (src/cdk/environment.ts): `[environment]`
 * on the cdk process, reserved names kept the process's own, `[secrets]` by name and ARN only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { cdkEnvironment, type CdkEnvironmentOptions } from '../../src/cdk/environment.js'
import { loadConfig, type DeployConfig } from '../../src/config/index.js'
import { resourceNames } from '../../src/names.js'
import { captureStdout } from '../../testkit/annotations.js'

const TRICKY = `He said "hi" 'there' \${HOME} {{x}} $(whoami) \\ – ünïcödé 🚀`

let dir: string
let config: DeployConfig

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-environment-'))
  fs.mkdirSync(path.join(dir, '.pmcp'))
  fs.writeFileSync(
    path.join(dir, '.pmcp', 'deploy.toml'),
    [
      '[target]',
      'type = "aws-lambda"',
      '[server]',
      'name = "hello"',
      '[environment]',
      `TRICKY = ${JSON.stringify(TRICKY)}`,
      `LITERAL = '$PATH and \${HOME} and {{x}}'`,
      'EMPTY = ""',
      'MULTI = """',
      'line one',
      'line "two"',
      '"""',
      'RUST_LOG = "debug"',
      '[secrets]',
      'openai-key = "the OpenAI API key"',
      'dbPassword = "the database password"'
    ].join('\n')
  )
  const { result, error } = await captureStdout(() => loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir }))
  if (error !== undefined) throw error as Error
  config = result!
})

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const NAMES = resourceNames('hello', 'production')

/** cdkEnvironment with what it logs. */
async function environmentOf(options: Partial<CdkEnvironmentOptions> = {}): Promise<{ env: Record<string, string>; output: string }> {
  const { result, error, output } = await captureStdout(() => cdkEnvironment({ config, names: NAMES, ...options }))
  if (error !== undefined) throw error as Error
  return { env: result!, output }
}

function withEnvironment(environment: Record<string, string>): DeployConfig {
  return { ...config, environment }
}

describe('[environment]', () => {
  it('passes every key verbatim: quotes, ${HOME}, {{x}}, $(…), backslashes, unicode, empty and multi-line values', async () => {
    const { env, output } = await environmentOf()
    expect(env.TRICKY).toBe(TRICKY)
    expect(env.LITERAL).toBe('$PATH and ${HOME} and {{x}}')
    expect(env.EMPTY).toBe('')
    expect(env.MULTI).toBe('line one\nline "two"\n')
    expect(env.RUST_LOG).toBe('debug')
    expect(output).not.toContain('not set on the cdk process')
  })

  it('and in PMCP_CONFIG_JSON, as the stack of a project of the user’s own reads it', async () => {
    const { env } = await environmentOf()
    expect(JSON.parse(env.PMCP_CONFIG_JSON).environment).toEqual(config.environment)
  })

  const reserved = [
    'PATH',
    'HOME',
    'PWD',
    'SHELL',
    'USER',
    'TMPDIR',
    'TMP',
    'TEMP',
    'CI',
    'SERVER_NAME',
    'NODE_OPTIONS',
    'NODE_PATH',
    'NPM_CONFIG_REGISTRY',
    'npm_config_cache',
    'CDK_DEFAULT_ACCOUNT',
    'CDK_CONTEXT_JSON',
    'JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION',
    'AWS_REGION',
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'PMCP_STACK_NAME',
    'PMCP_SECRETS',
    'GITHUB_TOKEN',
    'RUNNER_TEMP',
    'ACTIONS_RUNTIME_TOKEN'
  ]

  it.each(reserved)('skips %s, keeps the process’s own value, and says so', async key => {
    const { env, output } = await environmentOf({ config: withEnvironment({ [key]: 'from-deploy-toml', KEPT: 'yes' }) })
    expect(env[key]).not.toBe('from-deploy-toml')
    expect(env.KEPT).toBe('yes')
    expect(output).toContain(`[environment] ${key}: not set on the cdk process`)
    expect(output).toContain('PMCP_CONFIG_JSON')
  })

  it('names every skipped key in one line', async () => {
    const { output } = await environmentOf({ config: withEnvironment({ PATH: '/x', CI: 'false', AWS_PROFILE: 'prod', KEPT: 'yes' }) })
    expect(output.split('\n').filter(line => line.includes('not set on the cdk process'))).toEqual([
      expect.stringContaining('[environment] PATH, CI, AWS_PROFILE: not set on the cdk process')
    ])
  })

  it('sets the action’s own variables over whatever deploy.toml says', async () => {
    const environment = { SERVER_NAME: 'evil', PMCP_STACK_NAME: 'evil', AWS_REGION: 'eu-west-1', CDK_DEFAULT_REGION: 'eu-west-1' }
    const { env } = await environmentOf({ config: withEnvironment(environment), region: 'us-east-1' })
    expect(env.SERVER_NAME).toBe('hello')
    expect(env.PMCP_SERVER_NAME).toBe('hello')
    expect(env.PMCP_STACK_NAME).toBe('hello-stack')
    expect(env.PMCP_FUNCTION_NAME).toBe('hello')
    expect(env.PMCP_ENVIRONMENT).toBe('production')
    expect(env.AWS_REGION).toBe('us-east-1')
    expect(env.CDK_DEFAULT_REGION).toBe('us-east-1')
  })

  const notReserved = ['PATHS', 'MY_PATH', 'HOMEPAGE', 'CIRCLE', 'NODE', 'AWSOME', 'MY_AWS_REGION', 'GITHUBX', 'path', 'Pmcp_Thing']

  it.each(notReserved)('passes %s, which only looks like a reserved name', async key => {
    const { env, output } = await environmentOf({ config: withEnvironment({ [key]: TRICKY }) })
    expect(env[key]).toBe(TRICKY)
    expect(output).not.toContain('not set on the cdk process')
  })
})

describe('[secrets]', () => {
  const ARN_VARIABLES = ['OPENAI_KEY_SECRET_ARN', 'DB_PASSWORD_SECRET_ARN']

  it('lists each secret by name, secret id and ARN variable, with its partial ARN when region and account are known', async () => {
    const { env } = await environmentOf({ region: 'eu-west-1', account: '123456789012' })
    const secrets = JSON.parse(env.PMCP_SECRETS)
    expect(secrets).toEqual([
      {
        name: 'openai-key',
        secretId: 'hello/openai-key',
        arnVariable: 'OPENAI_KEY_SECRET_ARN',
        arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hello/openai-key'
      },
      {
        name: 'dbPassword',
        secretId: 'hello/dbPassword',
        arnVariable: 'DB_PASSWORD_SECRET_ARN',
        arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hello/dbPassword'
      }
    ])
    for (const secret of secrets) expect(Object.keys(secret).sort()).toEqual(['arn', 'arnVariable', 'name', 'secretId'])
    expect(env.OPENAI_KEY_SECRET_ARN).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:hello/openai-key')
    expect(env.DB_PASSWORD_SECRET_ARN).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:hello/dbPassword')
    expect(env.CDK_DEFAULT_ACCOUNT).toBe('123456789012')
  })

  it.each([
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov']
  ])('gives a partial ARN in %s the partition %s', async (region, partition) => {
    const { env } = await environmentOf({ region, account: '123456789012' })
    expect(env.OPENAI_KEY_SECRET_ARN).toBe(`arn:${partition}:secretsmanager:${region}:123456789012:secret:hello/openai-key`)
  })

  it.each([
    ['no region nor account', {}],
    ['a region only', { region: 'eu-west-1' }],
    ['an account only', { account: '123456789012' }]
  ])('gives no ARN with %s', async (_, options) => {
    const { env } = await environmentOf(options)
    const secrets = JSON.parse(env.PMCP_SECRETS)
    expect(secrets.map((secret: object) => Object.keys(secret).sort())).toEqual([
      ['arnVariable', 'name', 'secretId'],
      ['arnVariable', 'name', 'secretId']
    ])
    for (const variable of ARN_VARIABLES) expect(env).not.toHaveProperty(variable)
    expect(Object.values(env).some(value => value.includes(':secretsmanager:'))).toBe(false)
  })

  it('gives an empty list without [secrets]', async () => {
    const { env } = await environmentOf({ config: { ...config, secrets: [] }, region: 'eu-west-1', account: '123456789012' })
    expect(env.PMCP_SECRETS).toBe('[]')
    expect(Object.keys(env).filter(key => key.endsWith('_SECRET_ARN'))).toEqual([])
  })

  it('never carries a secret’s value, only what names it', async () => {
    const { env } = await environmentOf({ region: 'eu-west-1', account: '123456789012', versionDescription: 'abc1234 run 99' })
    // deploy.toml's descriptions of the secrets are no values either, and reach nothing.
    expect(JSON.stringify(env)).not.toContain('the OpenAI API key')
    expect(JSON.stringify(env)).not.toContain('the database password')
    const keys = Object.keys(env).sort()
    expect(keys).toEqual(
      [
        ...Object.keys(config.environment),
        'PMCP_SECRETS',
        ...ARN_VARIABLES,
        'PMCP_STACK_NAME',
        'PMCP_SERVER_NAME',
        'PMCP_FUNCTION_NAME',
        'PMCP_ENVIRONMENT',
        'PMCP_CONFIG_JSON',
        'SERVER_NAME',
        'AWS_REGION',
        'CDK_DEFAULT_REGION',
        'CDK_DEFAULT_ACCOUNT',
        'PMCP_VERSION_DESCRIPTION'
      ].sort()
    )
    expect(env.PMCP_VERSION_DESCRIPTION).toBe('abc1234 run 99')
  })
})
