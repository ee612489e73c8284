import * as exec from '@actions/exec'

export interface CommandOptions {
  cwd?: string
  /** Added to (and overriding) the environment of this process. */
  env?: Record<string, string>
  /** Do not echo the command's output to the log (it is still captured). */
  silent?: boolean
}

export interface CommandResult {
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * Runs a program and never throws on a non-zero exit: callers decide what a failure means.
 * Injected everywhere a process is started, so tests can record exact command lines.
 */
export type CommandRunner = (command: string, args: string[], options?: CommandOptions) => Promise<CommandResult>

export const runCommand: CommandRunner = async (command, args, options = {}) => {
  const env = options.env ? { ...inheritedEnv(), ...options.env } : undefined
  try {
    const output = await exec.getExecOutput(command, args, {
      cwd: options.cwd,
      env,
      silent: options.silent ?? false,
      ignoreReturnCode: true
    })
    return { exitCode: output.exitCode, stdout: output.stdout, stderr: output.stderr }
  } catch (error) {
    // @actions/exec throws when the program does not exist; report it like a failed run.
    return { exitCode: 127, stdout: '', stderr: error instanceof Error ? error.message : String(error) }
  }
}

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value
  return env
}

/** Architecture names as release assets spell them. */
export type HostArch = 'x86_64' | 'aarch64'

/** The machine the action runs on (not the Lambda target). */
export interface HostPlatform {
  os: string
  arch: HostArch
}

export function currentHost(): HostPlatform {
  return { os: process.platform, arch: process.arch === 'arm64' ? 'aarch64' : 'x86_64' }
}
