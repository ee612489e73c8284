import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { ActionError } from '../../src/action-error.js'
import { gcpEndpoints } from '../../src/gcp/endpoints.js'
import { setInvokerAccess, withInvokerPolicy } from '../../src/gcp/iam.js'
import { GcpApiError } from '../../src/gcp/rest.js'
import { CloudRunApi } from '../../src/gcp/run-api.js'
import type { IamPolicy } from '../../src/gcp/run-types.js'
import { captureStdout } from '../../testkit/annotations.js'
import { startGcpStandin, type GcpStandin, type GcpStandinOptions } from '../../testkit/gcp-standin.js'

const noSleep = async (): Promise<void> => {}
const standins: GcpStandin[] = []

async function start(options: GcpStandinOptions = {}): Promise<GcpStandin> {
  const started = await startGcpStandin({ operationPolls: 0, ...options })
  standins.push(started)
  return started
}

afterAll(async () => {
  await Promise.all(standins.map(started => started.stop()))
})

function apiOn(on: GcpStandin): CloudRunApi {
  const token = on.issueAccessToken()
  return new CloudRunApi({
    project: on.project,
    region: 'us-central1',
    credentials: { accessToken: async () => token, serviceAccount: on.serviceAccount },
    endpoints: gcpEndpoints(on.env()),
    retry: { sleep: noSleep }
  })
}

/** A service whose policy already holds bindings someone else added. */
async function serviceWithOthersBindings(on: GcpStandin, serviceId: string): Promise<CloudRunApi> {
  const api = apiOn(on)
  await api.waitOperation(await api.createService(serviceId, { template: { containers: [{ image: 'us-docker.pkg.dev/p/r/i:1' }] } }))
  const policy = await api.getIamPolicy(serviceId)
  await api.setIamPolicy(serviceId, {
    ...policy,
    version: 3,
    bindings: [
      { role: 'roles/run.invoker', members: ['user:ann@example.com', 'allAuthenticatedUsers'] },
      { role: 'roles/run.viewer', members: ['group:ops@example.com'] },
      {
        role: 'roles/run.invoker',
        members: ['serviceAccount:batch@pmcp-test.iam.gserviceaccount.com'],
        condition: { title: 'office', expression: 'true' }
      }
    ]
  })
  return api
}

const setRequests = (on: GcpStandin): number => on.requests.filter(request => request.path.endsWith(':setIamPolicy')).length

describe('withInvokerPolicy', () => {
  const policy: IamPolicy = {
    version: 3,
    etag: 'BwX1',
    bindings: [
      { role: 'roles/run.invoker', members: ['user:ann@example.com', 'allUsers', 'allAuthenticatedUsers'] },
      { role: 'roles/run.viewer', members: ['group:ops@example.com'] },
      { role: 'roles/run.invoker', members: ['allUsers'], condition: { expression: 'request.time < timestamp("2030-01-01T00:00:00Z")' } }
    ]
  }

  it('private: removes allUsers and allAuthenticatedUsers from every invoker binding, keeps everything else and the etag', () => {
    const { policy: updated, added, removed } = withInvokerPolicy(policy, false)
    expect(added).toEqual([])
    expect(removed).toEqual(['allUsers', 'allAuthenticatedUsers'])
    expect(updated).toEqual({
      version: 3,
      etag: 'BwX1',
      bindings: [
        { role: 'roles/run.invoker', members: ['user:ann@example.com'] },
        { role: 'roles/run.viewer', members: ['group:ops@example.com'] }
      ]
    })
    expect(policy.bindings?.[0].members).toContain('allUsers')
  })

  it('public: adds allUsers to the unconditional invoker binding only, once', () => {
    const none = withInvokerPolicy({ etag: 'e', bindings: [{ role: 'roles/run.viewer', members: ['group:ops@example.com'] }] }, true)
    expect(none.added).toEqual(['allUsers'])
    expect(none.policy.bindings).toEqual([
      { role: 'roles/run.viewer', members: ['group:ops@example.com'] },
      { role: 'roles/run.invoker', members: ['allUsers'] }
    ])
    const conditionalOnly = withInvokerPolicy({ etag: 'e', bindings: [policy.bindings![2]] }, true)
    expect(conditionalOnly.policy.bindings).toHaveLength(2)
    expect(conditionalOnly.policy.bindings?.[1]).toEqual({ role: 'roles/run.invoker', members: ['allUsers'] })
    expect(withInvokerPolicy(policy, true).added).toEqual([])
  })
})

