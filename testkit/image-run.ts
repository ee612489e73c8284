/**
 * An image as a container runtime would see it: pulled from the registry by digest with skopeo
 * into an OCI layout, unpacked with `umoci unpack --rootless` into a root filesystem and a runtime
 * config (the process's args, env, cwd and user, which umoci derives from the image config). Its
 * entrypoint can then run on this machine, in the unpacked root filesystem, to prove it serves.
 */
import { execFile, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { accepts, exited, freePort } from './processes.js'

export interface UnpackedImage {
  /** The unpacked root filesystem. */
  rootfs: string
  /** What a runtime would run, from umoci's config.json. */
  process: { args: string[]; env: string[]; cwd: string; user: { uid: number; gid: number } }
}

/**
 * Pulls `<host>/<repository>@<digest>` (plain HTTP) and unpacks it under `dir`. Asynchronous: a
 * registry's token server may run in this process and must answer skopeo meanwhile.
 */
export async function pullAndUnpack(reference: string, dir: string, credentials?: string): Promise<UnpackedImage> {
  const layout = path.join(dir, 'layout')
  const bundle = path.join(dir, 'bundle')
  fs.mkdirSync(dir, { recursive: true })
  const run = promisify(execFile)
  const creds = credentials ? ['--src-creds', credentials] : []
  await run('skopeo', ['copy', '--src-tls-verify=false', ...creds, `docker://${reference}`, `oci:${layout}:image`])
  await run('umoci', ['unpack', '--rootless', '--image', `${layout}:image`, bundle])
  const runtime = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'))
  return {
    rootfs: path.join(bundle, runtime.root?.path ?? 'rootfs'),
    process: { args: runtime.process.args, env: runtime.process.env, cwd: runtime.process.cwd, user: runtime.process.user }
  }
}

export interface RunningEntrypoint {
  port: number
  /** What it printed (stdout and stderr). */
  output(): string
  stop(): Promise<void>
}

/** Every directory from `/` down to `dir` readable by others, so the image's (non-root) user can reach the root filesystem. */
function openPathTo(dir: string): void {
  for (let current = dir; current !== path.dirname(current); current = path.dirname(current)) {
    const mode = fs.statSync(current).mode
    if ((mode & 0o005) !== 0o005) fs.chmodSync(current, mode | 0o005)
  }
}

/**
 * Runs the image's entrypoint (args[0] inside the root filesystem) on this machine, with the
 * image's environment and PORT set to a free port, in its working directory, as its user when
 * this process may switch users; waits until the port accepts connections.
 */
export async function runEntrypoint(image: UnpackedImage, timeoutMs = 10_000): Promise<RunningEntrypoint> {
  const port = await freePort()
  const [program, ...args] = image.process.args
  const executable = path.join(image.rootfs, program)
  const env: Record<string, string> = {}
  for (const entry of image.process.env) {
    const cut = entry.indexOf('=')
    env[entry.slice(0, cut)] = entry.slice(cut + 1)
  }
  env.PORT = String(port)
  // A runtime creates the working directory when the image lacks it (runc does).
  const cwd = path.join(image.rootfs, image.process.cwd)
  fs.mkdirSync(cwd, { recursive: true })
  const asImageUser = process.getuid?.() === 0
  if (asImageUser) openPathTo(cwd)
  const child = spawn(executable, args, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asImageUser ? { uid: image.process.user.uid, gid: image.process.user.gid } : {})
  })
  let output = ''
  child.stdout?.on('data', (data: Buffer) => (output += data.toString()))
  child.stderr?.on('data', (data: Buffer) => (output += data.toString()))
  const spawnError = new Promise<Error>(resolve => child.once('error', resolve))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited(child)
  }
  const started = Date.now()
  while (!(await accepts(port))) {
    const failed = await Promise.race([spawnError, new Promise<undefined>(resolve => setTimeout(() => resolve(undefined), 50))])
    if (failed || child.exitCode !== null || Date.now() - started > timeoutMs) {
      await stop()
      throw new Error(`${executable} did not listen on port ${port}${failed ? `: ${failed.message}` : ''}:\n${output}`)
    }
  }
  return { port, output: () => output, stop }
}
