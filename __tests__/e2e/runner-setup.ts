/** What the end-to-end tests share: the user's repository and the runner's inputs and environment. */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { MotoServer } from '../helpers/moto.js'
import type { TokenService } from '../helpers/token-service.js'
import { makeWorkDir, REPO_ROOT } from '../helpers/workdir.js'

export const REPOSITORY = 'octo-org/octo-repo'
export const ROLE = 'arn:aws:iam::123456789012:role/pmcp-deploy'

/**
 * The repository a user would have: a dependency-free server crate, `.pmcp/`, and its own CDK
 * project in `deploy/` (copied from `cdkFixture` under __tests__/fixtures).
 */
export function createServerRepository(prefix: string, cdkFixture: string): { dir: string; remove: () => void } {
  const repo = makeWorkDir(prefix)
  fs.cpSync(path.join(REPO_ROOT, '__tests__', 'fixtures', 'hello-crate'), repo.dir, { recursive: true })
  fs.cpSync(path.join(REPO_ROOT, '__tests__', 'fixtures', cdkFixture), path.join(repo.dir, 'deploy'), { recursive: true })
  fs.mkdirSync(path.join(repo.dir, '.pmcp'))
  return repo
}

/** Inputs of a deploy of that repository: OIDC role, a real cargo build, moto-compatible cdk deploy. */
export function deployInputs(repoDir: string, scratch: string): Record<string, string> {
  return {
    'working-directory': path.relative(REPO_ROOT, repoDir),
    'aws-region': 'us-east-1',
    'role-to-assume': ROLE,
    architecture: 'x86_64',
    'build-command': `cargo build --release --offline --locked --target-dir "${path.join(scratch, 'target')}"`,
    'binary-path': path.join(scratch, 'target', 'release', 'hello-crate'),
    'cdk-args': '--method=direct',
    'cdk-bootstrap': 'true',
    'smoke-test': 'builtin'
  }
}

export interface RunnerEvent {
  name: string
  payload: object
  sha: string
  runId: string
}

/**
 * The runner's environment for one run: the event payload file, moto as AWS (credentials only from
 * the OIDC token service), a fresh tool cache.
 */
export function runnerEnv(scratch: string, moto: MotoServer, tokens: TokenService, event: RunnerEvent): Record<string, string> {
  const eventPath = path.join(scratch, `event-${event.runId}-${Math.random().toString(36).slice(2)}.json`)
  fs.writeFileSync(eventPath, JSON.stringify({ repository: { full_name: REPOSITORY }, ...event.payload }))
  return {
    ...tokens.env(),
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_SHA: event.sha,
    GITHUB_RUN_ID: event.runId,
    RUNNER_TOOL_CACHE: fs.mkdtempSync(path.join(scratch, 'tool-cache-'))
  }
}
