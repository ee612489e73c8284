/**
 * The docker buildx path at its boundary: a fake `docker` first on PATH records each command line,
 * what it read on stdin and the Dockerfile it was given, and writes buildx's metadata file. The
 * tests assert the exact command lines, that the token reaches docker on stdin only, that the
 * digest comes from the metadata file (the fake prints a different one), and each failure's error.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../../src/action-error.js'
import { loadConfig } from '../../src/config/index.js'
import { chooseServerBinary } from '../../src/targets/google-cloud-run/binary.js'
import { buildAndPushWithBuildx, type BuildxOptions } from '../../src/targets/google-cloud-run/buildx.js'
import { chooseImagePath } from '../../src/targets/google-cloud-run/dockerfile.js'
import { captureStdout } from '../../testkit/annotations.js'
import { REPO_ROOT } from '../../testkit/workdir.js'

const TOKEN = 'ya29.fake-access-token-0123456789abcdef'
const DIGEST = `sha256:${'a1'.repeat(32)}`
/** A digest the fake prints in its progress output: reading it would be scraping. */
const DECOY = `sha256:${'0f'.repeat(32)}`
const IMAGE = 'us-central1-docker.pkg.dev/acme-prod/pmcp/hello-run'
const HOST = 'us-central1-docker.pkg.dev'

/**
 * The fake docker: one JSON line per call in the log its fake-docker.json (beside it) names, which
 * also sets how it fails. A file, not the environment: jest's process.env does not reach children.
 */
const FAKE_DOCKER = `#!/usr/bin/env node
const fs = require('node:fs')
const path = require('node:path')
const argv = process.argv.slice(2)
const fake = JSON.parse(fs.readFileSync(path.join(__dirname, 'fake-docker.json'), 'utf8'))
const call = { argv, cwd: process.cwd() }
const finish = code => {
  fs.appendFileSync(fake.log, JSON.stringify(call) + '\\n')
  process.exit(code)
}
if (argv[0] === 'login') {
  call.stdin = fs.readFileSync(0, 'utf8')
  if (fake.fail === 'login') {
    process.stderr.write('Error response from daemon: Get "https://' + argv[1] + '/v2/": denied: Unauthenticated request.\\n')
    finish(1)
  }
  process.stdout.write('Login Succeeded\\n')
  finish(0)
}
if (argv[0] === 'logout') finish(0)
if (argv[0] === 'buildx') {
  if (fake.noBuildx) {
    process.stderr.write("docker: 'buildx' is not a docker command.\\nSee 'docker --help'\\n")
    finish(1)
  }
  const at = flag => (argv.indexOf(flag) >= 0 ? argv[argv.indexOf(flag) + 1] : undefined)
  const context = argv[argv.length - 1]
  const dockerfile = at('--file') || path.join(context, 'Dockerfile')
  call.dockerfile = fs.readFileSync(dockerfile, 'utf8')
  if (fs.existsSync(dockerfile + '.dockerignore')) call.dockerignore = fs.readFileSync(dockerfile + '.dockerignore', 'utf8')
  if (fake.fail === 'build') {
    for (let step = 1; step <= 30; step++) process.stderr.write('#' + step + ' step ' + step + ' of the build\\n')
    process.stderr.write('ERROR: failed to solve: process "/bin/sh -c cargo build --release" ')
    process.stderr.write('did not complete successfully: exit code: 101\\n')
    finish(1)
  }
  process.stdout.write('#14 pushing manifest for ' + at('--tag') + '@${DECOY} done\\n')
  const metadata = { 'containerimage.digest': '${DIGEST}', 'image.name': at('--tag') }
  fs.writeFileSync(at('--metadata-file'), fake.metadata || JSON.stringify(metadata))
  finish(0)
}
process.stderr.write('fake docker: unexpected ' + argv.join(' ') + '\\n')
finish(2)
`

interface Call {
  argv: string[]
  cwd: string
  stdin?: string
  dockerfile?: string
  dockerignore?: string
}

let dir: string
let log: string
const savedPath = process.env.PATH

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-buildx-test-')))
  fs.mkdirSync(path.join(dir, 'bin'))
  fs.writeFileSync(path.join(dir, 'bin', 'docker'), FAKE_DOCKER, { mode: 0o755 })
  fs.mkdirSync(path.join(dir, 'project'))
  fs.writeFileSync(path.join(dir, 'project', 'Dockerfile'), 'FROM scratch\n')
  log = path.join(dir, 'calls.jsonl')
  configureFake({})
  process.env.PATH = `${path.join(dir, 'bin')}${path.delimiter}${savedPath ?? ''}`
})

afterEach(() => {
  process.env.PATH = savedPath
  fs.rmSync(dir, { recursive: true, force: true })
})

