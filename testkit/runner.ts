import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { REPO_ROOT } from './workdir.js'

export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

/** Parses GITHUB_OUTPUT's `name<<DELIMITER … DELIMITER` blocks. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const pattern = /^([^<\n]+)<<(\S+)\n([\s\S]*?)\n\2$/gm
  let match: RegExpExecArray | null
  while ((match = pattern.exec(text)) !== null) outputs[match[1]] = match[3]
  return outputs
}

/** dist/index.js; PMCP_TEST_DIST points at another bundle of the sources (e.g. one built while dist/ is being rebuilt). */
function actionEntryPoint(): string {
  return path.resolve(REPO_ROOT, process.env.PMCP_TEST_DIST ?? 'dist', 'index.js')
}

export interface RunActionOptions {
  /** Aborting it stops the run (SIGTERM to `node dist/index.js`), e.g. when the demo is interrupted. */
  signal?: AbortSignal
}

/**
 * Runs `node dist/index.js` as a GitHub runner does: inputs as INPUT_* variables, outputs and the
 * job summary through the files the runner provides.
 */
export async function runAction(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  options: RunActionOptions = {}
): Promise<ActionRun> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-runner-'))
  const outputFile = path.join(scratch, 'output')
  const summaryFile = path.join(scratch, 'summary')
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  const childEnv: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('INPUT_') && !key.startsWith('GITHUB_') && !key.startsWith('ACTIONS_')) childEnv[key] = value
  }
  Object.assign(
    childEnv,
    { GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_WORKSPACE: REPO_ROOT, RUNNER_TEMP: scratch },
    env
  )
  for (const [name, value] of Object.entries(inputs)) childEnv[`INPUT_${name.toUpperCase()}`] = value
  const child = spawn(process.execPath, [actionEntryPoint()], { cwd: REPO_ROOT, env: childEnv, signal: options.signal })
  let stdout = ''
  let stderr = ''
  // An aborted run emits 'error' (AbortError) before 'close'; it is reported through the exit code.
  child.on('error', error => (stderr += `${String(error)}\n`))
  child.stdout.on('data', chunk => (stdout += chunk))
  child.stderr.on('data', chunk => (stderr += chunk))
  const exitCode = await new Promise<number>(resolve => child.on('close', code => resolve(code ?? -1)))
  const run = {
    exitCode,
    stdout,
    stderr,
    outputs: parseOutputFile(fs.readFileSync(outputFile, 'utf8')),
    summary: fs.readFileSync(summaryFile, 'utf8')
  }
  fs.rmSync(scratch, { recursive: true, force: true })
  return run
}
