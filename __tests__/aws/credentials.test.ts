import { afterAll, afterEach, beforeAll, beforeEach, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { requireRegion } from '../../src/aws/session.js'
import { regionOf } from '../../src/plan.js'
import {
  configureAwsCredentials,
  MissingIdTokenError,
  oidcIssuerHost,
  tokenSubject,
  type AwsCredentialOptions
} from '../../src/aws/credentials.js'
import { ActionError } from '../../src/errors.js'
import { describeWithMoto, startMoto, type MotoServer } from '../../testkit/moto.js'
import { fakeJwt, startTokenService, type TokenService } from '../../testkit/token-service.js'

const ROLE = 'arn:aws:iam::210987654321:role/pmcp-deploy'
const noSleep = async (): Promise<void> => {}
const savedEnv = { ...process.env }

function options(overrides: Partial<AwsCredentialOptions> = {}): AwsCredentialOptions {
  return {
    roleToAssume: ROLE,
    region: 'eu-west-1',
    roleSessionName: 'pmcp-deploy',
    roleDurationSeconds: 900,
    retry: { sleep: noSleep },
    ...overrides
  }
}

/** Everything written to stdout (where ::add-mask:: and log lines go) while `fn` runs. */
async function captureStdout<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: unknown; lines: string[] }> {
  let written = ''
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written += chunk.toString()
    return true
  })
  try {
    return { result: await fn(), lines: written.split(/\r?\n/) }
  } catch (error) {
    return { error, lines: written.split(/\r?\n/) }
  } finally {
    spy.mockRestore()
  }
}

let workDir: string

beforeEach(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-credentials-'))
  for (const name of Object.keys(process.env)) {
    if (/^(AWS_|ACTIONS_ID_TOKEN_|GITHUB_)/.test(name)) delete process.env[name]
  }
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
  process.env.GITHUB_REPOSITORY = 'octo-org/octo-repo'
})

afterEach(() => {
  process.env = { ...savedEnv }
  fs.rmSync(workDir, { recursive: true, force: true })
})

describe('the region (resolved once, by the plan)', () => {
  // What the plan resolves; a command that reaches AWS requires one.
  const resolveRegion = (given: string | undefined, env: NodeJS.ProcessEnv): string => requireRegion(regionOf(given, undefined, env))

  it('prefers the input, then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(resolveRegion('ap-south-1', { AWS_REGION: 'us-east-1' })).toBe('ap-south-1')
    expect(resolveRegion(undefined, { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'us-west-1' })).toBe('us-east-2')
    expect(resolveRegion('', { AWS_DEFAULT_REGION: 'us-west-1' })).toBe('us-west-1')
  })

  it('fails with a clear error when no region is known', () => {
    expect(() => resolveRegion(undefined, {})).toThrow(/Set the 'aws-region' input/)
  })

  it("puts deploy.toml's [aws] region between the input and the environment", () => {
    expect(regionOf(undefined, 'eu-central-1', { AWS_REGION: 'us-east-1' })).toBe('eu-central-1')
    expect(regionOf('ap-south-1', 'eu-central-1', {})).toBe('ap-south-1')
  })
})

