/**
 * The action's deploy against the bare `cdk deploy` of the same CDK project, on moto_server.
 *   node --import tsx bench/deploy-overhead.ts        (BENCH_RUNS=n for another number of rounds)
 * project: the repository a user would have (the hello crate, .pmcp/deploy.toml, their own
 *   moto-compatible CDK project in deploy/); each run deploys a new 4 MB "binary" (an ELF header and
 *   random bytes), so every run zips and uploads a new asset.
 * action: `node dist/index.js` as a runner starts it (push event), command deploy with
 *   `build-command: true` and `binary-path` at the prebuilt binary, `smoke-test: none`,
 *   `comment: false`, `cache: false`, credentials from the environment (no OIDC role),
 *   `cdk-args: --method=direct`. Its time is all of: node start-up, inputs and config, the Rust
 *   toolchain check (`rustup toolchain install` — offline here, it fails fast and falls back to the
 *   installed toolchain — and `rustc -vV`), the CDK project check (dependencies already resolve: no
 *   npm install), the build step (build-command, ELF check, copy to deploy/.build/bootstrap), STS
 *   GetCallerIdentity, the bootstrap check (SSM), the stack state check, alias reads before and
 *   after, `cdk deploy`, the stack's outputs, and the job summary.
 * bare: `cdk deploy <stack> --require-approval never --method=direct --no-notices` with the same CDK
 *   CLI, the same environment for the CDK app (PMCP_*, CDK_DEFAULT_*) and the same quiet settings.
 * Both create the same stack (same name) from scratch: the stack is deleted, untimed, after every
 *   run (moto's CloudFormation cannot update Lambda code, see bench/rollback.ts). The first action
 *   run bootstraps the environment and is not timed. Rounds alternate which of the two goes first;
 *   the ratio is the median of the rounds' ratios.
 * Goal (issue 9): action ≤ 1.10 × bare.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { AwsContext } from '../src/aws/clients.js'
import { deleteStack } from '../src/aws/stack.js'
import { CDK_QUIET_ENV } from '../src/cdk/cli.js'
import { cdkEnvironment } from '../src/cdk/environment.js'
import { loadConfig } from '../src/config/index.js'
import { versionDescription } from '../src/lifecycle/version-description.js'
import { resourceNames } from '../src/names.js'
import { runCommand } from '../src/process.js'
import { createServerRepository } from '../testkit/runner-setup.js'
import { runAction } from '../testkit/runner.js'
import { REPO_ROOT } from '../testkit/workdir.js'
import { startMoto, useMotoEnvironment } from '../testkit/moto.js'
import { figureLine, list, median, pairedRatio, runCount } from './report.js'

const GOAL_RATIO = 1.1
const BINARY_BYTES = 4 * 1024 * 1024
const ACCOUNT = '123456789012' // moto's
const REGION = 'us-east-1'
const SERVER_NAME = 'bench-mcp'
const COMMIT = 'be4c0ffee0123456789abcdef0123456789abcde'
const RUN_ID = '777'
const CDK_CLI = path.join(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk')
const PHASES = ['toolchain', 'render', 'build', 'credentials', 'deploy'] as const

/** A Linux x86-64 executable header followed by random bytes: passes the action's ELF check, new asset every time. */
function writeBinary(file: string): void {
  const elfHeader = fs.readFileSync('/bin/true').subarray(0, 64)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, Buffer.concat([elfHeader, randomBytes(BINARY_BYTES - elfHeader.length)]), { mode: 0o755 })
}

/** The phase times of the job summary's table (`| deploy | 12.3 s |`), for the breakdown. */
function phaseTimes(summary: string): Partial<Record<(typeof PHASES)[number], number>> {
  const times: Partial<Record<(typeof PHASES)[number], number>> = {}
  for (const phase of PHASES) {
    const row = new RegExp(`^\\|\\s*${phase}\\s*\\|\\s*([\\d.]+) (ms|s)\\s*\\|`, 'm').exec(summary)
    if (row) times[phase] = Number(row[1]) * (row[2] === 's' ? 1000 : 1)
  }
  return times
}

/** `✨  Total time: 4.52s`, as the CDK CLI prints it at the end of a deploy, in ms. */
function cdkTotalTime(result: { stdout: string; stderr: string }): number {
  const match = /Total time: ([\d.]+)s/.exec(`${result.stdout}\n${result.stderr}`)
  return match ? Number(match[1]) * 1000 : Number.NaN
}

function checked(what: string, result: { exitCode: number; stdout: string; stderr: string }): void {
  if (result.exitCode !== 0) throw new Error(`${what} failed (exit code ${result.exitCode}):\n${result.stdout}\n${result.stderr}`)
}

