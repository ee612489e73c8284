import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { MissingIdTokenError } from '../../src/aws/credentials.js'
import { ActionError } from '../../src/action-error.js'
import {
  authenticateToGoogle,
  parseServiceAccount,
  parseWorkloadIdentityProvider,
  type GcpCredentialOptions
} from '../../src/gcp/credentials.js'
import { gcpEndpoints } from '../../src/gcp/endpoints.js'
import { CloudRunApi } from '../../src/gcp/run-api.js'
import { captureStdout } from '../../testkit/annotations.js'
import { startGcpStandin, type GcpStandin, type GcpStandinOptions } from '../../testkit/gcp-standin.js'

const noSleep = async (): Promise<void> => {}
const REPOSITORY = 'octo-org/octo-repo'

const standins: GcpStandin[] = []
let standin: GcpStandin

async function start(options: GcpStandinOptions = {}): Promise<GcpStandin> {
  const started = await startGcpStandin(options)
  standins.push(started)
  return started
}

beforeAll(async () => {
  standin = await start()
})

afterAll(async () => {
  await Promise.all(standins.map(started => started.stop()))
})

function options(on: GcpStandin, overrides: Partial<GcpCredentialOptions> = {}): GcpCredentialOptions {
  return {
    workloadIdentityProvider: on.providerName,
    serviceAccount: on.serviceAccount,
    env: { ...on.oidcEnv(), GITHUB_REPOSITORY: REPOSITORY, GITHUB_EVENT_NAME: 'push' },
    endpoints: gcpEndpoints(on.env()),
    retry: { sleep: noSleep },
    ...overrides
  }
}

/** The requests `fn` made to the stand-in. */
async function requestsOf<T>(
  on: GcpStandin,
  fn: () => Promise<T>
): Promise<{ result?: T; error?: unknown; output: string; made: GcpStandin['requests'] }> {
  const before = on.requests.length
  const { result, error, output } = await captureStdout(fn)
  return { result, error, output, made: on.requests.slice(before) }
}

