/**
 * Which way the image is built: without Docker while the repository's Dockerfile is cargo-pmcp's
 * untouched scaffold (testkit/fixtures/cloud-run-server/Dockerfile, as `cargo pmcp deploy init`
 * 0.28 writes it for that crate) or there is none; docker buildx for an edited Dockerfile,
 * `[runtime] apt_packages` or a Debian base, with the reason users read in the log.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { loadConfig, type DeployConfig } from '../../src/config/index.js'
import { chooseServerBinary } from '../../src/targets/google-cloud-run/binary.js'
import {
  chooseImagePath,
  firstDifference,
  isWorkspaceRoot,
  renderScaffoldDockerfile,
  type ImagePath
} from '../../src/targets/google-cloud-run/dockerfile.js'
import { captureStdout } from '../../testkit/annotations.js'
import { REPO_ROOT } from '../../testkit/workdir.js'

const FIXTURE = path.join(REPO_ROOT, 'testkit', 'fixtures', 'cloud-run-server')

let dir: string
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cloud-run-dockerfile-')))
  fs.cpSync(FIXTURE, dir, { recursive: true, filter: source => path.basename(source) !== 'target' })
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

type CloudRunDeployConfig = DeployConfig & { cloudRun: NonNullable<DeployConfig['cloudRun']> }

async function load(project: string, workspace: string): Promise<CloudRunDeployConfig> {
  const { result, error } = await captureStdout(() =>
    loadConfig({ workingDirectory: project, config: '.pmcp/deploy.toml', workspace, env: {} })
  )
  if (!result?.cloudRun) throw error instanceof Error ? error : new Error('deploy.toml did not load for google-cloud-run')
  return result as CloudRunDeployConfig
}

/** The image path for the project at `project`, its binary chosen as the deploy chooses it. */
async function imagePath(project = dir, workspace = dir): Promise<ImagePath> {
  const config = await load(project, workspace)
  const binary = await chooseServerBinary({ workingDirectory: project, config })
  return chooseImagePath({ workingDirectory: project, config, binary })
}

function editDockerfile(edit: (text: string) => string): void {
  const file = path.join(dir, 'Dockerfile')
  fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')))
}

function appendToDeployToml(text: string): void {
  fs.appendFileSync(path.join(dir, '.pmcp', 'deploy.toml'), text)
}

