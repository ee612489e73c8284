/**
 * Action start-up and bundle size.
 *   node --import tsx bench/startup.ts        (BENCH_RUNS=n for another number of runs)
 * start-up: from spawning `node dist/index.js` (command synth on a scratch copy of examples/hello, as
 *   a runner starts it) to its first phase line on stdout, `Server <name>: stack …` — printed once
 *   the bundle is loaded and the inputs, run context and deploy.toml are read. The run is stopped
 *   there. `node -e 0` (spawn to exit) is timed the same way: the part no action can avoid.
 * size: dist/index.js, which every run loads and parses, and dist/ in total. The AWS-free parts a
 *   run may not need (@actions/cache with its storage clients, the MCP SDK, Octokit) are chunks
 *   loaded on first use; a chunk cannot be tree-shaken like a static import, so dist/ as a whole is
 *   larger than one bundle would be, while every run parses less. GitHub downloads dist/ once per
 *   job as part of the action's repository archive.
 * Goals (ours): start-up under 500 ms, a tenth of a typical CDK synth; index.js under 3 MB.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { makeWorkDir, REPO_ROOT } from '../testkit/workdir.js'
import { figureLine, directoryBytes, list, median, runCount } from './report.js'

const STARTUP_GOAL_MS = 500
const INDEX_GOAL_BYTES = 3_000_000
const FIRST_PHASE_LINE = /^Server \S+: stack /m
const DIST_DIR = path.resolve(REPO_ROOT, process.env.PMCP_TEST_DIST ?? 'dist')

/** The environment of this process without anything a runner would set. */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !/^(INPUT_|GITHUB_|ACTIONS_)/.test(entry[0])
    )
  )
}

/** Milliseconds from spawn until stdout matches `marker` (the child is then killed), or until exit without one. */
function timeUntil(args: string[], env: Record<string, string>, marker?: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let reachedAt: number | undefined
    child.stdout.on('data', chunk => {
      stdout += chunk
      if (marker && reachedAt === undefined && marker.test(stdout)) {
        reachedAt = performance.now() - started
        child.kill('SIGKILL')
      }
    })
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => {
      if (reachedAt !== undefined) resolve(reachedAt)
      else if (!marker && code === 0) resolve(performance.now() - started)
      else reject(new Error(`node ${args.join(' ')} ended (code ${code}) before ${marker ?? 'exiting cleanly'}:\n${stdout}${stderr}`))
    })
  })
}

async function timeRuns(runs: number, once: () => Promise<number>): Promise<number[]> {
  await once() // warms the file cache; untimed
  const times: number[] = []
  for (let run = 0; run < runs; run++) times.push(await once())
  return times
}

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB (${bytes.toLocaleString('en-US')} bytes)`

async function main(): Promise<void> {
  const runs = runCount(11)
  const scratch = makeWorkDir('bench-startup')
  try {
    fs.cpSync(path.join(REPO_ROOT, 'examples', 'hello', '.pmcp', 'deploy.toml'), path.join(scratch.dir, '.pmcp', 'deploy.toml'))
    const env = {
      ...cleanEnv(),
      GITHUB_WORKSPACE: REPO_ROOT,
      INPUT_COMMAND: 'synth',
      'INPUT_WORKING-DIRECTORY': path.relative(REPO_ROOT, scratch.dir)
    }
    const action = await timeRuns(runs, () => timeUntil([path.join(DIST_DIR, 'index.js')], env, FIRST_PHASE_LINE))
    const bareNode = await timeRuns(runs, () => timeUntil(['-e', '0'], cleanEnv()))
    const startup = median(action)
    const distBytes = directoryBytes(DIST_DIR)
    const indexBytes = fs.statSync(path.join(DIST_DIR, 'index.js')).size
    const lines = [
      `action start-up and size (medians of ${runs} runs; ${path.relative(REPO_ROOT, DIST_DIR)}/index.js, command synth)`,
      figureLine('start-up: spawn to first phase line', `${startup.toFixed(0)} ms ${list(action)}`, {
        text: `< ${STARTUP_GOAL_MS} ms (ours)`,
        met: startup < STARTUP_GOAL_MS
      }),
      figureLine('  of which node itself (node -e 0)', `${median(bareNode).toFixed(0)} ms ${list(bareNode)}`),
      figureLine('  the action (bundle load, inputs, config)', `${(startup - median(bareNode)).toFixed(0)} ms`),
      figureLine('dist/index.js (loaded by every run)', megabytes(indexBytes), {
        text: `< ${INDEX_GOAL_BYTES / 1e6} MB (ours)`,
        met: indexBytes < INDEX_GOAL_BYTES
      }),
      figureLine('dist/ in total (chunks loaded on first use)', megabytes(distBytes))
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
