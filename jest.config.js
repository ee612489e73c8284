/** Jest in ESM mode: ts-jest compiles TypeScript, node runs it with --experimental-vm-modules. */

// aws-cdk-lib runs its built-in CloudFormation validation (a WebAssembly rule engine) on every
// synth: about 8 s of CPU per `cdk synth`/`cdk deploy`, most of a synth's cost. Its findings are
// only warnings unless an app opts in, no test reads them, and the templates are byte-identical
// without it (cfn-lint still checks every template the synth suites assert on). Off for the test
// run, in this process and so in the workers and every CDK app the tests start; the suite that
// runs the action on examples/hello (__tests__/action/synth.test.ts) turns it back on for that run.
// CDK_VALIDATION=true in the environment keeps it on everywhere.
process.env.CDK_VALIDATION ??= 'false'

// One id per jest run, for what the suites of a run may share (see motoInstalled in __tests__/helpers/moto.ts).
process.env.PMCP_TEST_RUN_ID ??= `${process.pid}-${Date.now()}`

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }]
  },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  testTimeout: 120000,
  maxWorkers: 2,
  verbose: false
}
