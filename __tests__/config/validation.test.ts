/**
 * deploy.toml values Lambda or cargo-pmcp would refuse later, refused by the loader before anything is
 * built: environment values that are not strings, Lambda's reserved and malformed variable names, its
 * 4 KB limit on a function's variables, one variable with two values, integers written as floats, and
 * files that are not UTF-8. Each is one ActionError on the file and line of the key.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { firstInvalidUtf8Byte, loadConfig, type DeployConfig } from '../../src/config/index.js'
import { LAMBDA_ENVIRONMENT_LIMIT_BYTES, RESERVED_LAMBDA_VARIABLES } from '../../src/config/lambda-environment.js'
import { ActionError, ActionErrors, reportError } from '../../src/errors.js'
import { captureStdout, parseAnnotations } from '../../testkit/annotations.js'
import type { Target } from '../../src/types.js'

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-validation-'))
  fs.mkdirSync(path.join(dir, '.pmcp'))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

function load(toml: string | Buffer, target?: Target): DeployConfig {
  fs.writeFileSync(path.join(dir, '.pmcp', 'deploy.toml'), toml)
  return loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir, target })
}

interface Problem {
  line?: number
  column?: number
  title: string
  message: string
}

/** The errors loadConfig throws for the file; fails the test when it is accepted. */
function problems(toml: string | Buffer, target?: Target): Problem[] {
  try {
    load(toml, target)
  } catch (error) {
    const errors = error instanceof ActionErrors ? error.errors : [error as ActionError]
    expect(errors.every(e => e instanceof ActionError)).toBe(true)
    return errors.map(e => ({ line: e.location.line, column: e.location.column, title: e.title, message: e.message }))
  }
  throw new Error('expected deploy.toml to be rejected')
}

/** The one error of the file: on `line`, naming the file and matching `pattern`. */
function expectOneProblem(toml: string | Buffer, line: number, pattern: RegExp, target?: Target): Problem {
  const found = problems(toml, target)
  expect(found).toHaveLength(1)
  expect(found[0].line).toBe(line)
  expect(found[0].message).toMatch(pattern)
  expect(found[0].message).toContain(`.pmcp/deploy.toml line ${line}`)
  return found[0]
}

const SERVER = '[server]\nname = "s"\n'

describe('environment values that are not strings', () => {
  it.each([
    ['an empty inline table', '[environment]\nAB = {}\n', 4, /\[environment\] AB is a table/],
    ['an inline table', '[environment]\nRUST_LOG = { level = "info" }\n', 4, /\[environment\] RUST_LOG is a table/],
    ['an empty list', '[environment]\nAB = []\n', 4, /\[environment\] AB is a list/],
    ['a list of numbers', '[environment]\nAB = [1, 2]\n', 4, /\[environment\] AB is a list/],
    ['a sub-table header', '[environment.NESTED]\nX = "y"\n', 3, /\[environment\] NESTED is a table/],
    ['a date', '[environment]\nWHEN = 2024-01-01\n', 4, /\[environment\] WHEN is a date/],
    ['a table in [lambda.environment]', '[lambda.environment]\nAB = {}\n', 4, /\[lambda.environment\] AB is a table/],
    ['a list in [lambda.environment]', '[lambda]\nenvironment = { AB = ["x"] }\n', 4, /\[lambda.environment\] AB is a list/],
    [
      'a [secrets] description that is a table',
      '[secrets]\nAPI_KEY = {}\n',
      4,
      /\[secrets\] API_KEY is a table.*API_KEY = "what it is for"/
    ]
  ])('%s is one error on its line', (_name, body, line, pattern) => {
    expectOneProblem(SERVER + body, line, pattern)
  })

  it('a NUL character, which no process environment can carry, is one error on its line', () => {
    expectOneProblem(
      `${SERVER}[environment]\nOK_VAR = "line one\\nline two"\nTOKEN = "abc\\u0000def"\n`,
      5,
      /\[environment\] TOKEN holds a NUL character/
    )
  })

  it('a [secrets] name Secrets Manager cannot take is an error on its own line (a list: on the list line)', () => {
    expectOneProblem(
      `${SERVER}[secrets]\nGOOD = "x"\n"../x" = "escape the prefix"\n`,
      5,
      /\[secrets\] \.\.\/x has the secret name the string "\.\.\/x"/
    )
    expectOneProblem(`secrets = ["GOOD", "MY KEY"]\n${SERVER}`, 1, /\[secrets\] has the secret name the string "MY KEY"/)
  })

  it('[environment] itself a string is one error on its line', () => {
    expectOneProblem(`environment = "AB=1"\n${SERVER}`, 1, /\[environment\] is the string "AB=1".*NAME = "value"/)
  })
})

