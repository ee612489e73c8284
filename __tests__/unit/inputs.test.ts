import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'yaml'
import { INPUT_DEFAULTS, inputsSetByUser, readInputs, splitArgs, type InputName } from '../../src/inputs.js'
import { REPO_ROOT } from '../../testkit/workdir.js'

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

describe('action.yml and the inputs the code reads', () => {
  const action = parse(fs.readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { description: string; default?: string }>
    outputs: Record<string, { description: string }>
    runs: { using: string; main: string }
  }

  it('declares exactly the inputs the code knows, with the same defaults', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(INPUT_DEFAULTS).sort())
    for (const [name, spec] of Object.entries(action.inputs)) {
      expect(spec.description.length).toBeGreaterThan(10)
      const declared = spec.default === '${{ github.token }}' ? '' : String(spec.default ?? '')
      expect([name, declared]).toEqual([name, INPUT_DEFAULTS[name as InputName]])
    }
  })

  it('declares every output the README lists and runs on node24', () => {
    for (const output of [
      'api-url',
      'mcp-url',
      'stack-name',
      'function-version',
      'previous-version',
      'smoke-test',
      'outputs-json',
      'template-path'
    ]) {
      expect(action.outputs[output]?.description).toBeTruthy()
    }
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })
})

describe('readInputs', () => {
  it('applies the defaults when nothing is set', () => {
    const inputs = withInputs({}, () => readInputs('/workspace'))
    expect(inputs).toMatchObject({
      command: 'deploy',
      workingDirectory: '/workspace',
      config: '.pmcp/deploy.toml',
      roleDurationSeconds: 3600,
      hotswap: 'auto',
      smokeTest: 'mcp-tester',
      rollbackOnFailure: true,
      comment: true,
      cache: true,
      saveCache: 'default-branch',
      cacheOnFailure: false,
      audience: 'sts.amazonaws.com',
      cdkArgs: []
    })
    expect(inputs.cacheKey).toBeUndefined()
    expect(inputs.environment).toBeUndefined()
    expect(inputs.roleToAssume).toBeUndefined()
  })

  it('reads typed values', () => {
    const inputs = withInputs(
      {
        command: 'synth',
        'working-directory': 'servers/a',
        environment: 'preview',
        'pr-number': '12',
        architecture: 'x86_64',
        cache: 'false',
        'cdk-args': `--method=direct --context "name=two words"`
      },
      () => readInputs('/ws')
    )
    expect(inputs).toMatchObject({
      command: 'synth',
      workingDirectory: '/ws/servers/a',
      environment: 'preview',
      prNumber: 12,
      architecture: 'x86_64',
      cache: false
    })
    expect(inputs.cdkArgs).toEqual(['--method=direct', '--context', 'name=two words'])
  })

  it.each([
    ['command', 'publish', /'deploy', 'synth', 'rollback', 'destroy'/],
    ['environment', 'staging', /'production', 'preview'/],
    ['architecture', 'arm', /'arm64', 'x86_64'/],
    ['role-session-name', 'a', /2 to 64 characters/],
    ['role-session-name', 'has space', /2 to 64 characters/],
    ['role-duration-seconds', '60', /900 to 43200/],
    ['cache', 'yes', /'true' or 'false'/],
    ['pr-number', 'abc', /pull request number/],
    ['smoke-test', 'curl', /'mcp-tester', 'builtin', 'none'/],
    ['cdk-args', '--context "unclosed', /unclosed " quote/],
    ['save-cache', 'sometimes', /'true', 'false', 'default-branch'/],
    ['cache-key', 'a,b', /up to 64 letters, digits and _ \. \+ = @ -/],
    ['audience', 'two words', /the aud the role trusts/]
  ] as [InputName, string, RegExp][])('rejects %s = %s with what is allowed', (name, value, pattern) => {
    expect(() => withInputs({ [name]: value }, () => readInputs('/ws'))).toThrow(pattern)
  })

  it('knows which inputs the user set to something other than the default', () => {
    expect(withInputs({ command: 'deploy', secrets: 'A=b', cache: 'false' }, () => inputsSetByUser()).sort()).toEqual(['cache', 'secrets'])
  })

  it('splits arguments like a shell, without expansion', () => {
    expect(splitArgs(` a  'b c' "d'e" f"g h"i $HOME `)).toEqual(['a', 'b c', "d'e", 'fg hi', '$HOME'])
    expect(splitArgs('')).toEqual([])
  })
})