describe("cargo-pmcp's scaffold", () => {
  it('is what init writes for the fixture: a workspace root (its Cargo.toml has [workspace]), package and binary hello-run', () => {
    expect(isWorkspaceRoot(FIXTURE)).toBe(true)
    const rendered = renderScaffoldDockerfile({
      binary: 'hello-run',
      package: 'hello-run',
      workspaceRoot: true,
      base: 'gcr.io/distroless/cc-debian12',
      aptPackages: []
    })
    expect(rendered).toBe(fs.readFileSync(path.join(FIXTURE, 'Dockerfile'), 'utf8'))
  })

  it('is recognized as untouched in the fixture: the image is built from the binary, without Docker', async () => {
    expect(await imagePath(FIXTURE, REPO_ROOT)).toEqual({
      path: 'registry-api',
      reason: "Dockerfile is cargo-pmcp's untouched scaffold: built from the binary, without Docker"
    })
  })

  it('stays untouched with CRLF line endings, trailing whitespace, a byte order mark and blank lines at the end', async () => {
    editDockerfile(text => `\uFEFF${text.replace(/\n/g, '  \r\n')}\r\n\r\n`)
    expect((await imagePath()).path).toBe('registry-api')
  })

  it('of a simple crate (a commented-out # [workspace] is no table) copies Cargo.toml and src and builds without -p', () => {
    fs.writeFileSync(path.join(dir, 'Cargo.toml'), '[package]\nname = "hello-run"\nversion = "0.1.0"\n# [workspace]\n')
    expect(isWorkspaceRoot(dir)).toBe(false)
    const rendered = renderScaffoldDockerfile({
      binary: 'serve',
      package: 'svc',
      workspaceRoot: false,
      base: 'gcr.io/distroless/cc-debian12',
      aptPackages: []
    })
    expect(rendered).toContain('# Simple binary crate - builds inside Docker\n')
    expect(rendered).toContain('COPY Cargo.toml Cargo.lock ./\nCOPY src/ ./src/\n\n')
    expect(rendered).toContain(
      'RUN cargo build --release --bin serve\n\n' +
        '# Copy it by name to the path the runtime stage expects\nRUN cp target/release/serve /app/mcp-server\n\n# Stage 2'
    )
  })

  it('of the multi-crate isolated layout copies each crate and builds from the primary manifest', () => {
    const rendered = renderScaffoldDockerfile({
      binary: 'server',
      package: 'gcp-cloud-run',
      workspaceRoot: false,
      base: 'gcr.io/distroless/cc-debian12',
      aptPackages: [],
      layout: { kind: 'multi-crate-isolated', primary: 'gcp-cloud-run', pathDeps: ['auth-echo-core'] }
    })
    expect(rendered).toContain(
      '# Surgical per-crate COPY lines (primary + declared path_deps)\n' +
        'COPY gcp-cloud-run/Cargo.toml gcp-cloud-run/Cargo.toml\nCOPY gcp-cloud-run/src gcp-cloud-run/src\n' +
        'COPY auth-echo-core/Cargo.toml auth-echo-core/Cargo.toml\nCOPY auth-echo-core/src auth-echo-core/src\n\n' +
        "# Build the binary from the primary crate's manifest\n" +
        'RUN cargo build --release \\\n    --manifest-path gcp-cloud-run/Cargo.toml \\\n    --bin server\n'
    )
    expect(rendered).toContain(
      'RUN cp gcp-cloud-run/target/release/server /app/mcp-server 2>/dev/null \\\n    || cp target/release/server /app/mcp-server\n'
    )
  })

  it('on a Debian base installs [runtime] apt_packages, one per line, and adds the mcpserver user', () => {
    const rendered = renderScaffoldDockerfile({
      binary: 'serve',
      package: 'svc',
      workspaceRoot: true,
      base: 'debian:bookworm-slim',
      aptPackages: ['ca-certificates', 'libpq5']
    })
    expect(rendered).toContain(
      '# Stage 2: debian-family runtime — opted in via [runtime].base\nFROM debian:bookworm-slim\n\n' +
        '# Install runtime apt packages declared in [runtime].apt_packages\n' +
        'RUN apt-get update && apt-get install -y \\\n    ca-certificates \\\n    libpq5 \\\n    && rm -rf /var/lib/apt/lists/*\n\n' +
        '# Create non-root user\nRUN useradd -m -u 1000 mcpserver\n'
    )
    expect(rendered).toMatch(/USER mcpserver\n\n# Set up working directory\nWORKDIR \/home\/mcpserver\n/)
  })
})

describe('an edited Dockerfile is built with docker buildx, naming the first line that differs', () => {
  it('a line added to the runtime stage', async () => {
    editDockerfile(text => text.replace('ENV PORT=8080\n', 'ENV PORT=8080\nENV TZ=Europe/Paris\n'))
    expect(await imagePath()).toEqual({
      path: 'docker-buildx',
      reason:
        "Dockerfile differs from cargo-pmcp's scaffold at line 37: " +
        'it has "ENV TZ=Europe/Paris" where the scaffold has "EXPOSE $PORT": built with docker buildx',
      dockerfile: { kind: 'repository', file: path.join(dir, 'Dockerfile') }
    })
  })

  it('another base image', async () => {
    editDockerfile(text => text.replace('FROM gcr.io/distroless/cc-debian12', 'FROM gcr.io/distroless/cc-debian12:nonroot'))
    expect((await imagePath()).reason).toMatch(
      /^Dockerfile differs from cargo-pmcp's scaffold at line 28: it has "FROM gcr.io\/distroless\/cc-debian12:nonroot"/
    )
  })

  it('a shortened file', async () => {
    editDockerfile(text => text.replace('\nCMD ["/usr/local/bin/mcp-server"]\n', '\n'))
    expect((await imagePath()).reason).toBe(
      "Dockerfile differs from cargo-pmcp's scaffold at line 38: " +
        'the file ends where the scaffold goes on with "CMD [\\"/usr/local/bin/mcp-server\\"]": built with docker buildx'
    )
  })

  it('a longer file', async () => {
    editDockerfile(text => `${text}USER 65532\n`)
    expect((await imagePath()).reason).toMatch(/at line 40: it goes on after the scaffold's end with "USER 65532"/)
  })

  it('a Dockerfile that builds another binary than the one chosen now', async () => {
    editDockerfile(text => text.replaceAll('hello-run', 'hello-server'))
    expect((await imagePath()).reason).toMatch(/at line 20: it has "RUN cargo build --release -p hello-server --bin hello-server"/)
  })

  it('firstDifference is undefined for the same text, and counts lines from 1', () => {
    expect(firstDifference('a\nb\n', 'a\r\nb')).toBeUndefined()
    expect(firstDifference('a\nc\n', 'a\nb\n')).toEqual({ line: 2, actual: 'c', expected: 'b' })
  })
})

describe('no Dockerfile in the repository', () => {
  beforeEach(() => fs.rmSync(path.join(dir, 'Dockerfile')))

  it('builds from the binary, as the scaffold would build it', async () => {
    expect(await imagePath()).toEqual({
      path: 'registry-api',
      reason:
        "no Dockerfile: built from the binary (as cargo-pmcp's scaffold builds it: " +
        'gcr.io/distroless/cc-debian12, the binary at /usr/local/bin/mcp-server)'
    })
  })

  it("with [runtime] apt_packages, builds cargo-pmcp's scaffold with docker buildx, with its .dockerignore", async () => {
    appendToDeployToml('\n[runtime]\nbase = "debian:bookworm-slim"\napt_packages = ["libpq5"]\n')
    const chosen = await imagePath()
    expect(chosen.path).toBe('docker-buildx')
    expect(chosen.reason).toMatch(
      new RegExp(
        '^\\[runtime\\] apt_packages \\(\\.pmcp/deploy\\.toml line \\d+\\) ' +
          'needs apt-get in a Debian base, which only a Docker build runs: ' +
          "built with docker buildx from cargo-pmcp's scaffold Dockerfile \\(the repository has none\\)$"
      )
    )
    if (chosen.path !== 'docker-buildx' || chosen.dockerfile.kind !== 'scaffold') throw new Error('expected the scaffold')
    expect(chosen.dockerfile.text).toContain(
      'FROM debian:bookworm-slim\n\n# Install runtime apt packages declared in [runtime].apt_packages\n'
    )
    expect(chosen.dockerfile.text).toContain('RUN cargo build --release -p hello-run --bin hello-run\n')
    expect(chosen.dockerfile.ignore?.split('\n')).toContain('target/')
  })

  it("keeps the repository's own .dockerignore", async () => {
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'target/\nsecrets/\n')
    appendToDeployToml('\n[runtime]\nbase = "ubuntu:24.04"\napt_packages = ["curl"]\n')
    const chosen = await imagePath()
    expect(chosen.path === 'docker-buildx' && chosen.dockerfile).toEqual({
      kind: 'scaffold',
      text: expect.stringContaining('FROM ubuntu:24.04'),
      ignore: undefined
    })
  })
})

describe('an untouched scaffold that only a Docker build reproduces', () => {
  it('[runtime] apt_packages, even with the Dockerfile untouched', async () => {
    appendToDeployToml('\n[runtime]\nbase = "debian:bookworm-slim"\napt_packages = ["libpq5"]\n')
    const config = await load(dir, dir)
    // The repository's Dockerfile is the scaffold for this very configuration.
    fs.writeFileSync(
      path.join(dir, 'Dockerfile'),
      renderScaffoldDockerfile({
        binary: 'hello-run',
        package: 'hello-run',
        workspaceRoot: true,
        base: config.cloudRun.base,
        aptPackages: config.cloudRun.aptPackages
      })
    )
    const chosen = await imagePath()
    expect(chosen).toEqual({
      path: 'docker-buildx',
      reason: expect.stringMatching(/^\[runtime\] apt_packages .* built with docker buildx from the repository's Dockerfile$/),
      dockerfile: { kind: 'repository', file: path.join(dir, 'Dockerfile') }
    })
  })

  it('a Debian base, whose runtime stage runs useradd', async () => {
    appendToDeployToml('\n[runtime]\nbase = "debian:bookworm-slim"\n')
    fs.writeFileSync(
      path.join(dir, 'Dockerfile'),
      renderScaffoldDockerfile({
        binary: 'hello-run',
        package: 'hello-run',
        workspaceRoot: true,
        base: 'debian:bookworm-slim',
        aptPackages: []
      })
    )
    const chosen = await imagePath()
    expect([chosen.path, chosen.reason]).toEqual([
      'docker-buildx',
      '[runtime] base "debian:bookworm-slim" is a Debian/Ubuntu image, on which cargo-pmcp\'s Dockerfile runs useradd and chmod ' +
        "and switches to user mcpserver, which only a Docker build does: built with docker buildx from the repository's Dockerfile"
    ])
  })

  it('another distroless base: the scaffold for it is built from the binary', async () => {
    appendToDeployToml('\n[runtime]\nbase = "gcr.io/distroless/cc-debian12:nonroot"\n')
    editDockerfile(text => text.replace('FROM gcr.io/distroless/cc-debian12\n', 'FROM gcr.io/distroless/cc-debian12:nonroot\n'))
    expect((await imagePath()).path).toBe('registry-api')
  })
})