describe('Workload Identity Federation against the stand-in', () => {
  it('asks GitHub for the token with the provider audience, exchanges it at STS, and impersonates the service account', async () => {
    const { result: credentials, made, error } = await requestsOf(standin, () => authenticateToGoogle(options(standin)))
    expect(error).toBeUndefined()
    expect(made.map(request => `${request.api} ${request.method} ${request.path} ${request.status}`)).toEqual([
      'oidc GET /_apis/distributedtask/token 200',
      'sts POST /v1/token 200',
      `iamcredentials POST /v1/projects/-/serviceAccounts/${standin.serviceAccount}:generateAccessToken 200`
    ])
    const [oidc, exchange, impersonation] = made
    expect(oidc.query.audience).toBe(`https://iam.googleapis.com/${standin.providerName}`)
    expect(exchange.authorization).toBeUndefined()
    expect(exchange.contentType).toMatch(/^application\/json/)
    const subjectToken = (exchange.body as { subjectToken: string }).subjectToken
    expect(exchange.body).toEqual({
      audience: `//iam.googleapis.com/${standin.providerName}`,
      grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
      requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'https://www.googleapis.com/auth/cloud-platform',
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
      subjectToken
    })
    expect(subjectToken.split('.')).toHaveLength(3)
    expect(impersonation.authorization).toMatch(/^Bearer ya29\.fed-/)
    expect(impersonation.body).toEqual({ scope: ['https://www.googleapis.com/auth/cloud-platform'], lifetime: '3600s' })
    // The access token is the service account's: the Run API takes it (a federated token would be refused there).
    const api = new CloudRunApi({
      project: standin.project,
      region: 'us-central1',
      credentials: credentials!,
      endpoints: gcpEndpoints(standin.env())
    })
    await expect(api.getService('nothing-here')).resolves.toBeUndefined()
    expect(standin.requests.at(-1)?.authorization).toBe(`Bearer ${await credentials!.accessToken()}`)
  })

  it('masks every token it handles and prints none of them', async () => {
    const {
      result: credentials,
      output,
      made
    } = await requestsOf(standin, async () => {
      const signedIn = await authenticateToGoogle(options(standin))
      await signedIn.idToken('https://hello-xyz.a.run.app')
      return signedIn
    })
    const oidcToken = (made[1].body as { subjectToken: string }).subjectToken
    const federated = made[2].authorization!.replace('Bearer ', '')
    const accessToken = await credentials!.accessToken()
    const idTokenAnswer = made.find(request => request.path.endsWith(':generateIdToken'))
    expect(idTokenAnswer?.status).toBe(200)
    const lines = output.split('\n')
    for (const token of [oidcToken, federated, accessToken]) {
      expect(lines).toContain(`::add-mask::${token}`)
      expect(lines.filter(line => line.includes(token) && !line.startsWith('::add-mask::'))).toEqual([])
    }
    expect(lines.filter(line => line.startsWith('::add-mask::'))).toHaveLength(4)
  })

  it('mints an ID token for an audience with the federated token, email included', async () => {
    const { result: credentials } = await captureStdout(() => authenticateToGoogle(options(standin)))
    const { result: token, made } = await requestsOf(standin, () => credentials!.idToken('https://hello-xyz.a.run.app'))
    expect(made).toHaveLength(1)
    expect(made[0].path).toBe(`/v1/projects/-/serviceAccounts/${standin.serviceAccount}:generateIdToken`)
    expect(made[0].authorization).toMatch(/^Bearer ya29\.fed-/)
    expect(made[0].body).toEqual({ audience: 'https://hello-xyz.a.run.app', includeEmail: true })
    const claims = JSON.parse(Buffer.from(token!.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>
    expect(claims).toMatchObject({ aud: 'https://hello-xyz.a.run.app', email: standin.serviceAccount })
  })

  it('replaces an access token that is about to expire, reusing the federated token', async () => {
    const shortLived = await start({ accessTokenLifetimeSeconds: 60 })
    const { result: credentials } = await captureStdout(() => authenticateToGoogle(options(shortLived)))
    const { result: first } = await captureStdout(() => credentials!.accessToken())
    const { result: second, made } = await requestsOf(shortLived, () => credentials!.accessToken())
    expect(second).not.toBe(first)
    expect(made.map(request => request.path)).toEqual([`/v1/projects/-/serviceAccounts/${shortLived.serviceAccount}:generateAccessToken`])
    // A token with an hour left is kept, and so is the federated token.
    const { result: longLived } = await captureStdout(() => authenticateToGoogle(options(standin)))
    const { made: none } = await requestsOf(standin, async () => [
      await longLived!.accessToken(),
      await longLived!.idToken('https://a.example')
    ])
    expect(none.map(request => request.path)).toEqual([`/v1/projects/-/serviceAccounts/${standin.serviceAccount}:generateIdToken`])
  })
})

describe('inputs, checked before anything is sent', () => {
  const refused = async (overrides: Partial<GcpCredentialOptions>): Promise<ActionError> => {
    const { error, made } = await requestsOf(standin, () => authenticateToGoogle(options(standin, overrides)))
    expect(made).toEqual([])
    expect(error).toBeInstanceOf(ActionError)
    return error as ActionError
  }

  it.each([
    [
      'projects/my-project/locations/global/workloadIdentityPools/github/providers/my-repo',
      /project NUMBER.*gcloud projects describe my-project/
    ],
    [
      '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github/providers/my-repo',
      /without the \/\/iam\.googleapis\.com\/ prefix/
    ],
    ['projects/123/locations/global/workloadIdentityPools/github', /That is the pool; add \/providers\/<provider>/],
    ['projects/123/locations/us-central1/workloadIdentityPools/github/providers/my-repo', /location global/],
    ['projects/123/locations/global/workloadIdentityPools/gh/providers/my-repo', /4 to 32 lower-case/]
  ])('workload-identity-provider %s', async (value, hint) => {
    const error = await refused({ workloadIdentityProvider: value })
    expect(error.message).toContain("Input 'workload-identity-provider'")
    expect(error.message).toContain('projects/<project-number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>')
    expect(error.message).toContain('projects/123456789012/locations/global/workloadIdentityPools/github/providers/my-repo')
    expect(error.message).toMatch(hint)
  })

  it('a missing provider is named as required', async () => {
    const error = await refused({ workloadIdentityProvider: '  ' })
    expect(error.message).toMatch(/Input 'workload-identity-provider' is required for target google-cloud-run/)
  })

  it.each([
    ['pmcp-deploy', /full email address/],
    ['Pmcp-Deploy@my-project.iam.gserviceaccount.com', /lower case/],
    ['projects/-/serviceAccounts/pmcp-deploy@my-project.iam.gserviceaccount.com', /only the email/],
    ['someone@example.com', /Only service accounts/],
    [undefined, /is required/]
  ])('service-account %s', async (value, hint) => {
    const error = await refused({ serviceAccount: value })
    expect(error.message).toContain("Input 'service-account'")
    expect(error.message).toContain('pmcp-deploy@my-project.iam.gserviceaccount.com')
    expect(error.message).toMatch(hint)
  })

  it('takes the usual forms', () => {
    expect(parseWorkloadIdentityProvider(' projects/42/locations/global/workloadIdentityPools/gh-pool/providers/gh-prov ')).toEqual({
      name: 'projects/42/locations/global/workloadIdentityPools/gh-pool/providers/gh-prov',
      projectNumber: '42',
      pool: 'gh-pool',
      provider: 'gh-prov'
    })
    expect(parseServiceAccount('deploy@my-project.iam.gserviceaccount.com')).toBe('deploy@my-project.iam.gserviceaccount.com')
    expect(parseServiceAccount('123456789012-compute@developer.gserviceaccount.com')).toBe(
      '123456789012-compute@developer.gserviceaccount.com'
    )
  })

  it('without ACTIONS_ID_TOKEN_REQUEST_URL the workflow needs id-token: write', async () => {
    const error = await refused({ env: { GITHUB_REPOSITORY: REPOSITORY, GITHUB_EVENT_NAME: 'push' } })
    expect(error).toBeInstanceOf(MissingIdTokenError)
    expect((error as MissingIdTokenError).reason).toBe('missing-permission')
    expect(error.message).toContain('ACTIONS_ID_TOKEN_REQUEST_URL is not set')
    expect(error.message).toContain('id-token: write')
  })

  it("a fork's pull request gets the fork notice, as on AWS", async () => {
    const payload = {
      pull_request: { number: 7, head: { repo: { full_name: 'stranger/octo-repo' } }, base: { repo: { full_name: REPOSITORY } } }
    }
    const error = await refused({ env: { GITHUB_REPOSITORY: REPOSITORY }, event: { name: 'pull_request', payload } })
    expect((error as MissingIdTokenError).reason).toBe('fork-pull-request')
    expect(error.message).toContain('stranger/octo-repo')
    expect(error.message).toContain('Google Cloud credentials cannot be obtained')
  })
})

describe('refusals, each explained', () => {
  const failure = async (on: GcpStandin, overrides: Partial<GcpCredentialOptions> = {}): Promise<ActionError> => {
    const { error } = await requestsOf(on, () => authenticateToGoogle(options(on, overrides)))
    expect(error).toBeInstanceOf(ActionError)
    return error as ActionError
  }

  it("another repository's token: the attribute condition does not admit it", async () => {
    const other = await start({ allowedRepository: 'octo-org/other-repo', jobRepository: REPOSITORY })
    const error = await failure(other)
    expect(error.title).toBe('Workload Identity provider does not admit this repository')
    expect(error.message).toContain('The given credential is rejected by the attribute condition')
    expect(error.message).toContain(`GITHUB_REPOSITORY=${REPOSITORY}`)
    expect(error.message).toContain(
      'gcloud iam workload-identity-pools providers describe octo-repo --workload-identity-pool=github --location=global ' +
        `--project=${other.projectNumber}`
    )
    expect(error.message).toContain(`--attribute-condition="assertion.repository == '${REPOSITORY}'"`)
  })

  it('a token for an audience the provider does not allow', async () => {
    const error = await failure(standin, { audience: 'sts.amazonaws.com' })
    expect(standin.requests.filter(request => request.api === 'oidc').at(-1)?.query.audience).toBe('sts.amazonaws.com')
    expect(error.title).toBe('Workload Identity provider refused the token audience')
    expect(error.message).toContain("audience 'sts.amazonaws.com' (the input 'audience')")
    expect(error.message).toContain(`https://iam.googleapis.com/${standin.providerName}`)
    expect(error.message).toContain("Leave the 'audience' input unset")
  })

  it('a provider that does not exist', async () => {
    const error = await failure(standin, {
      workloadIdentityProvider: `projects/${standin.projectNumber}/locations/global/workloadIdentityPools/github/providers/gone-away`
    })
    expect(error.title).toBe('Workload Identity provider not found')
    expect(error.message).toMatch(/invalid_target.*pool or provider is disabled or deleted/)
    expect(error.message).toContain('gcloud iam workload-identity-pools providers list --workload-identity-pool=github')
  })

  it('a provider that trusts another issuer', async () => {
    const other = await start({ trustedIssuer: 'https://gitlab.example.com' })
    const error = await failure(other)
    expect(error.title).toBe('Workload Identity provider refused the token')
    expect(error.message).toContain('The issuer in ID Token https://token.actions.githubusercontent.com does not match')
    expect(error.message).toContain("--format='value(oidc.issuerUri)'")
  })

  it('impersonation refused (403): the principal needs roles/iam.workloadIdentityUser, with the exact command', async () => {
    const other = await start({ impersonationAllowed: false })
    const error = await failure(other)
    expect(error.title).toBe('Cannot impersonate the service account')
    expect(error.message).toContain("Permission 'iam.serviceAccounts.getAccessToken' denied")
    expect(error.message).toContain(
      `gcloud iam service-accounts add-iam-policy-binding ${other.serviceAccount} --role=roles/iam.workloadIdentityUser ` +
        `--member="principalSet://iam.googleapis.com/projects/${other.projectNumber}/locations/global/workloadIdentityPools/github/` +
        `attribute.repository/${REPOSITORY}"`
    )
  })

  it('a service account that does not exist (404)', async () => {
    const error = await failure(standin, { serviceAccount: 'nobody@pmcp-test.iam.gserviceaccount.com' })
    expect(error.title).toBe('Service account not found')
    expect(error.message).toContain('nobody@pmcp-test.iam.gserviceaccount.com')
    expect(error.message).toContain('gcloud iam service-accounts list --project=pmcp-test')
  })

  it('the IAM Service Account Credentials API not enabled', async () => {
    const other = await start({ disabledServices: ['iamcredentials.googleapis.com'] })
    const error = await failure(other)
    expect(error.message).toContain('gcloud services enable iamcredentials.googleapis.com --project=pmcp-test')
  })

  it('an STS that answers a page instead of JSON is said to be one, with its URL', async () => {
    const other = await start()
    other.failNext('sts', 1, { status: 200, contentType: 'text/html', body: '<html><body>Sign in to the proxy</body></html>' })
    const error = await failure(other)
    expect(error.message).toContain(`${other.stsUrl}/v1/token`)
    expect(error.message).toMatch(/text\/html instead of JSON.*Sign in to the proxy/)
    expect(error.message).toContain('PMCP_GCP_STS_URL is set')
  })
})