describe('missing OIDC token', () => {
  function writeEvent(payload: unknown): void {
    const eventPath = path.join(workDir, 'event.json')
    fs.writeFileSync(eventPath, JSON.stringify(payload))
    process.env.GITHUB_EVENT_PATH = eventPath
  }

  it('explains a pull request from a fork', async () => {
    process.env.GITHUB_EVENT_NAME = 'pull_request'
    writeEvent({
      pull_request: { head: { repo: { full_name: 'mallory/octo-repo' } }, base: { repo: { full_name: 'octo-org/octo-repo' } } }
    })
    const error = await configureAwsCredentials(options()).catch(e => e)
    expect(error).toBeInstanceOf(MissingIdTokenError)
    expect(error.reason).toBe('fork-pull-request')
    expect(error.title).toBe('No OIDC token: pull request from a fork')
    expect(error.message).toContain('mallory/octo-repo')
    expect(error.message).toContain('github.event.pull_request.head.repo.full_name == github.repository')
  })

  it('explains a missing id-token permission (a pull request from the same repository)', async () => {
    process.env.GITHUB_EVENT_NAME = 'pull_request'
    writeEvent({
      pull_request: { head: { repo: { full_name: 'octo-org/octo-repo' } }, base: { repo: { full_name: 'octo-org/octo-repo' } } }
    })
    const error = await configureAwsCredentials(options()).catch(e => e)
    expect(error).toBeInstanceOf(MissingIdTokenError)
    expect(error.reason).toBe('missing-permission')
    expect(error.message).toContain('id-token: write')
    expect(error.message).not.toContain('fork')
  })

  it('reads the fork from the event it is given (the run context), not from the event file', async () => {
    process.env.GITHUB_EVENT_NAME = 'push'
    delete process.env.GITHUB_EVENT_PATH
    const payload = {
      pull_request: { head: { repo: { full_name: 'mallory/octo-repo' } }, base: { repo: { full_name: 'octo-org/octo-repo' } } }
    }
    const error = await configureAwsCredentials(options({ event: { name: 'pull_request', payload } })).catch(e => e)
    expect(error).toBeInstanceOf(MissingIdTokenError)
    expect(error.reason).toBe('fork-pull-request')
    expect(error.message).toContain('mallory/octo-repo')
  })

  it('explains a missing id-token permission on a push', async () => {
    process.env.GITHUB_EVENT_NAME = 'push'
    writeEvent({ ref: 'refs/heads/main' })
    const error = await configureAwsCredentials(options()).catch(e => e)
    expect(error.reason).toBe('missing-permission')
    expect(error.message).toContain('permissions:\n  id-token: write')
  })
})

describeWithMoto('OIDC credentials against moto', () => {
  let moto: MotoServer
  let tokens: TokenService | undefined

  beforeAll(async () => {
    moto = await startMoto()
  })

  afterAll(async () => {
    await moto?.stop()
  })

  afterEach(async () => {
    await tokens?.stop()
    tokens = undefined
  })

  async function useTokenService(failFirst = 0): Promise<TokenService> {
    tokens = await startTokenService({ failFirst })
    Object.assign(process.env, tokens.env(), { AWS_ENDPOINT_URL: moto.endpoint })
    return tokens
  }

  it('assumes the role, exports and masks the credentials, and never prints them', async () => {
    const service = await useTokenService()
    const githubEnv = path.join(workDir, 'github-env')
    fs.writeFileSync(githubEnv, '')
    process.env.GITHUB_ENV = githubEnv

    const { result: identity, error, lines } = await captureStdout(() => configureAwsCredentials(options()))
    expect(error).toBeUndefined()

    // GetCallerIdentity ran with the assumed credentials: moto answers with the role's account.
    expect(identity).toEqual({
      accountId: '210987654321',
      arn: 'arn:aws:sts::210987654321:assumed-role/pmcp-deploy/pmcp-deploy',
      region: 'eu-west-1'
    })
    const secrets = [process.env.AWS_ACCESS_KEY_ID!, process.env.AWS_SECRET_ACCESS_KEY!, process.env.AWS_SESSION_TOKEN!]
    expect(process.env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/)
    expect(secrets.every(secret => secret.length > 10)).toBe(true)
    expect(process.env.AWS_REGION).toBe('eu-west-1')
    expect(process.env.AWS_DEFAULT_REGION).toBe('eu-west-1')

    const exported = fs.readFileSync(githubEnv, 'utf8')
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_DEFAULT_REGION']) {
      expect(exported).toContain(`${name}<<`)
    }
    expect(exported).toContain(process.env.AWS_SESSION_TOKEN)

    for (const secret of [...secrets, service.token]) {
      expect(lines).toContain(`::add-mask::${secret}`)
      expect(lines.filter(line => line.includes(secret) && line !== `::add-mask::${secret}`)).toEqual([])
    }
    expect(lines.join('\n')).toContain(`Assumed role ${ROLE}`)
    expect(service.requests).toEqual([
      { audience: 'sts.amazonaws.com', authorization: `Bearer ${service.requestToken}`, answeredWith: 200 }
    ])
  })

  it("asks the token service for the 'audience' input", async () => {
    const service = await useTokenService()
    const { result: identity, error } = await captureStdout(() => configureAwsCredentials(options({ audience: 'sts.example.internal' })))
    expect(error).toBeUndefined()
    expect(identity?.accountId).toBe('210987654321')
    expect(service.requests.map(request => request.audience)).toEqual(['sts.example.internal'])
  })

  it('does not print the credentials without GITHUB_ENV (no ::set-env fallback)', async () => {
    await useTokenService()
    const { error, lines } = await captureStdout(() => configureAwsCredentials(options()))
    expect(error).toBeUndefined()
    const secret = process.env.AWS_SECRET_ACCESS_KEY!
    expect(lines.filter(line => line.includes(secret))).toEqual([`::add-mask::${secret}`])
    expect(lines.some(line => line.startsWith('::set-env'))).toBe(false)
  })

  it('retries a token service that fails twice', async () => {
    const service = await useTokenService(2)
    const { result: identity, lines } = await captureStdout(() => configureAwsCredentials(options()))
    expect(identity?.accountId).toBe('210987654321')
    expect(service.requests.map(request => request.answeredWith)).toEqual([500, 500, 200])
    expect(lines.filter(line => line.startsWith('Requesting the GitHub OIDC token failed'))).toHaveLength(2)
  })

  it('gives up on a token service that keeps failing', async () => {
    const service = await useTokenService(99)
    const { error } = await captureStdout(() => configureAwsCredentials(options({ retry: { sleep: noSleep, attempts: 3 } })))
    expect(error).toBeInstanceOf(ActionError)
    expect((error as ActionError).title).toBe('Could not get an OIDC token')
    expect(service.requests).toHaveLength(3)
  })

  it('without a role, checks the credentials already in the environment', async () => {
    Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' })
    const { result: identity } = await captureStdout(() => configureAwsCredentials(options({ roleToAssume: undefined })))
    expect(identity).toEqual({ accountId: '123456789012', arn: 'arn:aws:sts::123456789012:user/moto', region: 'eu-west-1' })
    expect(process.env.AWS_REGION).toBe('eu-west-1')
  })

  it('without a role and without credentials, says how to provide them', async () => {
    process.env.AWS_ENDPOINT_URL = moto.endpoint
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(workDir, 'none')
    process.env.AWS_CONFIG_FILE = path.join(workDir, 'none')
    const { error } = await captureStdout(() => configureAwsCredentials(options({ roleToAssume: undefined })))
    expect(error).toBeInstanceOf(ActionError)
    expect((error as ActionError).title).toBe('No AWS credentials')
    expect((error as ActionError).message).toContain("'role-to-assume'")
  })
})

