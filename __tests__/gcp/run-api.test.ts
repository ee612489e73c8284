import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { ActionError } from '../../src/action-error.js'
import { gcpEndpoints } from '../../src/gcp/endpoints.js'
import { GcpApiError, type AccessTokenSource } from '../../src/gcp/rest.js'
import { CloudRunApi, OperationFailedError, type CloudRunApiOptions } from '../../src/gcp/run-api.js'
import type { RunService } from '../../src/gcp/run-types.js'
import { setRequestTimeout, DEFAULT_REQUEST_TIMEOUT_SECONDS } from '../../src/net/deadline.js'
import { captureStdout } from '../../testkit/annotations.js'
import { startGcpStandin, type GcpStandin, type GcpStandinOptions } from '../../testkit/gcp-standin.js'
import { startHangingServer } from '../net/fault-servers.js'

const noSleep = async (): Promise<void> => {}
const REGION = 'us-central1'
const IMAGE = `us-central1-docker.pkg.dev/pmcp-test/pmcp/hello@sha256:${'a'.repeat(64)}`

const standins: GcpStandin[] = []
let standin: GcpStandin

async function start(options: GcpStandinOptions = {}): Promise<GcpStandin> {
  const started = await startGcpStandin(options)
  standins.push(started)
  return started
}

beforeAll(async () => {
  standin = await start({ operationPolls: 2, maxPageSize: 2 })
})

afterAll(async () => {
  await Promise.all(standins.map(started => started.stop()))
})

function tokenOf(on: GcpStandin): AccessTokenSource {
  const token = on.issueAccessToken()
  return { accessToken: async () => token, serviceAccount: on.serviceAccount }
}

function apiOn(on: GcpStandin, overrides: Partial<CloudRunApiOptions> = {}): CloudRunApi {
  return new CloudRunApi({
    project: on.project,
    region: REGION,
    credentials: tokenOf(on),
    endpoints: gcpEndpoints(on.env()),
    retry: { sleep: noSleep },
    ...overrides
  })
}

function spec(revision?: string, traffic?: RunService['traffic']): RunService {
  return {
    template: {
      ...(revision ? { revision } : {}),
      labels: { 'commit-sha': revision ?? 'none' },
      containers: [{ image: IMAGE, ports: [{ containerPort: 8080 }], env: [{ name: 'RUST_LOG', value: 'info' }] }]
    },
    ...(traffic ? { traffic } : {})
  }
}

/** Runs `fn` with the log captured, so the retry lines stay out of the test output. */
async function quietly<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: unknown; output: string }> {
  return captureStdout(fn)
}

