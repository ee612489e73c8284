/** What the end-to-end tests share: the user's repository and the runner's inputs and environment. */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { MotoServer } from './moto.js'
import type { TokenService } from './token-service.js'
import { makeWorkDir, REPO_ROOT } from './workdir.js'

export const REPOSITORY = 'octo-org/octo-repo'
export const ROLE = 'arn:aws:iam::123456789012:role/pmcp-deploy'

/**
 * The repository a user would have: a dependency-free server crate, `.pmcp/`, and its own CDK
 * project in `deploy/` (copied from `cdkFixture` under testkit/fixtures).
 */
export function createServerRepository(prefix: string, cdkFixture: string): { dir: string; remove: () => void } {
  const repo = makeWorkDir(prefix)
  fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'hello-crate'), repo.dir, { recursive: true })
  fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', cdkFixture), path.join(repo.dir, 'deploy'), { recursive: true })
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

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `base` with `override` laid over it, objects merged key by key. */
function deepMerge(base: Json, override: Json): Json {
  const merged: Json = { ...base }
  for (const [key, value] of Object.entries(override))
    merged[key] = isObject(value) && isObject(base[key]) ? deepMerge(base[key], value) : value
  return merged
}

const [OWNER, NAME] = REPOSITORY.split('/')
const REPOSITORY_OBJECT = {
  id: 720000001,
  node_id: 'R_kgDOKu7zAQ',
  name: NAME,
  full_name: REPOSITORY,
  private: false,
  owner: { login: OWNER, id: 9919, type: 'Organization' },
  html_url: `https://github.com/${REPOSITORY}`,
  fork: false,
  default_branch: 'main'
}
const SENDER = { login: 'octocat', id: 583231, type: 'User' }

/**
 * The payload GitHub would write for the event, with the fields a test gives laid over it: the
 * repository and sender objects, and for pushes and pull requests the refs, SHAs and head/base
 * repositories (a fork's head repository is whatever the test puts there).
 */
export function realShapedPayload(event: RunnerEvent): Json {
  const common: Json = { repository: REPOSITORY_OBJECT, sender: SENDER }
  const given = event.payload as Json
  switch (event.name) {
    case 'push':
      return deepMerge(
        {
          ...common,
          ref: 'refs/heads/main',
          before: '0'.repeat(40),
          after: event.sha,
          created: false,
          deleted: false,
          forced: false,
          compare: `https://github.com/${REPOSITORY}/compare/${event.sha.slice(0, 12)}`,
          pusher: { name: SENDER.login, email: 'octocat@github.com' },
          head_commit: {
            id: event.sha,
            message: 'Update the weather tool',
            timestamp: '2026-11-21T10:00:00Z',
            author: { name: 'Octo Cat' }
          }
        },
        given
      )
    case 'pull_request':
    case 'pull_request_target': {
      const number = (given.number as number | undefined) ?? 1
      const pullRequest: Json = {
        url: `https://api.github.com/repos/${REPOSITORY}/pulls/${number}`,
        html_url: `https://github.com/${REPOSITORY}/pull/${number}`,
        number,
        state: given.action === 'closed' ? 'closed' : 'open',
        title: 'Add a forecast tool',
        user: SENDER,
        draft: false,
        merged: false,
        head: { label: `${OWNER}:feature`, ref: 'feature', sha: event.sha, repo: REPOSITORY_OBJECT, user: SENDER },
        base: { label: `${OWNER}:main`, ref: 'main', sha: 'b'.repeat(40), repo: REPOSITORY_OBJECT }
      }
      return deepMerge({ ...common, action: 'opened', number, pull_request: pullRequest }, given)
    }
    case 'workflow_dispatch':
      return deepMerge({ ...common, ref: 'refs/heads/main', inputs: {}, workflow: '.github/workflows/deploy.yml' }, given)
    default:
      return deepMerge(common, given)
  }
}

/**
 * The runner's environment for one run: the event payload file, moto as AWS (credentials only from
 * the OIDC token service), a fresh tool cache.
 */
export function runnerEnv(scratch: string, moto: MotoServer, tokens: TokenService, event: RunnerEvent): Record<string, string> {
  const eventPath = path.join(scratch, `event-${event.runId}-${Math.random().toString(36).slice(2)}.json`)
  fs.writeFileSync(eventPath, JSON.stringify(realShapedPayload(event)))
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
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_REF: event.name.startsWith('pull_request')
      ? `refs/pull/${(event.payload as { number?: number }).number ?? 1}/merge`
      : 'refs/heads/main',
    GITHUB_ACTOR: SENDER.login,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKFLOW: 'deploy',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: process.arch === 'arm64' ? 'ARM64' : 'X64',
    RUNNER_TOOL_CACHE: fs.mkdtempSync(path.join(scratch, 'tool-cache-'))
  }
}
