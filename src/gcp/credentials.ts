/**
 * Google Cloud credentials by Workload Identity Federation, the way google-github-actions/auth gets
 * them: the job's GitHub OIDC token (audience `https://iam.googleapis.com/<provider>`) is exchanged
 * at Google's Security Token Service for a federated token, which impersonates the deploy service
 * account (`generateAccessToken`). No key file exists anywhere; every token is masked.
 */
import * as core from '@actions/core'
import { missingIdTokenError as missingOidcTokenFor, MissingIdTokenError, oidcIssuerHost } from '../aws/credentials.js'
import { fetchIdToken } from '../aws/id-token.js'
import { readEventPayload, type PullRequestPayload } from '../context.js'
import { ActionError } from '../action-error.js'
import { maskSecret } from '../masking.js'
import { gcpEndpoints, type GcpEndpoints } from './endpoints.js'
import { GcpApiError, googleJson, type AccessTokenSource, type RetryTuning } from './rest.js'

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt'

/** The lifetime asked for the service account's access token: Google's maximum without an organization exception. */
export const ACCESS_TOKEN_LIFETIME = '3600s'

/** A token this close to its expiry is replaced before use: a deploy's next call may take minutes (a Cloud Run rollout). */
const REFRESH_MARGIN_MS = 5 * 60_000

const PROVIDER_EXAMPLE = 'projects/123456789012/locations/global/workloadIdentityPools/github/providers/my-repo'
const SERVICE_ACCOUNT_EXAMPLE = 'pmcp-deploy@my-project.iam.gserviceaccount.com'

/** A Workload Identity provider's resource name, taken apart. */
export interface WorkloadIdentityProvider {
  /** `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>` */
  name: string
  projectNumber: string
  pool: string
  provider: string
}

function invalidInput(input: string, value: string | undefined, expected: string, example: string, hint = ''): ActionError {
  const given = value ? `is '${value}', which is not ${expected}` : `is required for target google-cloud-run: it must be ${expected}`
  return new ActionError(`Invalid input ${input}`, `Input '${input}' ${given}, for example '${example}'.${hint ? ` ${hint}` : ''}`)
}

const PROVIDER_FORM =
  'a Workload Identity provider name, projects/<project-number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>'
const POOL_OR_PROVIDER_ID = '[a-z0-9-]{4,32}'
const PROVIDER_PATTERN = new RegExp(
  `^projects/(\\d+)/locations/global/workloadIdentityPools/(${POOL_OR_PROVIDER_ID})/providers/(${POOL_OR_PROVIDER_ID})$`
)

