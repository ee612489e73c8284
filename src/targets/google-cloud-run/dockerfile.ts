/**
 * Which way the image is built. cargo-pmcp's Dockerfile (google_cloud_run/dockerfile.rs) compiles the
 * binary in `rust:1-slim` and puts it on the base at /usr/local/bin/mcp-server with PORT=8080; the
 * action builds the same image without Docker (the registry API path) from a binary built on the
 * runner, with the cargo cache. That is the same image only while the repository's Dockerfile is
 * cargo-pmcp's untouched scaffold (or there is none) and the scaffold's runtime stage only copies the
 * binary: a Dockerfile of the user's own, `[runtime] apt_packages`, or a Debian/Ubuntu base (whose
 * stage runs useradd) need a Docker build, with docker buildx.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'smol-toml'
import { isDebianFamily } from '../../config/cloud-run.js'
import type { CloudRunConfig, DeployConfig } from '../../config/index.js'
import { MULTI_CRATE_ISOLATED } from '../../config/schema.js'
import type { ServerBinary } from './binary.js'

/** What cargo-pmcp's scaffold depends on. */
export interface ScaffoldInput {
  binary: string
  package: string
  /** The project's Cargo.toml has a `[workspace]` table (cargo-pmcp's workspace template builds with `-p`). */
  workspaceRoot: boolean
  base: string
  aptPackages: readonly string[]
  layout?: CloudRunConfig['layout']
}

const BUILDER_APT_LAYER = `# Install build dependencies
RUN apt-get update && apt-get install -y \\
    pkg-config \\
    libssl-dev \\
    && rm -rf /var/lib/apt/lists/*`

const HEADER = '# Multi-stage Dockerfile for Rust MCP Server on Google Cloud Run'

function buildAndCopy(binary: string, packageFlag: string): string {
  return `# Build the server binary ([server] binary, resolved at \`cargo pmcp deploy init\`)
RUN cargo build --release${packageFlag} --bin ${binary}

# Copy it by name to the path the runtime stage expects
RUN cp target/release/${binary} /app/mcp-server`
}

function workspaceBuilder(input: ScaffoldInput): string {
  return `${HEADER}
# Workspace project structure - builds inside Docker to handle path dependencies

# Stage 1: Build the Rust binary
FROM rust:1-slim AS builder

${BUILDER_APT_LAYER}

# Create app directory
WORKDIR /app

# Copy the entire project (including path dependencies)
COPY . .

${buildAndCopy(input.binary, ` -p ${input.package}`)}
`
}

function simpleBuilder(input: ScaffoldInput): string {
  return `${HEADER}
# Simple binary crate - builds inside Docker

# Stage 1: Build the Rust binary
FROM rust:1-slim AS builder

${BUILDER_APT_LAYER}

# Create app directory
WORKDIR /app

# Copy project files
COPY Cargo.toml Cargo.lock ./
COPY src/ ./src/

${buildAndCopy(input.binary, '')}
`
}

function isolatedBuilder(layout: NonNullable<CloudRunConfig['layout']>, binary: string): string {
  const copies = [layout.primary, ...layout.pathDeps]
    .map(crate => `COPY ${crate}/Cargo.toml ${crate}/Cargo.toml\nCOPY ${crate}/src ${crate}/src\n`)
    .join('')
  const primary = layout.primary
  return `${HEADER}
# Multi-crate isolated layout — sibling crates with path-dep relationships
# (issue 258). Only the primary crate and its declared path_deps are
# copied into the build context. Unrelated siblings (e.g. aws-lambda)
# are excluded to keep the image small and avoid cross-toolchain build
# failures.

# Stage 1: Build the Rust binary
FROM rust:1-slim AS builder

${BUILDER_APT_LAYER}

# Create app directory
WORKDIR /app

# Surgical per-crate COPY lines (primary + declared path_deps)
${copies}
# Build the binary from the primary crate's manifest
RUN cargo build --release \\
    --manifest-path ${primary}/Cargo.toml \\
    --bin ${binary}

# Cargo with \`--manifest-path\` places the release artifact under the
# primary crate's own target/release dir. Some setups put it at the
# top-level target/release dir; try both so the runtime stage gets a
# stable path.
RUN cp ${primary}/target/release/${binary} /app/mcp-server 2>/dev/null \\
    || cp target/release/${binary} /app/mcp-server
`
}

