/**
 * The Google stand-in refuses what the real APIs refuse: each check is shown to bite with a request
 * that breaks it, so a client test that passes against the stand-in has sent the real shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startGcpStandin, type GcpStandin } from '../../testkit/gcp-standin.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'

const IMAGE = `us-central1-docker.pkg.dev/pmcp-test/pmcp/svc@sha256:${'b'.repeat(64)}`
const SERVICES = '/v2/projects/pmcp-test/locations/us-central1/services'
const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST'
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION'

let standin: GcpStandin
let token: string
const backends: Record<string, TestMcpServer> = {}

beforeAll(async () => {
  backends.blue = await startMcpServer({ path: '/mcp', serverName: 'blue' })
  backends.green = await startMcpServer({ path: '/mcp', serverName: 'green' })
  standin = await startGcpStandin({
    operationPolls: 0,
    backendFor: revision => new URL(backends[revision.labels.color ?? 'blue'].url).origin,
    failRevision: revision => (revision.labels.color === 'broken' ? 'The container did not listen on PORT=8080.' : undefined)
  })
  token = standin.issueAccessToken()
})

afterAll(async () => {
  await standin.stop()
  await Promise.all(Object.values(backends).map(backend => backend.close()))
})

interface Answer {
  status: number
  body: any
  text: string
  contentType: string
}

async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  })
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: response.status, body: parsed, text, contentType: response.headers.get('content-type') ?? '' }
}

const run = (path: string, method = 'GET', body?: unknown, bearer = token): Promise<Answer> =>
  call(`${standin.runUrl}${path}`, method, body, { authorization: `Bearer ${bearer}` })

function template(color: string, revision?: string): Record<string, unknown> {
  return { ...(revision ? { revision } : {}), labels: { color }, containers: [{ image: IMAGE }] }
}

/** Google's error JSON, with its status and a message matching `message`. */
function expectGoogleError(answer: Answer, code: number, status: string, message: RegExp | string): void {
  expect({ status: answer.status, code: answer.body?.error?.code, name: answer.body?.error?.status }).toEqual({
    status: code,
    code,
    name: status
  })
  expect(answer.body.error.message).toMatch(message)
}

async function create(serviceId: string, service: Record<string, unknown>): Promise<Answer> {
  return run(`${SERVICES}?serviceId=${serviceId}`, 'POST', service)
}

async function read(serviceId: string): Promise<any> {
  return (await run(`${SERVICES}/${serviceId}`)).body
}

describe('routes and tokens', () => {
  it('a path no API has gets the HTML 404 of Google’s front end, on every API', async () => {
    for (const [url, path] of [
      [standin.runUrl, '/v1/projects/pmcp-test/locations/us-central1/services'],
      [standin.stsUrl, '/v1/projects/-/serviceAccounts/x:generateAccessToken'],
      [standin.artifactRegistryUrl, SERVICES]
    ]) {
      const answer = await call(`${url}${path}`, 'GET', undefined, { authorization: `Bearer ${token}` })
      expect(answer.status).toBe(404)
      expect(answer.contentType).toMatch(/^text\/html/)
      expect(answer.text).toContain(`The requested URL <code>${path}</code> was not found on this server.`)
    }
    expect((await run(`${SERVICES}/x`, 'PUT', {})).status).toBe(404)
  })

  it('Run takes only the service account’s access token', async () => {
    expectGoogleError(
      await call(`${standin.runUrl}${SERVICES}/x`, 'GET'),
      401,
      'UNAUTHENTICATED',
      /missing required authentication credential/
    )
    expectGoogleError(
      await run(`${SERVICES}/x`, 'GET', undefined, 'ya29.made-up'),
      401,
      'UNAUTHENTICATED',
      /invalid authentication credentials/
    )
    const federated = await exchange()
    expectGoogleError(await run(`${SERVICES}/x`, 'GET', undefined, federated), 403, 'PERMISSION_DENIED', /run\.services\.get/)
    expect((await run(`${SERVICES}/x`)).status).toBe(404)
  })

  it('IAM credentials take only the federated token, and the real body', async () => {
    const path = `${standin.iamCredentialsUrl}/v1/projects/-/serviceAccounts/${standin.serviceAccount}:generateAccessToken`
    const body = { scope: ['https://www.googleapis.com/auth/cloud-platform'], lifetime: '3600s' }
    expectGoogleError(await call(path, 'POST', body, { authorization: `Bearer ${token}` }), 403, 'PERMISSION_DENIED', /getAccessToken/)
    const federated = { authorization: `Bearer ${await exchange()}` }
    expectGoogleError(await call(path, 'POST', { lifetime: '3600s' }, federated), 400, 'INVALID_ARGUMENT', /Scope required/)
    expectGoogleError(
      await call(path, 'POST', { ...body, lifetime: '7200s' }, federated),
      400,
      'INVALID_ARGUMENT',
      /maximum allowed lifetime/
    )
    expectGoogleError(
      await call(path, 'POST', { ...body, scopes: body.scope }, federated),
      400,
      'INVALID_ARGUMENT',
      /Unknown name "scopes"/
    )
    expectGoogleError(
      await call(path, 'POST', 'scope=x', { ...federated, 'content-type': 'text/plain' }),
      400,
      'INVALID_ARGUMENT',
      /application\/json/
    )
    expect((await call(path, 'POST', body, federated)).body).toEqual({
      accessToken: expect.stringMatching(/^ya29\./),
      expireTime: expect.any(String)
    })
  })
})

