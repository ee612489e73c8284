/**
 * The caches across runners, as GitHub runs them: `node dist/index.js` three times against ONE cache
 * service stand-in (testkit/actions-cache-service.ts, the real @actions/cache client in the bundle).
 * Every runner starts fresh at the same paths a hosted runner has each time: a new working copy, an
 * empty RUNNER_TOOL_CACHE, CARGO_HOME, target/ and npm cache. Runner 1 (push to main) saves, runner 2
 * (push to main) restores the tools, the cargo cache and the CDK project's node_modules with their exact
 * keys (no download, no npm ci), runner 3 (a pull request) restores and saves nothing.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { archiveListing, startActionsCacheService, type ActionsCacheService } from '../../testkit/actions-cache-service.js'
import { startMcpServer, type TestMcpServer } from '../../testkit/mcp-server.js'
import { describeWithMoto, startMoto, type MotoServer } from '../../testkit/moto.js'
import { sha256File, startReleaseServer, type ReleaseServer } from '../../testkit/release-server.js'
import { runAction, type ActionRun } from '../../testkit/runner.js'
import { deployInputs, REPOSITORY, runnerEnv } from '../../testkit/runner-setup.js'
import { startTokenService, type TokenService } from '../../testkit/token-service.js'
import { REPO_ROOT } from '../../testkit/workdir.js'

const HEAD_SHA = 'cafe0123456789abcdef0123456789abcdef0123'
const TOOL_KEY = `pmcp-tool-mcp-tester-2.22.4-linux-${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}`
/** mcp-tester as the smoke test runs it (`test <url> --format json …`): a passing report. */
const MCP_TESTER =
  '#!/bin/sh\necho \'{"tests":[{"name":"Initialize","category":"Core","status":"Passed","duration":{"secs":0,"nanos":1000000}}]}\'\n'

