/**
 * What the red-team fault suites share: moto_server, the OIDC token service and the GitHub API
 * stand-in, each behind a fault proxy; a repository with its own moto-compatible CDK project and a
 * pre-built `bootstrap`; a Lambda function `rt-fn` with versions and alias `live`; and a runner
 * environment whose every network call goes through a proxy, with a short request-timeout.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FaultProxy } from '../../testkit/fault-proxy.js'
import { FakeGitHubApi, type PullRequestRef } from '../../testkit/github-api.js'
import { bootstrapZip, createDeployedFunction, createExecutionRole, sha } from '../../testkit/lambda-fixture.js'
import { startMoto, type MotoServer } from '../../testkit/moto.js'
import { runTimed, type RunOptions, type TimedRun } from '../../testkit/red-team.js'
import { createServerRepository, deployInputs, REPOSITORY, runnerEnv } from '../../testkit/runner-setup.js'
import { startTokenService, type TokenService } from '../../testkit/token-service.js'

export const SERVER = 'rt-fn'
export const GITHUB_TOKEN = 'ghs_RedTeamFaultsToken0123456789abcdef'
export const SMOKE_TOKEN = 'mcp_RedTeamFaultsSmoke_0a1b2c3d4e5f'
export const SECRET_VALUE = 'sk_RedTeamFaultsSecret_9f8e7d6c5b4a'
export const HEAD_SHA = 'c0ffee0123456789abcdef0123456789abcdef01'
export const PR: PullRequestRef = { owner: 'octo-org', repo: 'octo-repo', number: 19 }
/**
 * Seconds each request may take in these runs (input request-timeout): long enough for moto on a
 * loaded machine, short enough that a hang (retried for twice this) ends soon.
 */
export const REQUEST_TIMEOUT_SECONDS = 2
/** For runs that hang nothing but wait on many moto calls (a whole cdk deploy). */
export const SLOW_CALL_SECONDS = 10
/**
 * A run with a hanging call must end by itself within this (a whole run takes 5-20 s on a loaded
 * 2-core machine; the hang adds at most the retry budget per call); it is stopped after `KILL_AFTER_MS`.
 */
export const HANG_LIMIT_MS = 45_000
export const KILL_AFTER_MS = 60_000
/** How a call that got no answer in time must be explained: the deadline, and the input that sets it. */
export const DEADLINE_EXPLAINED = /request-timeout/

export interface FaultBench {
  moto: MotoServer
  tokens: TokenService
  github: FakeGitHubApi
  aws: FaultProxy
  oidc: FaultProxy
  api: FaultProxy
  repoDir: string
  /** Runs the action for `event` with `inputs` over the bench's defaults (rollback of rt-fn, no smoke test). */
  run(event: { name: string; payload: object }, inputs?: Record<string, string>, options?: RunOptions): Promise<TimedRun>
  /** Every secret a run is given: none may appear where the action writes. */
  secrets(): string[]
  /** Forgets the proxies' rules and the GitHub API's state. */
  reset(): void
  stop(): Promise<void>
}

export interface FaultBenchOptions {
  /** Create function rt-fn with versions and alias live (what a rollback needs) [true]; a deploy makes its own. */
  withFunction?: boolean
}

export async function startFaultBench(options: FaultBenchOptions = {}): Promise<FaultBench> {
  const [moto, tokens, github] = await Promise.all([startMoto(), startTokenService(), FakeGitHubApi.start()])
  const [aws, oidc, api] = await Promise.all([
    FaultProxy.start(moto.endpoint.replace('localhost', '127.0.0.1'), { host: 'localhost' }),
    FaultProxy.start(new URL(tokens.url).origin),
    FaultProxy.start(github.url)
  ])
  const saved = { ...process.env }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1'
  })
  try {
    if (options.withFunction ?? true) {
      const region = { region: 'us-east-1' }
      const roleArn = await createExecutionRole(region)
      const deploys = ['a', 'b', 'c', 'd'].map((seed, i) => ({ commit: sha(seed), runId: String(i + 1), zip: bootstrapZip(seed) }))
      await createDeployedFunction(region, { functionName: SERVER, roleArn, deploys })
    }
  } finally {
    process.env = saved
  }

  const repo = createServerRepository('redteam-faults', 'moto-cdk-app')
  fs.writeFileSync(
    path.join(repo.dir, '.pmcp', 'deploy.toml'),
    `[server]\nname = "${SERVER}"\nmcp_path = "/mcp"\n\n[secrets]\nAPI_KEY = "upstream key"\n`
  )
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-redteam-faults-'))
  const binary = path.join(scratch, 'bootstrap')
  // Any Linux executable passes for the server binary: the deploy never runs it.
  fs.copyFileSync('/bin/true', binary)
  const oidcUrl = `${oidc.url}${new URL(tokens.url).pathname}${new URL(tokens.url).search}`

  return {
    moto,
    tokens,
    github,
    aws,
    oidc,
    api,
    repoDir: repo.dir,
    run(event, inputs = {}, options = {}) {
      const env = {
        ...runnerEnv(scratch, moto, tokens, { ...event, sha: HEAD_SHA, runId: '1919' }),
        AWS_ENDPOINT_URL: aws.url,
        ACTIONS_ID_TOKEN_REQUEST_URL: oidcUrl,
        GITHUB_API_URL: api.url,
        // rustup prints a Rust backtrace when it cannot reach its servers here; a runner does not set this.
        RUST_BACKTRACE: '0'
      }
      return runTimed(
        {
          ...deployInputs(repo.dir, scratch),
          command: 'rollback',
          'build-command': 'true',
          'binary-path': binary,
          'smoke-test': 'none',
          cache: 'false',
          'github-token': GITHUB_TOKEN,
          'smoke-test-token': SMOKE_TOKEN,
          'request-timeout': String(REQUEST_TIMEOUT_SECONDS),
          ...inputs
        },
        env,
        { killAfterMs: KILL_AFTER_MS, ...options }
      )
    },
    secrets: () => [GITHUB_TOKEN, SMOKE_TOKEN, SECRET_VALUE, tokens.requestToken, tokens.token],
    reset() {
      aws.reset()
      oidc.reset()
      api.reset()
      github.reset()
    },
    async stop() {
      await Promise.all([aws.stop(), oidc.stop(), api.stop()])
      await Promise.all([moto.stop(), tokens.stop(), github.stop()])
      repo.remove()
      fs.rmSync(scratch, { recursive: true, force: true })
    }
  }
}

/** A push to main (production), as GitHub writes it. */
export const PUSH = { name: 'push', payload: { ref: 'refs/heads/main', after: HEAD_SHA } }

/** A pull_request event of PR 19 (the same repository). */
export function pullRequestEvent(
  action: string,
  state: 'open' | 'closed' = action === 'closed' ? 'closed' : 'open'
): { name: string; payload: object } {
  return {
    name: 'pull_request',
    payload: {
      action,
      number: PR.number,
      pull_request: {
        number: PR.number,
        state,
        head: { sha: HEAD_SHA, repo: { full_name: REPOSITORY } },
        base: { repo: { full_name: REPOSITORY } }
      }
    }
  }
}
