import * as core from '@actions/core'
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient, type Credentials } from '@aws-sdk/client-sts'
import { pullRequestOf, readEventPayload, type PullRequestPayload } from '../context.js'
import { ActionError, errorMessage } from '../errors.js'
import { maskSecret } from '../masking.js'
import { fetchIdToken } from './id-token.js'
import { awsCall, awsClient, awsErrorName, isCredentialsMissing, isTransientAwsError, type AwsContext } from './clients.js'

/** The `aud` the OIDC token carries unless the `audience` input says otherwise (what AWS expects by default). */
export const OIDC_AUDIENCE = 'sts.amazonaws.com'

/** The issuer of github.com's OIDC tokens (and the host of the IAM OIDC provider that trusts them). */
export const GITHUB_COM_ISSUER_HOST = 'token.actions.githubusercontent.com'

export interface AwsCredentialOptions extends AwsContext {
  /** Role ARN to assume with the job's OIDC token; unset: use the credentials already in the environment. */
  roleToAssume?: string
  roleSessionName: string
  roleDurationSeconds: number
  /** The `aud` to ask the token for (input `audience`) [sts.amazonaws.com]. */
  audience?: string
  /** The event that started the run, to explain a missing OIDC token [read from the runner]. */
  event?: { name: string; payload: PullRequestPayload }
}

export interface AwsIdentity {
  accountId: string
  /** The caller's ARN (the assumed role session, or the environment's user/role). */
  arn: string
  region: string
}

/**
 * No OIDC token is available to this job. `reason` lets the caller skip a fork PR's deploy
 * instead of failing it.
 */
export class MissingIdTokenError extends ActionError {
  readonly reason: 'fork-pull-request' | 'missing-permission'

  constructor(reason: MissingIdTokenError['reason'], title: string, message: string) {
    super(title, message)
    this.reason = reason
  }
}

/**
 * Step 6 of the pipeline: credentials for everything that follows (SDK clients in this process and
 * child processes such as the CDK CLI). Returns who we are, for the `aws-account-id` output.
 */
export async function configureAwsCredentials(options: AwsCredentialOptions): Promise<AwsIdentity> {
  exportVariable('AWS_REGION', options.region)
  exportVariable('AWS_DEFAULT_REGION', options.region)
  if (options.roleToAssume) {
    const token = await requestIdToken(options)
    const credentials = await assumeRole(options.roleToAssume, token, options)
    exportCredentials(credentials)
    core.info(`Assumed role ${options.roleToAssume} (session '${options.roleSessionName}')`)
  }
  const identity = await callerIdentity(options, Boolean(options.roleToAssume))
  core.info(`AWS identity: ${identity.arn} in ${identity.region}`)
  return identity
}

/** Sets a variable for this process and, on a runner, for later steps; never echoes the value. */
function exportVariable(name: string, value: string): void {
  // Without GITHUB_ENV, core.exportVariable falls back to printing a `::set-env` command to stdout,
  // which would put the value in the log.
  if (process.env.GITHUB_ENV) core.exportVariable(name, value)
  else process.env[name] = value
}

function exportCredentials(credentials: Credentials): void {
  const { AccessKeyId, SecretAccessKey, SessionToken } = credentials
  if (!AccessKeyId || !SecretAccessKey || !SessionToken) {
    throw new Error('STS AssumeRoleWithWebIdentity returned no credentials')
  }
  for (const secret of [AccessKeyId, SecretAccessKey, SessionToken]) maskSecret(secret)
  exportVariable('AWS_ACCESS_KEY_ID', AccessKeyId)
  exportVariable('AWS_SECRET_ACCESS_KEY', SecretAccessKey)
  exportVariable('AWS_SESSION_TOKEN', SessionToken)
}

async function requestIdToken(context: AwsCredentialOptions): Promise<string> {
  const audience = context.audience ?? OIDC_AUDIENCE
  if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL || !process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    throw context.event ? missingIdTokenError(context.event.name, context.event.payload) : missingIdTokenError()
  }
  return fetchIdToken(audience, process.env, context.retry)
}

