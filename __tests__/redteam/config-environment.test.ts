/** Red team: `[environment]`, `[lambda.environment]` and `[secrets]` as Lambda will refuse them later, refused now. */
import { describe, it } from '@jest/globals'
import { expectRefused, rows, withServer, type HostileConfig } from './hostile-config.js'

const manyVariables = Array.from({ length: 90 }, (_, i) => `VAR_${String(i).padStart(3, '0')} = "${'v'.repeat(40)}"`).join('\n')

const CASES: HostileConfig[] = [
  { name: 'an [environment] value that is an empty table', toml: withServer('[environment]\nFOO = {}\n'), lineOf: 'FOO', says: /FOO/ },
  {
    name: 'an [environment] value that is a table with keys',
    toml: withServer('[environment]\nFOO = { nested = "x" }\n'),
    lineOf: 'FOO',
    says: /FOO/
  },
  {
    name: 'an [environment] sub-table [environment.FOO]',
    toml: withServer('[environment]\nOK_VAR = "1"\n\n[environment.FOO]\nbar = "x"\n'),
    lineOf: '[environment.FOO]',
    says: /FOO/
  },
  {
    name: 'a [lambda.environment] value that is a table',
    toml: withServer('[lambda.environment]\nFOO = {}\n'),
    lineOf: 'FOO',
    says: /FOO/
  },
  { name: 'an [environment] value that is a number', toml: withServer('[environment]\nPORT = 8080\n'), lineOf: 'PORT', says: /PORT/ },
  {
    name: 'an [environment] value that is an array',
    toml: withServer('[environment]\nHOSTS = ["a", "b"]\n'),
    lineOf: 'HOSTS',
    says: /HOSTS/
  },
  { name: 'an [environment] value that is a boolean', toml: withServer('[environment]\nDEBUG = true\n'), lineOf: 'DEBUG', says: /DEBUG/ },
  {
    name: 'reserved name AWS_REGION',
    toml: withServer('[environment]\nAWS_REGION = "eu-west-1"\n'),
    lineOf: 'AWS_REGION',
    says: /AWS_REGION.*reserved|reserved.*AWS_REGION/
  },
  {
    name: 'reserved name AWS_DEFAULT_REGION',
    toml: withServer('[environment]\nAWS_DEFAULT_REGION = "eu-west-1"\n'),
    lineOf: 'AWS_DEFAULT_REGION',
    says: /AWS_DEFAULT_REGION.*reserved|reserved.*AWS_DEFAULT_REGION/
  },
  {
    name: 'reserved name AWS_ACCESS_KEY',
    toml: withServer('[environment]\nAWS_ACCESS_KEY = "AKIA"\n'),
    lineOf: 'AWS_ACCESS_KEY',
    says: /AWS_ACCESS_KEY.*reserved|reserved.*AWS_ACCESS_KEY/
  },
  { name: 'reserved name _HANDLER', toml: withServer('[environment]\n_HANDLER = "bootstrap"\n'), lineOf: '_HANDLER', says: /_HANDLER/ },
  {
    name: 'reserved name LAMBDA_TASK_ROOT in [lambda.environment]',
    toml: withServer('[lambda.environment]\nLAMBDA_TASK_ROOT = "/tmp"\n'),
    lineOf: 'LAMBDA_TASK_ROOT',
    says: /LAMBDA_TASK_ROOT/
  },
  { name: 'a one-letter name (X)', toml: withServer('[environment]\nX = "1"\n'), lineOf: 'X =', says: /\bX\b/ },
  { name: 'a name starting with _ (_MY_VAR)', toml: withServer('[environment]\n_MY_VAR = "1"\n'), lineOf: '_MY_VAR', says: /_MY_VAR/ },
  { name: 'a name with a hyphen', toml: withServer('[environment]\n"MY-VAR" = "1"\n'), lineOf: 'MY-VAR', says: /MY-VAR/ },
  { name: 'a name with a shell injection', toml: withServer('[environment]\n"A;rm -rf /" = "1"\n'), lineOf: 'A;rm', says: /A;rm -rf/ },
  {
    name: 'a name with a Cyrillic confusable (АPI_KEY)',
    toml: withServer('[environment]\n"\u0410PI_KEY" = "1"\n'),
    lineOf: 'PI_KEY',
    says: /\u0410PI_KEY/
  },
  { name: 'one value over 4 KB', toml: withServer(`[environment]\nBIG = "${'x'.repeat(5000)}"\n`), says: /4 ?KB|4096/ },
  { name: '90 variables that together exceed 4 KB', toml: withServer(`[environment]\n${manyVariables}\n`), says: /4 ?KB|4096/ },
  {
    name: 'the same variable in [environment] and [lambda.environment] with two values',
    toml: withServer('[environment]\nLOG_LEVEL = "info"\n\n[lambda.environment]\nLOG_LEVEL = "debug"\n'),
    lineOf: 'LOG_LEVEL = "debug"',
    says: /LOG_LEVEL/
  },
  {
    name: 'a NUL byte in a value (escaped), which no process environment can hold',
    toml: withServer('[environment]\nTOKEN = "abc\\u0000def"\n'),
    lineOf: 'TOKEN',
    says: /TOKEN/
  },
  {
    name: 'an [environment] variable the stack sets for a [secrets] name (API_KEY_SECRET_ARN), with another value',
    toml: withServer(
      '[environment]\nAPI_KEY_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:elsewhere"\n\n' +
        '[secrets]\nAPI_KEY = "the upstream key"\n'
    ),
    // Either side of the clash will do: the variable's line or the secret's.
    lineOf: ['API_KEY_SECRET_ARN', 'API_KEY = "the upstream key"'],
    says: /API_KEY_SECRET_ARN/
  },
  {
    name: 'a [secrets] name with a slash (../x)',
    toml: withServer('[secrets]\n"../x" = "escape the prefix"\n'),
    lineOf: '../x',
    says: /\.\.\/x/
  },
  {
    name: 'a [secrets] value that is a table',
    toml: withServer('[secrets]\nAPI_KEY = { description = "x" }\n'),
    lineOf: 'API_KEY',
    says: /API_KEY/
  },
  { name: 'a [secrets] name with a space', toml: withServer('[secrets]\n"MY KEY" = "x"\n'), lineOf: 'MY KEY', says: /MY KEY/ }
]

describe('red team: hostile [environment] and [secrets]', () => {
  it.each(rows(CASES))('%s', (_name, hostile) => expectRefused(hostile))
})