/** How the fake docker behaves: `fail` its login or build, `noBuildx`, or `metadata` for buildx's metadata file. */
function configureFake(behaviour: { fail?: 'login' | 'build'; noBuildx?: boolean; metadata?: string }): void {
  fs.writeFileSync(path.join(dir, 'bin', 'fake-docker.json'), JSON.stringify({ log, ...behaviour }))
}

function calls(): Call[] {
  if (!fs.existsSync(log)) return []
  return fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map(line => JSON.parse(line) as Call)
}

function options(overrides: Partial<BuildxOptions> = {}): BuildxOptions {
  return {
    contextDir: path.join(dir, 'project'),
    dockerfile: { kind: 'repository', file: path.join(dir, 'project', 'Dockerfile') },
    destination: { name: IMAGE, registry: { host: HOST, insecure: false } },
    tag: 'c0ffee1',
    accessToken: TOKEN,
    revision: 'c0ffee1234567890c0ffee1234567890c0ffee12',
    ...overrides
  }
}

async function build(
  overrides: Partial<BuildxOptions> = {}
): Promise<{ result?: Awaited<ReturnType<typeof buildAndPushWithBuildx>>; error?: unknown; output: string }> {
  return captureStdout(() => buildAndPushWithBuildx(options(overrides)))
}

async function failure(overrides: Partial<BuildxOptions> = {}): Promise<ActionError> {
  const { error } = await build(overrides)
  expect(error).toBeInstanceOf(ActionError)
  return error as ActionError
}

describe('a build and push', () => {
  it('logs in with the token on stdin, builds and pushes linux/amd64 in one command, logs out: the exact command lines', async () => {
    const { result, error } = await build()
    expect(error).toBeUndefined()
    const [login, buildx, logout] = calls()
    expect(calls()).toHaveLength(3)
    expect(login.argv).toEqual(['login', HOST, '-u', 'oauth2accesstoken', '--password-stdin'])
    expect(login.stdin).toBe(TOKEN)
    const metadataFile = buildx.argv[buildx.argv.indexOf('--metadata-file') + 1]
    expect(buildx.argv).toEqual([
      'buildx',
      'build',
      '--platform',
      'linux/amd64',
      '--tag',
      `${IMAGE}:c0ffee1`,
      '--push',
      '--metadata-file',
      metadataFile,
      '--provenance=false',
      '--label',
      'org.opencontainers.image.revision=c0ffee1234567890c0ffee1234567890c0ffee12',
      path.join(dir, 'project')
    ])
    expect(buildx.cwd).toBe(path.join(dir, 'project'))
    expect(logout.argv).toEqual(['logout', HOST])
    // The metadata file lived in a directory of its own, removed afterwards.
    expect(path.isAbsolute(metadataFile) && !metadataFile.startsWith(path.join(dir, 'project'))).toBe(true)
    expect(fs.existsSync(path.dirname(metadataFile))).toBe(false)
    expect(result).toEqual({ tagged: `${IMAGE}:c0ffee1`, digest: DIGEST, reference: `${IMAGE}@${DIGEST}` })
  })

  it('never puts the token in a command line or the log, and masks it', async () => {
    const { output } = await build()
    for (const call of calls()) expect(call.argv.join(' ')).not.toContain(TOKEN)
    const lines = output.split('\n').filter(line => line.includes(TOKEN))
    expect(lines).toEqual([`::add-mask::${TOKEN}`])
    expect(output).toContain('[command]')
  })

  it('takes the digest from the metadata file, not from what docker printed', async () => {
    const { result, output } = await build()
    expect(output).toContain(DECOY)
    expect(result?.digest).toBe(DIGEST)
  })

  it('passes --file for a Dockerfile elsewhere than the context root', async () => {
    fs.mkdirSync(path.join(dir, 'project', 'docker'))
    fs.writeFileSync(path.join(dir, 'project', 'docker', 'Cloudrun.Dockerfile'), 'FROM scratch\n# mine\n')
    await build({ dockerfile: { kind: 'repository', file: path.join(dir, 'project', 'docker', 'Cloudrun.Dockerfile') } })
    const buildx = calls()[1]
    expect(buildx.argv.slice(-3)).toEqual(['--file', path.join(dir, 'project', 'docker', 'Cloudrun.Dockerfile'), path.join(dir, 'project')])
    expect(buildx.dockerfile).toBe('FROM scratch\n# mine\n')
  })

  it("builds cargo-pmcp's scaffold from a file of its own, with its .dockerignore beside it, both removed afterwards", async () => {
    fs.rmSync(path.join(dir, 'project', 'Dockerfile'))
    await build({ dockerfile: { kind: 'scaffold', text: 'FROM debian:bookworm-slim\n', ignore: 'target/\n' } })
    const buildx = calls()[1]
    const file = buildx.argv[buildx.argv.indexOf('--file') + 1]
    expect(path.basename(file)).toBe('Dockerfile')
    expect(path.dirname(file)).not.toBe(path.join(dir, 'project'))
    expect([buildx.dockerfile, buildx.dockerignore]).toEqual(['FROM debian:bookworm-slim\n', 'target/\n'])
    expect(fs.existsSync(file)).toBe(false)
  })
})