/** A GitHub OIDC token from the stand-in's token service, for `audience`. */
async function oidcToken(audience = `https://iam.googleapis.com/${standin.providerName}`): Promise<string> {
  const env = standin.oidcEnv()
  const answer = await call(`${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`, 'GET', undefined, {
    authorization: `Bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}`
  })
  return answer.body.value as string
}

function exchangeBody(subjectToken: string): Record<string, string> {
  return {
    audience: `//iam.googleapis.com/${standin.providerName}`,
    grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
    requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
    scope: 'https://www.googleapis.com/auth/cloud-platform',
    subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
    subjectToken
  }
}

async function exchange(): Promise<string> {
  return (await call(`${standin.stsUrl}/v1/token`, 'POST', exchangeBody(await oidcToken()))).body.access_token as string
}

describe('STS', () => {
  const sts = (body: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
    call(`${standin.stsUrl}/v1/token`, 'POST', body, headers)

  it('takes the JSON body and the OAuth form alike', async () => {
    const subject = await oidcToken()
    expect((await sts(exchangeBody(subject))).body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 })
    const form = new URLSearchParams({
      audience: `//iam.googleapis.com/${standin.providerName}`,
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      subject_token: subject
    })
    expect((await sts(form.toString(), { 'content-type': 'application/x-www-form-urlencoded' })).body.access_token).toMatch(/^ya29\.fed-/)
  })

  it('answers OAuth errors for a wrong exchange', async () => {
    const subject = await oidcToken()
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ grantType: 'client_credentials' }, 'unsupported_grant_type', /Unsupported grant type/],
      [{ requestedTokenType: 'urn:ietf:params:oauth:token-type:id_token' }, 'invalid_request', /requested token type/],
      [{ audience: standin.providerName }, 'invalid_request', /Invalid value for "audience"/],
      [{ subjectToken: 'not-a-jwt' }, 'invalid_grant', /Unable to parse/],
      [{ subjectToken: await oidcToken('sts.amazonaws.com') }, 'invalid_grant', /audience in ID Token \[sts\.amazonaws\.com\]/]
    ]
    for (const [change, error, description] of cases) {
      const answer = await sts({ ...exchangeBody(subject), ...change })
      expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 400, error })
      expect(answer.body.error_description).toMatch(description)
    }
    expectGoogleError(await sts({ ...exchangeBody(subject), extra: 1 }), 400, 'INVALID_ARGUMENT', /Unknown name "extra"/)
  })
})

