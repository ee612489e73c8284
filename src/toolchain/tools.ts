import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import { HttpStatusError } from '../http.js'
import { describeRoute, networkFailureReason } from '../net/proxy.js'
import type { CommandRunner } from '../process.js'
import { restoreFromCache, saveToCache, type CacheService } from './cache-service.js'
import type { HostArch, HostPlatform } from './command.js'
import { downloadFile, downloadText, parseSha256File, sha256OfFile } from './download.js'

export type ToolName = 'cargo-lambda' | 'zig' | 'mcp-tester'

/** What the user asked for: a version and the URL template it is downloaded from. */
export interface ToolRequest {
  version: string
  /** `{version}` and `{arch}` (x86_64 | aarch64) are replaced. */
  urlTemplate: string
}

export interface InstalledTool {
  name: ToolName
  version: string
  /** The directory holding the executable; it is on PATH for the rest of the job. */
  dir: string
  source: 'tool-cache' | 'actions-cache' | 'download' | 'cargo-install'
}

export interface ToolInstallContext {
  host: HostPlatform
  /** undefined when caching is off (`cache: false`). */
  cache?: CacheService
  run: CommandRunner
}

/**
 * ziglang.org publishes no `.sha256` beside its tarballs, so the digests of the versions we
 * vouch for are pinned here (from https://ziglang.org/download/index.json). Any other version
 * needs `zigSha256`, or a mirror that serves `<tarball>.sha256`.
 */
export const ZIG_SHA256: Record<string, Partial<Record<HostArch, string>>> = {
  '0.13.0': {
    x86_64: 'd45312e61ebcc48032b77bc4cf7fd6915c11fa16e4aad116b66c9468211230ea',
    aarch64: '041ac42323837eb5624068acd8b00cd5777dac4cf91179e8dad7a7e90dd0c556'
  }
}

/** Where `cargo install` builds mcp-tester from when a release has no binary for this machine. */
export const PMCP_SDK_GIT_URL = 'https://github.com/paiml/rust-mcp-sdk'

const EXPLICIT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/

export function expandUrl(template: string, version: string, arch: HostArch): string {
  return template.replaceAll('{version}', version).replaceAll('{arch}', arch)
}

export function toolCacheKey(name: string, version: string, host: HostPlatform): string {
  return `pmcp-tool-${name}-${version}-${host.os}-${host.arch}`
}

/** The directory @actions/tool-cache uses for a tool, plus its `.complete` marker. */
function toolCachePaths(name: ToolName, version: string, arch: HostArch): string[] {
  const root = process.env.RUNNER_TOOL_CACHE
  if (!root) throw new Error('RUNNER_TOOL_CACHE is not set')
  const dir = path.join(root, name, version, arch)
  return [dir, `${dir}.complete`]
}

function tempDir(): string {
  const base = process.env.RUNNER_TEMP || os.tmpdir()
  const dir = path.join(base, `pmcp-download-${randomUUID()}`)
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

function checkVersion(name: ToolName, version: string): void {
  if (!EXPLICIT_VERSION.test(version)) {
    throw new ActionError(
      `Invalid ${name} version`,
      `'${version}' is not an exact version (like 1.2.3). Set the input '${name}-version' to an exact release version.`
    )
  }
}

/** Tool cache first, then the Actions cache; undefined when neither has the tool. */
async function findInstalled(
  name: ToolName,
  version: string,
  context: ToolInstallContext,
  restoreKeys: string[] = []
): Promise<InstalledTool | undefined> {
  const local = tc.find(name, version, context.host.arch)
  if (local) return { name, version, dir: local, source: 'tool-cache' }
  if (!context.cache) return undefined
  const key = toolCacheKey(name, version, context.host)
  const hit = await restoreFromCache(context.cache, name, toolCachePaths(name, version, context.host.arch), key, restoreKeys)
  const restored = hit ? tc.find(name, version, context.host.arch) : ''
  return restored ? { name, version, dir: restored, source: 'actions-cache' } : undefined
}

async function expectedDigest(url: string, name: ToolName): Promise<string> {
  let text: string
  try {
    text = await downloadText(`${url}.sha256`)
  } catch (error) {
    if (error instanceof HttpStatusError) {
      throw new ActionError(
        `No checksum for ${name}`,
        `${url}.sha256 answered HTTP ${error.status}, so the download cannot be verified. ` +
          `Serve a .sha256 file beside the asset, or use a version whose release has one.`
      )
    }
    throw formatFailure(error, name, `${url}.sha256`)
  }
  const digest = parseSha256File(text)
  if (!digest) throw new ActionError(`Unreadable checksum for ${name}`, `${url}.sha256 does not start with a SHA-256 digest.`)
  return digest
}

async function verify(file: string, expected: string, name: ToolName, url: string): Promise<void> {
  const actual = await sha256OfFile(file)
  if (actual !== expected.toLowerCase()) {
    throw new ActionError(
      `Checksum mismatch for ${name}`,
      `${url} has SHA-256 ${actual}, expected ${expected}. Nothing was installed. ` +
        'The download was corrupted or the release asset changed; check the URL and version inputs (and the mirror, if you use one).'
    )
  }
}

/** The directory inside an extracted archive that holds the executable (archives may wrap it in one folder). */
function executableDir(root: string, executable: string): string {
  if (fs.existsSync(path.join(root, executable))) return root
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (entry.isDirectory() && fs.existsSync(path.join(root, entry.name, executable))) return path.join(root, entry.name)
  }
  throw new ActionError('Unexpected release archive', `The archive has no '${executable}' at its top level or one folder down.`)
}