describe('services and operations', () => {
  it('creates a service, waits for the operation with :wait, and reads it back', async () => {
    const api = apiOn(standin)
    const before = standin.requests.length
    const { result: done, output } = await quietly(async () =>
      api.waitOperation(await api.createService('hello', spec('hello-first')), 'Creating hello')
    )
    expect(done?.done).toBe(true)
    const made = standin.requests.slice(before)
    expect(made[0]).toMatchObject({
      method: 'POST',
      path: `/v2/projects/pmcp-test/locations/${REGION}/services`,
      query: { serviceId: 'hello' }
    })
    const waits = made.slice(1)
    expect(waits).toHaveLength(2)
    for (const wait of waits) {
      expect(wait.method).toBe('POST')
      expect(wait.path).toMatch(new RegExp(`^/v2/projects/pmcp-test/locations/${REGION}/operations/[0-9a-f-]+:wait$`))
      expect(wait.body).toEqual({ timeout: expect.stringMatching(/^\d+s$/) })
    }
    expect(output).toContain('Creating hello: still running')
    const service = await api.getService('hello')
    expect(service).toMatchObject({
      name: `projects/pmcp-test/locations/${REGION}/services/hello`,
      latestReadyRevision: `projects/pmcp-test/locations/${REGION}/services/hello/revisions/hello-first`,
      uri: `${standin.appUrl}/hello`,
      trafficStatuses: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', revision: 'hello-first', percent: 100 }]
    })
  })

  it('a missing service or revision is undefined, not an error', async () => {
    const api = apiOn(standin)
    await expect(api.getService('nobody')).resolves.toBeUndefined()
    await expect(api.getRevision('hello', 'hello-never')).resolves.toBeUndefined()
    await expect(api.deleteService('nobody')).resolves.toBeUndefined()
    await expect(api.getRevision('hello', 'hello-first')).resolves.toMatchObject({ labels: { 'commit-sha': 'hello-first' } })
  })

  it('lists every revision across pages, newest first', async () => {
    const api = apiOn(standin)
    await quietly(async () => {
      await api.waitOperation(await api.createService('paged', spec('paged-1')))
      for (const revision of ['paged-2', 'paged-3', 'paged-4', 'paged-5']) {
        const current = (await api.getService('paged'))!
        await api.waitOperation(await api.updateService({ ...current, template: { ...spec(revision).template } }))
      }
    })
    const before = standin.requests.length
    const revisions = await api.listRevisions('paged')
    expect(revisions.map(revision => revision.name.split('/').pop())).toEqual(['paged-5', 'paged-4', 'paged-3', 'paged-2', 'paged-1'])
    const pages = standin.requests.slice(before)
    expect(pages).toHaveLength(3)
    expect(pages[0].query).toEqual({ pageSize: '100' })
    expect(pages[1].query.pageToken).toBeTruthy()
    expect(pages[2].query.pageToken).toBeTruthy()
  })

  it('an update with a stale etag is refused as a conflict', async () => {
    const api = apiOn(standin)
    const current = (await api.getService('hello'))!
    standin.interfereWithService('hello')
    const error = await api.updateService({ ...current, traffic: current.traffic }).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(GcpApiError)
    expect(error).toMatchObject({ kind: 'conflict', status: 409, googleStatus: 'ABORTED' })
    expect((error as GcpApiError).message).toContain(`PATCH ${standin.runUrl}/v2/projects/pmcp-test/locations/${REGION}/services/hello`)
  })

  it("a revision that does not become ready fails the operation with Cloud Run's message", async () => {
    const failing = await start({
      failRevision: revision => (revision.shortName === 'svc-bad' ? 'Container failed to listen on PORT=8080.' : undefined)
    })
    const api = apiOn(failing)
    await api.waitOperation(await api.createService('svc', spec('svc-good')))
    const current = (await api.getService('svc'))!
    const operation = await api.updateService({
      ...current,
      template: spec('svc-bad').template,
      traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: 'svc-bad', percent: 100 }]
    })
    const error = await api.waitOperation(operation, 'Deploying svc-bad').catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(OperationFailedError)
    expect((error as OperationFailedError).message).toMatch(
      /^Deploying svc-bad failed: Revision 'svc-bad' is not ready and cannot serve traffic\. Container failed to listen on PORT=8080\./
    )
    const after = (await api.getService('svc'))!
    expect(after.trafficStatuses).toEqual([{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', revision: 'svc-good', percent: 100 }])
    expect(after.terminalCondition).toMatchObject({ state: 'CONDITION_FAILED' })
    const revision = await api.getRevision('svc', 'svc-bad')
    expect(revision?.conditions?.find(condition => condition.type === 'Ready')).toMatchObject({
      state: 'CONDITION_FAILED',
      message: 'Container failed to listen on PORT=8080.'
    })
  })

  it('an operation that outlasts the timeout is an error naming it', async () => {
    const slow = await start({ operationPolls: 1000 })
    const api = apiOn(slow, { operationTimeoutMs: 1500 })
    const { error } = await quietly(async () => api.waitOperation(await api.createService('slow', spec()), 'Creating slow'))
    expect(error).toBeInstanceOf(ActionError)
    expect((error as ActionError).message).toMatch(
      /^Creating slow was still running after 1\.5 s \(operation projects\/pmcp-test\/locations\/us-central1\/operations\//
    )
  })
})

describe('IAM policy calls', () => {
  it('reads at version 3 and writes {policy}', async () => {
    const api = apiOn(standin)
    const policy = await api.getIamPolicy('hello')
    expect(standin.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: `/v2/projects/pmcp-test/locations/${REGION}/services/hello:getIamPolicy`
    })
    expect(standin.requests.at(-1)?.query).toEqual({ 'options.requestedPolicyVersion': '3' })
    const written = await api.setIamPolicy('hello', {
      ...policy,
      bindings: [{ role: 'roles/run.invoker', members: ['user:ann@example.com'] }]
    })
    expect(standin.requests.at(-1)?.body).toEqual({
      policy: { ...policy, bindings: [{ role: 'roles/run.invoker', members: ['user:ann@example.com'] }] }
    })
    expect(written.etag).not.toBe(policy.etag)
  })
})

describe('failures, explained', () => {
  it('PERMISSION_DENIED names the permission, the roles that grant it and the command, for the account in use', async () => {
    const denied = await start({ deniedPermissions: ['run.services.create'] })
    const error = await apiOn(denied)
      .createService('hello', spec())
      .catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ kind: 'permission-denied', status: 403, googleStatus: 'PERMISSION_DENIED' })
    const { message } = error as GcpApiError
    expect(message).toContain(
      `Cloud Run Admin API: POST ${denied.runUrl}/v2/projects/pmcp-test/locations/${REGION}/services answered HTTP 403 PERMISSION_DENIED`
    )
    expect(message).toContain("Permission 'run.services.create' denied")
    expect(message).toContain('roles/run.developer or roles/run.admin')
    expect(message).toContain(
      `gcloud projects add-iam-policy-binding pmcp-test --member=serviceAccount:${denied.serviceAccount} --role=roles/run.developer`
    )
  })

  it('a refusal for the runtime account (actAs) asks for roles/iam.serviceAccountUser, not for a Cloud Run role', async () => {
    const denied = await start({ deniedPermissions: ['iam.serviceAccounts.actAs'] })
    const error = (await apiOn(denied)
      .createService('hello', spec())
      .catch((thrown: unknown) => thrown)) as GcpApiError
    expect(error.title).toBe('Google denied iam.serviceAccounts.actAs')
    expect(error.message).toContain('roles/iam.serviceAccountUser')
    expect(error.message).toContain("the service's runtime service account")
  })

  it('an API that is not enabled says how to enable it', async () => {
    const disabled = await start({ disabledServices: ['run.googleapis.com'] })
    const error = (await apiOn(disabled)
      .getService('hello')
      .catch((thrown: unknown) => thrown)) as GcpApiError
    expect(error.kind).toBe('service-disabled')
    expect(error.message).toContain('gcloud services enable run.googleapis.com --project=pmcp-test')
  })

  it('retries 503 and 429, then succeeds', async () => {
    const api = apiOn(standin)
    for (const status of [503, 429]) {
      standin.failNext('run', 2, { status })
      const before = standin.requests.length
      const { result, error } = await quietly(() => api.getService('hello'))
      expect(error).toBeUndefined()
      expect(result?.name).toContain('/services/hello')
      expect(standin.requests.slice(before).map(request => request.status)).toEqual([status, status, 200])
    }
  })

  it('does not retry a 400, and reports Google message', async () => {
    const api = apiOn(standin)
    const before = standin.requests.length
    const error = (await api.createService('Bad_Name', spec()).catch((thrown: unknown) => thrown)) as GcpApiError
    expect(standin.requests.length - before).toBe(1)
    expect(error).toMatchObject({ kind: 'rejected', status: 400, googleStatus: 'INVALID_ARGUMENT' })
    expect(error.message).toContain("serviceId 'Bad_Name' is invalid")
  })

  it('gives up on a 5xx that lasts, saying so', async () => {
    const api = apiOn(standin)
    standin.failNext('run', 4, { status: 500 })
    const { error } = await quietly(() => api.getService('hello'))
    expect(error).toMatchObject({ kind: 'unavailable', status: 500 })
    expect((error as GcpApiError).message).toContain('status.cloud.google.com')
  })

  it('an answer that is not JSON is said to be one, with the URL; a proxy error page is retried first', async () => {
    const api = apiOn(standin)
    standin.failNext('run', 1, { status: 200, contentType: 'text/html', body: '<html>Welcome to the proxy</html>' })
    const page = (await api.getService('hello').catch((thrown: unknown) => thrown)) as ActionError
    expect(page.message).toContain(`GET ${standin.runUrl}/v2/projects/pmcp-test/locations/${REGION}/services/hello`)
    expect(page.message).toMatch(/HTTP 200 with text\/html instead of JSON: <html>Welcome to the proxy<\/html>/)
    expect(page.message).toContain('PMCP_GCP_RUN_URL is set')
    standin.failNext('run', 1, { status: 502, contentType: 'text/html', body: '<html>Bad Gateway</html>' })
    const { result } = await quietly(() => api.getService('hello'))
    expect(result?.name).toContain('/services/hello')
  })

  it('a wrong API root (a path no API has) meets Google’s HTML 404 and says so', async () => {
    const api = new CloudRunApi({
      project: 'pmcp-test',
      region: REGION,
      credentials: tokenOf(standin),
      endpoints: { ...gcpEndpoints(standin.env()), run: standin.artifactRegistryUrl },
      retry: { sleep: noSleep }
    })
    const error = (await api.getService('hello').catch((thrown: unknown) => thrown)) as ActionError
    expect(error.message).toMatch(/HTTP 404 with text\/html.* instead of JSON/)
  })

  it('a server that never answers ends at the deadline, naming the call', async () => {
    const hanging = await startHangingServer()
    setRequestTimeout(0.3)
    try {
      const api = new CloudRunApi({
        project: 'pmcp-test',
        region: REGION,
        credentials: { accessToken: async () => 'ya29.secret-token' },
        endpoints: { ...gcpEndpoints({}), run: hanging.url },
        retry: { sleep: noSleep }
      })
      const { error } = await quietly(() => api.getService('hello'))
      expect(error).toBeInstanceOf(ActionError)
      expect((error as ActionError).message).toContain(`GET ${hanging.url}/v2/projects/pmcp-test/locations/${REGION}/services/hello`)
      expect((error as ActionError).message).toMatch(/no complete answer within 0\.3 s/)
      expect((error as ActionError).message).not.toContain('secret-token')
    } finally {
      setRequestTimeout(DEFAULT_REQUEST_TIMEOUT_SECONDS)
      await hanging.stop()
    }
  })

  it('a connection refused is a network fault naming the URL, never the token', async () => {
    const gone = await start()
    const url = gone.runUrl
    await gone.stop()
    const api = new CloudRunApi({
      project: 'pmcp-test',
      region: REGION,
      credentials: { accessToken: async () => 'ya29.secret-token' },
      endpoints: { ...gcpEndpoints({}), run: url },
      retry: { sleep: noSleep }
    })
    const { error } = await quietly(() => api.getService('hello'))
    expect((error as ActionError).message).toContain(`${url}/v2/projects/pmcp-test/locations/${REGION}/services/hello`)
    expect((error as ActionError).message).toContain('ECONNREFUSED')
    expect((error as ActionError).message).not.toContain('secret-token')
  })
})