function distrolessRuntime(base: string): string {
  return `# Stage 2: distroless runtime — minimal attack surface (issue #259)
# No shell, no apt, no package manager. Cloud Run health-checks externally
# on $PORT, so no in-image HEALTHCHECK directive is needed.
FROM ${base}

# Copy the prebuilt binary from the builder stage. Distroless cc runs as
# \`nonroot\` (uid 65532) by default — no useradd / USER directive needed.
COPY --from=builder /app/mcp-server /usr/local/bin/mcp-server

# Cloud Run sets PORT (defaults to 8080); the server is expected to bind
# 0.0.0.0:$PORT.
ENV PORT=8080
EXPOSE $PORT

CMD ["/usr/local/bin/mcp-server"]
`
}

function debianRuntime(base: string, aptPackages: readonly string[]): string {
  const aptLayer =
    aptPackages.length === 0
      ? ''
      : '# Install runtime apt packages declared in [runtime].apt_packages\n' +
        `RUN apt-get update && apt-get install -y \\\n    ${aptPackages.join(' \\\n    ')} \\\n    && rm -rf /var/lib/apt/lists/*\n\n`
  return `# Stage 2: debian-family runtime — opted in via [runtime].base
FROM ${base}

${aptLayer}# Create non-root user
RUN useradd -m -u 1000 mcpserver

# Copy binary from builder
COPY --from=builder /app/mcp-server /usr/local/bin/mcp-server

# Ensure binary is executable
RUN chmod +x /usr/local/bin/mcp-server

# Change to non-root user
USER mcpserver

# Set up working directory
WORKDIR /home/mcpserver

# Cloud Run will set the PORT environment variable
# Default to 8080 if not set
ENV PORT=8080

# Expose the port
EXPOSE $PORT

# Run the MCP server
# Cloud Run expects the server to bind to 0.0.0.0:$PORT
CMD ["/usr/local/bin/mcp-server"]
`
}

/** The Dockerfile `cargo pmcp deploy init --target-type google-cloud-run` 0.28 writes for this project. */
export function renderScaffoldDockerfile(input: ScaffoldInput): string {
  const builder =
    input.layout?.kind === MULTI_CRATE_ISOLATED
      ? isolatedBuilder(input.layout, input.binary)
      : input.workspaceRoot
        ? workspaceBuilder(input)
        : simpleBuilder(input)
  const runtime = isDebianFamily(input.base) ? debianRuntime(input.base, input.aptPackages) : distrolessRuntime(input.base)
  return `${builder}\n${runtime}`
}

/** The .dockerignore cargo-pmcp's init writes beside its Dockerfile: the host's target/ never goes into the build. */
export function renderScaffoldDockerignore(layout?: CloudRunConfig['layout']): string {
  const crateTargets =
    layout?.kind === MULTI_CRATE_ISOLATED ? [layout.primary, ...layout.pathDeps].map(crate => `${crate}/target/\n`).join('') : ''
  return `# Generated by \`cargo pmcp deploy init --target-type google-cloud-run\`.
# Init keeps an existing file; delete it and re-run init to regenerate it.

# Build output: the Dockerfile compiles from source, so nothing under the
# host's target/ is needed (it can be gigabytes).
target/
${crateTargets}**/*.rs.bk
*.pdb

# Node.js dependencies (e.g. widget builds); cargo never reads them
**/node_modules/

# IDE files
.vscode/
.idea/
*.swp
*.swo
*~

# Git
.git/
.gitignore

# Documentation
docs/

# CI/CD
.github/
.gitlab-ci.yml

# Deploy artifacts (CDK, Lambda, etc.)
deploy/
cdk.out/
.pmcp/
bootstrap

# OS files
.DS_Store
Thumbs.db

# Logs
*.log

# Environment files
.env
.env.local
`
}

/** cargo-pmcp's test for its workspace template: the project's Cargo.toml has a `[workspace]` table (parsed, not searched). */
export function isWorkspaceRoot(projectDir: string): boolean {
  try {
    return 'workspace' in parse(fs.readFileSync(path.join(projectDir, 'Cargo.toml'), 'utf8'))
  } catch {
    // cargo metadata has read the project already; a manifest unreadable here has no [workspace] to find.
    return false
  }
}

/** A Dockerfile's lines as compared: without a byte order mark, line endings or trailing whitespace, nor blank lines at the end. */
function normalizedLines(text: string): string[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .map(line => line.trimEnd())
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  return lines
}

/** Where a Dockerfile first departs from the scaffold: its line number, and both lines (undefined past an end). */
export interface DockerfileDifference {
  line: number
  actual?: string
  expected?: string
}

export function firstDifference(actual: string, expected: string): DockerfileDifference | undefined {
  const ours = normalizedLines(actual)
  const theirs = normalizedLines(expected)
  // Past the end of one, the other's next line with text is the one worth showing.
  const nextText = (lines: string[], from: number): string | undefined => lines.slice(from).find(line => line !== '')
  for (let index = 0; index < Math.max(ours.length, theirs.length); index++) {
    if (index >= ours.length) return { line: index + 1, expected: nextText(theirs, index) }
    if (index >= theirs.length) return { line: index + 1, actual: nextText(ours, index) }
    if (ours[index] !== theirs[index]) return { line: index + 1, actual: ours[index], expected: theirs[index] }
  }
  return undefined
}