const DOWNLOAD_FAILED = (name: ToolName): string => `Could not download ${name}`

/** A failed download as the user can act on it: the URL, the inputs that make it, and for a network failure the proxy in effect. */
function formatFailure(error: unknown, name: ToolName, url: string): unknown {
  if (error instanceof ActionError) return error
  if (error instanceof HttpStatusError) {
    return new ActionError(
      DOWNLOAD_FAILED(name),
      `${url} answered HTTP ${error.status}. Check the '${name}-version' and '${name}-url' inputs.`
    )
  }
  return new ActionError(
    DOWNLOAD_FAILED(name),
    `${url} could not be reached: ${networkFailureReason(error)}. ${describeRoute(url)} ` +
      `The URL comes from the '${name}-url' and '${name}-version' inputs.`
  )
}

interface ArchiveTool {
  name: ToolName
  version: string
  url: string
  /** tar flags: 'xz' for .tar.gz, 'xJ' for .tar.xz */
  tarFlags: string
  executable: string
  digest: () => Promise<string>
}

async function installArchiveTool(tool: ArchiveTool, context: ToolInstallContext): Promise<InstalledTool> {
  checkVersion(tool.name, tool.version)
  const found = await findInstalled(tool.name, tool.version, context)
  if (found) return onPath(found)
  core.info(`Downloading ${tool.name} ${tool.version} from ${tool.url}`)
  const work = tempDir()
  try {
    const archive = path.join(work, path.basename(new URL(tool.url).pathname) || 'archive')
    await downloadFile(tool.url, archive).catch(error => {
      throw formatFailure(error, tool.name, tool.url)
    })
    await verify(archive, await tool.digest(), tool.name, tool.url)
    const extracted = await tc.extractTar(archive, path.join(work, 'extracted'), tool.tarFlags)
    const dir = await tc.cacheDir(executableDir(extracted, tool.executable), tool.name, tool.version, context.host.arch)
    fs.chmodSync(path.join(dir, tool.executable), 0o755)
    await saveTool(tool.name, tool.version, toolCacheKey(tool.name, tool.version, context.host), context)
    return onPath({ name: tool.name, version: tool.version, dir, source: 'download' })
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

async function saveTool(name: ToolName, version: string, key: string, context: ToolInstallContext): Promise<void> {
  if (context.cache) await saveToCache(context.cache, name, toolCachePaths(name, version, context.host.arch), key)
}

function onPath(tool: InstalledTool): InstalledTool {
  core.addPath(tool.dir)
  core.info(`${tool.name} ${tool.version}: ${tool.dir} (${tool.source})`)
  return tool
}

export function installCargoLambda(request: ToolRequest, context: ToolInstallContext): Promise<InstalledTool> {
  const url = expandUrl(request.urlTemplate, request.version, context.host.arch)
  return installArchiveTool(
    {
      name: 'cargo-lambda',
      version: request.version,
      url,
      tarFlags: 'xz',
      executable: 'cargo-lambda',
      digest: () => expectedDigest(url, 'cargo-lambda')
    },
    context
  )
}

export function installZig(request: ToolRequest & { sha256?: string }, context: ToolInstallContext): Promise<InstalledTool> {
  const url = expandUrl(request.urlTemplate, request.version, context.host.arch)
  const pinned = request.sha256 ?? ZIG_SHA256[request.version]?.[context.host.arch]
  return installArchiveTool(
    {
      name: 'zig',
      version: request.version,
      url,
      tarFlags: url.endsWith('.gz') ? 'xz' : 'xJ',
      executable: 'zig',
      digest: async () => pinned ?? zigSidecarDigest(url, request.version)
    },
    context
  )
}

async function zigSidecarDigest(url: string, version: string): Promise<string> {
  try {
    return await expectedDigest(url, 'zig')
  } catch (error) {
    if (!(error instanceof ActionError) || error.title === DOWNLOAD_FAILED('zig')) throw error
    throw new ActionError(
      'No checksum for zig',
      `zig ${version} has no checksum pinned in this action (pinned: ${Object.keys(ZIG_SHA256).join(', ')}) and ${url}.sha256 ` +
        'is not available. Use a pinned zig-version, or serve the tarball from a mirror with a .sha256 file beside it.'
    )
  }
}

/** Builds the mcp-tester of an SDK release from its git tag: release versions are SDK versions, not crate versions. */
export function cargoInstallMcpTesterArgs(version: string, root: string, gitUrl: string = PMCP_SDK_GIT_URL): string[] {
  return ['install', 'mcp-tester', '--locked', '--git', gitUrl, '--tag', `v${version}`, '--root', root]
}

/** `https://host/owner/repo/releases/download/…` → `https://host/owner/repo` (mirrors, GHES); else the SDK repo. */
export function sdkGitUrl(urlTemplate: string): string {
  const match = /^(https?:\/\/[^/]+\/[^/]+\/[^/]+)\/releases\/download\//.exec(urlTemplate)
  return match ? match[1] : PMCP_SDK_GIT_URL
}

export async function installMcpTester(request: ToolRequest, context: ToolInstallContext): Promise<InstalledTool> {
  const name = 'mcp-tester'
  checkVersion(name, request.version)
  const cargoKey = toolCacheKey('mcp-tester-cargo', request.version, context.host)
  const found = await findInstalled(name, request.version, context, [cargoKey])
  if (found) return onPath(found)
  const url = expandUrl(request.urlTemplate, request.version, context.host.arch)
  core.info(`Downloading ${name} ${request.version} from ${url}`)
  const work = tempDir()
  try {
    const binary = path.join(work, name)
    try {
      await downloadFile(url, binary)
    } catch (error) {
      if (error instanceof HttpStatusError && error.status === 404) {
        return onPath(await cargoInstallMcpTester(request, work, cargoKey, context))
      }
      throw formatFailure(error, name, url)
    }
    await verify(binary, await expectedDigest(url, name), name, url)
    const dir = await tc.cacheFile(binary, name, name, request.version, context.host.arch)
    fs.chmodSync(path.join(dir, name), 0o755)
    await saveTool(name, request.version, toolCacheKey(name, request.version, context.host), context)
    return onPath({ name, version: request.version, dir, source: 'download' })
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

async function cargoInstallMcpTester(
  request: ToolRequest,
  work: string,
  cacheKey: string,
  context: ToolInstallContext
): Promise<InstalledTool> {
  core.warning(
    `The release v${request.version} has no mcp-tester binary for ${context.host.arch}; ` +
      'building it with cargo install (this takes a few minutes, and is cached).'
  )
  const root = path.join(work, 'cargo-root')
  const args = cargoInstallMcpTesterArgs(request.version, root, sdkGitUrl(request.urlTemplate))
  const result = await context.run('cargo', args)
  const built = path.join(root, 'bin', 'mcp-tester')
  if (result.exitCode !== 0 || !fs.existsSync(built)) {
    throw new ActionError(
      'Could not install mcp-tester',
      `\`cargo ${args.join(' ')}\` failed (exit code ${result.exitCode}). ` +
        "Set 'mcp-tester-version' to an SDK release that publishes mcp-tester binaries, or use 'smoke-test: builtin'."
    )
  }
  const dir = await tc.cacheFile(built, 'mcp-tester', 'mcp-tester', request.version, context.host.arch)
  await saveTool('mcp-tester', request.version, cacheKey, context)
  return { name: 'mcp-tester', version: request.version, dir, source: 'cargo-install' }
}
