/**
 * `target: google-cloud-run` through `node dist/index.js`, the rest of the lifecycle: a private service
 * (allUsers removed from the invoker role, the smoke test sent with an identity token), a revision that
 * starts but fails its smoke test (traffic moved back), `command: cleanup` of closed pull requests'
 * tags, `command: destroy` of production (refused without confirm-destroy), `command: synth`, and a
 * Workload Identity provider that does not admit the repository. Revisions are served by a real MCP
 * server on loopback (the image path itself is proven in google-cloud-run.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { startGcpStandin, type GcpStandin, type StandinRevision } from '../../testkit/gcp-standin.js'
import { FakeGitHubApi, type PullRequestRef } from '../../testkit/github-api.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { startOciRegistry, type OciRegistry } from '../../testkit/oci-registry.js'
import { buildBaseLayout, pushBaseImage, type TestBaseImage } from '../../testkit/oci-base-image.js'
import { cloudRunRunner, type CloudRunRun } from '../../testkit/cloud-run-e2e.js'
import { REPOSITORY } from '../../testkit/runner-setup.js'
import type { ActionRun } from '../../testkit/runner.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'

const SERVICE = 'hello-run'
const REGION = 'us-central1'
const [OWNER, REPO] = REPOSITORY.split('/')
const GOOD_SHA = 'a000000000000000000000000000000000000001'
/** A commit whose server starts but answers nothing MCP: its smoke test fails. */
const BROKEN_SHA = 'b000000000000000000000000000000000000002'

type Traffic = { type?: string; revision?: string; percent?: number; tag?: string }

