/**
 * The image built with docker buildx, for a repository whose image only a Docker build makes (its
 * own Dockerfile, `[runtime] apt_packages`, a Debian base; see dockerfile.ts): logged in to the
 * registry with the service account's access token on stdin, built for linux/amd64 and pushed in
 * one `docker buildx build --push`, the pushed digest read from buildx's metadata file. Logged out
 * afterwards, so the token does not stay in Docker's configuration.
 */
import * as io from '@actions/io'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError, errorMessage } from '../../action-error.js'
import { maskSecret } from '../../masking.js'
import { NOT_STARTED_EXIT_CODE, runCommand, type CommandResult, type CommandRunner } from '../../process.js'
import type { DockerfileSource } from './dockerfile.js'
import type { ImageDestination } from './image/index.js'

/** The user name Google's registries take with an OAuth access token as the password. */
const REGISTRY_USER = 'oauth2accesstoken'
/** Cloud Run runs linux/amd64 images. */
const PLATFORM = 'linux/amd64'
/** The OCI label that records the commit an image is built from. */
const REVISION_LABEL = 'org.opencontainers.image.revision'
const TAG = /^\w[\w.-]{0,127}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/
/** How many lines of docker's output an error quotes. */
const QUOTED_LINES = 15

export interface BuildxOptions {
  /** The build context: the project directory, where cargo-pmcp runs `docker buildx build .`. */
  contextDir: string
  dockerfile: DockerfileSource
  destination: Pick<ImageDestination, 'name' | 'registry'>
  tag: string
  /** The service account's access token: the registry password (masked here, given to docker on stdin only). */
  accessToken: string
  /** The commit the image is built from, recorded as the org.opencontainers.image.revision label. */
  revision: string
  /** Why the image needs docker buildx (dockerfile.ts `chooseImagePath`), repeated in errors. */
  reason?: string
  run?: CommandRunner
  loginTimeoutMs?: number
  buildTimeoutMs?: number
}

export interface BuiltImage {
  /** `<name>:<tag>` as pushed. */
  tagged: string
  /** `sha256:…`, from buildx's metadata file. */
  digest: string
  /** `<name>@<digest>`: what Cloud Run is given. */
  reference: string
}

const DOCKER_ADVICE = 'GitHub-hosted runners have Docker; on a self-hosted runner install Docker with buildx'

/** The last lines of a program's output (both streams), for an error. */
function lastLines(result: CommandResult): string {
  const lines = `${result.stdout}\n${result.stderr}`.split(/\r?\n/).filter(line => line.trim() !== '')
  return lines
    .slice(-QUOTED_LINES)
    .map(line => `  ${line}`)
    .join('\n')
}

function because(reason: string | undefined): string {
  return reason ? ` (docker buildx is used because ${reason})` : ''
}

function dockerMissing(result: CommandResult, reason: string | undefined): ActionError {
  return new ActionError('Docker not found', `docker could not be started${because(reason)}: ${result.stderr.trim()}. ${DOCKER_ADVICE}.`)
}

/**
 * `docker login`, with the password written to its stdin (the runner of other programs gives them
 * no input). Resolves with what it printed; rejects only past `timeoutMs`.
 */
