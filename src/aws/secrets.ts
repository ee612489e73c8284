import * as core from '@actions/core'
import { CreateSecretCommand, DescribeSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { secretId } from '../config/index.js'
import { ActionError, ActionErrors } from '../errors.js'
import { maskSecret } from '../masking.js'
import { awsCall, awsClient, awsErrorName, type AwsContext } from './clients.js'

const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/
const HEREDOC_START = /^([^=<\s]+)<<(\S+)$/

function inputError(message: string): ActionError {
  return new ActionError('Invalid secrets input', `${message} Fix the 'secrets' input of the pmcp/deploy-action step.`)
}

/**
 * Parses the `secrets` input: `NAME=value` lines, or `NAME<<EOF` … `EOF` for a multi-line value
 * (as in GITHUB_OUTPUT). Blank lines and `#` comments are skipped. Problems name the line and the
 * secret, never the value.
 */
export function parseSecretsInput(text: string): Map<string, string> {
  const values = new Map<string, string>()
  const problems: ActionError[] = []
  const lines = text.split(/\r?\n/)
  const add = (name: string, value: string, lineNumber: number): void => {
    if (!SECRET_NAME.test(name))
      problems.push(
        inputError(`Line ${lineNumber}: '${name}' is not a valid secret name (a letter, then up to 63 letters, digits, _ or -).`)
      )
    else if (values.has(name)) problems.push(inputError(`Line ${lineNumber}: secret ${name} is given twice; keep one line for it.`))
    else if (value === '')
      problems.push(
        inputError(
          `Line ${lineNumber}: secret ${name} is empty (is the GitHub secret it comes from defined for this repository or environment?).`
        )
      )
    else values.set(name, value)
  }
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    const heredoc = HEREDOC_START.exec(line.trim())
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const end = lines.indexOf(delimiter, index + 1)
      if (end === -1) {
        problems.push(inputError(`Line ${index + 1}: ${name}<<${delimiter} has no closing line '${delimiter}'.`))
        break
      }
      add(name, lines.slice(index + 1, end).join('\n'), index + 1)
      index = end
      continue
    }
    const equals = line.indexOf('=')
    if (equals <= 0) {
      problems.push(inputError(`Line ${index + 1} is not NAME=value (or NAME<<EOF … EOF for a multi-line value).`))
      continue
    }
    add(line.slice(0, equals).trim(), line.slice(equals + 1), index + 1)
  }
  if (problems.length > 0) throw new ActionErrors(problems)
  return values
}

/**
 * Masks what the `secrets` input holds before it is parsed, so a malformed line is masked too:
 * the value of each `NAME=value` line, and every other line but `NAME<<EOF` markers, their
 * delimiters and comments.
 */
export function maskSecretsInput(text: string): void {
  const delimiters = new Set<string>()
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#') || delimiters.has(line)) continue
    const heredoc = HEREDOC_START.exec(trimmed)
    if (heredoc) {
      delimiters.add(heredoc[2])
      continue
    }
    const equals = line.indexOf('=')
    const value = equals > 0 ? line.slice(equals + 1) : line
    if (value.trim() !== '') maskSecret(value)
  }
}

/**
 * Names given in the input must be declared in `[secrets]`: the function can only read those, so a
 * value for anything else would be written where nothing reads it.
 */
export function checkSecretsDeclared(given: Iterable<string>, declared: readonly string[], configFile: string): void {
  const undeclared = [...given].filter(name => !declared.includes(name))
  if (undeclared.length === 0) return
  throw new ActionError(
    'Secret not declared in deploy.toml',
    `The 'secrets' input gives ${undeclared.join(', ')}, which ${configFile} does not name in [secrets] ` +
      `(declared: ${declared.length > 0 ? declared.join(', ') : 'none'}). ` +
      `Add ${undeclared.map(n => `"${n}"`).join(', ')} to [secrets], or remove ${undeclared.length > 1 ? 'them' : 'it'} from the input.`,
    { file: configFile }
  )
}

export interface SyncSecretsOptions {
  serverName: string
  /** `[secrets]` of deploy.toml. */
  declared: readonly string[]
  /** From the `secrets` input; may be empty. */
  values: Map<string, string>
  configFile: string
  aws: AwsContext
}

export interface SecretWrite {
  name: string
  secretId: string
  action: 'created' | 'updated' | 'exists'
}

function isNotFound(error: unknown): boolean {
  return awsErrorName(error) === 'ResourceNotFoundException'
}

async function writeSecret(client: SecretsManagerClient, id: string, value: string, aws: AwsContext): Promise<'created' | 'updated'> {
  try {
    await awsCall(`Writing secret ${id}`, aws, () => client.send(new PutSecretValueCommand({ SecretId: id, SecretString: value })))
    return 'updated'
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
  await awsCall(`Creating secret ${id}`, aws, () =>
    client.send(
      new CreateSecretCommand({
        Name: id,
        SecretString: value,
        Description: 'Written by pmcp/deploy-action from the secrets input',
        Tags: [{ Key: 'managed-by', Value: 'pmcp-deploy-action' }]
      })
    )
  )
  return 'created'
}

async function secretExists(client: SecretsManagerClient, id: string, aws: AwsContext): Promise<boolean> {
  try {
    await awsCall(`Looking up secret ${id}`, aws, () => client.send(new DescribeSecretCommand({ SecretId: id })))
    return true
  } catch (error) {
    if (isNotFound(error)) return false
    throw error
  }
}

/**
 * Before a deploy: checks that each `[secrets]` name the input does not give already exists (so
 * the function never starts without one), then writes every value from the input to `<server>/<name>`.
 * Nothing is written when a secret is missing.
 */
export async function syncSecrets(options: SyncSecretsOptions): Promise<SecretWrite[]> {
  const { serverName, declared, values, aws } = options
  checkSecretsDeclared(values.keys(), declared, options.configFile)
  if (declared.length === 0) return []
  const client = awsClient(SecretsManagerClient, aws)
  const kept: string[] = []
  const missing: string[] = []
  for (const name of declared.filter(name => !values.has(name))) {
    if (await secretExists(client, secretId(serverName, name), aws)) kept.push(name)
    else missing.push(name)
  }
  if (missing.length > 0) {
    throw new ActionError(
      'Secret missing',
      `${options.configFile} names ${missing.join(', ')} in [secrets], ` +
        `but Secrets Manager has no ${missing.map(n => secretId(serverName, n)).join(', ')} in ${aws.region}. ` +
        `Pass ${missing.length > 1 ? 'them' : 'it'} in the 'secrets' input, ` +
        `e.g.  secrets: |\n  ${missing.map(n => `${n}=\${{ secrets.${n} }}`).join('\n  ')}`,
      { file: options.configFile }
    )
  }
  const writes: SecretWrite[] = kept.map(name => ({ name, secretId: secretId(serverName, name), action: 'exists' }))
  for (const write of writes) core.info(`Secret ${write.secretId}: exists (not in the secrets input, kept as it is)`)
  for (const [name, value] of values) {
    const id = secretId(serverName, name)
    const action = await writeSecret(client, id, value, aws)
    writes.push({ name, secretId: id, action })
    core.info(`Secret ${id}: ${action}`)
  }
  return writes
}