describe("Lambda's variable names", () => {
  it.each(RESERVED_LAMBDA_VARIABLES.map(name => [name]))('%s is reserved: refused on its line, on both targets', name => {
    const toml = `${SERVER}[environment]\nOK_VAR = "x"\n${name} = "mine"\n`
    for (const target of ['aws-lambda', 'pmcp-run'] as const) {
      const problem = expectOneProblem(toml, 5, new RegExp(`\\[environment\\] ${name} is reserved by AWS Lambda`), target)
      expect(problem.message).toContain('remove it or rename it')
    }
  })

  it('refuses a reserved name in [lambda.environment] too', () => {
    expectOneProblem(
      `${SERVER}[lambda.environment]\nAWS_DEFAULT_REGION = "eu-west-1"\n`,
      4,
      /\[lambda.environment\] AWS_DEFAULT_REGION is reserved/
    )
  })

  it('accepts the variables Lambda lets a function set (not reserved)', () => {
    const allowed = [
      'AWS_LAMBDA_EXEC_WRAPPER',
      'TZ',
      'LANG',
      'PATH',
      'LD_LIBRARY_PATH',
      'AWS_XRAY_CONTEXT_MISSING',
      'AWS_LAMBDA_LOG_FORMAT_X'
    ]
    const config = load(`${SERVER}[environment]\n${allowed.map(name => `${name} = "v"`).join('\n')}\n`)
    expect(Object.keys(config.environment)).toEqual(allowed)
  })

  it.each([
    ['X', 'one character'],
    ['_MY_VAR', 'starts with _'],
    ['1BAD', 'starts with a digit'],
    ['MY-VAR', 'has a hyphen'],
    ['MY.VAR', 'has a dot'],
    ['ÜBER', 'has a letter outside a-z']
  ])('refuses %s (%s), with the pattern in the message', name => {
    const problem = expectOneProblem(
      `${SERVER}[environment]\n${JSON.stringify(name)} = "v"\n`,
      4,
      /is not a valid environment variable name/
    )
    expect(problem.message).toContain('[a-zA-Z][a-zA-Z0-9_]+')
  })

  it('accepts two-character names and lower case', () => {
    expect(load(`${SERVER}[environment]\nAB = "1"\na1 = "2"\nx_ = "3"\n`).environment).toEqual({ AB: '1', a1: '2', x_: '3' })
  })
})

describe('one variable in [environment] and [lambda.environment]', () => {
  it('with two values is refused on the [lambda.environment] line, naming both values', () => {
    const problem = expectOneProblem(
      `${SERVER}[environment]\nLEVEL = "debug"\n[lambda.environment]\nLEVEL = "trace"\n`,
      6,
      /\[lambda.environment\] LEVEL \("trace"\) contradicts \[environment\] LEVEL \("debug"\)/
    )
    expect(problem.message).toContain('remove LEVEL from [lambda.environment] or from [environment]')
  })

  it('with the same value is accepted', () => {
    expect(load(`${SERVER}[environment]\nLEVEL = "debug"\n[lambda.environment]\nLEVEL = "debug"\n`).environment).toEqual({ LEVEL: 'debug' })
  })
})