async function main(): Promise<void> {
  const rounds = runCount(3)
  const moto = await startMoto()
  useMotoEnvironment(moto, REGION)
  const aws: AwsContext = { region: REGION }
  const repo = createServerRepository('bench-deploy', 'moto-cdk-app')
  try {
    fs.writeFileSync(path.join(repo.dir, '.pmcp', 'deploy.toml'), `[target]\ntype = "aws-lambda"\n\n[server]\nname = "${SERVER_NAME}"\n`)
    const cdkDir = path.join(repo.dir, 'deploy')
    const prebuilt = path.join(repo.dir, 'prebuilt', 'bootstrap')
    const eventPath = path.join(repo.dir, 'event.json')
    fs.writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/main', after: COMMIT, repository: { full_name: 'octo-org/octo-repo' } }))

    const config = loadConfig({ workingDirectory: repo.dir, config: '.pmcp/deploy.toml', workspace: REPO_ROOT })
    const names = resourceNames(config.server.name, 'production')
    const bareEnv = {
      ...CDK_QUIET_ENV,
      ...cdkEnvironment({
        config,
        names,
        region: REGION,
        account: ACCOUNT,
        versionDescription: versionDescription({ commitSha: COMMIT, runId: RUN_ID })
      }),
      AWS_DEFAULT_REGION: REGION
    }

    const actionInputs = {
      'working-directory': path.relative(REPO_ROOT, repo.dir),
      'aws-region': REGION,
      architecture: 'x86_64',
      'build-command': 'true',
      'binary-path': prebuilt,
      'cdk-args': '--method=direct',
      'cdk-bootstrap': 'true',
      'smoke-test': 'none',
      comment: 'false',
      cache: 'false'
    }
    const runnerEnv = {
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: 'octo-org/octo-repo',
      GITHUB_SHA: COMMIT,
      GITHUB_RUN_ID: RUN_ID,
      RUNNER_TOOL_CACHE: path.join(repo.dir, 'tool-cache')
    }

    const times = { action: [] as number[], bare: [] as number[] }
    /** What `cdk deploy` itself reports as its total time (✨ Total time: 3.2s), in each. */
    const cdkTotals = { action: [] as number[], bare: [] as number[] }
    const summaries: string[] = []
    const runs = {
      action: async (): Promise<void> => {
        writeBinary(prebuilt)
        const started = performance.now()
        const result = await runAction(actionInputs, runnerEnv)
        const ms = performance.now() - started
        checked('the action', result)
        summaries.push(result.summary)
        times.action.push(ms)
        cdkTotals.action.push(cdkTotalTime(result))
      },
      bare: async (): Promise<void> => {
        writeBinary(path.join(cdkDir, '.build', 'bootstrap'))
        const started = performance.now()
        const result = await runCommand(
          process.execPath,
          [CDK_CLI, 'deploy', names.stackName, '--require-approval', 'never', '--method=direct', '--no-notices'],
          {
            cwd: cdkDir,
            env: bareEnv,
            silent: true
          }
        )
        const ms = performance.now() - started
        checked('cdk deploy', result)
        times.bare.push(ms)
        cdkTotals.bare.push(cdkTotalTime(result))
      }
    }
    const fresh = (): Promise<unknown> => deleteStack(names.stackName, aws, { pollMs: 200 })

    await runs.action() // bootstraps the environment; untimed
    times.action.length = 0
    cdkTotals.action.length = 0
    summaries.length = 0
    await fresh()
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? (['bare', 'action'] as const) : (['action', 'bare'] as const)) {
        await runs[variant]()
        await fresh()
      }
    }

    const action = median(times.action)
    const bare = median(times.bare)
    const ratio = pairedRatio(times.action, times.bare)
    const phases = summaries.map(phaseTimes)
    const phaseMedian = (phase: (typeof PHASES)[number]): string => {
      const values = phases.map(times => times[phase]).filter((ms): ms is number => ms !== undefined)
      return values.length > 0 ? `${median(values).toFixed(0)} ms` : '?'
    }
    const lines = [
      'deploy on moto: the action vs a bare cdk deploy of the same project ' +
        `(medians of ${rounds} rounds; fresh stack ${names.stackName} each run)`,
      "  the action's time: node start-up, inputs and config, rustup + rustc -vV, the CDK dependency check, build-command 'true' and",
      '  the copy of the prebuilt binary, GetCallerIdentity, bootstrap and stack checks, alias reads, cdk deploy, stack outputs, job',
      '  summary. Not in it: a cargo build, tool downloads, the smoke test, the PR comment, caches (all off or trivial here).',
      figureLine('action (node dist/index.js, command deploy)', `${action.toFixed(0)} ms ${list(times.action)}`),
      figureLine('  its phases (job summary, 0.1 s steps)', PHASES.map(phase => `${phase} ${phaseMedian(phase)}`).join(', ')),
      figureLine('bare cdk deploy --method=direct', `${bare.toFixed(0)} ms ${list(times.bare)}`),
      figureLine(
        "cdk's own 'Total time': in the action / bare",
        `${median(cdkTotals.action).toFixed(0)} ms / ${median(cdkTotals.bare).toFixed(0)} ms`
      ),
      figureLine(
        'action / bare cdk deploy (median of round ratios)',
        `${ratio.toFixed(2)} (medians differ by ${(action - bare).toFixed(0)} ms)`,
        { text: `≤ ${GOAL_RATIO.toFixed(2)} (issue 9)`, met: ratio <= GOAL_RATIO }
      )
    ]
    console.log(lines.join('\n'))
  } finally {
    repo.remove()
    await moto.stop()
  }
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})