describe('failures', () => {
  it('without docker on PATH: says GitHub-hosted runners have it and how to install it on a self-hosted one', async () => {
    process.env.PATH = path.join(dir, 'project')
    const error = await failure({ reason: '[runtime] apt_packages needs apt-get in a Debian base' })
    expect(error.title).toBe('Docker not found')
    expect(error.message).toMatch(
      /^docker could not be started \(docker buildx is used because \[runtime\] apt_packages needs apt-get in a Debian base\): /
    )
    expect(error.message).toContain('GitHub-hosted runners have Docker; on a self-hosted runner install Docker with buildx.')
  })

  it('a refused login: what docker said and what to check, and no build', async () => {
    configureFake({ fail: 'login' })
    const error = await failure()
    expect(error.title).toBe('docker login failed')
    expect(error.message).toContain(
      `docker login ${HOST} as oauth2accesstoken failed (exit 1):\n  Error response from daemon: Get "https://${HOST}/v2/": denied`
    )
    expect(error.message).toContain("Check that the service account's access token is valid")
    expect(error.message).not.toContain(TOKEN)
    expect(calls().map(call => call.argv[0])).toEqual(['login'])
  })

  it('a failed build: its last lines, what to check, and still a logout', async () => {
    configureFake({ fail: 'build' })
    const error = await failure()
    expect(error.title).toBe('docker buildx build failed')
    expect(error.message).toMatch(
      new RegExp(`^docker buildx build of ${IMAGE}:c0ffee1 failed \\(exit 1\\)\\. Its last lines:\\n  #17 step 17 of the build\\n`)
    )
    expect(error.message).not.toContain('#16 step 16')
    expect(error.message).toContain(
      '  ERROR: failed to solve: process "/bin/sh -c cargo build --release" did not complete successfully: exit code: 101\n'
    )
    expect(error.message).toContain(`may push to ${HOST} (roles/artifactregistry.writer)`)
    expect(calls().map(call => call.argv[0])).toEqual(['login', 'buildx', 'logout'])
  })

  it('docker without the buildx plugin', async () => {
    configureFake({ noBuildx: true })
    const error = await failure()
    expect(error.title).toBe('docker buildx not installed')
    expect(error.message).toContain("'buildx' is not a docker command")
  })

  it('a metadata file without the digest', async () => {
    configureFake({ metadata: JSON.stringify({ 'buildx.build.ref': 'default/default/abc' }) })
    const error = await failure()
    expect(error.title).toBe('docker buildx gave no image digest')
    expect(error.message).toContain('holds no containerimage.digest ({"buildx.build.ref":"default/default/abc"})')
  })

  it('a tag Docker would refuse, before anything runs', async () => {
    const error = await failure({ tag: 'feature/x' })
    expect(error.title).toBe('Invalid image tag')
    expect(calls()).toEqual([])
  })
})

describe('the path chosen, then built', () => {
  it("an edited Dockerfile of the fixture server is built with docker buildx from the repository's Dockerfile", async () => {
    const project = path.join(dir, 'server')
    fs.cpSync(path.join(REPO_ROOT, 'testkit', 'fixtures', 'cloud-run-server'), project, {
      recursive: true,
      filter: source => path.basename(source) !== 'target'
    })
    fs.appendFileSync(path.join(project, 'Dockerfile'), 'LABEL team=mcp\n')
    const { result: config } = await captureStdout(() =>
      loadConfig({ workingDirectory: project, config: '.pmcp/deploy.toml', workspace: dir, env: {} })
    )
    if (!config?.cloudRun) throw new Error('the fixture deploy.toml did not load')
    const cloudRunConfig = { ...config, cloudRun: config.cloudRun }
    const binary = await chooseServerBinary({ workingDirectory: project, config: cloudRunConfig })
    const chosen = chooseImagePath({ workingDirectory: project, config: cloudRunConfig, binary })
    if (chosen.path !== 'docker-buildx') throw new Error(`expected docker buildx, got ${chosen.reason}`)
    expect(chosen.reason).toMatch(
      /^Dockerfile differs from cargo-pmcp's scaffold at line 40: it goes on after the scaffold's end with "LABEL team=mcp"/
    )
    const { error } = await captureStdout(() =>
      buildAndPushWithBuildx({ ...options(), contextDir: project, dockerfile: chosen.dockerfile, reason: chosen.reason })
    )
    expect(error).toBeUndefined()
    const buildx = calls()[1]
    expect(buildx.argv[buildx.argv.length - 1]).toBe(project)
    expect(buildx.argv).not.toContain('--file')
    expect(buildx.dockerfile).toContain('LABEL team=mcp\n')
  })
})