describe("Lambda's 4 KB of variables", () => {
  /** What the aws-lambda stack adds without [auth] or [secrets]: RUST_LOG=info. */
  const RUST_LOG_BYTES = 'RUST_LOG'.length + 'info'.length

  /** deploy.toml whose one variable BIG makes the function's variables `total` bytes on aws-lambda. */
  function withTotal(total: number, extra = ''): string {
    return `${SERVER}${extra}[environment]\nBIG = "${'x'.repeat(total - RUST_LOG_BYTES - 'BIG'.length)}"\n`
  }

  it('accepts exactly 4096 bytes, counting the RUST_LOG the stack adds', () => {
    expect(Object.keys(load(withTotal(LAMBDA_ENVIRONMENT_LIMIT_BYTES)).environment)).toEqual(['BIG'])
  })

  it('refuses one byte more, on the [environment] line, with the sizes and what to do', () => {
    const problem = expectOneProblem(
      withTotal(LAMBDA_ENVIRONMENT_LIMIT_BYTES + 1),
      3,
      /variables 4097 bytes \(names and values\), more than the 4096/
    )
    expect(problem.message).toContain('BIG (4085 bytes)')
    expect(problem.message).toMatch(/\[secrets\].*\[assets\]/)
  })

  it('counts a declared RUST_LOG instead of the default one', () => {
    const value = 'x'.repeat(LAMBDA_ENVIRONMENT_LIMIT_BYTES - 'RUST_LOG'.length)
    expect(load(`${SERVER}[environment]\nRUST_LOG = "${value}"\n`).environment.RUST_LOG).toBe(value)
    expectOneProblem(`${SERVER}[environment]\nRUST_LOG = "${value}x"\n`, 3, /4097 bytes/)
  })

  it('counts bytes, not characters: a multi-byte value weighs what UTF-8 makes of it', () => {
    const euros = '€'.repeat(1400) // 3 bytes each: 4200 bytes, 1400 characters
    expectOneProblem(`${SERVER}[environment]\nPRICE = "${euros}"\n`, 3, /more than the 4096/)
  })

  it('counts the OAuth variables a Cognito stack sets', () => {
    const auth = '[aws]\nregion = "eu-west-1"\n[auth]\nenabled = true\nprovider = "cognito"\ncallback_urls = ["https://a.example.com/cb"]\n'
    // Fits alone (4000 + RUST_LOG), not with the five OAuth variables (about 290 bytes in eu-west-1).
    const value = 'x'.repeat(4000 - 'BIG'.length)
    expect(load(`${SERVER}[environment]\nBIG = "${value}"\n`).environment.BIG).toBe(value)
    const problem = expectOneProblem(`${SERVER}${auth}[environment]\nBIG = "${value}"\n`, 9, /more than the 4096/)
    expect(problem.message).toMatch(/up to \d{3} bytes the aws-lambda stack sets itself/)
  })

  it('counts the ARN variable of each [secrets] name, and points at [secrets] when nothing else is declared', () => {
    const names = Array.from({ length: 50 }, (_, index) => `secret_number_${index} = "d"`).join('\n')
    expectOneProblem(
      `${SERVER}[aws]\nregion = "us-east-1"\n[secrets]\n${names}\n`,
      5,
      /\[secrets\] makes the function's environment variables \d+ bytes/
    )
    expect(load(`${SERVER}[secrets]\n${names.split('\n').slice(0, 10).join('\n')}\n`).secrets).toHaveLength(10)
  })

  it("on pmcp-run counts the pmcp.run stack's variables and leaves out the [secrets] names it injects itself", () => {
    const value = 'x'.repeat(3990)
    const base = `${SERVER}[target]\ntype = "pmcp-run"\n`
    expect(load(`${base}[environment]\nAPI_KEY = "${value}"\n[secrets]\nAPI_KEY = "the key"\n`).environment.API_KEY).toBe(value)
    expectOneProblem(`${base}[environment]\nOTHER = "${value}"\n`, 5, /more than the 4096 bytes.*pmcp-run stack/)
  })
})

