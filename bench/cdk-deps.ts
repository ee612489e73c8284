/**
 * A fresh runner's synth of examples/hello: render, CDK dependencies, `cdk synth`, in process, as
 * `command: synth` runs them (src/cdk/project.ts, src/cdk/synth.ts).
 *   node --import tsx bench/cdk-deps.ts
 * cold: a new working copy outside this repository (no node_modules of ours above it), an empty npm
 *   cache (npm_config_cache: an empty directory) and an empty cache store (testkit/local-cache.ts,
 *   the stand-in for the Actions cache): npm ci from the registry, then node_modules saved.
 * warm: another new working copy at the same path (as a runner's workspace is), another empty npm
 *   cache, the same cache store: node_modules restored under the lock's key, no npm ci.
 * Goals (issue 17): warm ≤ half of cold; warm render + dependencies < 5 s.
 * Needs the npm registry for the cold run; takes a minute or two.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { installCdkDependencies, type CdkDependencies } from '../src/cdk/dependencies.js'
import { cdkEnvironment } from '../src/cdk/environment.js'
import { prepareCdkProject } from '../src/cdk/project.js'
import { synthesize } from '../src/cdk/synth.js'
import { loadConfig } from '../src/config/index.js'
import { resourceNames } from '../src/names.js'
import { LocalCache } from '../testkit/local-cache.js'
import { REPO_ROOT } from '../testkit/workdir.js'
import { figureLine, quietly } from './report.js'

interface FreshRun {
  deps: CdkDependencies
  renderDeps: number
  total: number
}

async function freshRunner(workingCopy: string, scratch: string, cache: LocalCache, label: string): Promise<FreshRun> {
  fs.rmSync(workingCopy, { recursive: true, force: true })
  fs.mkdirSync(path.join(workingCopy, '.pmcp'), { recursive: true })
  fs.copyFileSync(path.join(REPO_ROOT, 'examples', 'hello', '.pmcp', 'deploy.toml'), path.join(workingCopy, '.pmcp', 'deploy.toml'))
  process.env.npm_config_cache = fs.mkdtempSync(path.join(scratch, `npm-cache-${label}-`))
  return quietly(async () => {
    const started = performance.now()
    const config = loadConfig({ workingDirectory: workingCopy, config: '.pmcp/deploy.toml', workspace: workingCopy })
    const names = resourceNames(config.server.name, 'production')
    const project = prepareCdkProject({
      workingDirectory: workingCopy,
      config,
      names,
      architecture: config.architecture ?? 'arm64',
      target: config.target.type,
      commitSha: 'abc1234def',
      runId: '1'
    })
    const deps = await installCdkDependencies(project.dir, { cache })
    const renderDeps = performance.now() - started
    await synthesize(project, names.stackName, cdkEnvironment({ config, names }))
    return { deps, renderDeps, total: performance.now() - started }
  })
}

async function main(): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-bench-cdk-deps-'))
  try {
    const cache = new LocalCache(path.join(scratch, 'store'))
    const workingCopy = path.join(scratch, 'work', 'hello')
    const cold = await freshRunner(workingCopy, scratch, cache, 'cold')
    const warm = await freshRunner(workingCopy, scratch, cache, 'warm')
    if (cold.deps !== 'installed' || warm.deps !== 'restored') {
      throw new Error(`expected npm ci then a restore, got ${cold.deps} then ${warm.deps}`)
    }
    const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`
    console.log(
      [
        'fresh runner synth of examples/hello (render + CDK dependencies + cdk synth; empty npm cache)',
        figureLine('fresh runner synth, cold (npm ci, node_modules saved)', `${s(cold.total)} (render + deps ${s(cold.renderDeps)})`),
        figureLine('fresh runner synth, warm (node_modules restored)', `${s(warm.total)}`, {
          text: `≤ ${s(cold.total / 2)}, half of cold (issue 17)`,
          met: warm.total <= cold.total / 2
        }),
        figureLine('warm render + dependencies', s(warm.renderDeps), { text: '< 5 s (issue 17)', met: warm.renderDeps < 5000 })
      ].join('\n')
    )
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})
