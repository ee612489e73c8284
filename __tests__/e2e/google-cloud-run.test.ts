/**
 * `target: google-cloud-run` end to end through `node dist/index.js`, on a repository shaped like one
 * `cargo pmcp deploy init --target google-cloud-run` prepares (testkit/fixtures/cloud-run-server: a
 * std-only MCP server, its scaffold Dockerfile, deploy.toml). Real parts: cargo builds the server, the
 * image is assembled and pushed to Debian's docker-registry on loopback, and every revision the
 * stand-in Cloud Run creates runs THAT image: pulled by the digest Cloud Run was given, unpacked with
 * umoci and its entrypoint started, so the smoke test reaches the server the image holds. Google's APIs
 * (GitHub OIDC → STS → IAM credentials, Cloud Run Admin v2, Artifact Registry) are the loopback
 * stand-in, which checks every request's shape; the PR comment goes to the GitHub API stand-in.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { renderScaffoldDockerfile } from '../../src/targets/google-cloud-run/dockerfile.js'
import { startGcpStandin, type GcpStandin, type StandinRevision } from '../../testkit/gcp-standin.js'
import { FakeGitHubApi, type PullRequestRef } from '../../testkit/github-api.js'
import { pullAndUnpack, runEntrypoint, type RunningEntrypoint } from '../../testkit/image-run.js'
import { buildBaseLayout, pushBaseImage, type TestBaseImage } from '../../testkit/oci-base-image.js'
import { startOciRegistry, type OciRegistry } from '../../testkit/oci-registry.js'
import { cloudRunRunner, type CloudRunRun } from '../../testkit/cloud-run-e2e.js'
import { REPOSITORY } from '../../testkit/runner-setup.js'
import type { ActionRun } from '../../testkit/runner.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'

const SERVICE = 'hello-run'
const REGION = 'us-central1'
const [OWNER, REPO] = REPOSITORY.split('/')
const FIRST_SHA = '1111111111111111111111111111111111111111'
const SECOND_SHA = '2222222222222222222222222222222222222222'
const PR_SHA = '7777777777777777777777777777777777777777'
/** A commit whose revision never becomes ready (the stand-in fails it as Cloud Run would). */
const BROKEN_SHA = 'badbadbadbadbadbadbadbadbadbadbadbadbad0'
const BROKEN_MESSAGE =
  'The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable ' +
  'within the allocated timeout.'

type Traffic = { type?: string; revision?: string; percent?: number; tag?: string }

