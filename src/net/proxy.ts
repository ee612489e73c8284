/**
 * HTTPS_PROXY, HTTP_PROXY and NO_PROXY (either case) for every network call of the action, by one
 * rule: the one @actions/http-client applies to the tool downloads and the GitHub API, so Node's
 * fetch (pmcp.run, OAuth tokens, the MCP smoke test) and the AWS SDK agree with it.
 *
 * - an https URL goes through `https_proxy` || `HTTPS_PROXY`, an http URL through `http_proxy` ||
 *   `HTTP_PROXY` (neither stands in for the other); a value without a scheme is `http://`;
 * - a loopback host (`localhost`, `127.*`, `[::1]`) is always reached directly: a proxy elsewhere
 *   cannot reach this machine's loopback;
 * - `no_proxy` || `NO_PROXY` is a comma-separated list: `*` exempts everything, an entry exempts
 *   the host itself, `host:port`, and its subdomains (with or without a leading dot).
 */
import * as core from '@actions/core'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import * as http from 'node:http'
import * as https from 'node:https'
import { HttpProxyAgent } from 'http-proxy-agent'
import { HttpsProxyAgent } from 'https-proxy-agent'
import { Agent, Dispatcher, ProxyAgent, setGlobalDispatcher } from 'undici'
import { deadlines, type Deadlines } from './deadline.js'

type Env = NodeJS.ProcessEnv

export interface ProxyRoute {
  /** The proxy, credentials included (never print it: see `redactProxyUrl`). */
  proxy: URL
  /** The variable it came from, e.g. `HTTPS_PROXY`. */
  variable: string
}

/** The first of the names that is set and not empty, with its value. */
function variable(env: Env, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim()
    if (value) return { name, value }
  }
  return undefined
}

const proxyVariable = (env: Env, secure: boolean): { name: string; value: string } | undefined =>
  secure ? variable(env, 'https_proxy', 'HTTPS_PROXY') : variable(env, 'http_proxy', 'HTTP_PROXY')

const noProxyVariable = (env: Env): { name: string; value: string } | undefined => variable(env, 'no_proxy', 'NO_PROXY')

/** Whether any of the proxy variables is set: without them nothing is changed. */
export function proxyConfigured(env: Env = process.env): boolean {
  return proxyVariable(env, true) !== undefined || proxyVariable(env, false) !== undefined
}

function parseProxy(value: string): URL | undefined {
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`)
  } catch {
    return undefined
  }
}

function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase()
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]' || host === '[0:0:0:0:0:0:0:1]'
}

function defaultPort(url: URL): number | undefined {
  if (url.port) return Number(url.port)
  if (url.protocol === 'http:') return 80
  if (url.protocol === 'https:') return 443
  return undefined
}

/** Why the proxy is not used for target (loopback, or the NO_PROXY entry that matches), or undefined. */
export function proxyExemption(target: URL, env: Env = process.env): string | undefined {
  if (!target.hostname) return undefined
  if (isLoopback(target.hostname)) return `${target.hostname} is this machine (loopback)`
  const noProxy = noProxyVariable(env)
  if (!noProxy) return undefined
  const host = target.hostname.toUpperCase()
  const port = defaultPort(target)
  const hosts = port === undefined ? [host] : [host, `${host}:${port}`]
  for (const entry of noProxy.value.split(',').map(item => item.trim().toUpperCase())) {
    if (!entry) continue
    const matches = entry === '*' || hosts.some(h => h === entry || h.endsWith(`.${entry}`) || (entry.startsWith('.') && h.endsWith(entry)))
    if (matches) return `${noProxy.name} lists ${entry.toLowerCase()}`
  }
  return undefined
}

/** The proxy a request to target goes through, or undefined when it goes directly. */
export function proxyFor(target: string | URL, env: Env = process.env): ProxyRoute | undefined {
  const url = typeof target === 'string' ? new URL(target) : target
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  const set = proxyVariable(env, url.protocol === 'https:')
  if (!set || proxyExemption(url, env)) return undefined
  const proxy = parseProxy(set.value)
  return proxy ? { proxy, variable: set.name.toUpperCase() } : undefined
}

/** A proxy URL fit for a message: scheme, host and port; never the user name or password. */
export function redactProxyUrl(value: string | URL): string {
  const url = typeof value === 'string' ? parseProxy(value) : value
  if (!url) return '(unreadable)'
  return `${url.protocol}//${url.host}`
}

/** `HTTPS_PROXY=http://proxy:3128, NO_PROXY=.corp` for the variables that are set (credentials left out); '' when none is. */
export function proxySettings(env: Env = process.env): string {
  const parts: string[] = []
  for (const names of [
    ['https_proxy', 'HTTPS_PROXY'],
    ['http_proxy', 'HTTP_PROXY']
  ]) {
    const set = variable(env, ...names)
    if (set) parts.push(`${set.name}=${redactProxyUrl(set.value)}`)
  }
  const noProxy = noProxyVariable(env)
  if (noProxy) parts.push(`${noProxy.name}=${noProxy.value}`)
  return parts.join(', ')
}

/** One sentence for an error message: how a request to target went (through which proxy, or directly and why). */
export function describeRoute(target: string | URL, env: Env = process.env): string {
  let url: URL
  try {
    url = typeof target === 'string' ? new URL(target) : target
  } catch {
    return ''
  }
  const route = proxyFor(url, env)
  const settings = proxySettings(env)
  if (route) {
    return (
      `It was requested through the proxy ${redactProxyUrl(route.proxy)} (${settings}): ` +
      `check that the proxy is up and lets this host through, or add the host to NO_PROXY to reach it directly.`
    )
  }
  if (settings) {
    const why = proxyExemption(url, env) ?? `no ${url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} is set`
    return `It was requested directly, not through a proxy, as ${why} (${settings}).`
  }
  return 'No proxy is set: if this runner reaches the internet only through one, set HTTPS_PROXY (and NO_PROXY) in the job env.'
}