describeWithMoto('caches across fresh runners (node dist/index.js, the real @actions/cache, one cache service)', () => {
  let moto: MotoServer
  let tokens: TokenService
  let mcp: TestMcpServer
  let release: ReleaseServer
  let cache: ActionsCacheService
  let base: { dir: string; remove: () => void }
  const dirs = (): Record<'repo' | 'cargoHome' | 'toolCache' | 'npmCache' | 'scratch', string> => ({
    repo: path.join(base.dir, 'work', 'octo-repo'),
    cargoHome: path.join(base.dir, 'cargo-home'),
    toolCache: path.join(base.dir, 'hostedtoolcache'),
    npmCache: path.join(base.dir, 'npm-cache'),
    scratch: path.join(base.dir, 'scratch')
  })

  beforeAll(async () => {
    const tester = Buffer.from(MCP_TESTER)
    const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64'
    ;[moto, tokens, mcp, release, cache] = await Promise.all([
      startMoto(),
      startTokenService(),
      startMcpServer({ path: '/mcp' }),
      startReleaseServer({
        [`/sdk/v2.22.4/mcp-tester-${arch}-unknown-linux-gnu`]: tester,
        [`/sdk/v2.22.4/mcp-tester-${arch}-unknown-linux-gnu.sha256`]: sha256File(tester, 'mcp-tester')
      }),
      startActionsCacheService()
    ])
    // Outside the repository: nothing may resolve from its node_modules, the CDK project's own is what is cached.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-e2e-cache-'))
    base = { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
  }, 120_000)

  afterAll(async () => {
    await Promise.all([moto?.stop(), tokens?.stop(), mcp?.close(), release?.close(), cache?.close()])
    base?.remove()
  })

  /** A fresh runner: everything a hosted runner starts without is removed and made again, at the same paths. */
  function freshRunner(): void {
    for (const dir of Object.values(dirs())) {
      fs.rmSync(dir, { recursive: true, force: true })
      fs.mkdirSync(dir, { recursive: true })
    }
    const { repo } = dirs()
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'hello-crate'), repo, { recursive: true })
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'moto-cdk-app'), path.join(repo, 'deploy'), { recursive: true })
    // The deploy/ project pins what the rendered project's lock file holds, so npm ci installs it and its node_modules is cached.
    const rendered = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'templates', 'shared', 'package.json.hbs'), 'utf8')) as object
    fs.writeFileSync(
      path.join(repo, 'deploy', 'package.json'),
      JSON.stringify({ ...rendered, name: 'cache-mcp-cdk', type: 'module' }, null, 2)
    )
    fs.copyFileSync(path.join(REPO_ROOT, 'templates', 'shared', 'package-lock.json'), path.join(repo, 'deploy', 'package-lock.json'))
    fs.mkdirSync(path.join(repo, '.pmcp'))
    fs.writeFileSync(
      path.join(repo, '.pmcp', 'deploy.toml'),
      '[target]\ntype = "aws-lambda"\nversion = "1.0.0"\n\n[server]\nname = "cache-mcp"\nmcp_path = "/mcp"\n'
    )
  }

  function run(eventName: string, payload: object, ref: string): Promise<ActionRun> {
    freshRunner()
    const { repo, cargoHome, toolCache, npmCache, scratch } = dirs()
    return runAction(
      {
        ...deployInputs(repo, scratch),
        // A fresh runner's workspace is its checkout, here outside this repository (the action refuses paths outside it).
        'working-directory': '.',
        // The crate's own target/ (what the cargo cache holds), offline: no cargo-lambda or zig.
        'build-command': 'cargo build --release --offline --locked',
        'binary-path': 'target/release/hello-crate',
        // mcp-tester is the tool this run installs through the cache (cargo-lambda and zig need no build-command).
        'smoke-test': 'mcp-tester',
        'mcp-tester-version': '2.22.4',
        'mcp-tester-url': `${release.url}/sdk/v{version}/mcp-tester-{arch}-unknown-linux-gnu`
      },
      {
        ...runnerEnv(scratch, moto, tokens, { name: eventName, payload, sha: HEAD_SHA, runId: String(Date.now()) }),
        GITHUB_WORKSPACE: repo,
        ...cache.env(cache.tokenForRef(ref)),
        RUNNER_TOOL_CACHE: toolCache,
        CARGO_HOME: cargoHome,
        npm_config_cache: npmCache,
        FIXTURE_MCP_URL: mcp.url
      }
    )
  }

  const twirpCalls = (from: number, name: string): number => cache.requests.slice(from).filter(r => r.name === name).length
  const keyLine = (result: ActionRun): string => /^Cargo cache key: (\S+)$/m.exec(result.stdout)?.[1] ?? ''
  const cdkKeyLine = (result: ActionRun): string => /^CDK dependencies cache key: (\S+)$/m.exec(result.stdout)?.[1] ?? ''
  /** npm's content cache: filled by npm ci, untouched when node_modules comes from the Actions cache. */
  const npmCacheUsed = (): boolean => fs.existsSync(path.join(dirs().npmCache, '_cacache'))

  it('runner 1 saves, runner 2 restores tools, cargo and CDK node_modules with exact keys, a pull request saves nothing', async () => {
    // Runner 1: a push to main on an empty cache.
    const first = await run('push', { ref: 'refs/heads/main', after: HEAD_SHA }, 'refs/heads/main')
    expect(first.stdout).not.toMatch(/::error/)
    expect(first.exitCode).toBe(0)
    const cargoKey = keyLine(first)
    expect(cargoKey).toMatch(/^pmcp-cargo-v1-linux-/)
    expect(first.stdout).toMatch(/Caches: restored; saved \(save-cache: default-branch, and refs\/heads\/main is refs\/heads\/main\)/)
    expect(first.stdout).toContain('Cargo cache: miss')
    expect(first.stdout).toMatch(/mcp-tester 2\.22\.4: .* \(download\)/)
    expect(first.stdout).toContain(`Saved the mcp-tester cache: ${TOOL_KEY}`)
    expect(first.stdout).toContain(`Saved the cargo cache: ${cargoKey}`)
    const cdkKey = cdkKeyLine(first)
    expect(cdkKey).toMatch(/^pmcp-cdk-deps-v1-linux-/)
    expect(first.stdout).toContain('CDK dependencies cache: miss')
    expect(first.stdout).toContain(`Saved the CDK dependencies cache: ${cdkKey}`)
    expect(npmCacheUsed()).toBe(true)
    expect(first.outputs['cache-hit']).toBe('false')
    expect(first.outputs['smoke-test']).toBe('passed')
    const saved = cache.finalizedEntries()
    expect(saved.map(e => [e.key, e.scope])).toEqual(
      expect.arrayContaining([
        [TOOL_KEY, 'refs/heads/main'],
        [cargoKey, 'refs/heads/main'],
        [cdkKey, 'refs/heads/main']
      ])
    )
    expect(saved).toHaveLength(3)
    expect(archiveListing(saved.find(e => e.key === cdkKey)!)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^deploy\/node_modules\/aws-cdk-lib\/package\.json$/)])
    )
    const cargoEntry = saved.find(e => e.key === cargoKey)!
    expect(cargoEntry.sizeBytes).toBeGreaterThan(0)
    expect(archiveListing(cargoEntry)).toEqual(expect.arrayContaining([expect.stringMatching(/^target\/release\//)]))
    expect(cache.requests.filter(r => r.kind === 'other')).toEqual([])
    const downloads = release.requests.filter(p => p.includes('/mcp-tester-')).length

    // Runner 2: the same push on a fresh runner restores both, downloads nothing, saves nothing.
    const before2 = cache.requests.length
    const second = await run('push', { ref: 'refs/heads/main', after: HEAD_SHA }, 'refs/heads/main')
    expect(second.stdout).not.toMatch(/::error/)
    expect(second.exitCode).toBe(0)
    expect(keyLine(second)).toBe(cargoKey)
    expect(second.stdout).toContain('Cache hit for: ' + cargoKey)
    expect(second.stdout).toContain('Cache hit for: ' + TOOL_KEY)
    expect(second.stdout).toContain('Cargo cache: exact hit')
    expect(second.stdout).toMatch(/mcp-tester 2\.22\.4: .* \(actions-cache\)/)
    expect(second.stdout).toContain(`Cargo cache ${cargoKey} was an exact hit; not saving it again.`)
    expect(cdkKeyLine(second)).toBe(cdkKey)
    expect(second.stdout).toContain('CDK dependencies cache: exact hit; npm ci skipped')
    expect(npmCacheUsed()).toBe(false)
    expect(second.outputs['cache-hit']).toBe('true')
    expect(second.outputs['smoke-test']).toBe('passed')
    expect(release.requests.filter(p => p.includes('/mcp-tester-')).length).toBe(downloads)
    expect(twirpCalls(before2, 'GetCacheEntryDownloadURL')).toBe(3)
    expect(twirpCalls(before2, 'CreateCacheEntry')).toBe(0)
    expect(cache.entries).toHaveLength(3)

    // Runner 3: a pull request reads main's entries (its token's read-only scope) and saves nothing.
    const before3 = cache.requests.length
    const pullRequest = { number: 7, head: { sha: HEAD_SHA, repo: { full_name: REPOSITORY } }, base: { repo: { full_name: REPOSITORY } } }
    const third = await run('pull_request', { action: 'opened', number: 7, pull_request: pullRequest }, 'refs/pull/7/merge')
    expect(third.stdout).not.toMatch(/::error/)
    expect(third.exitCode).toBe(0)
    expect(third.stdout).toMatch(/Caches: restored; not saved \(save-cache: default-branch, and this pull_request run restores only\)/)
    expect(keyLine(third)).toBe(cargoKey)
    expect(third.stdout).toContain('Cargo cache: exact hit')
    expect(third.stdout).toMatch(/mcp-tester 2\.22\.4: .* \(actions-cache\)/)
    expect(third.stdout).toContain('CDK dependencies cache: exact hit; npm ci skipped')
    expect(third.outputs['cache-hit']).toBe('true')
    expect(twirpCalls(before3, 'GetCacheEntryDownloadURL')).toBe(3)
    expect(twirpCalls(before3, 'CreateCacheEntry')).toBe(0)
    expect(cache.entries).toHaveLength(3)
    expect(cache.requests.filter(r => r.kind === 'other')).toEqual([])
  }, 600_000)
})
