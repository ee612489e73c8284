/**
 * Every bench script in turn, then every goal line again as one list.
 *   node --import tsx bench/all.ts [startup synth cdk-deps deploy-overhead toolchain rollback cloud-run-image]   (default: all)
 * Each script runs in its own process (its own moto_server, its own quiet stdout); one that fails
 * does not stop the others. Exit code 1 when a script failed or reported a goal NOT met.
 * BENCH_RUNS=n is passed on (the number of timed runs of startup, synth, deploy-overhead and cloud-run-image).
 */
import { spawn } from 'node:child_process'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const SCRIPTS = ['startup', 'synth', 'cdk-deps', 'deploy-overhead', 'toolchain', 'rollback', 'cloud-run-image']
const GOAL_LINE = /: (met|NOT met)$/
const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))

/** Runs one script with its output passed through; resolves with its exit code and goal lines. */
function runScript(name: string): Promise<{ exitCode: number; goals: string[] }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, `${name}.ts`)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      process.stdout.write(chunk)
    })
    child.on('close', code => {
      const goals = stdout
        .split('\n')
        .filter(line => GOAL_LINE.test(line.trimEnd()))
        .map(line => `${name}: ${line.trim()}`)
      resolve({ exitCode: code ?? 1, goals })
    })
  })
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2)
  const unknown = wanted.filter(name => !SCRIPTS.includes(name))
  if (unknown.length > 0) throw new Error(`unknown bench script(s): ${unknown.join(', ')}; choose from ${SCRIPTS.join(', ')}`)
  const chosen = wanted.length > 0 ? wanted : SCRIPTS
  const goals: string[] = []
  const failed: string[] = []
  for (const name of chosen) {
    console.log(`\n=== bench/${name}.ts`)
    const started = performance.now()
    const result = await runScript(name)
    console.log(
      `(bench/${name}.ts: ${((performance.now() - started) / 1000).toFixed(0)} s` +
        `${result.exitCode === 0 ? '' : `, exit code ${result.exitCode}`})`
    )
    goals.push(...result.goals)
    if (result.exitCode !== 0) failed.push(name)
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  console.log(
    `\n=== goals (${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
      `node ${process.version}, load ${os.loadavg()[0].toFixed(1)})`
  )
  for (const goal of goals) console.log(goal.replace(/\s*\[[^\]]*\]/g, '').replace(/\s{2,}/g, '  '))
  if (failed.length > 0) console.log(`scripts that failed: ${failed.join(', ')}`)
  process.exitCode = failed.length > 0 || goals.some(goal => goal.endsWith('NOT met')) ? 1 : 0
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})
