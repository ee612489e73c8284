/**
 * Loopback servers that fail the way real ones do, for the tests of the deadline policy and the
 * fault classifier: one accepts connections and never answers, one drops each connection as soon
 * as a request arrives, one answers with whatever body and headers it is given. Each listens on
 * 127.0.0.1 on a random port and counts the requests it saw.
 */
import * as http from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { captureStdout } from '../../testkit/annotations.js'

export interface FaultServer {
  url: string
  /** Requests (or, for `hang` and `drop`, connections that sent a request line) so far. */
  requests(): number
  stop(): Promise<void>
}

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A raw TCP server: `hang` keeps every connection open in silence, `drop` resets it once a request arrives. */
async function tcpServer(mode: 'hang' | 'drop'): Promise<FaultServer> {
  const sockets = new Set<net.Socket>()
  let count = 0
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    socket.once('data', () => {
      count++
      if (mode === 'drop') socket.resetAndDestroy()
    })
  })
  const url = await listen(server)
  return {
    url,
    requests: () => count,
    stop: () =>
      new Promise<void>(resolve => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

export const startHangingServer = (): Promise<FaultServer> => tcpServer('hang')
export const startDroppingServer = (): Promise<FaultServer> => tcpServer('drop')

export interface Answer {
  status: number
  headers?: Record<string, string>
  body: string
}

/** An HTTP server that gives every request the same answer. */
export async function startAnsweringServer(answer: Answer | ((request: http.IncomingMessage) => Answer)): Promise<FaultServer> {
  let count = 0
  const server = http.createServer((request, response) => {
    count++
    request.resume()
    request.on('end', () => {
      const { status, headers, body } = typeof answer === 'function' ? answer(request) : answer
      response.writeHead(status, headers)
      response.end(body)
    })
  })
  const url = await listen(server)
  return {
    url,
    requests: () => count,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** Runs fn with stdout captured: what it threw (the test fails when it did not throw), how long it took, what it printed. */
export async function failureOf(fn: () => Promise<unknown>): Promise<{ error: unknown; ms: number; output: string }> {
  const started = Date.now()
  const { error, output } = await captureStdout(fn)
  if (error === undefined) throw new Error('expected a failure, but the call succeeded')
  return { error, ms: Date.now() - started, output }
}
