/**
 * The binary that runs on Cloud Run, chosen as cargo-pmcp's google_cloud_run/binary.rs chooses it,
 * from real `cargo metadata` of std-only crates written for each case.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../../src/action-error.js'
import { loadConfig } from '../../src/config/index.js'
import { chooseServerBinary, isLambdaBinary, type ServerBinary } from '../../src/targets/google-cloud-run/binary.js'
import { captureStdout } from '../../testkit/annotations.js'

let dir: string
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cloud-run-binary-')))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

/** A std-only package at `at` with these binaries (src/bin/<name>.rs); `extra` is appended to its Cargo.toml. */
function writeCrate(at: string, name: string, bins: string[], extra = ''): void {
  fs.mkdirSync(path.join(at, 'src', 'bin'), { recursive: true })
  const targets = bins.map(bin => `[[bin]]\nname = "${bin}"\npath = "src/bin/${bin}.rs"\n`).join('\n')
  fs.writeFileSync(path.join(at, 'Cargo.toml'), `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n\n${targets}\n${extra}`)
  for (const bin of bins) fs.writeFileSync(path.join(at, 'src', 'bin', `${bin}.rs`), 'fn main() {}\n')
  if (bins.length === 0) fs.writeFileSync(path.join(at, 'src', 'lib.rs'), '')
}

const DEPLOY_TOML = (server: string, rest = ''): string =>
  '[target]\ntype = "google-cloud-run"\nversion = "1.0.0"\n[gcp]\nproject_id = "acme-prod"\nregion = "us-central1"\n' +
  `[server]\n${server}\n${rest}`

/** Loads `deploy.toml` written into `project` and chooses its binary. */
async function choose(project: string, deployToml: string): Promise<ServerBinary> {
  fs.mkdirSync(path.join(project, '.pmcp'), { recursive: true })
  fs.writeFileSync(path.join(project, '.pmcp', 'deploy.toml'), deployToml)
  const { result: config } = await captureStdout(() =>
    loadConfig({ workingDirectory: project, config: '.pmcp/deploy.toml', workspace: dir, env: {} })
  )
  if (!config?.cloudRun) throw new Error('the test deploy.toml did not load')
  return chooseServerBinary({ workingDirectory: project, config: { ...config, cloudRun: config.cloudRun } })
}

async function refusal(project: string, deployToml: string): Promise<ActionError> {
  const error = await choose(project, deployToml).then(
    () => undefined,
    (thrown: unknown) => thrown
  )
  expect(error).toBeInstanceOf(ActionError)
  return error as ActionError
}

describe('isLambdaBinary (cargo-pmcp is_lambda_binary)', () => {
  it.each(['bootstrap', 'lambda', 'my-lambda', 'lambda_handler', 'x-Lambda-y'])('%s is a Lambda binary', name => {
    expect(isLambdaBinary(name)).toBe(true)
  })
  it.each(['serve', 'local', 'lambdas', 'mylambda', 'bootstrapper', 'server'])('%s is not', name => {
    expect(isLambdaBinary(name)).toBe(false)
  })
})

describe('without [server] binary', () => {
  it('builds the only binary that is not a Lambda binary: package x-lambda with bootstrap and serve builds serve', async () => {
    writeCrate(dir, 'x-lambda', ['bootstrap', 'serve'], '[workspace]\n')
    const chosen = await choose(dir, DEPLOY_TOML('name = "x"'))
    expect(chosen).toEqual({
      package: 'x-lambda',
      binary: 'serve',
      packageDir: dir,
      manifestPath: path.join(dir, 'Cargo.toml'),
      targetDirectory: path.join(dir, 'target'),
      reason: 'the only binary that is not a Lambda binary (not bootstrap): serve of package x-lambda'
    })
  })

  it('finds it in a workspace member, beside a Lambda crate', async () => {
    fs.writeFileSync(path.join(dir, 'Cargo.toml'), '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n')
    writeCrate(path.join(dir, 'crates', 'weather-lambda'), 'weather-lambda', ['bootstrap'])
    writeCrate(path.join(dir, 'crates', 'weather-server'), 'weather-server', ['weather-http'])
    writeCrate(path.join(dir, 'crates', 'weather-core'), 'weather-core', [])
    const chosen = await choose(dir, DEPLOY_TOML('name = "weather"'))
    expect(chosen).toMatchObject({
      package: 'weather-server',
      binary: 'weather-http',
      packageDir: path.join(dir, 'crates', 'weather-server'),
      targetDirectory: path.join(dir, 'target')
    })
  })

  it('never takes a binary of a sibling outside the project directory (cargo-pmcp builds the project directory only)', async () => {
    fs.writeFileSync(path.join(dir, 'Cargo.toml'), '[workspace]\nmembers = ["project", "sibling"]\nresolver = "2"\n')
    writeCrate(path.join(dir, 'project'), 'app', ['serve'])
    writeCrate(path.join(dir, 'sibling'), 'tools', ['tool'])
    const chosen = await choose(path.join(dir, 'project'), DEPLOY_TOML('name = "app"'))
    expect([chosen.package, chosen.binary]).toEqual(['app', 'serve'])
  })

  it('refuses to guess between several, naming each and the line to add, on the [server] line', async () => {
    writeCrate(dir, 'x-lambda', ['serve', 'bootstrap', 'local'], '[workspace]\n')
    const error = await refusal(dir, DEPLOY_TOML('name = "x"'))
    expect(error.title).toBe('.pmcp/deploy.toml: several binaries')
    expect(error.location).toEqual({ file: '.pmcp/deploy.toml', line: 7 })
    expect(error.message).toBe(
      'Cannot tell which binary is the MCP server; candidates: local (package x-lambda), serve (package x-lambda). ' +
        'Set binary = "local" under [server] in .pmcp/deploy.toml, or to another of them (.pmcp/deploy.toml line 7)'
    )
  })

  it('refuses a project whose binaries are all Lambda binaries, naming them', async () => {
    writeCrate(dir, 'x-lambda', ['bootstrap', 'my_lambda'], '[workspace]\n')
    const error = await refusal(dir, DEPLOY_TOML('name = "x"'))
    expect(error.message).toMatch(/^No binary to run on Cloud Run: every binary is a Lambda binary /)
    expect(error.message).toContain(
      ': bootstrap (package x-lambda), my_lambda (package x-lambda). Add a binary that serves MCP over HTTP on 0.0.0.0:$PORT. ' +
        'Set binary = "<name>" under [server]'
    )
  })

  it('refuses a project without binaries', async () => {
    writeCrate(dir, 'just-a-lib', [], '[workspace]\n')
    const error = await refusal(dir, DEPLOY_TOML('name = "x"'))
    expect(error.message).toMatch(/^This project has no binary targets, so there is nothing to run on Cloud Run/)
  })
})