describe('integers written as floats', () => {
  it.each([
    [
      'memory_mb = 512.0',
      '[server]\nname = "s"\nmemory_mb = 512.0\n',
      3,
      /\[server\] memory_mb is 512\.0, which TOML reads as a float.*memory_mb = 512\b/
    ],
    ['memory_mb = 1e3', '[server]\nname = "s"\nmemory_mb = 1e3\n', 3, /memory_mb is 1e3, which TOML reads as a float.*memory_mb = 1000\b/],
    ['timeout_seconds = 3E1', '[server]\nname = "s"\ntimeout_seconds = 3E1\n', 3, /timeout_seconds is 3E1/],
    ['[lambda] memory_size = 1_024.0', `${SERVER}[lambda]\nmemory_size = 1_024.0\n`, 4, /\[lambda\] memory_size is 1_024\.0/],
    [
      'an inline table',
      `${SERVER}[observability]\nalarms = { error_threshold = 5.0, latency_threshold_ms = 100 }\n`,
      4,
      /error_threshold is 5\.0/
    ],
    ['log_retention_days = 7.0', `${SERVER}[observability]\nlog_retention_days = 7.0\n`, 4, /log_retention_days is 7\.0/],
    [
      'an integer beyond 64 bits',
      '[server]\nname = "s"\nmemory_mb = 99999999999999999999\n',
      3,
      /memory_mb is 99999999999999999999, out of range/
    ],
    [
      'an integer beyond the safe range',
      '[server]\nname = "s"\ntimeout_seconds = 9007199254740993\n',
      3,
      /timeout_seconds is 9007199254740993, out of range/
    ]
  ])('%s is one error on its line', (_name, toml, line, pattern) => {
    expectOneProblem(toml, line, pattern)
  })

  it('still accepts integers in every TOML spelling', () => {
    const config = load('[server]\nname = "s"\nmemory_mb = 1_024\ntimeout_seconds = 0x1e\n')
    expect(config.server).toMatchObject({ memoryMb: 1024, timeoutSeconds: 30 })
  })

  it('reads the n-th [[iam.tables]] entry by its own path, so a float elsewhere is not mistaken for it', () => {
    const toml = `${SERVER}[[iam.tables]]\nname = "a"\nactions = ["read"]\n[[iam.tables]]\nname = "b"\nactions = ["write"]\n`
    expect(load(toml).iam.tables.map(t => t.name)).toEqual(['a', 'b'])
  })
})

describe('a deploy.toml that is not UTF-8', () => {
  it('is one error naming the file, the line and column of the first bad byte', () => {
    const bytes = Buffer.concat([
      Buffer.from('[server]\nname = "s"\n[environment]\nGREETING = "gr'),
      Buffer.from([0xfc]),
      Buffer.from('ss"\n')
    ])
    const problem = expectOneProblem(bytes, 4, /line 4, column 15: byte 0xfc is not valid UTF-8/)
    expect(problem.title).toBe('.pmcp/deploy.toml: not UTF-8')
    expect(problem.column).toBe(15)
  })

  it('is reported as one ::error annotation on that line, no stack trace', async () => {
    let thrown: unknown
    try {
      load(Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\n[server]\nname = "s"\n')]))
    } catch (error) {
      thrown = error
    }
    const { output } = await captureStdout(() => reportError(thrown))
    const annotations = parseAnnotations(output)
    expect(annotations).toEqual([expect.objectContaining({ level: 'error' })])
    expect(annotations[0].properties).toMatchObject({ file: '.pmcp/deploy.toml', line: '1', col: '6' })
    expect(output).not.toMatch(/\n\s+at /)
  })

  it('accepts multi-byte text and a byte-order mark', () => {
    const config = load(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[server]\nname = "s"\n[environment]\nEE = "ünï 🚀 €"\n')])
    )
    expect(config.environment.EE).toBe('ünï 🚀 €')
  })

  it.each([
    ['a lone continuation byte', [0x41, 0x80], 1],
    ['a truncated sequence at the end', [0x41, 0xe2, 0x82], 1],
    ['a lead byte followed by ASCII', [0xc3, 0x41], 0],
    ['an overlong encoding of /', [0xc0, 0xaf], 0],
    ['an overlong three-byte sequence', [0xe0, 0x80, 0xaf], 0],
    ['a UTF-16 surrogate', [0x41, 0x42, 0xed, 0xa0, 0x80], 2],
    ['a code point beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['0xff', [0x20, 0xff], 1]
  ])('finds %s', (_name, bytes, offset) => {
    expect(firstInvalidUtf8Byte(Uint8Array.from(bytes))).toBe(offset)
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes))).toThrow()
  })

  it('finds nothing in valid text, as the platform decoder agrees', () => {
    const text = Buffer.from('ASCII, ü (2 bytes), € (3 bytes), 🚀 (4 bytes), U+10FFFF: \u{10ffff}')
    expect(firstInvalidUtf8Byte(text)).toBeUndefined()
  })
})