describe('node dist/index.js with target google-cloud-run: private service, rollback on failure, cleanup, destroy, synth', () => {
  let registry: OciRegistry
  let google: GcpStandin
  let github: FakeGitHubApi
  let mcp: TestMcpServer
  let notMcp: http.Server
  let notMcpUrl: string
  let base: TestBaseImage
  let repo: { dir: string; remove: () => void }
  let scratch: string

  function backendFor(revision: StandinRevision): string {
    return revision.labels['commit-sha'] === BROKEN_SHA ? notMcpUrl : mcp.url.replace(/\/mcp$/, '')
  }

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-gcr-life-'))
    notMcp = http.createServer((_request, response) => response.writeHead(404, { 'content-type': 'text/plain' }).end('no MCP here'))
    await new Promise<void>(resolve => notMcp.listen(0, '127.0.0.1', resolve))
    notMcpUrl = `http://127.0.0.1:${(notMcp.address() as AddressInfo).port}`
    ;[registry, github, mcp] = await Promise.all([startOciRegistry(), FakeGitHubApi.start(), startMcpServer({ path: '/mcp' })])
    google = await startGcpStandin({ allowedRepository: REPOSITORY, repositories: ['pmcp'], backendFor })
    base = await pushBaseImage(buildBaseLayout(path.join(scratch, 'base')), 'amd64', registry.host, 'base/cc', 'oci')
    repo = makeWorkDir('e2e-gcr-life')
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'cloud-run-server'), repo.dir, { recursive: true })
    // No Dockerfile: the image is built from the binary (as for the scaffold).
    fs.rmSync(path.join(repo.dir, 'Dockerfile'))
    writeToml({ allowUnauthenticated: true })
    run = cloudRunRunner({ google, registry, github, repoDir: repo.dir, scratch, binary: SERVICE, firstRunId: 500 })
  }, 120_000)

  afterAll(async () => {
    await Promise.all([registry?.stop(), google?.stop(), github?.stop(), mcp?.close()])
    await new Promise(resolve => notMcp?.close(resolve))
    repo?.remove()
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
  })

  function writeToml(options: { allowUnauthenticated: boolean }): void {
    fs.writeFileSync(
      path.join(repo.dir, '.pmcp', 'deploy.toml'),
      [
        '[target]',
        'type = "google-cloud-run"',
        '[gcp]',
        `project_id = "${google.project}"`,
        `region = "${REGION}"`,
        'repository = "pmcp"',
        '[server]',
        `name = "${SERVICE}"`,
        `allow_unauthenticated = ${options.allowUnauthenticated}`,
        '[runtime]',
        `base = "${base.reference}"`,
        ''
      ].join('\n')
    )
  }

  let run: CloudRunRun

  const push = (sha: string, inputs: Record<string, string> = {}): Promise<ActionRun> =>
    run('push', { ref: 'refs/heads/main', after: sha }, sha, inputs)
  const pr = (number: number): PullRequestRef => ({ owner: OWNER, repo: REPO, number })
  function previewOf(number: number, sha: string): Promise<ActionRun> {
    const pullRequest = { number, head: { sha, repo: { full_name: REPOSITORY } }, base: { repo: { full_name: REPOSITORY } } }
    return run('pull_request', { action: 'opened', number, pull_request: pullRequest }, sha)
  }
  const errors = (result: ActionRun): string[] => result.stdout.split('\n').filter(line => line.startsWith('::error'))
  const traffic = (): Traffic[] => (google.service(SERVICE, REGION)?.traffic ?? []) as Traffic[]
  const revisionsOf = (sha: string): StandinRevision[] =>
    google.revisions(SERVICE, REGION).filter(revision => revision.labels['commit-sha'] === sha)

  it('a private service: allUsers leaves the invoker role, other members stay, the smoke test carries an identity token', async () => {
    const first = await push(GOOD_SHA)
    expect(errors(first)).toEqual([])
    expect(google.iamPolicy(SERVICE, REGION).bindings).toContainEqual({ role: 'roles/run.invoker', members: ['allUsers'] })
    // Someone grants a colleague access by hand: the action must keep that member.
    google.interfereWithIamPolicy(SERVICE, 'user:alice@example.com', 'roles/run.invoker', 1)

    writeToml({ allowUnauthenticated: false })
    const result = await push(GOOD_SHA)
    expect(errors(result)).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs['smoke-test']).toBe('passed')
    expect(result.stdout).toContain('is private: the smoke test calls it with an identity token')
    const invokers = google.iamPolicy(SERVICE, REGION).bindings.filter(binding => binding.role === 'roles/run.invoker')
    expect(invokers.flatMap(binding => binding.members)).toEqual(['user:alice@example.com'])
    const idTokenCalls = google.requests.filter(request => request.api === 'iamcredentials' && request.path.endsWith(':generateIdToken'))
    expect(idTokenCalls.map(request => request.body)).toContainEqual(expect.objectContaining({ audience: `${google.appUrl}/${SERVICE}` }))
    writeToml({ allowUnauthenticated: true })
  }, 180_000)

  it('a revision that fails its smoke test: traffic goes back to the revision before, which is smoke-tested', async () => {
    const before = traffic().find(target => (target.percent ?? 0) === 100)?.revision
    const result = await push(BROKEN_SHA)
    expect(result.exitCode).toBe(1)
    expect(errors(result)).toHaveLength(1)
    expect(errors(result)[0]).toContain(`Production traffic was moved back to revision ${before}; its smoke test passed`)
    expect(result.outputs['function-version']).toBe(revisionsOf(BROKEN_SHA)[0].shortName)
    expect(result.outputs['previous-version']).toBe(before)
    expect(traffic().find(target => (target.percent ?? 0) === 100)?.revision).toBe(before)
    expect(result.summary).toContain(`the smoke test failed, rolled back to revision ${before}`)
  }, 180_000)

  it("cleanup: the closed pull request's tag goes, the open one's stays", async () => {
    github.setPullRequest(pr(8))
    github.setPullRequest(pr(9))
    // Someone (production's run, say) updates the service between this run's read and its write.
    google.interfereWithService(SERVICE, REGION)
    const raced = await previewOf(8, 'c000000000000000000000000000000000000008')
    expect(errors(raced)).toEqual([])
    expect(raced.stdout).toContain('the service changed since it was read (another run?); reading it again (attempt 2 of 3)')
    expect(errors(await previewOf(9, 'c000000000000000000000000000000000000009'))).toEqual([])
    expect(
      traffic()
        .map(target => target.tag)
        .filter(Boolean)
    ).toEqual(['pr-8', 'pr-9'])
    github.setPullRequest(pr(8), { state: 'closed', merged: true })

    const result = await run('schedule', {}, GOOD_SHA, { command: 'cleanup' })
    expect(errors(result)).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(
      traffic()
        .map(target => target.tag)
        .filter(Boolean)
    ).toEqual(['pr-9'])
    expect(result.summary).toMatch(/pr-8.*#8.*merged.*removed/)
    expect(result.summary).toMatch(/pr-9.*#9.*open.*kept/)
  }, 240_000)

  it('synth writes the service a deploy would send, without calling Google', async () => {
    const calls = google.requests.length
    const result = await run('push', { ref: 'refs/heads/main', after: GOOD_SHA }, GOOD_SHA, { command: 'synth' })
    expect(errors(result)).toEqual([])
    expect(google.requests).toHaveLength(calls)
    const spec = JSON.parse(fs.readFileSync(result.outputs['template-path'], 'utf8'))
    expect(spec.name).toBe(`projects/${google.project}/locations/${REGION}/services/${SERVICE}`)
    expect(spec.template.containers[0].image).toBe(`${registry.host}/${google.project}/pmcp/${SERVICE}@sha256:${'0'.repeat(64)}`)
    expect(spec.traffic).toEqual([{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: spec.template.revision, percent: 100 }])
  }, 60_000)

  it('a provider that does not admit the repository: one error naming it, nothing deployed', async () => {
    // Another project, whose provider admits another repository only.
    const elsewhere = await startGcpStandin({ allowedRepository: 'someone/else', jobRepository: REPOSITORY, backendFor })
    try {
      const refused = await run(
        'push',
        { ref: 'refs/heads/main', after: GOOD_SHA },
        GOOD_SHA,
        { 'workload-identity-provider': elsewhere.providerName, 'service-account': elsewhere.serviceAccount },
        { ...elsewhere.env(), ...elsewhere.oidcEnv() }
      )
      expect(refused.exitCode).toBe(1)
      expect(errors(refused)).toHaveLength(1)
      expect(errors(refused)[0]).toContain(`does not admit this repository (GITHUB_REPOSITORY=${REPOSITORY})`)
      expect(errors(refused)[0]).toContain(`--attribute-condition="assertion.repository == '${REPOSITORY}'"`)
      expect(elsewhere.requests.filter(request => request.api === 'run')).toEqual([])
    } finally {
      await elsewhere.stop()
    }
  }, 120_000)

  it('destroy of production: refused without confirm-destroy, then deletes the service', async () => {
    const refused = await run('workflow_dispatch', {}, GOOD_SHA, { command: 'destroy' })
    expect(refused.exitCode).toBe(1)
    expect(errors(refused)[0]).toContain(`confirm-destroy: ${SERVICE}`)
    expect(google.service(SERVICE, REGION)).toBeDefined()
    const destroyed = await run('workflow_dispatch', {}, GOOD_SHA, { command: 'destroy', 'confirm-destroy': SERVICE })
    expect(errors(destroyed)).toEqual([])
    expect(destroyed.exitCode).toBe(0)
    expect(google.service(SERVICE, REGION)).toBeUndefined()
    const again = await run('workflow_dispatch', {}, GOOD_SHA, { command: 'destroy', 'confirm-destroy': SERVICE })
    expect(again.exitCode).toBe(0)
    expect(again.summary).toContain('nothing to remove (the service does not exist)')
  }, 120_000)
})