describe('STS AccessDenied', () => {
  // moto never denies AssumeRoleWithWebIdentity, so this server plays STS answering as AWS does
  // when the role's trust policy does not match the token.
  let sts: http.Server
  let calls = 0
  let tokens: TokenService

  beforeAll(async () => {
    sts = http.createServer((request, response) => {
      calls++
      request.resume()
      response.writeHead(403, { 'content-type': 'text/xml' })
      response.end(
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>' +
          '<Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>' +
          '<RequestId>4d1b1c1e-0000-4000-8000-000000000000</RequestId></ErrorResponse>'
      )
    })
    await new Promise<void>(resolve => sts.listen(0, '127.0.0.1', resolve))
    tokens = await startTokenService({ claims: { sub: 'repo:octo-org/octo-repo:environment:production' } })
  })

  afterAll(async () => {
    await tokens.stop()
    await new Promise(resolve => sts.close(resolve))
  })

  it('names the role and the sub claim to trust, without retrying', async () => {
    Object.assign(process.env, tokens.env(), { AWS_ENDPOINT_URL: `http://127.0.0.1:${(sts.address() as AddressInfo).port}` })
    const { error, lines } = await captureStdout(() => configureAwsCredentials(options()))
    expect(error).toBeInstanceOf(ActionError)
    const { title, message } = error as ActionError
    expect(title).toBe('AWS denied the role')
    expect(message).toContain(ROLE)
    expect(message).toContain("sub = 'repo:octo-org/octo-repo:environment:production'")
    expect(message).toContain('repo:octo-org/octo-repo:ref:refs/heads/<branch>')
    expect(message).toContain('repo:octo-org/octo-repo:pull_request')
    expect(message).not.toContain(tokens.token)
    expect(calls).toBe(1)
    expect(lines).toContain(`::add-mask::${tokens.token}`)
  })

  it('names the issuer and audience of a GitHub Enterprise Server token, never github.com', async () => {
    const ghes = await startTokenService({
      claims: { iss: 'https://ghes.example.com/_services/token', aud: 'sts.custom', sub: 'repo:o/r:pull_request' }
    })
    try {
      Object.assign(process.env, ghes.env(), {
        AWS_ENDPOINT_URL: `http://127.0.0.1:${(sts.address() as AddressInfo).port}`,
        GITHUB_SERVER_URL: 'https://ghes.example.com'
      })
      const { error } = await captureStdout(() => configureAwsCredentials(options({ audience: 'sts.custom' })))
      const { message } = error as ActionError
      expect(message).toContain('OIDC provider ghes.example.com/_services/token')
      expect(message).toContain("'ghes.example.com/_services/token:aud' = 'sts.custom'")
      expect(message).toContain("'ghes.example.com/_services/token:sub'")
      expect(message).toContain("(audience 'sts.custom', issuer https://ghes.example.com/_services/token)")
      expect(message).not.toContain('githubusercontent')
      expect(message).not.toContain('sts.amazonaws.com')
      expect(ghes.requests.map(request => request.audience)).toEqual(['sts.custom'])
    } finally {
      await ghes.stop()
    }
  })

  it('derives the issuer host from GITHUB_SERVER_URL', () => {
    expect(oidcIssuerHost('https://github.com')).toBe('token.actions.githubusercontent.com')
    expect(oidcIssuerHost(undefined)).toBe('token.actions.githubusercontent.com')
    expect(oidcIssuerHost('https://ghes.example.com')).toBe('ghes.example.com/_services/token')
    expect(oidcIssuerHost('https://GHES.example.com:8443/')).toBe('ghes.example.com:8443/_services/token')
    expect(oidcIssuerHost('https://octocorp.ghe.com')).toBe('token.actions.octocorp.ghe.com')
  })

  it('reads the sub claim of a token, and nothing from a malformed one', () => {
    expect(tokenSubject(fakeJwt({ sub: 'repo:a/b:pull_request' }))).toBe('repo:a/b:pull_request')
    expect(tokenSubject('not-a-jwt')).toBeUndefined()
    expect(tokenSubject('a.!!!.c')).toBeUndefined()
  })
})

