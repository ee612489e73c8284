import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { awsClient, type AwsContext } from '../../src/aws/clients.js'
import { checkSecretsDeclared, maskSecretsInput, parseSecretsInput, syncSecrets } from '../../src/aws/secrets.js'
import { ActionError, ActionErrors } from '../../src/errors.js'
import { captureStdout } from '../../testkit/annotations.js'
import { describeWithMoto, startMoto, useMotoEnvironment, type MotoServer } from '../../testkit/moto.js'

const aws: AwsContext = { region: 'us-east-1', retry: { sleep: async () => {} } }

function problemsOf(run: () => unknown): string[] {
  try {
    run()
  } catch (error) {
    if (error instanceof ActionErrors) return error.errors.map(e => e.message)
    if (error instanceof ActionError) return [error.message]
    throw error
  }
  return []
}

describe('the secrets input', () => {
  it('reads NAME=value lines, keeping = and spaces inside values, skipping blanks and comments', () => {
    const values = parseSecretsInput('API_KEY=abc=def==\n\n# a comment\n  DB_URL=postgres://u:p@h/db?x=1 \n')
    expect([...values]).toEqual([
      ['API_KEY', 'abc=def=='],
      ['DB_URL', 'postgres://u:p@h/db?x=1 ']
    ])
  })

  it('reads NAME<<EOF blocks as multi-line values', () => {
    const values = parseSecretsInput('PEM<<END\n-----BEGIN KEY-----\nMIIB\n-----END KEY-----\nEND\nTOKEN=t0k')
    expect(values.get('PEM')).toBe('-----BEGIN KEY-----\nMIIB\n-----END KEY-----')
    expect(values.get('TOKEN')).toBe('t0k')
  })

  it('names every bad line and never the value', () => {
    const problems = problemsOf(() =>
      parseSecretsInput('just-a-value-s3cr3t\n1BAD=s3cr3t\nOK=s3cr3t\nOK=s3cr3t\nEMPTY=\nOPEN<<EOF\ns3cr3t')
    )
    expect(problems).toEqual([
      expect.stringContaining('Line 1 is not NAME=value'),
      expect.stringContaining("Line 2: '1BAD' is not a valid secret name"),
      expect.stringContaining('Line 4: secret OK is given twice'),
      expect.stringContaining('Line 5: secret EMPTY is empty'),
      expect.stringContaining('Line 6: OPEN<<EOF has no closing line')
    ])
    for (const problem of problems) expect(problem).not.toContain('s3cr3t')
  })

  it('masks every value before parsing, malformed lines and multi-line values included', async () => {
    const { output } = await captureStdout(() =>
      maskSecretsInput('# comment\nAPI_KEY=abc=def\nforgot-the-name\nPEM<<EOF\nline one\nline two\nEOF\n')
    )
    const masked = output.match(/^::add-mask::.*$/gm)?.map(line => line.slice('::add-mask::'.length))
    expect(masked).toEqual(['abc=def', 'forgot-the-name', 'line one', 'line two'])
  })

  it('refuses values for names deploy.toml does not declare, naming the file and the fix', () => {
    expect(() => checkSecretsDeclared(['API_KEY', 'EXTRA'], ['API_KEY'], '.pmcp/deploy.toml')).toThrow(
      /gives EXTRA, which \.pmcp\/deploy\.toml does not name in \[secrets\] \(declared: API_KEY\)\. Add "EXTRA" to \[secrets\]/
    )
    expect(() => checkSecretsDeclared(['API_KEY'], ['API_KEY', 'OTHER'], '.pmcp/deploy.toml')).not.toThrow()
  })
})

describeWithMoto('secrets in Secrets Manager (moto)', () => {
  let moto: MotoServer
  let restoreEnvironment: () => void
  let client: SecretsManagerClient

  beforeAll(async () => {
    moto = await startMoto()
    restoreEnvironment = useMotoEnvironment(moto)
    client = awsClient(SecretsManagerClient, aws)
  })

  afterAll(async () => {
    restoreEnvironment?.()
    await moto?.stop()
  })

  const valueOf = async (id: string): Promise<string | undefined> =>
    (await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString

  it('creates <server>/<name> on the first run and updates it on the next', async () => {
    const { result: first, output } = await captureStdout(() =>
      syncSecrets({
        serverName: 'weather',
        declared: ['API_KEY'],
        values: new Map([['API_KEY', 'first-v4lue']]),
        configFile: 'deploy.toml',
        aws
      })
    )
    expect(first).toEqual([{ name: 'API_KEY', secretId: 'weather/API_KEY', action: 'created' }])
    expect(await valueOf('weather/API_KEY')).toBe('first-v4lue')

    const second = await syncSecrets({
      serverName: 'weather',
      declared: ['API_KEY'],
      values: new Map([['API_KEY', 'second-v4lue']]),
      configFile: 'deploy.toml',
      aws
    })
    expect(second).toEqual([{ name: 'API_KEY', secretId: 'weather/API_KEY', action: 'updated' }])
    expect(await valueOf('weather/API_KEY')).toBe('second-v4lue')
    expect(output).toContain('Secret weather/API_KEY: created')
    expect(output).not.toMatch(/v4lue/)
  })

  it('keeps a declared secret that exists but is not in the input', async () => {
    await client.send(new CreateSecretCommand({ Name: 'weather/DB_URL', SecretString: 'set-by-hand' }))
    const writes = await syncSecrets({
      serverName: 'weather',
      declared: ['API_KEY', 'DB_URL'],
      values: new Map([['API_KEY', 'third']]),
      configFile: 'deploy.toml',
      aws
    })
    expect(writes.map(w => [w.name, w.action])).toEqual([
      ['DB_URL', 'exists'],
      ['API_KEY', 'updated']
    ])
    expect(await valueOf('weather/DB_URL')).toBe('set-by-hand')
  })

  it('writes nothing when a declared secret is neither given nor in Secrets Manager', async () => {
    const attempt = syncSecrets({
      serverName: 'orders',
      declared: ['API_KEY', 'MISSING'],
      values: new Map([['API_KEY', 'x']]),
      configFile: '.pmcp/deploy.toml',
      aws
    })
    await expect(attempt).rejects.toThrow(
      new RegExp(
        /names MISSING in \[secrets\], but Secrets Manager has no orders\/MISSING in us-east-1\. /.source +
          /Pass it in the 'secrets' input, e\.g\. {2}secrets: \|\n {2}MISSING=\$\{\{ secrets\.MISSING \}\}/.source
      )
    )
    const names = (await client.send(new ListSecretsCommand({}))).SecretList?.map(s => s.Name)
    expect(names).not.toContain('orders/API_KEY')
  })
})