describe('[server] binary', () => {
  it('wins, even when it looks like a Lambda binary', async () => {
    writeCrate(dir, 'x-lambda', ['bootstrap', 'serve'], '[workspace]\n')
    const chosen = await choose(dir, DEPLOY_TOML('name = "x"\nbinary = "bootstrap"'))
    expect([chosen.binary, chosen.reason]).toEqual(['bootstrap', '[server] binary = "bootstrap": bootstrap of package x-lambda'])
  })

  it('must be a binary of the project: refused on its own line, with the binaries there are', async () => {
    writeCrate(dir, 'x-lambda', ['bootstrap', 'serve'], '[workspace]\n')
    const error = await refusal(dir, DEPLOY_TOML('name = "x"\nbinary = "x-lambda"'))
    expect(error.location).toEqual({ file: '.pmcp/deploy.toml', line: 9 })
    expect(error.message).toBe(
      '[server] binary = "x-lambda" is not a binary of this project ' +
        '(its binaries: bootstrap (package x-lambda), serve (package x-lambda)). ' +
        'Set binary = "<name>" under [server] in .pmcp/deploy.toml to one of them (.pmcp/deploy.toml line 9)'
    )
  })

  it('is refused when two packages define it', async () => {
    fs.writeFileSync(path.join(dir, 'Cargo.toml'), '[workspace]\nmembers = ["a", "b"]\nresolver = "2"\n')
    writeCrate(path.join(dir, 'a'), 'a', ['serve'])
    writeCrate(path.join(dir, 'b'), 'b', ['serve'])
    const error = await refusal(dir, DEPLOY_TOML('name = "x"\nbinary = "serve"'))
    expect(error.message).toMatch(/^\[server\] binary = "serve" is a binary of several packages \(a, b\)/)
  })
})

describe('[layout] multi-crate-isolated', () => {
  const LAYOUT = '[layout]\nkind = "multi-crate-isolated"\nprimary = "gcp-cloud-run"\npath_deps = ["core"]\n'

  beforeEach(() => {
    writeCrate(path.join(dir, 'gcp-cloud-run'), 'gcp-cloud-run', ['server'], '[dependencies]\ncore = { path = "../core" }\n[workspace]\n')
    writeCrate(path.join(dir, 'core'), 'core', [])
    writeCrate(path.join(dir, 'aws-lambda'), 'aws-lambda', ['bootstrap'], '[workspace]\n')
  })

  it('builds [server] binary from the primary crate', async () => {
    const chosen = await choose(dir, DEPLOY_TOML('name = "auth-echo"\nbinary = "server"', LAYOUT))
    expect(chosen).toMatchObject({
      package: 'gcp-cloud-run',
      binary: 'server',
      packageDir: path.join(dir, 'gcp-cloud-run'),
      manifestPath: path.join(dir, 'gcp-cloud-run', 'Cargo.toml'),
      reason: '[layout] multi-crate-isolated: server ([server] binary) of crate gcp-cloud-run'
    })
  })

  it('without [server] binary, looks for [server] name, as cargo-pmcp builds it', async () => {
    const error = await refusal(dir, DEPLOY_TOML('name = "auth-echo"', LAYOUT))
    expect(error.message).toMatch(
      new RegExp(
        '^"auth-echo" \\(\\[server\\] name, as cargo-pmcp builds it when \\[server\\] binary is unset\\) ' +
          'is not a binary of the \\[layout\\] primary crate gcp-cloud-run \\(its binaries: server \\(package gcp-cloud-run\\)\\)\\. ' +
          'Set binary = "server"'
      )
    )
    expect(error.location.line).toBe(9)
  })

  it('refuses a primary that names no crate', async () => {
    const error = await refusal(dir, DEPLOY_TOML('name = "auth-echo"', LAYOUT.replace('primary = "gcp-cloud-run"', 'primary = "gcp"')))
    expect(error.message).toMatch(/^\[layout\] primary = "gcp" names no crate: .*gcp\/Cargo\.toml does not exist/)
  })
})

it('reports a directory cargo cannot read as a cargo metadata failure naming working-directory', async () => {
  fs.writeFileSync(path.join(dir, 'Cargo.toml'), '[package]\nname = "broken"\n')
  const error = await refusal(dir, DEPLOY_TOML('name = "x"'))
  expect(error.title).toBe('cargo metadata failed')
  expect(error.message).toContain("Check that 'working-directory' points at the Cargo project of the server.")
})
