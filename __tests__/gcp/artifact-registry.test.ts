import { afterAll, describe, expect, it } from '@jest/globals'
import { ActionError } from '../../src/action-error.js'
import { ensureDockerRepository, REPOSITORY_DESCRIPTION } from '../../src/gcp/artifact-registry.js'
import { gcpEndpoints } from '../../src/gcp/endpoints.js'
import { captureStdout } from '../../testkit/annotations.js'
import { startGcpStandin, type GcpStandin, type GcpStandinOptions } from '../../testkit/gcp-standin.js'

const noSleep = async (): Promise<void> => {}
const standins: GcpStandin[] = []

async function start(options: GcpStandinOptions = {}): Promise<GcpStandin> {
  const started = await startGcpStandin(options)
  standins.push(started)
  return started
}

afterAll(async () => {
  await Promise.all(standins.map(started => started.stop()))
})

async function ensure(on: GcpStandin, repository = 'pmcp'): Promise<{ result?: string; error?: unknown; made: GcpStandin['requests'] }> {
  const token = on.issueAccessToken()
  const before = on.requests.length
  const { result, error } = await captureStdout(() =>
    ensureDockerRepository(
      { project: on.project, region: 'europe-west1', repository },
      { accessToken: async () => token, serviceAccount: on.serviceAccount },
      { endpoints: gcpEndpoints(on.env()), retry: { sleep: noSleep }, sleep: noSleep }
    )
  )
  return { result, error, made: on.requests.slice(before) }
}

describe('ensureDockerRepository', () => {
  it('an existing repository is only read', async () => {
    const standin = await start({ repositories: ['pmcp'] })
    const { result, made } = await ensure(standin)
    expect(result).toBe('exists')
    expect(made.map(request => `${request.method} ${request.path} ${request.status}`)).toEqual([
      'GET /v1/projects/pmcp-test/locations/europe-west1/repositories/pmcp 200'
    ])
  })

  it('a missing one is created as a Docker repository, and the operation followed to its end', async () => {
    const standin = await start({ operationPolls: 2 })
    const { result, made } = await ensure(standin)
    expect(result).toBe('created')
    expect(
      made.map(request => `${request.method} ${request.path.replace(/operations\/[0-9a-f-]+/, 'operations/<id>')} ${request.status}`)
    ).toEqual([
      'GET /v1/projects/pmcp-test/locations/europe-west1/repositories/pmcp 404',
      'POST /v1/projects/pmcp-test/locations/europe-west1/repositories 200',
      'GET /v1/projects/pmcp-test/locations/europe-west1/operations/<id> 200',
      'GET /v1/projects/pmcp-test/locations/europe-west1/operations/<id> 200'
    ])
    expect(made[1].query).toEqual({ repositoryId: 'pmcp' })
    expect(made[1].body).toEqual({ format: 'DOCKER', description: REPOSITORY_DESCRIPTION })
    expect(standin.repositoryExists('europe-west1', 'pmcp')).toBe(true)
    expect((await ensure(standin)).result).toBe('exists')
  })

  it('one created meanwhile by another run (409 ALREADY_EXISTS) counts as existing', async () => {
    const standin = await start({ repositories: ['pmcp'] })
    // The read misses it (as when a parallel run creates it right after); the create then meets it.
    standin.failNext('artifactregistry', 1, {
      status: 404,
      body: JSON.stringify({ error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } })
    })
    const { result, made } = await ensure(standin)
    expect(result).toBe('exists')
    expect(made.map(request => request.status)).toEqual([404, 409])
  })

  it('without the permission to create it: who may, and the command to create it once', async () => {
    const standin = await start({ deniedPermissions: ['artifactregistry.repositories.create'] })
    const { error } = await ensure(standin)
    expect(error).toBeInstanceOf(ActionError)
    const { title, message } = error as ActionError
    expect(title).toBe('Cannot create the Artifact Registry repository')
    expect(message).toContain("Permission 'artifactregistry.repositories.create' denied")
    expect(message).toContain('roles/artifactregistry.admin')
    expect(message).toContain(
      'gcloud artifacts repositories create pmcp --repository-format=docker --location=europe-west1 --project=pmcp-test'
    )
  })

  it('without the permission to read it: the reader roles', async () => {
    const standin = await start({ deniedPermissions: ['artifactregistry.repositories.get'] })
    const { error } = await ensure(standin)
    expect((error as ActionError).title).toBe('Google denied artifactregistry.repositories.get')
    expect((error as ActionError).message).toContain('roles/artifactregistry.reader')
  })

  it('an id Artifact Registry would refuse is refused before any request', async () => {
    const standin = await start()
    const { error, made } = await ensure(standin, 'My_Repo')
    expect(made).toEqual([])
    expect((error as ActionError).message).toContain("'My_Repo' is not an Artifact Registry repository id")
  })
})
