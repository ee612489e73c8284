/**
 * A real forwarding proxy for tests: Debian's tinyproxy, run in the foreground on 127.0.0.1 at a
 * free port with a config and a log of its own; the test reads the log to see which requests went
 * through it.
 *
 * The action (like @actions/http-client) never sends a request for a loopback host through a
 * proxy, so a stand-in on 127.0.0.1 is never proxied. `exposeOnNetwork` gives a stand-in an
 * address on this machine's network interface instead (a TCP relay to it), which is reached like
 * any other host on the network: through the proxy, which connects to it from its side.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { accepts, exited, freePort } from './processes.js'

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>`, for HTTPS_PROXY / HTTP_PROXY */
  url: string
  port: number
  /** The proxy's log so far. */
  log(): string
  /**
   * The request lines the proxy received so far, e.g. `CONNECT 10.0.0.5:41234` or
   * `POST http://10.0.0.5:41234/`.
   */
  requests(): string[]
  stop(): Promise<void>
}

export interface ForwardProxyOptions {
  /** Only these ports may be tunnelled to with CONNECT (tinyproxy's ConnectPort); all when unset. */
  connectPorts?: number[]
}

export function tinyproxyInstalled(): boolean {
  return spawnSync('tinyproxy', ['-v'], { stdio: 'ignore' }).status === 0
}

/** `describe` for suites that need tinyproxy: fails under CI=true without it, skipped otherwise. */
export function describeWithTinyproxy(name: string, body: () => void): void {
  if (tinyproxyInstalled()) {
    describe(name, body)
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs tinyproxy', () => {
        throw new Error('tinyproxy is not on PATH (apt-get install tinyproxy); it is required when CI=true')
      })
    })
  } else {
    console.warn(`Skipping '${name}': tinyproxy is not on PATH (apt-get install tinyproxy)`)
    describe.skip(name, body)
  }
}

export async function startForwardProxy(options: ForwardProxyOptions = {}, timeoutMs = 10_000): Promise<ForwardProxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-tinyproxy-'))
  const logFile = path.join(dir, 'tinyproxy.log')
  const port = await freePort()
  const config = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 60',
    'MaxClients 50',
    `LogFile "${logFile}"`,
    // Connect: every connection and request line, nothing more.
    'LogLevel Connect',
    'Allow 127.0.0.1',
    'DisableViaHeader Yes',
    ...(options.connectPorts ?? []).map(p => `ConnectPort ${p}`)
  ]
  const configFile = path.join(dir, 'tinyproxy.conf')
  fs.writeFileSync(configFile, `${config.join('\n')}\n`)
  fs.writeFileSync(logFile, '')
  const child = spawn('tinyproxy', ['-d', '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (data: Buffer) => {
    stderr = (stderr + data.toString()).slice(-4000)
  })
  const log = (): string => fs.readFileSync(logFile, 'utf8')
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited(child)
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const started = Date.now()
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() - started > timeoutMs) {
      const text = fs.existsSync(logFile) ? log() : ''
      await stop()
      throw new Error(`tinyproxy did not start on port ${port}:\n${stderr}\n${text}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    requests: () => [...log().matchAll(/Request \(file descriptor \d+\): (\S+ \S+)/g)].map(match => match[1]),
    stop
  }
}

/** This machine's address on its (first) network interface: not loopback, so not exempt from the proxy. */
export function networkAddress(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    const found = addresses?.find(address => address.family === 'IPv4' && !address.internal)
    if (found) return found.address
  }
  throw new Error('This machine has no IPv4 address besides loopback; the proxy tests need one')
}

export interface Exposed {
  /** `http://<network address>:<port>` */
  url: string
  host: string
  port: number
  close(): Promise<void>
}

/** A TCP relay on this machine's network address to a server on 127.0.0.1:targetPort. */
export async function exposeOnNetwork(targetPort: number): Promise<Exposed> {
  const host = networkAddress()
  const sockets = new Set<net.Socket>()
  const server = net.createServer(client => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    close: () =>
      new Promise<void>(resolve => {
        sockets.forEach(socket => socket.destroy())
        server.close(() => resolve())
      })
  }
}