async function assumeRole(roleArn: string, token: string, options: AwsCredentialOptions): Promise<Credentials> {
  const sts = awsClient(STSClient, options)
  const command = new AssumeRoleWithWebIdentityCommand({
    RoleArn: roleArn,
    RoleSessionName: options.roleSessionName,
    WebIdentityToken: token,
    DurationSeconds: options.roleDurationSeconds
  })
  try {
    const response = await awsCall(`Assuming role ${roleArn}`, options, () => sts.send(command), isRetryableAssumeRoleError)
    if (!response.Credentials) throw new Error('STS AssumeRoleWithWebIdentity returned no credentials')
    return response.Credentials
  } catch (error) {
    if (isDurationTooLong(error)) throw durationTooLongError(error, roleArn, options.roleDurationSeconds)
    throw assumeRoleError(error, roleArn, token, options.audience ?? OIDC_AUDIENCE)
  }
}

/** STS's ValidationError for a DurationSeconds above the role's MaxSessionDuration. */
function isDurationTooLong(error: unknown): boolean {
  return awsErrorName(error) === 'ValidationError' && /MaxSessionDuration/i.test(errorMessage(error))
}

function durationTooLongError(error: unknown, roleArn: string, requestedSeconds: number): ActionError {
  return new ActionError(
    'Role session duration too long',
    `role-duration-seconds asks for a ${requestedSeconds}-second session, but the MaxSessionDuration of ${roleArn} is lower ` +
      `(STS: ${errorMessage(error)}). Either lower the role-duration-seconds input to at most the role's MaxSessionDuration ` +
      '(3600 unless the role says otherwise), or raise the MaxSessionDuration of the role (up to 43200): with the setup ' +
      'template templates/aws-setup/github-oidc-role.yaml, set its MaxSessionDuration parameter to at least ' +
      `${requestedSeconds} and update the stack.`
  )
}

/** A fresh token can be "not yet valid" for a moment (clock skew), so that one is retried too. */
function isRetryableAssumeRoleError(error: unknown): boolean {
  return awsErrorName(error) === 'InvalidIdentityToken' || isTransientAwsError(error)
}

async function callerIdentity(context: AwsContext, assumed: boolean): Promise<AwsIdentity> {
  const sts = awsClient(STSClient, context)
  try {
    const response = await awsCall('Checking AWS credentials (GetCallerIdentity)', context, () =>
      sts.send(new GetCallerIdentityCommand({}))
    )
    if (!response.Account || !response.Arn) throw new Error('STS GetCallerIdentity returned no account')
    return { accountId: response.Account, arn: response.Arn, region: context.region }
  } catch (error) {
    if (isCredentialsMissing(error)) {
      throw new ActionError(
        'No AWS credentials',
        "No AWS credentials were found. Set the 'role-to-assume' input (with 'permissions: id-token: write' on the job), " +
          'or configure credentials in an earlier step (e.g. aws-actions/configure-aws-credentials).'
      )
    }
    // A fault awsCall explained (the network, a deadline, expired credentials) is not a rejection.
    if (error instanceof ActionError) throw error
    const source = assumed ? 'The credentials of the assumed role' : 'The AWS credentials in the environment'
    throw new ActionError('AWS credentials rejected', `${source} were rejected by STS GetCallerIdentity: ${errorMessage(error)}`)
  }
}

/** The head repository of a pull request from a fork (pull_request_target runs in the base repository, so never), else undefined. */
function forkPullRequestHead(eventName: string | undefined, payload: PullRequestPayload): string | undefined {
  if (eventName === 'pull_request_target') return undefined
  const pullRequest = pullRequestOf(eventName, payload)
  if (!pullRequest?.fromFork) return undefined
  return pullRequest.headRepository ?? '(a deleted fork)'
}

/** Who wanted the OIDC token: the cloud its credentials are for, and the input that asked for them. */
export interface OidcTokenConsumer {
  credentials: string
  input: string
}

const AWS_CONSUMER: OidcTokenConsumer = { credentials: 'AWS credentials', input: 'role-to-assume' }