async function runWithInput(command: string, args: string[], input: string, timeoutMs: number): Promise<CommandResult> {
  let executable: string
  try {
    executable = await io.which(command, true)
  } catch (error) {
    return { exitCode: NOT_STARTED_EXIT_CODE, stdout: '', stderr: errorMessage(error) }
  }
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    // A program that exits before reading its input closes the pipe; its exit code tells what happened.
    child.stdin.on('error', () => undefined)
    child.stdin.end(input)
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no result after ${Math.round(timeoutMs / 1000)} s; the process was stopped`))
    }, timeoutMs)
    child.on('error', error => {
      clearTimeout(timer)
      resolve({ exitCode: NOT_STARTED_EXIT_CODE, stdout, stderr: `${executable} could not be started: ${error.message}` })
    })
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ exitCode: code ?? -1, stdout, stderr })
    })
  })
}

async function login(host: string, token: string, timeoutMs: number, reason: string | undefined): Promise<void> {
  let result: CommandResult
  try {
    result = await runWithInput('docker', ['login', host, '-u', REGISTRY_USER, '--password-stdin'], token, timeoutMs)
  } catch (error) {
    throw new ActionError(
      'docker login failed',
      `docker login ${host} gave ${errorMessage(error)}. Check that ${host} is reachable from the runner.`
    )
  }
  if (result.exitCode === NOT_STARTED_EXIT_CODE) throw dockerMissing(result, reason)
  if (result.exitCode !== 0) {
    throw new ActionError(
      'docker login failed',
      `docker login ${host} as ${REGISTRY_USER} failed (exit ${result.exitCode}):\n${lastLines(result)}\n` +
        "Check that the service account's access token is valid (inputs workload-identity-provider, service-account) " +
        `and that ${host} is the registry of the image.`
    )
  }
}

/** Where buildx reads the Dockerfile from: `--file` unless it is `<context>/Dockerfile`; a scaffold is written to `dir` first. */
function dockerfileArgs(options: BuildxOptions, dir: string): string[] {
  const source = options.dockerfile
  if (source.kind === 'repository') {
    return path.resolve(source.file) === path.resolve(options.contextDir, 'Dockerfile') ? [] : ['--file', source.file]
  }
  const file = path.join(dir, 'Dockerfile')
  fs.writeFileSync(file, source.text)
  // BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile in place of the context's .dockerignore.
  if (source.ignore !== undefined) fs.writeFileSync(`${file}.dockerignore`, source.ignore)
  return ['--file', file]
}

/** The digest buildx records for the pushed image (`containerimage.digest`), never scraped from its output. */
function pushedDigest(metadataFile: string, tagged: string): string {
  let metadata: unknown
  try {
    metadata = JSON.parse(fs.readFileSync(metadataFile, 'utf8'))
  } catch (error) {
    metadata = { unreadable: errorMessage(error) }
  }
  const digest =
    typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>)['containerimage.digest'] : undefined
  if (typeof digest === 'string' && DIGEST.test(digest)) return digest
  throw new ActionError(
    'docker buildx gave no image digest',
    `docker buildx build pushed ${tagged} but its metadata file (--metadata-file) holds no containerimage.digest ` +
      `(${JSON.stringify(metadata).slice(0, 200)}). Cloud Run is given the image by digest: ` +
      'use docker buildx 0.6 or later (docker buildx version).'
  )
}

function buildFailure(result: CommandResult, tagged: string, options: BuildxOptions): ActionError {
  if (result.exitCode === NOT_STARTED_EXIT_CODE) return dockerMissing(result, options.reason)
  const output = `${result.stdout}\n${result.stderr}`
  if (/'buildx' is not a docker command|unknown command "buildx"|unknown flag: --platform/.test(output)) {
    return new ActionError(
      'docker buildx not installed',
      `docker has no buildx plugin${because(options.reason)}:\n${lastLines(result)}\n${DOCKER_ADVICE} (the docker-buildx-plugin package).`
    )
  }
  const dockerfile = options.dockerfile.kind === 'repository' ? options.dockerfile.file : "cargo-pmcp's scaffold Dockerfile"
  return new ActionError(
    'docker buildx build failed',
    `docker buildx build of ${tagged} failed (exit ${result.exitCode})${because(options.reason)}. Its last lines:\n${lastLines(result)}\n` +
      `Check that ${dockerfile} builds with docker buildx build --platform ${PLATFORM} in ${options.contextDir}; ` +
      `if the push was refused, that the service account may push to ${options.destination.registry.host} (roles/artifactregistry.writer).`
  )
}

/** Builds the image with docker buildx and pushes it; resolves with the pushed digest. */
export async function buildAndPushWithBuildx(options: BuildxOptions): Promise<BuiltImage> {
  const run = options.run ?? runCommand
  maskSecret(options.accessToken)
  if (!TAG.test(options.tag)) {
    throw new ActionError(
      'Invalid image tag',
      `${JSON.stringify(options.tag)} is not a Docker tag: letters, digits, _, . and -, at most 128.`
    )
  }
  const host = options.destination.registry.host
  const tagged = `${options.destination.name}:${options.tag}`
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-buildx-'))
  try {
    await login(host, options.accessToken, options.loginTimeoutMs ?? 120_000, options.reason)
    try {
      const metadataFile = path.join(dir, 'metadata.json')
      const args = [
        'buildx',
        'build',
        '--platform',
        PLATFORM,
        '--tag',
        tagged,
        '--push',
        '--metadata-file',
        metadataFile,
        '--provenance=false',
        '--label',
        `${REVISION_LABEL}=${options.revision}`,
        ...dockerfileArgs(options, dir),
        options.contextDir
      ]
      let result: CommandResult
      try {
        result = await run('docker', args, { cwd: options.contextDir, timeoutMs: options.buildTimeoutMs })
      } catch (error) {
        throw new ActionError('docker buildx build failed', `docker buildx build of ${tagged} gave ${errorMessage(error)}.`)
      }
      if (result.exitCode !== 0) throw buildFailure(result, tagged, options)
      const digest = pushedDigest(metadataFile, tagged)
      return { tagged, digest, reference: `${options.destination.name}@${digest}` }
    } finally {
      await run('docker', ['logout', host], { silent: true })
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