describe('Cloud Run services', () => {
  it('refuses unknown fields and query parameters, accepts output-only ones back', async () => {
    expectGoogleError(
      await create('shape', { template: { ...template('blue'), containerPort: 8080 } }),
      400,
      'INVALID_ARGUMENT',
      /Unknown name "containerPort" at 'service\.template'/
    )
    expectGoogleError(
      await run(`${SERVICES}?serviceId=shape&dryRun=true`, 'POST', { template: template('blue') }),
      400,
      'INVALID_ARGUMENT',
      /"dryRun": Cannot bind query parameter/
    )
    expect((await create('shape', { template: template('blue'), uri: 'https://ignored', etag: 'x', trafficStatuses: [] })).status).toBe(200)
    const service = await read('shape')
    expect(service.uri).toBe(`${standin.appUrl}/shape`)
    expect((await run(`${SERVICES}/shape`, 'PATCH', service)).status).toBe(200)
  })

  it.each([
    [{ containers: [{ image: IMAGE, env: [{ name: 'PORT', value: '9000' }] }] }, /reserved env names were provided: PORT/],
    [
      {
        containers: [
          {
            image: IMAGE,
            env: [
              { name: 'A', value: '1' },
              { name: 'A', value: '2' }
            ]
          }
        ]
      },
      /A is given more than once/
    ],
    [
      { containers: [{ image: IMAGE, env: [{ name: 'S', value: '1', valueSource: { secretKeyRef: { secret: 's' } } }] }] },
      /mutually exclusive/
    ],
    [{ containers: [{ image: IMAGE, resources: { limits: { memory: '512MB' } } }] }, /memory: invalid quantity/],
    [{ containers: [{ image: IMAGE }], scaling: { minInstanceCount: 3, maxInstanceCount: 1 } }, /minInstanceCount must not be greater/],
    [{ containers: [{ image: IMAGE }], labels: { commit: 'ABC' } }, /label value 'ABC'/],
    [{ containers: [] }, /at least one container/],
    [{ revision: 'other-00001', containers: [{ image: IMAGE }] }, /must be prefixed with the name of the enclosing Service: 'rules-'/]
  ])('refuses a template Cloud Run refuses (%#)', async (bad, message) => {
    expectGoogleError(await create('rules', { template: bad }), 400, 'INVALID_ARGUMENT', message)
  })

  it('makes a revision for a template change (with its labels), none for a traffic change', async () => {
    await create('svc', { template: template('blue', 'svc-blue') })
    let service = await read('svc')
    expect(service).toMatchObject({
      latestReadyRevision: `projects/pmcp-test/locations/us-central1/services/svc/revisions/svc-blue`,
      latestCreatedRevision: `projects/pmcp-test/locations/us-central1/services/svc/revisions/svc-blue`,
      traffic: [{ type: LATEST, percent: 100 }],
      trafficStatuses: [{ type: LATEST, revision: 'svc-blue', percent: 100 }],
      terminalCondition: { type: 'Ready', state: 'CONDITION_SUCCEEDED' }
    })
    // Defaults filled in as Cloud Run does: sending the service back unchanged makes no revision.
    expect(service.template).toMatchObject({ timeout: '300s', containers: [{ ports: [{ name: 'http1', containerPort: 8080 }] }] })
    expect((await run(`${SERVICES}/svc`, 'PATCH', service)).status).toBe(200)
    expect(standin.revisions('svc').map(revision => revision.shortName)).toEqual(['svc-blue'])

    // A new template without a name: `<service>-0000N-xyz`; traffic pinned to the old one, a tag on the new.
    service = await read('svc')
    const update = await run(`${SERVICES}/svc`, 'PATCH', {
      ...service,
      template: template('green'),
      traffic: [
        { type: REVISION, revision: 'svc-blue', percent: 100 },
        { type: LATEST, tag: 'pr-7' }
      ]
    })
    expect(update.status).toBe(200)
    const [, green] = standin.revisions('svc')
    expect(green.shortName).toMatch(/^svc-00002-[a-z]{3}$/)
    expect(green.labels).toEqual({ color: 'green', 'cloud.googleapis.com/location': 'us-central1' })
    service = await read('svc')
    expect(service.traffic).toEqual([
      { type: REVISION, revision: 'svc-blue', percent: 100 },
      { type: LATEST, tag: 'pr-7' }
    ])
    expect(service.trafficStatuses).toEqual([
      { type: REVISION, revision: 'svc-blue', percent: 100 },
      { type: LATEST, revision: green.shortName, tag: 'pr-7', uri: `${standin.appUrl}/pr-7---svc` }
    ])

    // Traffic only: no revision.
    await run(`${SERVICES}/svc`, 'PATCH', { ...service, traffic: [{ type: REVISION, revision: green.shortName, percent: 100 }] })
    expect(standin.revisions('svc')).toHaveLength(2)
    expect((await read('svc')).trafficStatuses).toEqual([{ type: REVISION, revision: green.shortName, percent: 100 }])
  })

  it.each([
    [[{ type: LATEST, percent: 90 }], /must sum to 100, not 90/],
    [[{ type: LATEST, revision: 'traffic-a', percent: 100 }], /LATEST traffic target must not name a revision/],
    [[{ type: REVISION, percent: 100 }], /REVISION traffic target must name a revision/],
    [[{ revision: 'traffic-a', percent: 100 }], /type must be/],
    [[{ type: REVISION, revision: 'traffic-zzz', percent: 100 }], /revision 'traffic-zzz' does not exist in service 'traffic'/],
    [[{ type: REVISION, revision: 'svc-blue', percent: 100 }], /must be prefixed with the name of the enclosing Service: 'traffic-'/],
    [
      [
        { type: LATEST, percent: 100 },
        { type: REVISION, revision: 'traffic-a', tag: 'PR_1' }
      ],
      /tag 'PR_1' is not a valid DNS label/
    ],
    [
      [
        { type: LATEST, percent: 100, tag: 'pr-1' },
        { type: REVISION, revision: 'traffic-a', tag: 'pr-1' }
      ],
      /the tag 'pr-1' is used more than once/
    ],
    [[{ type: REVISION, revision: 'traffic-a', percent: 100, tag: 'x'.repeat(60) }], /tag---service exceeds 63/]
  ])('refuses traffic Cloud Run refuses (%#), and changes nothing', async (traffic, message) => {
    if (!standin.service('traffic')) await create('traffic', { template: template('blue', 'traffic-a') })
    const before = await read('traffic')
    const answer = await run(`${SERVICES}/traffic`, 'PATCH', { ...before, template: template('green'), traffic })
    expectGoogleError(answer, 400, 'INVALID_ARGUMENT', message)
    expect(standin.revisions('traffic')).toHaveLength(1)
    expect((await read('traffic')).etag).toBe(before.etag)
  })

  it('a revision of the same request may take traffic; a reused revision name with another template is refused', async () => {
    await create('named', { template: template('blue', 'named-a') })
    const service = await read('named')
    const next = { ...service, template: template('green', 'named-b'), traffic: [{ type: REVISION, revision: 'named-b', percent: 100 }] }
    expect((await run(`${SERVICES}/named`, 'PATCH', next)).status).toBe(200)
    const again = await run(`${SERVICES}/named`, 'PATCH', { ...(await read('named')), template: template('blue', 'named-a') })
    expectGoogleError(again, 409, 'ALREADY_EXISTS', /Revision named 'named-a' with different configuration already exists/)
  })

  it('a stale etag is refused, as is a body naming another service', async () => {
    const service = await read('named')
    standin.interfereWithService('named')
    expectGoogleError(await run(`${SERVICES}/named`, 'PATCH', service), 409, 'ABORTED', /etag/)
    expectGoogleError(
      await run(`${SERVICES}/named`, 'PATCH', { ...service, etag: undefined, name: `${SERVICES.slice(4)}/other` }),
      400,
      'INVALID_ARGUMENT',
      /does not match/
    )
  })

  it('a revision that fails: its operation ends with the condition message, traffic stays', async () => {
    await create('fragile', { template: template('blue', 'fragile-a') })
    const service = await read('fragile')
    const operation = await run(`${SERVICES}/fragile`, 'PATCH', {
      ...service,
      template: template('broken', 'fragile-b'),
      traffic: [{ type: REVISION, revision: 'fragile-b', percent: 100 }]
    })
    expect(operation.body).toMatchObject({
      done: true,
      error: { code: 9, message: "Revision 'fragile-b' is not ready and cannot serve traffic. The container did not listen on PORT=8080." }
    })
    const after = await read('fragile')
    expect(after.trafficStatuses).toEqual([{ type: LATEST, revision: 'fragile-a', percent: 100 }])
    expect(after.latestReadyRevision).toMatch(/\/fragile-a$/)
    expect(after.latestCreatedRevision).toMatch(/\/fragile-b$/)
    expect(after.terminalCondition).toMatchObject({ state: 'CONDITION_FAILED' })
    // Traffic back to the good revision heals the service.
    const healed = await run(`${SERVICES}/fragile`, 'PATCH', {
      ...after,
      traffic: [{ type: REVISION, revision: 'fragile-a', percent: 100 }]
    })
    expect(healed.body.response.terminalCondition).toMatchObject({ state: 'CONDITION_SUCCEEDED' })
  })

  it('operations: :wait takes a Duration and nothing else', async () => {
    const slow = await startGcpStandin({ operationPolls: 2 })
    try {
      const slowToken = slow.issueAccessToken()
      const created = await call(
        `${slow.runUrl}${SERVICES}?serviceId=slow`,
        'POST',
        { template: template('blue') },
        { authorization: `Bearer ${slowToken}` }
      )
      expect(created.body.done).toBeUndefined()
      const wait = (body: unknown): Promise<Answer> =>
        call(`${slow.runUrl}/v2/${created.body.name}:wait`, 'POST', body, { authorization: `Bearer ${slowToken}` })
      expectGoogleError(await wait({ timeout: 30 }), 400, 'INVALID_ARGUMENT', /Duration/)
      expectGoogleError(await wait({ timeout: '30s', name: 'x' }), 400, 'INVALID_ARGUMENT', /Unknown name "name"/)
      expect((await wait({ timeout: '30s' })).body.done).toBeUndefined()
      expect((await wait({ timeout: '30s' })).body).toMatchObject({
        done: true,
        response: { name: expect.stringContaining('/services/slow') }
      })
    } finally {
      await slow.stop()
    }
  })
})

