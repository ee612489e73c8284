/**
 * The action's `synth` against a bare `cdk synth` of the same rendered project.
 *   node --import tsx bench/synth.ts        (BENCH_RUNS=n for another number of rounds)
 * action: `node dist/index.js` with command synth on a scratch copy of examples/hello (what
 *   `npm run synth:example` runs): read deploy.toml, render .pmcp/cdk, check its dependencies resolve
 *   (no install: they resolve from the repository's node_modules), `cdk synth`, read the template.
 * bare: in the .pmcp/cdk the action rendered, the same CDK CLI file the action runs, with the same
 *   arguments and quiet settings (`cdk synth --quiet --output cdk.out --no-notices`, CI=true, no
 *   version check): the strictest baseline. `npx cdk synth --quiet --no-notices` is timed as well,
 *   for the command a user types (npx adds its own start-up).
 * Each round runs the three in turn, in a rotating order; medians, and ratios as the median of the
 * rounds' ratios.
 * Goal (ours): action ≤ 1.25 × bare. A synth takes seconds (CDK CLI + the TypeScript app through
 * tsx + aws-cdk-lib), while the action adds its start-up (~0.5 s on a loaded 2-core machine), the
 * render and a template read; a quarter on top is what that may cost, with room for the noise.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CDK_QUIET_ENV } from '../src/cdk/cli.js'
import { runCommand } from '../src/process.js'
import { runAction } from '../testkit/runner.js'
import { makeWorkDir, REPO_ROOT } from '../testkit/workdir.js'
import { figureLine, list, median, pairedRatio, runCount, timed } from './report.js'

const GOAL_RATIO = 1.25
const CDK_CLI = path.join(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk')

type Variant = 'action' | 'bare' | 'npx'

async function succeeded(what: string, run: Promise<{ exitCode: number; stdout: string; stderr: string }>): Promise<void> {
  const result = await run
  if (result.exitCode !== 0) throw new Error(`${what} failed (exit code ${result.exitCode}):\n${result.stdout}\n${result.stderr}`)
}

async function main(): Promise<void> {
  const rounds = runCount(3)
  const scratch = makeWorkDir('bench-synth')
  try {
    fs.cpSync(path.join(REPO_ROOT, 'examples', 'hello', '.pmcp', 'deploy.toml'), path.join(scratch.dir, '.pmcp', 'deploy.toml'))
    const cdkDir = path.join(scratch.dir, '.pmcp', 'cdk')
    const cdkEnv = { ...CDK_QUIET_ENV, AWS_EC2_METADATA_DISABLED: 'true' }
    const run: Record<Variant, () => Promise<void>> = {
      action: () => succeeded('the action', runAction({ command: 'synth', 'working-directory': path.relative(REPO_ROOT, scratch.dir) })),
      bare: () =>
        succeeded(
          'cdk synth',
          runCommand(process.execPath, [CDK_CLI, 'synth', '--quiet', '--output', 'cdk.out', '--no-notices'], {
            cwd: cdkDir,
            env: cdkEnv,
            silent: true
          })
        ),
      npx: () =>
        succeeded(
          'npx cdk synth',
          runCommand('npx', ['cdk', 'synth', '--quiet', '--no-notices'], { cwd: cdkDir, env: cdkEnv, silent: true })
        )
    }
    await run.action() // renders .pmcp/cdk for the bare runs and warms the caches; untimed
    const variants: Variant[] = ['action', 'bare', 'npx']
    const times: Record<Variant, number[]> = { action: [], bare: [], npx: [] }
    for (let round = 0; round < rounds; round++) {
      const order = [...variants.slice(round % 3), ...variants.slice(0, round % 3)]
      for (const variant of order) times[variant].push(await timed(run[variant]))
    }
    const [action, bare, npx] = variants.map(variant => median(times[variant]))
    const ratio = pairedRatio(times.action, times.bare)
    const lines = [
      `synth of examples/hello: the action vs a bare cdk synth of the project it rendered (medians of ${rounds} rounds)`,
      figureLine('action (node dist/index.js, command synth)', `${action.toFixed(0)} ms ${list(times.action)}`),
      figureLine('bare cdk synth (same CLI, same arguments)', `${bare.toFixed(0)} ms ${list(times.bare)}`),
      figureLine('bare npx cdk synth', `${npx.toFixed(0)} ms ${list(times.npx)}`),
      figureLine('action / bare cdk synth (median of round ratios)', `${ratio.toFixed(2)}`, {
        text: `≤ ${GOAL_RATIO} (ours)`,
        met: ratio <= GOAL_RATIO
      }),
      figureLine('action / bare npx cdk synth', `${pairedRatio(times.action, times.npx).toFixed(2)}`)
    ]
    console.log(lines.join('\n'))
  } finally {
    scratch.remove()
  }
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})