/** What is wrong with a provider name that does not match, when it is a mistake people make. */
function providerHint(value: string): string {
  if (/^(https?:)?\/\/iam\.googleapis\.com\//.test(value)) return 'Give the resource name without the //iam.googleapis.com/ prefix.'
  const project = /^projects\/([^/]+)\//.exec(value)?.[1]
  if (project && !/^\d+$/.test(project)) {
    return (
      `It names the project '${project}' by its ID; the provider's name uses the project NUMBER ` +
      `(gcloud projects describe ${project} --format='value(projectNumber)').`
    )
  }
  if (/\/workloadIdentityPools\/[^/]+\/?$/.test(value)) return 'That is the pool; add /providers/<provider>.'
  if (/\/locations\/(?!global\/)/.test(value)) return 'Workload Identity pools live in the location global.'
  if (/\/workloadIdentityPools\/[^/]+\/providers\/[^/]+$/.test(value)) {
    return 'Pool and provider IDs are 4 to 32 lower-case letters, digits and hyphens.'
  }
  return (
    'The setup script templates/gcp-setup/setup.sh prints it; ' +
    'so does gcloud iam workload-identity-pools providers describe … --format="value(name)".'
  )
}

/** Input `workload-identity-provider`, checked before anything is sent. */
export function parseWorkloadIdentityProvider(value: string | undefined): WorkloadIdentityProvider {
  const trimmed = value?.trim() ?? ''
  const match = PROVIDER_PATTERN.exec(trimmed)
  if (!match) {
    throw invalidInput('workload-identity-provider', trimmed, PROVIDER_FORM, PROVIDER_EXAMPLE, trimmed ? providerHint(trimmed) : '')
  }
  return { name: trimmed, projectNumber: match[1], pool: match[2], provider: match[3] }
}

const SERVICE_ACCOUNT_PATTERN = /^[a-z0-9][a-z0-9._-]*@(?:[a-z0-9-]+\.)+gserviceaccount\.com$/

/** Input `service-account`: the email of a service account, checked before anything is sent. */
export function parseServiceAccount(value: string | undefined): string {
  const trimmed = value?.trim() ?? ''
  if (SERVICE_ACCOUNT_PATTERN.test(trimmed)) return trimmed
  const expected = "a service account's email, <name>@<project>.iam.gserviceaccount.com (any address @….gserviceaccount.com)"
  let hint = ''
  if (trimmed && !trimmed.includes('@')) hint = 'Give the full email address of the account, not its name or numeric ID.'
  else if (trimmed.includes('/serviceAccounts/')) hint = 'Give only the email, not the resource name.'
  else if (/[A-Z]/.test(trimmed)) hint = 'Service account emails are lower case.'
  else if (trimmed) hint = 'Only service accounts can be impersonated (a user or group address cannot).'
  throw invalidInput('service-account', trimmed, expected, SERVICE_ACCOUNT_EXAMPLE, hint)
}

/** The `aud` google-github-actions/auth asks GitHub to put in the OIDC token by default, and a provider accepts by default. */
export function defaultOidcAudience(provider: WorkloadIdentityProvider): string {
  return `https://iam.googleapis.com/${provider.name}`
}

/** The provider as STS names it in the `audience` of the exchange. */
export function stsAudience(provider: WorkloadIdentityProvider): string {
  return `//iam.googleapis.com/${provider.name}`
}

/** The principal set of every token of `repository` in the provider's pool (what roles are granted to). */
export function repositoryPrincipal(provider: WorkloadIdentityProvider, repository: string): string {
  return (
    `principalSet://iam.googleapis.com/projects/${provider.projectNumber}/locations/global/workloadIdentityPools/` +
    `${provider.pool}/attribute.repository/${repository}`
  )
}

/** The project ID of `<name>@<project>.iam.gserviceaccount.com`; undefined for Google-managed accounts. */
export function serviceAccountProject(email: string): string | undefined {
  return /@([a-z][a-z0-9-]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1]
}

export interface GcpCredentialOptions {
  /** Input `workload-identity-provider`. */
  workloadIdentityProvider: string | undefined
  /** Input `service-account`. */
  serviceAccount: string | undefined
  /** The `aud` to ask the GitHub OIDC token for [https://iam.googleapis.com/<provider>]. */
  audience?: string
  /** [from the environment: `gcpEndpoints()`] */
  endpoints?: GcpEndpoints
  /** ACTIONS_ID_TOKEN_REQUEST_*, GITHUB_REPOSITORY, the event [process.env]. */
  env?: NodeJS.ProcessEnv
  /** The event that started the run, to tell a fork's missing token from a missing permission [read from the runner]. */
  event?: { name: string; payload: PullRequestPayload }
  retry?: RetryTuning
  /** [Date.now] */
  now?: () => number
}

interface Expiring {
  token: string
  expiresAt: number
}

interface StsAnswer {
  access_token?: unknown
  expires_in?: unknown
}

interface AccessTokenAnswer {
  accessToken?: unknown
  expireTime?: unknown
}

function missingToken(what: string, answer: unknown): ActionError {
  const fields = answer !== null && typeof answer === 'object' ? Object.keys(answer).join(', ') || 'none' : typeof answer
  return new ActionError('Google answered without a token', `${what} answered without a token (fields: ${fields}).`)
}

/**
 * The job's Google identity: the deploy service account, reached by Workload Identity Federation.
 * Tokens are fetched again when they near their expiry (a GitHub OIDC token lives minutes, the
 * federated and access tokens an hour), so a long build does not leave a dead token for the deploy.
 */
export class GcpCredentials implements AccessTokenSource {
  private federated?: Expiring
  private access?: Expiring
  private pendingAccess?: Promise<Expiring>

  private constructor(
    readonly provider: WorkloadIdentityProvider,
    readonly serviceAccount: string,
    private readonly options: GcpCredentialOptions,
    private readonly endpoints: GcpEndpoints
  ) {}

  /** Checks the inputs, then gets the first access token, so every misconfiguration shows here and not mid-deploy. */
  static async authenticate(options: GcpCredentialOptions): Promise<GcpCredentials> {
    const provider = parseWorkloadIdentityProvider(options.workloadIdentityProvider)
    const serviceAccount = parseServiceAccount(options.serviceAccount)
    const env = options.env ?? process.env
    if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) throw missingIdTokenError(env, options.event)
    const credentials = new GcpCredentials(provider, serviceAccount, options, options.endpoints ?? gcpEndpoints(env))
    const { expiresAt } = await credentials.currentAccess()
    core.info(
      `Google Cloud: impersonating ${serviceAccount} through the Workload Identity provider ${provider.name} ` +
        `(access token valid until ${new Date(expiresAt).toISOString()})`
    )
    return credentials
  }

  /** The `principalSet://` of this repository in the provider's pool, for messages and grants. */
  get principal(): string {
    return repositoryPrincipal(this.provider, this.repository)
  }

  private get env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env
  }

  private get repository(): string {
    return this.env.GITHUB_REPOSITORY || '<owner>/<repo>'
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private fresh(token: Expiring | undefined): token is Expiring {
    return token !== undefined && token.expiresAt - this.now() > REFRESH_MARGIN_MS
  }

  async accessToken(): Promise<string> {
    return (await this.currentAccess()).token
  }

  private async currentAccess(): Promise<Expiring> {
    if (this.fresh(this.access)) return this.access
    // Callers in parallel share one refresh instead of each exchanging a token of its own.
    this.pendingAccess ??= this.generateAccessToken().finally(() => (this.pendingAccess = undefined))
    this.access = await this.pendingAccess
    return this.access
  }

  /** An ID token of the deploy service account for `audience` (a private Cloud Run service's URL), for the smoke test. */
  async idToken(audience: string): Promise<string> {
    const federated = await this.federatedToken()
    const answer = await this.iamCredentials<{ token?: unknown }>('generateIdToken', federated, { audience, includeEmail: true })
    if (typeof answer.token !== 'string' || answer.token === '') throw missingToken(`generateIdToken for ${this.serviceAccount}`, answer)
    maskSecret(answer.token)
    return answer.token
  }

  private async federatedToken(): Promise<string> {
    if (this.fresh(this.federated)) return this.federated.token
    const audience = this.options.audience ?? defaultOidcAudience(this.provider)
    const oidcToken = await fetchIdToken(audience, this.env, this.options.retry)
    this.federated = await this.exchange(oidcToken, audience)
    return this.federated.token
  }

  /** STS token exchange, with the JSON body google-github-actions/auth sends. */
  private async exchange(oidcToken: string, oidcAudience: string): Promise<Expiring> {
    let answer: StsAnswer
    try {
      answer = await googleJson<StsAnswer>({
        api: 'sts',
        apiName: 'Google Security Token Service',
        method: 'POST',
        url: `${this.endpoints.sts}/v1/token`,
        body: {
          audience: stsAudience(this.provider),
          grantType: TOKEN_EXCHANGE_GRANT_TYPE,
          requestedTokenType: ACCESS_TOKEN_TYPE,
          scope: CLOUD_PLATFORM_SCOPE,
          subjectTokenType: JWT_TOKEN_TYPE,
          subjectToken: oidcToken
        },
        retry: this.options.retry
      })
    } catch (error) {
      throw error instanceof GcpApiError ? this.explainExchange(error, oidcAudience) : error
    }
    if (typeof answer.access_token !== 'string' || answer.access_token === '') throw missingToken('The STS token exchange', answer)
    maskSecret(answer.access_token)
    const seconds = typeof answer.expires_in === 'number' ? answer.expires_in : 3600
    return { token: answer.access_token, expiresAt: this.now() + seconds * 1000 }
  }

  private async generateAccessToken(): Promise<Expiring> {
    const federated = await this.federatedToken()
    let answer: AccessTokenAnswer
    try {
      answer = await this.iamCredentials<AccessTokenAnswer>('generateAccessToken', federated, {
        scope: [CLOUD_PLATFORM_SCOPE],
        lifetime: ACCESS_TOKEN_LIFETIME
      })
    } catch (error) {
      throw error instanceof GcpApiError ? this.explainImpersonation(error) : error
    }
    if (typeof answer.accessToken !== 'string' || answer.accessToken === '') {
      throw missingToken(`generateAccessToken for ${this.serviceAccount}`, answer)
    }
    maskSecret(answer.accessToken)
    const expiresAt = typeof answer.expireTime === 'string' ? Date.parse(answer.expireTime) : NaN
    return { token: answer.accessToken, expiresAt: Number.isFinite(expiresAt) ? expiresAt : this.now() + 3600_000 }
  }

  private iamCredentials<T>(call: 'generateAccessToken' | 'generateIdToken', federated: string, body: unknown): Promise<T> {
    return googleJson<T>({
      api: 'iamCredentials',
      call,
      method: 'POST',
      url: `${this.endpoints.iamCredentials}/v1/projects/-/serviceAccounts/${encodeURIComponent(this.serviceAccount)}:${call}`,
      token: federated,
      body,
      grant: { serviceAccount: this.serviceAccount, principal: this.principal, project: serviceAccountProject(this.serviceAccount) },
      retry: this.options.retry
    })
  }

  private describeProviderCommand(): string {
    const { provider, pool, projectNumber } = this.provider
    return (
      `gcloud iam workload-identity-pools providers describe ${provider} ` +
      `--workload-identity-pool=${pool} --location=global --project=${projectNumber}`
    )
  }

  /** What a refused token exchange means for the provider's configuration. */
  private explainExchange(error: GcpApiError, oidcAudience: string): ActionError {
    const said =
      `Google STS refused the GitHub OIDC token of this run at ${this.provider.name}: ` +
      `${error.googleStatus ?? `HTTP ${error.status}`}: ${error.apiMessage}`
    const reason = error.googleStatus ?? ''
    if (reason === 'unauthorized_client' || /attribute condition/i.test(error.apiMessage)) {
      const condition = `assertion.repository == '${this.repository}'`
      return new ActionError(
        'Workload Identity provider does not admit this repository',
        `${said}\nThe provider's attribute condition does not admit this repository (GITHUB_REPOSITORY=${this.repository}). ` +
          `See the condition with:\n  ${this.describeProviderCommand()} --format='value(attributeCondition)'\n` +
          `It must accept this run's token, for example ${condition}; to set it:\n` +
          `  ${this.describeProviderCommand().replace(' describe ', ' update-oidc ')} --attribute-condition="${condition}"`
      )
    }
    if (reason === 'invalid_grant' && /audience/i.test(error.apiMessage)) {
      const custom = oidcAudience !== defaultOidcAudience(this.provider)
      return new ActionError(
        'Workload Identity provider refused the token audience',
        `${said}\nThe token was issued for the audience '${oidcAudience}'` +
          (custom ? " (the input 'audience')" : ' (the default, as google-github-actions/auth asks for it)') +
          ". The provider's allowed audiences must include it; an empty list allows exactly the default " +
          `${defaultOidcAudience(this.provider)}. ` +
          (custom
            ? "Leave the 'audience' input unset, or add it with:\n"
            : "Clear the provider's allowed audiences, or add the default with:\n") +
          `  ${this.describeProviderCommand().replace(' describe ', ' update-oidc ')} --allowed-audiences="${oidcAudience}"`
      )
    }
    if (reason === 'invalid_target') {
      return new ActionError(
        'Workload Identity provider not found',
        `${said}\nThe pool or provider does not exist, or is disabled or deleted. Check the 'workload-identity-provider' input ` +
          `against:\n  gcloud iam workload-identity-pools providers list --workload-identity-pool=${this.provider.pool} ` +
          `--location=global --project=${this.provider.projectNumber} --format="value(name,state)"`
      )
    }
    if (reason === 'invalid_grant') {
      return new ActionError(
        'Workload Identity provider refused the token',
        `${said}\nThe provider must be an OIDC provider with the issuer of this run's tokens ` +
          `(https://${oidcIssuerHost(this.env.GITHUB_SERVER_URL)}). ` +
          `Check it with:\n  ${this.describeProviderCommand()} --format='value(oidc.issuerUri)'`
      )
    }
    return new ActionError('Google STS token exchange failed', `${said}\n${error.message}`)
  }

  /** What a refused impersonation means: a missing grant on the service account, or no such account. */
  private explainImpersonation(error: GcpApiError): ActionError {
    if (error.kind === 'not-found') {
      const project = serviceAccountProject(this.serviceAccount)
      return new ActionError(
        'Service account not found',
        `Google has no service account ${this.serviceAccount} (generateAccessToken: ${error.apiMessage}). Check the ` +
          `'service-account' input` +
          (project ? `; the project's accounts: gcloud iam service-accounts list --project=${project}` : '') +
          '.'
      )
    }
    if (error.kind === 'permission-denied') {
      return new ActionError(
        'Cannot impersonate the service account',
        `Google refused to let this workflow impersonate ${this.serviceAccount}: ${error.apiMessage}\n` +
          `This repository's principal needs roles/iam.workloadIdentityUser on the service account (Google also answers ` +
          'so when the account does not exist):\n' +
          `  gcloud iam service-accounts add-iam-policy-binding ${this.serviceAccount} --role=roles/iam.workloadIdentityUser ` +
          `--member="${this.principal}"\n` +
          "The member names attribute.repository, so the provider's attribute mapping must map it: " +
          'attribute.repository=assertion.repository.'
      )
    }
    return error
  }
}

/** Checks the inputs and signs in to Google as the deploy service account. */
export function authenticateToGoogle(options: GcpCredentialOptions): Promise<GcpCredentials> {
  return GcpCredentials.authenticate(options)
}

/** No OIDC token in this job: a fork's pull request (deploy skipped, as on AWS) or a workflow without `id-token: write`. */
export function missingIdTokenError(env: NodeJS.ProcessEnv, event?: { name: string; payload: PullRequestPayload }): MissingIdTokenError {
  const { name, payload } = event ?? { name: env.GITHUB_EVENT_NAME ?? '', payload: readEventPayload(env) }
  return missingOidcTokenFor(name, payload, { credentials: 'Google Cloud credentials', input: 'workload-identity-provider' })
}