/** No OIDC token in this job: a fork's pull request (nothing is deployed there) or a workflow without `id-token: write`. */
export function missingIdTokenError(
  eventName: string | undefined = process.env.GITHUB_EVENT_NAME,
  payload: PullRequestPayload = readEventPayload(),
  consumer: OidcTokenConsumer = AWS_CONSUMER
): MissingIdTokenError {
  const fork = forkPullRequestHead(eventName, payload)
  if (fork) {
    return new MissingIdTokenError(
      'fork-pull-request',
      'No OIDC token: pull request from a fork',
      `This run was triggered by a pull request from the fork ${fork}. GitHub gives workflows running on pull ` +
        `requests from forks no OIDC token (and no secrets), so ${consumer.credentials} cannot be obtained and nothing is deployed. ` +
        'Deploy previews only for branches of this repository, e.g. add ' +
        '`if: github.event.pull_request.head.repo.full_name == github.repository` to the deploy job.'
    )
  }
  return new MissingIdTokenError(
    'missing-permission',
    'No OIDC token: missing id-token permission',
    `'${consumer.input}' is set but GitHub issued no OIDC token to this job (ACTIONS_ID_TOKEN_REQUEST_URL is not set). ` +
      'The workflow or job needs the id-token permission:\n' +
      'permissions:\n  id-token: write\n  contents: read\n' +
      '(Once a permissions block is present, every permission it does not list is none; add pull-requests: write for the PR comment.)'
  )
}

/** A string claim of a JWT, read without verifying it (only to explain an AccessDenied). */
function tokenClaim(token: string, name: 'sub' | 'iss'): string | undefined {
  const payload = token.split('.')[1]
  if (!payload) return undefined
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
    return typeof claims[name] === 'string' ? claims[name] : undefined
  } catch {
    return undefined
  }
}

/** The `sub` claim of a JWT, read without verifying it (only to explain an AccessDenied). */
export function tokenSubject(token: string): string | undefined {
  return tokenClaim(token, 'sub')
}

/**
 * The issuer of this server's OIDC tokens without `https://`, which is also the IAM OIDC provider's
 * URL and the prefix of its condition keys (`<issuer>:sub`, `<issuer>:aud`): github.com's
 * `token.actions.githubusercontent.com`, GitHub Enterprise Cloud with data residency's
 * `token.actions.<subdomain>.ghe.com`, GitHub Enterprise Server's `<host>/_services/token`.
 */
export function oidcIssuerHost(serverUrl: string | undefined = process.env.GITHUB_SERVER_URL): string {
  let host: string
  try {
    host = new URL(serverUrl || 'https://github.com').host.toLowerCase()
  } catch {
    return GITHUB_COM_ISSUER_HOST
  }
  if (host === 'github.com' || host === 'www.github.com') return GITHUB_COM_ISSUER_HOST
  if (host.endsWith('.ghe.com')) return `token.actions.${host}`
  return `${host}/_services/token`
}

/** The issuer a token names (`iss` without `https://`), else the one GITHUB_SERVER_URL implies. */
export function tokenIssuerHost(token: string): string {
  const issuer = tokenClaim(token, 'iss')
  return issuer ? issuer.replace(/^https:\/\//, '').replace(/\/$/, '') : oidcIssuerHost()
}

function assumeRoleError(error: unknown, roleArn: string, token: string, audience: string): ActionError {
  const name = awsErrorName(error)
  if (name !== 'AccessDenied' && name !== 'AccessDeniedException') {
    if (error instanceof ActionError) return error
    return new ActionError('Could not assume the AWS role', `STS AssumeRoleWithWebIdentity for ${roleArn} failed: ${errorMessage(error)}`)
  }
  const repository = process.env.GITHUB_REPOSITORY ?? '<owner>/<repo>'
  const subject = tokenSubject(token)
  const issuer = tokenIssuerHost(token)
  return new ActionError(
    'AWS denied the role',
    `STS refused to let this workflow assume ${roleArn}: ${errorMessage(error)}\n` +
      (subject ? `This job's OIDC token has sub = '${subject}' (audience '${audience}', issuer https://${issuer}).\n` : '') +
      `The role's trust policy must trust the OIDC provider ${issuer} (an IAM OIDC provider with the URL https://${issuer} ` +
      `and the audience '${audience}') with '${issuer}:aud' = '${audience}' and a '${issuer}:sub' ` +
      'condition (StringLike) that matches this run, for example:\n' +
      `  repo:${repository}:ref:refs/heads/<branch>   (pushes to a branch)\n` +
      `  repo:${repository}:pull_request              (pull request previews)\n` +
      `  repo:${repository}:environment:<name>        (jobs with an environment)`
  )
}