describe('STS refuses the session duration', () => {
  // moto does not check DurationSeconds against the role's MaxSessionDuration, so this server plays
  // STS answering as AWS does when role-duration-seconds exceeds it.
  let sts: http.Server
  let requested: string[] = []
  let tokens: TokenService

  beforeAll(async () => {
    sts = http.createServer((request, response) => {
      let body = ''
      request.setEncoding('utf8')
      request.on('data', (chunk: string) => (body += chunk))
      request.on('end', () => {
        requested.push(new URLSearchParams(body).get('DurationSeconds') ?? '')
        response.writeHead(400, { 'content-type': 'text/xml' })
        response.end(
          '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>' +
            '<Code>ValidationError</Code>' +
            '<Message>The requested DurationSeconds exceeds the MaxSessionDuration set for this role.</Message>' +
            '</Error><RequestId>5e2c2d2f-0000-4000-8000-000000000000</RequestId></ErrorResponse>'
        )
      })
    })
    await new Promise<void>(resolve => sts.listen(0, '127.0.0.1', resolve))
    tokens = await startTokenService()
  })

  afterAll(async () => {
    await tokens.stop()
    await new Promise(resolve => sts.close(resolve))
  })

  it('names the requested seconds, the lower MaxSessionDuration and both fixes, without retrying', async () => {
    requested = []
    Object.assign(process.env, tokens.env(), { AWS_ENDPOINT_URL: `http://127.0.0.1:${(sts.address() as AddressInfo).port}` })
    const { error } = await captureStdout(() => configureAwsCredentials(options({ roleDurationSeconds: 7200 })))
    expect(error).toBeInstanceOf(ActionError)
    const { title, message } = error as ActionError
    expect(title).toBe('Role session duration too long')
    expect(message).toContain('7200-second session')
    expect(message).toContain(`the MaxSessionDuration of ${ROLE} is lower`)
    expect(message).toContain('exceeds the MaxSessionDuration set for this role')
    expect(message).toContain('lower the role-duration-seconds input')
    expect(message).toContain('set its MaxSessionDuration parameter to at least 7200')
    expect(message).not.toContain(tokens.token)
    expect(requested).toEqual(['7200'])
  })
})