describe('IAM policies', () => {
  it('refuses a stale etag, a bad member, and a condition outside version 3', async () => {
    await create('guarded', { template: template('blue') })
    const policy = (await run(`${SERVICES}/guarded:getIamPolicy`)).body
    expect(policy).toEqual({ version: 1, etag: expect.any(String) })
    const set = (body: unknown): Promise<Answer> => run(`${SERVICES}/guarded:setIamPolicy`, 'POST', body)
    expectGoogleError(
      await set({ policy: { ...policy, bindings: [{ role: 'roles/run.invoker', members: ['everyone'] }] } }),
      400,
      'INVALID_ARGUMENT',
      /Invalid member everyone/
    )
    expectGoogleError(
      await set({
        policy: { ...policy, bindings: [{ role: 'roles/run.invoker', members: ['allUsers'], condition: { expression: 'true' } }] }
      }),
      400,
      'INVALID_ARGUMENT',
      /version 3/
    )
    expectGoogleError(await set({ ...policy }), 400, 'INVALID_ARGUMENT', /Unknown name "version"/)
    expect((await set({ policy: { ...policy, bindings: [{ role: 'roles/run.invoker', members: ['allUsers'] }] } })).status).toBe(200)
    expectGoogleError(await set({ policy: { ...policy, bindings: [] } }), 409, 'ABORTED', /concurrent policy changes/)
  })
})

