import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { ActionError } from '../../src/action-error.js'
import { ensureDockerRepository } from '../../src/gcp/artifact-registry.js'
import { DEFAULT_GCP_ENDPOINTS, gcpEndpoints } from '../../src/gcp/endpoints.js'
import { GCP_PERMISSIONS, orList, permissionAdvice, type GcpCall } from '../../src/gcp/permissions.js'
import type { AccessTokenSource } from '../../src/gcp/rest.js'
import { CloudRunApi } from '../../src/gcp/run-api.js'
import type { Operation } from '../../src/gcp/run-types.js'
import { captureStdout } from '../../testkit/annotations.js'
import { startGcpStandin, type GcpStandin } from '../../testkit/gcp-standin.js'

const noSleep = async (): Promise<void> => {}

describe('API roots', () => {
  it("are Google's unless a variable says otherwise, given as an origin", () => {
    expect(gcpEndpoints({})).toEqual(DEFAULT_GCP_ENDPOINTS)
    expect(
      gcpEndpoints({
        PMCP_GCP_RUN_URL: 'http://127.0.0.1:8085/',
        PMCP_GCP_STS_URL: ' https://sts.example.com ',
        PMCP_GCP_IAMCREDENTIALS_URL: ''
      })
    ).toEqual({ ...DEFAULT_GCP_ENDPOINTS, run: 'http://127.0.0.1:8085', sts: 'https://sts.example.com' })
  })

  it.each([
    ['PMCP_GCP_RUN_URL', 'https://run.example.com/v2', /has the path \/v2/],
    ['PMCP_GCP_STS_URL', 'https://sts.example.com/v1/token', /has the path \/v1\/token/],
    ['PMCP_GCP_ARTIFACTREGISTRY_URL', 'https://ar.example.com?key=1', /query or fragment/],
    ['PMCP_GCP_IAMCREDENTIALS_URL', 'ftp://iam.example.com', /scheme ftp:/],
    ['PMCP_GCP_RUN_URL', 'run.googleapis.com', /is not a URL/]
  ])('%s = %s is refused, naming the variable', (variable, value, why) => {
    let error: unknown
    try {
      gcpEndpoints({ [variable]: value })
    } catch (thrown) {
      error = thrown
    }
    expect(error).toBeInstanceOf(ActionError)
    expect((error as ActionError).title).toBe(`${variable} is not an API root`)
    expect((error as ActionError).message).toMatch(why)
    expect((error as ActionError).message).toContain(`unset ${variable}`)
  })

  it('credentials in a root are refused without being repeated', () => {
    expect(() => gcpEndpoints({ PMCP_GCP_RUN_URL: 'https://user:hunter22@run.example.com' })).toThrow(/carries a user name or password/)
    expect(() => gcpEndpoints({ PMCP_GCP_RUN_URL: 'https://user:hunter22@run.example.com' })).not.toThrow(/hunter22/)
  })
})

describe('the permission table', () => {
  let standin: GcpStandin
  let api: CloudRunApi
  let credentials: AccessTokenSource
  const image = (tag: string): string => `us-docker.pkg.dev/p/r/i:${tag}`

  beforeAll(async () => {
    standin = await startGcpStandin({ operationPolls: 1, repositories: ['pmcp'] })
    const token = standin.issueAccessToken()
    credentials = { accessToken: async () => token, serviceAccount: standin.serviceAccount }
    api = new CloudRunApi({
      project: standin.project,
      region: 'us-central1',
      credentials,
      endpoints: gcpEndpoints(standin.env()),
      retry: { sleep: noSleep }
    })
    await api.waitOperation(await api.createService('svc', { template: { revision: 'svc-a', containers: [{ image: image('1') }] } }))
  })

  afterAll(async () => {
    await standin.stop()
  })

  const repository = (id: string): Promise<unknown> =>
    ensureDockerRepository({ project: standin.project, region: 'us-central1', repository: id }, credentials, {
      endpoints: gcpEndpoints(standin.env()),
      sleep: noSleep
    })

  /** Each call of the table as the action makes it, and what it needs made first (with every permission). */
  const calls: Partial<Record<GcpCall, { prepare?: () => Promise<Operation>; call: (operation?: Operation) => Promise<unknown> }>> = {
    getService: { call: () => api.getService('svc') },
    createService: { call: () => api.createService('other', { template: { containers: [{ image: image('1') }] } }) },
    updateService: { call: async () => api.updateService((await api.getService('svc'))!) },
    getServiceIamPolicy: { call: () => api.getIamPolicy('svc') },
    setServiceIamPolicy: { call: async () => api.setIamPolicy('svc', await api.getIamPolicy('svc')) },
    listRevisions: { call: () => api.listRevisions('svc') },
    getRevision: { call: () => api.getRevision('svc', 'svc-a') },
    waitOperation: {
      prepare: async () =>
        api.updateService({
          ...(await api.getService('svc'))!,
          traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }]
        }),
      call: operation => api.waitOperation(operation!)
    },
    actAsRuntimeServiceAccount: {
      call: async () => api.updateService({ ...(await api.getService('svc'))!, template: { containers: [{ image: image('2') }] } })
    },
    getRepository: { call: () => repository('pmcp') },
    createRepository: { call: () => repository('fresh') },
    deleteService: { call: () => api.deleteService('svc') }
  }

  it.each(Object.keys(calls) as GcpCall[])(
    '%s: refused without its permission (asking for the roles of the table), done with it',
    async call => {
      const row = GCP_PERMISSIONS[call]
      const { prepare, call: make } = calls[call]!
      const operation = await prepare?.()
      standin.setDeniedPermissions([row.permission])
      const { error } = await captureStdout(() => make(operation))
      standin.setDeniedPermissions([])
      expect(error).toBeInstanceOf(ActionError)
      const { message } = error as ActionError
      expect(message.toLowerCase()).toContain(`permission '${row.permission.toLowerCase()}' denied`)
      expect(message).toContain(orList(row.roles))
      const { error: allowed } = await captureStdout(() => make(operation))
      expect(allowed).toBeUndefined()
    }
  )

  it('advice for the federated principal names the service account binding', () => {
    expect(
      permissionAdvice('generateIdToken', {
        serviceAccount: 'd@p.iam.gserviceaccount.com',
        principal: 'principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/g/attribute.repository/o/r'
      })
    ).toBe(
      "This workflow's Workload Identity principal needs the permission iam.serviceAccounts.getOpenIdToken " +
        'on the deploy service account; ' +
        'the predefined roles that include it are roles/iam.workloadIdentityUser, roles/iam.serviceAccountOpenIdTokenCreator or ' +
        'roles/iam.serviceAccountTokenCreator. For example:\n' +
        '  gcloud iam service-accounts add-iam-policy-binding d@p.iam.gserviceaccount.com --role=roles/iam.workloadIdentityUser ' +
        '--member="principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/g/attribute.repository/o/r"'
    )
  })
})
