/**
 * A local stand-in for GitHub release downloads (and ziglang.org): serves files from memory on
 * 127.0.0.1, records every request, answers 404 for anything else. Also builds real release assets.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

export interface ReleaseServer {
  /** `http://127.0.0.1:<port>` */
  url: string
  /** Request paths in arrival order. */
  requests: string[]
  /** Serve content at urlPath (starting with '/'); replaces what was there. */
  setFile(urlPath: string, content: Buffer | string): void
  removeFile(urlPath: string): void
  /** Answer this status for urlPath (e.g. 500) until cleared with undefined. */
  setStatus(urlPath: string, status: number | undefined): void
  close(): Promise<void>
}

export async function startReleaseServer(files: Record<string, Buffer | string> = {}): Promise<ReleaseServer> {
  const content = new Map<string, Buffer>(Object.entries(files).map(([p, c]) => [p, Buffer.from(c)]))
  const statuses = new Map<string, number>()
  const requests: string[] = []
  const server = http.createServer((request, response) => {
    const urlPath = new URL(request.url ?? '/', 'http://localhost').pathname
    requests.push(urlPath)
    const status = statuses.get(urlPath)
    const body = content.get(urlPath)
    if (status !== undefined || body === undefined) {
      response.writeHead(status ?? 404, { 'content-type': 'text/plain' })
      response.end(status === undefined ? 'Not Found' : `status ${status}`)
      return
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
    response.end(body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setFile: (urlPath, body) => void content.set(urlPath, Buffer.from(body)),
    removeFile: urlPath => void content.delete(urlPath),
    setStatus: (urlPath, status) => void (status === undefined ? statuses.delete(urlPath) : statuses.set(urlPath, status)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close(error => (error ? reject(error) : resolve()))
      })
  }
}

export function sha256Hex(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex')
}

/** A `.sha256` file as sha256sum writes it. */
export function sha256File(content: Buffer, fileName: string): string {
  return `${sha256Hex(content)}  ${fileName}\n`
}

/** A shell script that prints `<name> <version>`: a real executable for release archives. */
export function fakeExecutable(name: string, version: string): string {
  return `#!/bin/sh\necho "${name} ${version}"\n`
}

export interface TarballOptions {
  /** Put the executable inside this folder (as zig's tarballs do). */
  folder?: string
  compression?: 'gz' | 'xz'
}

/** A real tar.gz / tar.xz holding one executable, built with the system tar. */
export function executableTarball(executableName: string, script: string, options: TarballOptions = {}): Buffer {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-tarball-'))
  try {
    const dir = options.folder ? path.join(work, 'root', options.folder) : path.join(work, 'root')
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(path.join(dir, executableName), script, { mode: 0o755 })
    const archive = path.join(work, 'archive')
    const flag = options.compression === 'xz' ? '-cJf' : '-czf'
    execFileSync('tar', [flag, archive, '-C', path.join(work, 'root'), options.folder ?? executableName])
    return fs.readFileSync(archive)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}