/**
 * What went wrong on the network, from an error and its causes: `fetch failed` alone says nothing,
 * its cause (`connect ECONNREFUSED 10.0.0.1:3128`, `getaddrinfo ENOTFOUND host`, a TLS error) does.
 */
export function networkFailureReason(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  // Duck-typed: fetch's errors can come from another realm (undici's own), where `instanceof Error` is false.
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const {
      message: ownMessage,
      code,
      cause
    } = (typeof current === 'object' ? current : {}) as { message?: unknown; code?: unknown; cause?: unknown }
    const message = typeof ownMessage === 'string' ? ownMessage : typeof current === 'string' ? current : JSON.stringify(current)
    const text = typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message
    if (text && !parts.some(part => part.includes(text))) parts.push(text)
    current = cause
  }
  return parts.join(': ') || 'unknown network error'
}

/**
 * The global dispatcher of Node's fetch when a proxy is set: each request goes through the proxy
 * `proxyFor` names for its origin, or directly. (undici's EnvHttpProxyAgent is not used: it sends
 * https through HTTP_PROXY when HTTPS_PROXY is unset, matches a bare NO_PROXY domain exactly only,
 * and proxies loopback, all unlike @actions/http-client.)
 */
class ProxyRouter extends Dispatcher {
  private readonly direct = new Agent()
  private readonly proxied = new Map<string, ProxyAgent>()

  constructor(private readonly env: Env) {
    super()
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    const route = options.origin === undefined ? undefined : proxyFor(new URL(String(options.origin)), this.env)
    return (route ? this.proxyAgent(route.proxy) : this.direct).dispatch(options, handler)
  }

  private proxyAgent(proxy: URL): ProxyAgent {
    let agent = this.proxied.get(proxy.href)
    if (!agent) {
      agent = new ProxyAgent({ uri: proxy.href })
      this.proxied.set(proxy.href, agent)
    }
    return agent
  }
}

let installed = false

/**
 * Makes Node's global fetch (and so every library using it: the MCP SDK, our pmcp.run and OAuth
 * clients) honour the proxy variables. Called once at start-up; does nothing without them.
 * Returns whether it installed the proxy dispatcher.
 */
export function installProxySupport(env: Env = process.env): boolean {
  if (installed || !proxyConfigured(env)) return installed
  setGlobalDispatcher(new ProxyRouter(env))
  installed = true
  core.info(`Proxy: ${proxySettings(env)} (for the tool downloads, AWS, pmcp.run, the smoke test and the programs the action starts)`)
  return true
}

type AddRequest = (request: http.ClientRequest, options: http.RequestOptions & { secureEndpoint?: boolean }) => void

const addRequestOf = (agent: http.Agent): AddRequest => (agent as unknown as { addRequest: AddRequest }).addRequest.bind(agent)

function targetOf(options: http.RequestOptions, secure: boolean): URL {
  const host = options.host ?? options.hostname ?? 'localhost'
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return new URL(`${secure ? 'https' : 'http'}://${bracketed}${options.port ? `:${options.port}` : ''}`)
}

/**
 * An agent for the AWS SDK that decides per connection: through https-proxy-agent /
 * http-proxy-agent when `proxyFor` names a proxy for the host, otherwise as a plain agent.
 */
function routingAgent<A extends http.Agent>(Base: new (options: http.AgentOptions) => A, secure: boolean, env: Env): A {
  const proxied = new Map<string, http.Agent>()
  const proxyAgent = (proxy: URL): http.Agent => {
    let agent = proxied.get(proxy.href)
    if (!agent) {
      agent = secure ? new HttpsProxyAgent(proxy, { keepAlive: true }) : new HttpProxyAgent(proxy, { keepAlive: true })
      proxied.set(proxy.href, agent)
    }
    return agent
  }
  const agent = new Base({ keepAlive: true })
  const direct = addRequestOf(agent)
  ;(agent as unknown as { addRequest: AddRequest }).addRequest = (request, options) => {
    const route = proxyFor(targetOf(options, secure), env)
    if (!route) return direct(request, options)
    addRequestOf(proxyAgent(route.proxy))(request, { ...options, secureEndpoint: secure })
  }
  const destroy = agent.destroy.bind(agent)
  agent.destroy = () => {
    proxied.forEach(p => p.destroy())
    destroy()
  }
  return agent
}

/** The agents of the AWS SDK's requests when a proxy variable is set (undefined: Node's own, direct). */
export function awsProxyAgents(env: Env = process.env): { httpAgent: http.Agent; httpsAgent: https.Agent } | undefined {
  if (!proxyConfigured(env)) return undefined
  return { httpAgent: routingAgent(http.Agent, false, env), httpsAgent: routingAgent(https.Agent, true, env) }
}

/**
 * The request handler of every AWS SDK client: the deadlines of src/net/deadline.ts (to connect, to
 * answer, and between two bytes of the answer), through the proxy when a proxy variable says so.
 */
export function awsRequestHandler(env: Env = process.env, limits: Deadlines = deadlines()): NodeHttpHandler {
  return new NodeHttpHandler({
    ...(awsProxyAgents(env) ?? { httpAgent: new http.Agent({ keepAlive: true }), httpsAgent: new https.Agent({ keepAlive: true }) }),
    connectionTimeout: limits.connectMs,
    requestTimeout: limits.requestMs,
    throwOnRequestTimeout: true,
    socketTimeout: limits.requestMs
  })
}
