import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { exited, freePort } from './processes.js'

export interface MotoServer {
  /**
   * For AWS_ENDPOINT_URL. The host is `localhost`, not 127.0.0.1: moto's CloudFormation finds a
   * TemplateURL's bucket in the URL path only when the host contains "localhost" (the CDK CLI
   * sends template URLs built from AWS_ENDPOINT_URL).
   */
  endpoint: string
  port: number
  stop(): Promise<void>
}

export interface MotoOptions {
  /**
   * A Python file run in place of `moto_server` (it patches moto, then starts moto's server with
   * the arguments it is given).
   */
  plugin?: string
}

/**
 * Whether `moto_server --help` runs. Starting Python to ask takes a second or two, so within one
 * jest run (jest.config.js gives it an id, PMCP_TEST_RUN_ID, which its workers inherit) the answer
 * is asked once and kept in a file named after the run; the other suites that need moto read it.
 */
export function motoInstalled(): boolean {
  const runId = process.env.PMCP_TEST_RUN_ID
  const answerFile = runId && /^[\w-]+$/.test(runId) ? path.join(os.tmpdir(), `pmcp-test-moto-installed-${runId}`) : undefined
  if (answerFile) {
    try {
      const answer = fs.readFileSync(answerFile, 'utf8')
      if (answer === 'yes' || answer === 'no') return answer === 'yes'
    } catch {
      // Not asked yet in this run.
    }
  }
  const installed = spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0
  if (answerFile) {
    // Written whole, then renamed into place: a suite reading at the same time sees all or nothing.
    const partial = `${answerFile}.${process.pid}`
    fs.writeFileSync(partial, installed ? 'yes' : 'no')
    fs.renameSync(partial, answerFile)
  }
  return installed
}

/**
 * `describe` for suites that need moto_server. Missing moto_server: the suite fails under CI=true
 * and is skipped with a message otherwise. Uses the globals jest injects rather than importing
 * `@jest/globals`, which throws outside jest: the rest of this module also serves the demo (demo/).
 */
export function describeWithMoto(name: string, body: () => void): void {
  if (motoInstalled()) {
    describe(name, body)
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs moto_server', () => {
        throw new Error('moto_server is not on PATH (pip install "moto[server]"); it is required when CI=true')
      })
    })
  } else {
    console.warn(`Skipping '${name}': moto_server is not on PATH (pip install "moto[server]")`)
    describe.skip(name, body)
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) })
    return true
  } catch {
    return false
  }
}

/** Starts moto_server on 127.0.0.1 on a free port and waits until it answers. */
export async function startMoto(options: MotoOptions = {}, timeoutMs = 30_000): Promise<MotoServer> {
  const port = await freePort()
  const args = ['-H', '127.0.0.1', '-p', String(port)]
  const child = options.plugin
    ? spawn('python3', [options.plugin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn('moto_server', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr?.on('data', (data: Buffer) => {
    log = (log + data.toString()).slice(-4000)
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited(child)
  }
  const started = Date.now()
  while (!(await answers(`http://127.0.0.1:${port}/moto-api/data.json`))) {
    if (child.exitCode !== null || Date.now() - started > timeoutMs) {
      await stop()
      throw new Error(`moto_server did not start on port ${port}:\n${log}`)
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return { endpoint: `http://localhost:${port}`, port, stop }
}

/**
 * Points this process's AWS SDK and the CLIs it starts at moto, with dummy credentials and nothing
 * else to find credentials in (no profile, no instance metadata); returns what puts the
 * environment back.
 */
export function useMotoEnvironment(moto: MotoServer, region = 'us-east-1'): () => void {
  const saved = { ...process.env }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true'
  })
  delete process.env.AWS_SESSION_TOKEN
  delete process.env.AWS_PROFILE
  return () => {
    process.env = saved
  }
}