describe('service URLs', () => {
  async function mcpAdd(url: string, headers: Record<string, string> = {}): Promise<string> {
    const client = new Client({ name: 'standin-test', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }))
    try {
      const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
      return `${client.getServerVersion()?.name} ${(result.content as { text: string }[])[0].text}`
    } finally {
      await client.close()
    }
  }

  it('the service URL serves the revision with the traffic, a tag URL its own, over MCP', async () => {
    await create('app', { template: template('blue', 'app-blue') })
    const service = await read('app')
    await run(`${SERVICES}/app`, 'PATCH', {
      ...service,
      template: template('green', 'app-green'),
      traffic: [
        { type: REVISION, revision: 'app-blue', percent: 100 },
        { type: REVISION, revision: 'app-green', tag: 'pr-3' }
      ]
    })
    const policy = (await run(`${SERVICES}/app:getIamPolicy`)).body
    await run(`${SERVICES}/app:setIamPolicy`, 'POST', {
      policy: { ...policy, bindings: [{ role: 'roles/run.invoker', members: ['allUsers'] }] }
    })
    expect(await mcpAdd(`${standin.appUrl}/app/mcp`)).toBe('blue {"sum":5}')
    expect(await mcpAdd(`${standin.appUrl}/pr-3---app/mcp`)).toBe('green {"sum":5}')
    expect((await call(`${standin.appUrl}/pr-9---app/mcp`, 'POST', {})).status).toBe(404)
  })

  it('a private service wants an ID token from generateIdToken for its URL', async () => {
    await create('private', { template: template('green', 'private-a') })
    const url = `${standin.appUrl}/private/mcp`
    const idToken = async (audience: string): Promise<string> =>
      (
        await call(
          `${standin.iamCredentialsUrl}/v1/projects/-/serviceAccounts/${standin.serviceAccount}:generateIdToken`,
          'POST',
          { audience, includeEmail: true },
          { authorization: `Bearer ${await exchange()}` }
        )
      ).body.token as string
    expect((await call(url, 'POST', {})).status).toBe(401)
    const wrongAudience = await idToken(`${standin.appUrl}/app`)
    expect((await call(url, 'POST', {}, { authorization: `Bearer ${wrongAudience}` })).status).toBe(401)
    const forged = `${wrongAudience.split('.').slice(0, 2).join('.')}.bm90LXNpZ25lZA`
    expect((await call(url, 'POST', {}, { authorization: `Bearer ${forged}` })).status).toBe(401)
    const right = await idToken(`${standin.appUrl}/private`)
    expect(await mcpAdd(url, { authorization: `Bearer ${right}` })).toBe('green {"sum":5}')
    expect(await mcpAdd(url, { 'x-serverless-authorization': `Bearer ${right}` })).toBe('green {"sum":5}')
  })
})