function quoted(line: string): string {
  return JSON.stringify(line.length > 70 ? `${line.slice(0, 67)}...` : line)
}

function describeDifference(difference: DockerfileDifference): string {
  const where = `Dockerfile differs from cargo-pmcp's scaffold at line ${difference.line}`
  if (difference.actual === undefined) return `${where}: the file ends where the scaffold goes on with ${quoted(difference.expected ?? '')}`
  if (difference.expected === undefined) return `${where}: it goes on after the scaffold's end with ${quoted(difference.actual)}`
  return `${where}: it has ${quoted(difference.actual)} where the scaffold has ${quoted(difference.expected)}`
}

/** The Dockerfile a docker buildx build uses: the repository's, or cargo-pmcp's scaffold when it has none. */
export type DockerfileSource =
  | { kind: 'repository'; file: string }
  /** `ignore`: cargo-pmcp's .dockerignore, when the repository has none (the build context is the project directory). */
  | { kind: 'scaffold'; text: string; ignore?: string }

export type ImagePath = { path: 'registry-api'; reason: string } | { path: 'docker-buildx'; reason: string; dockerfile: DockerfileSource }

export interface ChooseImagePathOptions {
  /** The project directory: where cargo-pmcp's init writes the Dockerfile, and the build context. */
  workingDirectory: string
  config: Pick<DeployConfig, 'file'> & { cloudRun: CloudRunConfig }
  binary: Pick<ServerBinary, 'binary' | 'package'>
}

/** The registry API path while the image would be the scaffold's, else docker buildx; the reason says which and why. */
export function chooseImagePath(options: ChooseImagePathOptions): ImagePath {
  const { workingDirectory, config, binary } = options
  const cloudRun = config.cloudRun
  const dockerfilePath = path.join(workingDirectory, 'Dockerfile')
  const repositoryDockerfile = fs.existsSync(dockerfilePath) ? fs.readFileSync(dockerfilePath, 'utf8') : undefined
  const scaffold = renderScaffoldDockerfile({
    binary: binary.binary,
    package: binary.package,
    workspaceRoot: cloudRun.layout?.kind !== MULTI_CRATE_ISOLATED && isWorkspaceRoot(workingDirectory),
    base: cloudRun.base,
    aptPackages: cloudRun.aptPackages,
    layout: cloudRun.layout
  })
  const dockerfile: DockerfileSource =
    repositoryDockerfile !== undefined
      ? { kind: 'repository', file: dockerfilePath }
      : {
          kind: 'scaffold',
          text: scaffold,
          ignore: fs.existsSync(path.join(workingDirectory, '.dockerignore')) ? undefined : renderScaffoldDockerignore(cloudRun.layout)
        }
  const builtFrom =
    repositoryDockerfile !== undefined ? "the repository's Dockerfile" : "cargo-pmcp's scaffold Dockerfile (the repository has none)"

  if (cloudRun.aptPackages.length > 0) {
    const line = cloudRun.lines.aptPackages === undefined ? '' : ` (${config.file} line ${cloudRun.lines.aptPackages})`
    return {
      path: 'docker-buildx',
      reason:
        `[runtime] apt_packages${line} needs apt-get in a Debian base, which only a Docker build runs: ` +
        `built with docker buildx from ${builtFrom}`,
      dockerfile
    }
  }
  const difference = repositoryDockerfile === undefined ? undefined : firstDifference(repositoryDockerfile, scaffold)
  if (difference) return { path: 'docker-buildx', reason: `${describeDifference(difference)}: built with docker buildx`, dockerfile }
  if (isDebianFamily(cloudRun.base)) {
    return {
      path: 'docker-buildx',
      reason:
        `[runtime] base ${JSON.stringify(cloudRun.base)} is a Debian/Ubuntu image, on which cargo-pmcp's Dockerfile runs useradd ` +
        `and chmod and switches to user mcpserver, which only a Docker build does: built with docker buildx from ${builtFrom}`,
      dockerfile
    }
  }
  return {
    path: 'registry-api',
    reason:
      repositoryDockerfile === undefined
        ? `no Dockerfile: built from the binary (as cargo-pmcp's scaffold builds it: ${cloudRun.base}, ` +
          'the binary at /usr/local/bin/mcp-server)'
        : "Dockerfile is cargo-pmcp's untouched scaffold: built from the binary, without Docker"
  }
}
