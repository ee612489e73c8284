/**
 * `npm run demo`: what the action does, shown on this machine with the real action (`node dist/index.js`
 * started as a GitHub runner starts it).
 *
 *   node --import tsx demo/run.ts [--synth-only]      (or PMCP_DEMO_SYNTH_ONLY=1)
 *
 * Always: synth of examples/hello, cfn-lint of the template, the resources and outputs it would
 * create. No AWS, no network. With moto_server and Rust (rustup, cargo) on PATH, and without
 * --synth-only: deploy → second deploy → PR preview with its comment (and the infrastructure diff
 * against production) → rollback, all on loopback (demo/flow.ts). Exit code 0 when every phase ran
 * (or was skipped for a missing tool), 1 when a phase failed, 130 when interrupted.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { motoInstalled } from '../testkit/moto.js'
import { runAction } from '../testkit/runner.js'
import { cfnLint } from '../testkit/synth.js'
import { makeWorkDir, REPO_ROOT } from '../testkit/workdir.js'
import { requireSuccess } from './action-run.js'
import { DEPLOY_FLOW_PHASES, runDeployFlow } from './flow.js'
import { Cleanup, detail, PhaseFailed, Progress } from './progress.js'
import { describeTemplate, type Template } from './template.js'

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'hello')
const SYNTH_PHASES = 2

const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`

const onPath = (command: string): boolean => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0

/** Why the deploy flow cannot run here, or undefined when it can. */
function deployFlowUnavailable(): string | undefined {
  if (!motoInstalled()) {
    return 'moto_server is not on PATH. It plays AWS locally: pip install "moto[server]" (moto 5.x), then run npm run demo again.'
  }
  // The demo starts moto through python3 with a plugin (Lambda aliases), so python3 must have moto.
  if (spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status !== 0) {
    return (
      'moto_server is on PATH, but python3 cannot import moto (installed with pipx?). ' +
      'The demo runs moto through python3 with a plugin: python3 -m pip install "moto[server]", then run npm run demo again.'
    )
  }
  if (!onPath('rustup') || !onPath('cargo')) {
    return (
      'Rust is not installed (rustup, cargo): the action sets up the toolchain with rustup and builds the server with cargo. ' +
      'Install it from https://rustup.rs, then run npm run demo again.'
    )
  }
  return undefined
}

/** Phases 1–2: `command: synth` of examples/hello, then cfn-lint; prints what the stack would create. */
async function synthExample(progress: Progress, cleanup: Cleanup, signal: AbortSignal): Promise<void> {
  // A scratch copy, so the demo never races a test that synthesizes examples/hello itself.
  const example = makeWorkDir('demo-hello')
  cleanup.add(example.remove)
  const generated = [path.join(EXAMPLE, '.pmcp', 'cdk'), path.join(EXAMPLE, 'target')]
  fs.cpSync(EXAMPLE, example.dir, { recursive: true, filter: source => !generated.includes(source) })

  const templatePath = await progress.phase('render + synth examples/hello   (node dist/index.js, command: synth)', async () => {
    const run = requireSuccess(
      await runAction({ command: 'synth', 'working-directory': path.relative(REPO_ROOT, example.dir) }, {}, { signal })
    )
    detail(
      `examples/hello/.pmcp/deploy.toml → stack ${run.outputs['stack-name']}: the CDK project rendered into .pmcp/cdk/, cdk synth offline`,
      `template: ${path.relative(example.dir, run.outputs['template-path'])} ` +
        '(in a scratch copy; npm run synth:example keeps it in examples/hello)'
    )
    return run.outputs['template-path']
  })
  const template = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as Template

  if (onPath('cfn-lint')) {
    await progress.phase('cfn-lint the template', () => {
      const findings = cfnLint(templatePath)
      const errors = findings.filter(finding => finding.Level === 'Error')
      detail(
        `${plural(errors.length, 'error')}, ${plural(findings.length - errors.length, 'warning or note', 'warnings or notes')}`,
        ...findings.map(f => `${f.Level} ${f.Rule.Id}: ${f.Message}`)
      )
      if (errors.length > 0) throw new Error(`cfn-lint found ${errors.length} errors in the template`)
    })
  } else {
    progress.skip('cfn-lint the template', 'cfn-lint is not on PATH (pip install cfn-lint)')
  }

  console.log('')
  for (const line of describeTemplate(template)) console.log(line)
  console.log('')
}

async function main(): Promise<number> {
  const synthOnly = process.argv.includes('--synth-only') || process.env.PMCP_DEMO_SYNTH_ONLY === '1'
  const unavailable = synthOnly ? undefined : deployFlowUnavailable()
  const withDeploy = !synthOnly && unavailable === undefined
  const progress = new Progress(SYNTH_PHASES + (withDeploy ? DEPLOY_FLOW_PHASES : 0))
  const cleanup = new Cleanup()
  const aborter = new AbortController()
  const interrupted = async (signal: NodeJS.Signals): Promise<void> => {
    console.log(`\n${signal}: stopping what the demo started …`)
    aborter.abort()
    await cleanup.run()
    process.exit(130)
  }
  process.once('SIGINT', signal => void interrupted(signal))
  process.once('SIGTERM', signal => void interrupted(signal))

  const started = performance.now()
  console.log('pmcp/deploy-action demo: the real action (node dist/index.js), started as a GitHub runner starts it\n')
  try {
    await synthExample(progress, cleanup, aborter.signal)
    if (withDeploy) {
      await runDeployFlow(progress, cleanup, aborter.signal)
    } else if (unavailable) {
      console.log(`Deploy → PR comment → rollback flow skipped: ${unavailable}`)
    } else {
      console.log('Deploy → PR comment → rollback flow skipped (--synth-only).')
    }
    await cleanup.run()
    console.log(
      `\nDemo finished in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        'everything it started is stopped and its scratch directories are removed.'
    )
    return 0
  } catch (error) {
    await cleanup.run()
    if (aborter.signal.aborted) return 130
    if (error instanceof PhaseFailed) {
      console.error(`\nDemo failed in phase ${error.phase}:\n${error.message}`)
    } else {
      console.error(`\nDemo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    }
    return 1
  }
}

process.exitCode = await main()
