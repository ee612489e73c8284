import * as io from '@actions/io'
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Readable } from 'node:stream'
import { errorMessage } from './errors.js'

export interface CommandOptions {
  cwd?: string
  /** Added to (and overriding) the environment of this process. */
  env?: Record<string, string>
  /** Do not echo the command line and its output to the log (the output is still captured). */
  silent?: boolean
  /** Stop the program after this long; the run then rejects. */
  timeoutMs?: number
}

export interface CommandResult {
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * The exit code of a program that could not be started (not found, not executable, no such
 * working directory), with the reason as its stderr: what a shell reports for a missing command.
 */
export const NOT_STARTED_EXIT_CODE = 127

/**
 * Runs a program to completion and never rejects on a non-zero exit: callers decide what a failure
 * means. It rejects only when the program runs past `timeoutMs`. Injected everywhere a process is
 * started, so tests can record exact command lines.
 */
export type CommandRunner = (command: string, args: string[], options?: CommandOptions) => Promise<CommandResult>

/**
 * Where the program is, found as `@actions/exec` finds it (so its message for a missing program is
 * the familiar one): a relative path against the working directory, a bare name on PATH.
 */
async function locate(command: string, cwd: string | undefined): Promise<string> {
  const relativePath = !path.isAbsolute(command) && command.includes('/')
  const executable = await io.which(relativePath ? path.resolve(cwd ?? process.cwd(), command) : command, true)
  if (cwd && !fs.existsSync(cwd)) throw new Error(`The cwd: ${cwd} does not exist!`)
  return executable
}

function notStarted(reason: string): CommandResult {
  return { exitCode: NOT_STARTED_EXIT_CODE, stdout: '', stderr: reason }
}

/** The default runner. Output goes to the log as it comes (unless silent) and is returned in full. */
export const runCommand: CommandRunner = async (command, args, options = {}) => {
  let executable: string
  try {
    executable = await locate(command, options.cwd)
  } catch (error) {
    return notStarted(errorMessage(error))
  }
  const echo = (text: string): void => {
    if (!options.silent) process.stdout.write(text)
  }
  echo(`[command]${[executable, ...args].join(' ')}${os.EOL}`)
  return new Promise((resolve, reject) => {
    let child: ChildProcessByStdio<null, Readable, Readable>
    try {
      child = spawn(executable, args, {
        cwd: options.cwd,
        env: options.env ? { ...process.env, ...options.env } : undefined,
        // Nothing is ever typed into these programs: a prompt reads end of input instead of hanging.
        stdio: ['ignore', 'pipe', 'pipe']
      })
    } catch (error) {
      // spawn throws (instead of emitting 'error') when the kernel refuses the exec itself, e.g. E2BIG
      // for arguments or environment beyond its limits.
      resolve(notStarted(`${executable} could not be started: ${errorMessage(error)}`))
      return
    }
    let stdout = ''
    let stderr = ''
    // Both streams go to the log's one stream, in the order they arrive.
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      echo(chunk)
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
      echo(chunk)
    })
    let settled = false
    let timedOut = false
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            child.kill('SIGKILL')
          }, options.timeoutMs)
    const settle = (finish: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      finish()
    }
    child.on('error', error => settle(() => resolve(notStarted(`${executable} could not be started: ${error.message}`))))
    child.on('close', code =>
      settle(() => {
        if (timedOut) reject(new Error(`no result after ${Math.round((options.timeoutMs ?? 0) / 1000)} s; the process was stopped`))
        else resolve({ exitCode: code ?? -1, stdout, stderr })
      })
    )
  })
}
