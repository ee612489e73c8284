/**
 * Cold vs warm install of cargo-lambda, zig and mcp-tester from a local release server.
 *   node --import tsx bench/toolchain.ts
 * cold: empty tool cache, everything downloaded, verified and extracted.
 * warm: the same runner again (tool-cache hits), and a fresh runner restoring from the Actions cache
 *       (a local stand-in: the real service only exists on GitHub).
 * Goal: the warm path under 1 s of the action's own time.
 */
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { installCargoLambda, installMcpTester, installZig, type ToolInstallContext } from '../src/toolchain/tools.js'
import { executableTarball, sha256File, sha256Hex, startReleaseServer } from '../testkit/release-server.js'
import { LocalCache } from '../testkit/local-cache.js'
import { timed, verdict } from './report.js'

const GOAL_MS = 1000
const PAYLOAD_BYTES = 8 * 1024 * 1024

/** A runnable script padded to the size of a real release binary. */
function bigExecutable(name: string): string {
  return `#!/bin/sh\necho ${name}\nexit 0\n# ${randomBytes(PAYLOAD_BYTES * 0.75).toString('base64')}\n`
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-bench-'))
  process.env.RUNNER_TOOL_CACHE = path.join(work, 'tool-cache')
  process.env.RUNNER_TEMP = path.join(work, 'temp')
  fs.mkdirSync(process.env.RUNNER_TEMP, { recursive: true })
  // Keep the log quiet: @actions/core writes workflow commands to stdout.
  const write = process.stdout.write.bind(process.stdout)
  const lines: string[] = []
  const print = (line: string): void => void lines.push(line)

  const cargoLambda = executableTarball('cargo-lambda', bigExecutable('cargo-lambda'))
  const zig = executableTarball('zig', bigExecutable('zig'), { folder: 'zig-linux-x86_64-0.13.1', compression: 'xz' })
  const tester = Buffer.from(bigExecutable('mcp-tester'))
  const server = await startReleaseServer({
    '/cl/cargo-lambda.tar.gz': cargoLambda,
    '/cl/cargo-lambda.tar.gz.sha256': sha256File(cargoLambda, 'cargo-lambda.tar.gz'),
    '/zig/zig.tar.xz': zig,
    '/sdk/mcp-tester': tester,
    '/sdk/mcp-tester.sha256': sha256File(tester, 'mcp-tester')
  })
  const cache = new LocalCache(path.join(work, 'actions-cache'))
  const context: ToolInstallContext = {
    host: { os: 'linux', arch: 'x86_64' },
    cache,
    run: () => Promise.resolve({ exitCode: 1, stdout: '', stderr: '' })
  }
  const installAll = (): Promise<unknown> =>
    Promise.all([
      installCargoLambda({ version: '1.8.5', urlTemplate: `${server.url}/cl/cargo-lambda.tar.gz` }, context),
      installZig({ version: '0.13.1', urlTemplate: `${server.url}/zig/zig.tar.xz`, sha256: sha256Hex(zig) }, context),
      installMcpTester({ version: '2.22.4', urlTemplate: `${server.url}/sdk/mcp-tester` }, context)
    ])

  process.stdout.write = () => true
  try {
    const cold = await timed(installAll)
    const requestsAfterCold = server.requests.length
    const warm = await timed(installAll)
    fs.rmSync(process.env.RUNNER_TOOL_CACHE, { recursive: true, force: true })
    const restored = await timed(installAll)
    const downloadsWhenWarm = server.requests.length - requestsAfterCold
    print(`payload: ${((cargoLambda.length + zig.length + tester.length) / 1048576) | 0} MiB over 3 tools`)
    print(`cold install (download + verify + extract): ${cold.toFixed(0)} ms`)
    print(`warm install (tool cache hit):              ${warm.toFixed(0)} ms  (cold/warm ratio ${(cold / warm).toFixed(1)}x)`)
    print(`fresh runner (Actions cache restore):       ${restored.toFixed(0)} ms  (cold/restore ratio ${(cold / restored).toFixed(1)}x)`)
    print(`downloads on the warm paths: ${downloadsWhenWarm}`)
    const ok = warm < GOAL_MS && downloadsWhenWarm === 0
    print(`goal: warm path under ${GOAL_MS} ms of the action's own time: ${verdict(ok)}`)
    process.exitCode = ok ? 0 : 1
  } finally {
    process.stdout.write = write
    await server.close()
    fs.rmSync(work, { recursive: true, force: true })
  }
  for (const line of lines) console.log(line)
}

await main()