describe('setInvokerAccess against the stand-in', () => {
  let standin: GcpStandin
  beforeAll(async () => {
    standin = await start()
  })

  it('makes a service public and private again, keeping the bindings others added', async () => {
    const api = await serviceWithOthersBindings(standin, 'shared')
    const { result: opened } = await captureStdout(() => setInvokerAccess(api, 'shared', true))
    expect(opened).toEqual({ public: true, added: ['allUsers'], removed: [] })
    expect(standin.iamPolicy('shared').bindings).toEqual([
      { role: 'roles/run.invoker', members: ['user:ann@example.com', 'allAuthenticatedUsers', 'allUsers'] },
      { role: 'roles/run.viewer', members: ['group:ops@example.com'] },
      {
        role: 'roles/run.invoker',
        members: ['serviceAccount:batch@pmcp-test.iam.gserviceaccount.com'],
        condition: { title: 'office', expression: 'true' }
      }
    ])
    const writes = setRequests(standin)
    const { result: again } = await captureStdout(() => setInvokerAccess(api, 'shared', true))
    expect(again).toEqual({ public: true, added: [], removed: [] })
    expect(setRequests(standin)).toBe(writes)
    const { result: closed } = await captureStdout(() => setInvokerAccess(api, 'shared', false))
    expect(closed).toEqual({ public: false, added: [], removed: ['allAuthenticatedUsers', 'allUsers'] })
    expect(standin.iamPolicy('shared').bindings.flatMap(binding => binding.members)).toEqual([
      'user:ann@example.com',
      'group:ops@example.com',
      'serviceAccount:batch@pmcp-test.iam.gserviceaccount.com'
    ])
  })

  it('a policy changed by someone else meanwhile is read again, and their change is kept', async () => {
    const api = await serviceWithOthersBindings(standin, 'busy')
    standin.interfereWithIamPolicy('busy', 'user:carol@example.com', 'roles/run.invoker', 2)
    const before = setRequests(standin)
    const { result, output } = await captureStdout(() => setInvokerAccess(api, 'busy', true))
    expect(result?.added).toEqual(['allUsers'])
    expect(setRequests(standin) - before).toBe(3)
    expect(output).toContain('changed while it was being updated')
    expect(
      standin.requests
        .filter(request => request.path.endsWith(':setIamPolicy'))
        .slice(-3)
        .map(request => request.status)
    ).toEqual([409, 409, 200])
    expect(standin.iamPolicy('busy').bindings[0].members).toEqual([
      'user:ann@example.com',
      'allAuthenticatedUsers',
      'user:carol@example.com',
      'user:carol@example.com',
      'allUsers'
    ])
  })

  it('gives up after a few conflicts with the conflict itself', async () => {
    const api = await serviceWithOthersBindings(standin, 'contested')
    standin.interfereWithIamPolicy('contested', 'user:dave@example.com', 'roles/run.invoker', 100)
    const { error } = await captureStdout(() => setInvokerAccess(api, 'contested', true))
    expect(error).toBeInstanceOf(GcpApiError)
    expect(error).toMatchObject({ status: 409, googleStatus: 'ABORTED' })
    expect((error as GcpApiError).message).toContain('There were concurrent policy changes')
  })

  it('an organization policy that refuses allUsers is named, with the way out', async () => {
    const restricted = await start({ orgPolicyRefusesAllUsers: true })
    const api = apiOn(restricted)
    await api.waitOperation(await api.createService('internal', { template: { containers: [{ image: 'us-docker.pkg.dev/p/r/i:1' }] } }))
    const { error } = await captureStdout(() => setInvokerAccess(api, 'internal', true))
    expect(error).toBeInstanceOf(ActionError)
    expect((error as ActionError).title).toBe('Organization policy refuses a public service')
    expect((error as ActionError).message).toContain('One or more users named in the policy do not belong to a permitted customer')
    expect((error as ActionError).message).toContain('Domain restricted sharing')
    expect((error as ActionError).message).toContain('iam.allowedPolicyMemberDomains')
    expect((error as ActionError).message).toContain('allow_unauthenticated = false')
    // Making it private needs no exception.
    await expect(captureStdout(() => setInvokerAccess(api, 'internal', false)).then(outcome => outcome.result)).resolves.toEqual({
      public: false,
      added: [],
      removed: []
    })
  })

  it('without run.services.setIamPolicy: only Cloud Run Admin grants it', async () => {
    const developer = await start({ deniedPermissions: ['run.services.setIamPolicy'] })
    const api = apiOn(developer)
    await api.waitOperation(await api.createService('dev', { template: { containers: [{ image: 'us-docker.pkg.dev/p/r/i:1' }] } }))
    const { error } = await captureStdout(() => setInvokerAccess(api, 'dev', true))
    expect((error as GcpApiError).kind).toBe('permission-denied')
    expect((error as GcpApiError).message).toContain('the predefined role that includes it is roles/run.admin')
  })
})
