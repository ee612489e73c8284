/**
 * The image is proven to serve: the fixture repository's server (testkit/fixtures/cloud-run-server)
 * is built with cargo, put into an image on a multi-platform base and pushed to a real registry;
 * the image is pulled back by digest and unpacked with umoci, and its entrypoint runs on this
 * machine as the runtime config says (args, env with PORT, working directory, user). MCP over
 * Streamable HTTP is then spoken to it, by hand and by the action's own builtin smoke test.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { runBuiltin } from '../../src/smoke/builtin.js'
import { buildAndPushImage, imageDestination, type PushedImage } from '../../src/targets/google-cloud-run/image/index.js'
import { pullAndUnpack, runEntrypoint, type RunningEntrypoint, type UnpackedImage } from '../../testkit/image-run.js'
import { BASE_CONFIG, buildBaseLayout, pushBaseImage, type TestBaseImage } from '../../testkit/oci-base-image.js'
import { startOciRegistry, type OciRegistry } from '../../testkit/oci-registry.js'
import { REPO_ROOT } from '../../testkit/workdir.js'

const FIXTURE = path.join(REPO_ROOT, 'testkit/fixtures/cloud-run-server')

let work: string
let registry: OciRegistry
let base: TestBaseImage
let serverBinary: string
let pushed: PushedImage
let unpacked: UnpackedImage
let server: RunningEntrypoint | undefined

/** The fixture built as the action builds a server: release, offline, from its lock file, in a copy. */
async function buildFixture(): Promise<string> {
  const copy = path.join(work, 'cloud-run-server')
  fs.cpSync(FIXTURE, copy, { recursive: true, filter: source => path.basename(source) !== 'target' })
  const target = path.join(work, 'target')
  await promisify(execFile)('cargo', ['build', '--release', '--offline', '--locked'], {
    cwd: copy,
    env: { ...process.env, CARGO_TARGET_DIR: target }
  })
  return path.join(target, 'release/hello-run')
}

async function rpc(url: string, body: object): Promise<{ status: number; contentType: string | null; json: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(body)
  })
  const text = await response.text()
  return { status: response.status, contentType: response.headers.get('content-type'), json: text ? JSON.parse(text) : undefined }
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-image-run-'))
  const registryAndBase = (async () => {
    registry = await startOciRegistry()
    base = await pushBaseImage(buildBaseLayout(work), 'multi', registry.host, 'base/cc', 'oci')
  })()
  ;[serverBinary] = await Promise.all([buildFixture(), registryAndBase])
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true)
  const env = { PMCP_GCP_REGISTRY_HOST: registry.host }
  pushed = await buildAndPushImage({
    binaryPath: serverBinary,
    destination: imageDestination({ projectId: 'demo-project', region: 'us-central1', repository: 'pmcp' }, 'hello-run', env),
    base: base.reference,
    env
  })
  jest.restoreAllMocks()
  unpacked = await pullAndUnpack(pushed.reference, path.join(work, 'unpacked'))
})

afterAll(async () => {
  await server?.stop()
  await registry?.stop()
  fs.rmSync(work, { recursive: true, force: true })
})

describe('the fixture server in its image', () => {
  beforeEach(async () => {
    server = await runEntrypoint(unpacked)
  })

  afterEach(async () => {
    await server?.stop()
    server = undefined
  })

  it('is the built binary, run by the image as /usr/local/bin/mcp-server with PORT=8080 in its environment', () => {
    const inImage = path.join(unpacked.rootfs, 'usr/local/bin/mcp-server')
    expect(fs.readFileSync(inImage).equals(fs.readFileSync(serverBinary))).toBe(true)
    expect(unpacked.process.args).toEqual(['/usr/local/bin/mcp-server'])
    expect(unpacked.process.env).toContain('PORT=8080')
    expect(unpacked.process.cwd).toBe(BASE_CONFIG.workingDir)
    expect(server?.output()).toContain(`hello-run 0.1.0 listening on 0.0.0.0:${server?.port} (MCP at /mcp)`)
  })

  it('answers initialize, tools/list and tools/call add over Streamable HTTP', async () => {
    const url = `http://127.0.0.1:${server?.port}/mcp`
    const initialize = await rpc(url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'image-test', version: '1' } }
    })
    expect(initialize.status).toBe(200)
    expect(initialize.contentType).toBe('application/json')
    expect(initialize.json).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        protocolVersion: '2025-03-26',
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: 'hello-run', version: '0.1.0' }
      }
    })
    expect((await rpc(url, { jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202)

    const tools = await rpc(url, { jsonrpc: '2.0', id: 2, method: 'tools/list' })
    expect(tools.json.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['add', 'echo'])
    expect(tools.json.result.tools[0].inputSchema).toMatchObject({ type: 'object', required: ['a', 'b'] })

    const sum = await rpc(url, { jsonrpc: '2.0', id: 'three', method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } })
    expect(sum.json.id).toBe('three')
    expect(JSON.parse(sum.json.result.content[0].text)).toEqual({ sum: 5 })
    const echo = await rpc(url, {
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'grüße "x"' } }
    })
    expect(echo.json.result.content).toEqual([{ type: 'text', text: 'grüße "x"' }])
    const unknown = await rpc(url, { jsonrpc: '2.0', id: 5, method: 'resources/list' })
    expect(unknown.json.error.code).toBe(-32601)

    const get = await fetch(url, { headers: { accept: 'text/event-stream' } })
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
  })

  it("passes the action's builtin smoke test", async () => {
    const report = await runBuiltin({ url: `http://127.0.0.1:${server?.port}/mcp`, timeoutSeconds: 10 })
    expect(report.summary.failed).toBe(0)
    expect(report.tests.find(test => test.name === 'Initialize')?.details).toContain('Server: hello-run v0.1.0')
    expect(report.tests.filter(test => test.status === 'Passed').map(test => test.name)).toContain('Initialize')
  })
})