describe('node dist/index.js with target google-cloud-run (registry, image runs, Google stand-in)', () => {
  let registry: OciRegistry
  let google: GcpStandin
  let github: FakeGitHubApi
  let base: TestBaseImage
  let repo: { dir: string; remove: () => void }
  let scratch: string
  /** Each image a revision runs, started once (by digest). */
  const running = new Map<string, Promise<RunningEntrypoint>>()
  const backends = new Map<string, string>()

  /**
   * The stand-in asks this for every request to a revision's URL. The first request for an image
   * pulls and starts it and answers 503 meanwhile, as a cold Cloud Run instance would; the smoke
   * test's cold-start retries then reach it.
   */
  function backendFor(revision: StandinRevision): string | undefined {
    const known = backends.get(revision.image)
    if (known) return known
    if (!running.has(revision.image)) {
      const dir = fs.mkdtempSync(path.join(scratch, 'image-'))
      const started = pullAndUnpack(revision.image, dir).then(image => runEntrypoint(image))
      running.set(revision.image, started)
      void started.then(entry => backends.set(revision.image, `http://127.0.0.1:${entry.port}`))
    }
    return undefined
  }

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-gcr-'))
    ;[registry, github] = await Promise.all([startOciRegistry(), FakeGitHubApi.start()])
    google = await startGcpStandin({
      allowedRepository: REPOSITORY,
      repositories: [],
      backendFor,
      failRevision: revision => (revision.labels['commit-sha'] === BROKEN_SHA ? BROKEN_MESSAGE : undefined)
    })
    base = await pushBaseImage(buildBaseLayout(path.join(scratch, 'base')), 'multi', registry.host, 'distroless/cc-debian12', 'docker')
    repo = makeWorkDir('e2e-gcr')
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'cloud-run-server'), repo.dir, { recursive: true })
    // The repository as init would write it for this project and base: deploy.toml names them, and the
    // Dockerfile is the scaffold for that base, untouched (so the image is built without Docker).
    const tomlPath = path.join(repo.dir, '.pmcp', 'deploy.toml')
    const toml = fs
      .readFileSync(tomlPath, 'utf8')
      .replace('project_id = "demo-project"', `project_id = "${google.project}"`)
      .concat(`\n[runtime]\nbase = "${base.reference}"\n`)
    fs.writeFileSync(tomlPath, toml)
    fs.writeFileSync(
      path.join(repo.dir, 'Dockerfile'),
      renderScaffoldDockerfile({ binary: SERVICE, package: SERVICE, workspaceRoot: true, base: base.reference, aptPackages: [] })
    )
    run = cloudRunRunner({ google, registry, github, repoDir: repo.dir, scratch, binary: SERVICE, firstRunId: 100 })
  }, 120_000)

  afterAll(async () => {
    for (const started of running.values()) await (await started.catch(() => undefined))?.stop()
    await Promise.all([registry?.stop(), google?.stop(), github?.stop()])
    repo?.remove()
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
  })

  let run: CloudRunRun

  const push = (sha: string, inputs: Record<string, string> = {}): Promise<ActionRun> =>
    run('push', { ref: 'refs/heads/main', after: sha }, sha, inputs)
  const pr = (number: number): PullRequestRef => ({ owner: OWNER, repo: REPO, number })
  function pullRequest(action: string, number: number, sha: string): Promise<ActionRun> {
    const pullRequest = { number, head: { sha, repo: { full_name: REPOSITORY } }, base: { repo: { full_name: REPOSITORY } } }
    return run('pull_request', { action, number, pull_request: pullRequest }, sha)
  }

  function errors(result: ActionRun): string[] {
    return result.stdout.split('\n').filter(line => line.startsWith('::error'))
  }

  function traffic(): Traffic[] {
    return (google.service(SERVICE, REGION)?.traffic ?? []) as Traffic[]
  }

  function revisionOf(sha: string): StandinRevision {
    const revision = google.revisions(SERVICE, REGION).find(candidate => candidate.labels['commit-sha'] === sha)
    if (!revision) throw new Error(`no revision of ${sha}`)
    return revision
  }

  it('push: builds the binary, pushes base + binary by digest, pins all traffic to the named revision, smoke-tests it', async () => {
    const result = await push(FIRST_SHA)
    expect(errors(result)).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('Image: built without Docker')
    const revision = revisionOf(FIRST_SHA)
    expect(result.outputs['stack-name']).toBe(SERVICE)
    expect(result.outputs['function-version']).toBe(revision.shortName)
    expect(result.outputs['previous-version'] ?? '').toBe('')
    expect(result.outputs['mcp-url']).toBe(`${google.appUrl}/${SERVICE}/mcp`)
    expect(result.outputs['smoke-test']).toBe('passed')

    // The image Cloud Run was given: by digest, on the registry, the base's layers plus one.
    expect(revision.image).toMatch(new RegExp(`^${registry.host}/${google.project}/pmcp/${SERVICE}@sha256:[0-9a-f]{64}$`))
    expect(google.repositoryExists(REGION, 'pmcp')).toBe(true)

    // The spec the action sent: port 8080, env, resources, scaling, ingress, labels, traffic pinned.
    const service = google.service(SERVICE, REGION) as {
      ingress: string
      template: { revision: string; labels: Record<string, string>; scaling: object; containers: Record<string, unknown>[] }
    }
    expect(service.ingress).toBe('INGRESS_TRAFFIC_ALL')
    expect(service.template.revision).toBe(revision.shortName)
    expect(service.template.labels).toMatchObject({ 'managed-by': 'pmcp-deploy-action', 'commit-sha': FIRST_SHA, stage: 'production' })
    expect(service.template.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 10 })
    expect(service.template.containers[0]).toMatchObject({
      image: revision.image,
      ports: [{ containerPort: 8080 }],
      env: [{ name: 'RUST_LOG', value: 'info' }],
      resources: { limits: { memory: '256Mi', cpu: '1' } }
    })
    expect(traffic()).toEqual([{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: revision.shortName, percent: 100 }])
    expect(google.iamPolicy(SERVICE, REGION).bindings).toContainEqual({ role: 'roles/run.invoker', members: ['allUsers'] })
    expect(result.summary).toContain(`Production <code>${SERVICE}</code> deployed (revision ${revision.shortName})`)
  }, 180_000)

  it('pull request: a tagged revision without traffic, its own URL, smoke-tested and commented; production untouched', async () => {
    const production = revisionOf(FIRST_SHA).shortName
    github.setPullRequest(pr(7))
    const result = await pullRequest('opened', 7, PR_SHA)
    expect(errors(result)).toEqual([])
    expect(result.exitCode).toBe(0)
    const preview = revisionOf(PR_SHA)
    expect(preview.labels).toMatchObject({ stage: 'preview', 'preview-id': '7' })
    expect(result.outputs['mcp-url']).toBe(`${google.appUrl}/pr-7---${SERVICE}/mcp`)
    expect(result.outputs['function-version']).toBe(preview.shortName)
    expect(result.outputs['smoke-test']).toBe('passed')
    expect(traffic()).toEqual([
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: production, percent: 100 },
      // The API leaves zero values out of its answers (proto3 JSON): a 0% entry has no percent.
      { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: preview.shortName, tag: 'pr-7' }
    ])
    const [comment] = github.comments(pr(7))
    expect(github.comments(pr(7))).toHaveLength(1)
    expect(comment.body).toContain(`Preview <code>${SERVICE}</code> deployed (revision ${preview.shortName})`)
    expect(comment.body).toContain(`${google.appUrl}/pr-7---${SERVICE}/mcp`)
  }, 180_000)

  it('a second production deploy keeps the PR tag; rollback moves all traffic back in one update, no rebuild', async () => {
    const first = revisionOf(FIRST_SHA).shortName
    const preview = revisionOf(PR_SHA).shortName
    const second = await push(SECOND_SHA)
    expect(errors(second)).toEqual([])
    const secondRevision = revisionOf(SECOND_SHA).shortName
    expect(second.outputs['previous-version']).toBe(first)
    expect(traffic()).toContainEqual({ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: preview, tag: 'pr-7' })
    expect(traffic()).toContainEqual({ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: secondRevision, percent: 100 })

    const revisionsBefore = google.revisions(SERVICE, REGION).length
    const rollback = await run('workflow_dispatch', {}, SECOND_SHA, { command: 'rollback', 'rollback-to': 'previous' })
    expect(errors(rollback)).toEqual([])
    expect(rollback.exitCode).toBe(0)
    expect(rollback.outputs['function-version']).toBe(first)
    expect(rollback.outputs['previous-version']).toBe(secondRevision)
    expect(rollback.outputs['smoke-test']).toBe('passed')
    expect(traffic()).toContainEqual({ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: first, percent: 100 })
    expect(traffic()).toContainEqual({ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: preview, tag: 'pr-7' })
    // Traffic only: no new revision, nothing built.
    expect(google.revisions(SERVICE, REGION)).toHaveLength(revisionsBefore)
    expect(rollback.stdout).not.toContain('Building')
    expect(rollback.summary).toContain(`rolled back to revision ${first}`)
  }, 240_000)

  it('a revision that does not start: the deploy fails with its condition message, traffic stays', async () => {
    const before = traffic()
    const result = await push(BROKEN_SHA)
    expect(result.exitCode).toBe(1)
    const [error] = errors(result)
    expect(errors(result)).toHaveLength(1)
    expect(error).toContain('did not become ready')
    expect(error).toContain('failed to start and listen on the port defined provided by the PORT=8080')
    expect(traffic()).toEqual(before)
  }, 180_000)

  it('closing the pull request removes its tag only; the service and production stay', async () => {
    const production = traffic().find(target => (target.percent ?? 0) > 0)
    github.setPullRequest(pr(7), { state: 'closed' })
    const closed = await pullRequest('closed', 7, PR_SHA)
    expect(errors(closed)).toEqual([])
    expect(closed.exitCode).toBe(0)
    expect(traffic()).toEqual([production])
    expect(google.service(SERVICE, REGION)).toBeDefined()
    expect(closed.stdout).toContain('Removed tag pr-7')
  }, 120_000)
})
