import { zipSync, type ZipOptions } from 'fflate'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { ServerBuildResult } from '../../build/server.js'
import type { ServerPackage } from './deploy.js'

/** What goes to the presigned bootstrap URL, and what is in it. */
export interface PackagedServer extends ServerPackage {
  /** The entries of a zip, in order; just `bootstrap` for the raw binary. */
  entries: string[]
}

/** Unix, in the zip's "version made by": the external attributes then carry a Unix mode. */
const ZIP_OS_UNIX = 3
const S_IFREG = 0o100000
/**
 * The DOS epoch, 1980-01-01 00:00, the time cargo-pmcp gives every entry so the same files always zip to
 * the same bytes. Local time on purpose: fflate writes the DOS fields from the local clock.
 */
const ZIP_EPOCH = new Date(1980, 0, 1, 0, 0, 0)

function entry(data: Uint8Array, mode: number): [Uint8Array, ZipOptions] {
  return [data, { os: ZIP_OS_UNIX, attrs: ((S_IFREG | mode) << 16) >>> 0, mtime: ZIP_EPOCH, level: 6 }]
}

/**
 * The server as cargo-pmcp uploads it to pmcp.run: the raw `bootstrap` (application/octet-stream) when
 * nothing is packaged beside it, else a zip (application/zip) of `bootstrap` (0755), `assets/…` and the
 * server's `config.toml` (0644), entries in byte order, no directory entries, every time the DOS epoch
 * (cargo-pmcp's lambda_zip.rs), so the same build uploads the same bytes.
 */
export function serverPackage(build: Pick<ServerBuildResult, 'bootstrapPath' | 'packaged'>): PackagedServer {
  const bootstrap = fs.readFileSync(build.bootstrapPath)
  if (build.packaged.length === 0) {
    return { body: bootstrap, contentType: 'application/octet-stream', label: 'bootstrap', entries: ['bootstrap'] }
  }
  const buildDir = path.dirname(build.bootstrapPath)
  const files: Record<string, [Uint8Array, ZipOptions]> = { bootstrap: entry(bootstrap, 0o755) }
  for (const file of build.packaged) {
    files[file.destination] = entry(fs.readFileSync(path.join(buildDir, ...file.destination.split('/'))), 0o644)
  }
  const names = Object.keys(files).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const ordered = Object.fromEntries(names.map(name => [name, files[name]]))
  return { body: zipSync(ordered), contentType: 'application/zip', label: 'deployment package', entries: names }
}
