import { HttpClient } from '@actions/http-client'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as os from 'node:os'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { HttpStatusError, isTransientStatus, REQUEST_TIMEOUT } from '../http.js'
import { DeadlineError, deadlines } from '../net/deadline.js'
import { safeUrl } from '../net/faults.js'
import { withRetry } from '../retry.js'

const MAX_REDIRECTS = 10
const USER_AGENT = 'pmcp-deploy-action'

/** 408, 429 and 5xx answers, and failures without an answer (network, deadline), are worth another attempt. */
function isRetryableDownload(error: unknown): boolean {
  if (!(error instanceof HttpStatusError)) return true
  return error.status === REQUEST_TIMEOUT || isTransientStatus(error.status)
}

/**
 * One GET of url into dest. The connection goes through @actions/http-client's agent for the URL,
 * so HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply exactly as for the GitHub API client (a proxy is
 * tunnelled with CONNECT). The answer must start within the request deadline, and the body may not
 * stall for longer than it: a large file that keeps arriving takes as long as it takes. A stalled
 * request is destroyed, socket and all, so nothing keeps the process alive after the action ends.
 */
function getOnce(url: string, dest: string, redirectsLeft: number): Promise<void> {
  const { requestMs } = deadlines()
  const target = new URL(url)
  const agent = new HttpClient(USER_AGENT).getAgent(url)
  const module = target.protocol === 'https:' ? https : http
  return new Promise<void>((resolve, reject) => {
    const stalled = (): DeadlineError => new DeadlineError(`GET ${safeUrl(url)}`, requestMs)
    const request = module.get(target, { agent, headers: { 'user-agent': USER_AGENT } }, response => {
      clearTimeout(answerTimer)
      const status = response.statusCode ?? 0
      const location = response.headers.location
      if (status >= 300 && status < 400 && location) {
        response.resume()
        if (redirectsLeft === 0) return reject(new HttpStatusError(status, url, `GET ${url}: more than ${MAX_REDIRECTS} redirects`))
        return resolve(getOnce(new URL(location, url).href, dest, redirectsLeft - 1))
      }
      if (status !== 200) {
        response.resume()
        return reject(new HttpStatusError(status, url, `GET ${url} answered HTTP ${status}`))
      }
      pipeline(response, fs.createWriteStream(dest)).then(resolve, reject)
    })
    const answerTimer = setTimeout(() => request.destroy(stalled()), requestMs)
    request.setTimeout(requestMs, () => request.destroy(stalled()))
    request.on('error', error => {
      clearTimeout(answerTimer)
      reject(error)
    })
  })
}

/**
 * Downloads url to dest: redirects followed, 408, 429, 5xx, network failures and stalls retried
 * (3 attempts within the retry budget of src/net/deadline.ts). An HTTP error answer becomes an
 * HttpStatusError; a network failure is thrown as it comes (callers name the URL, the input and the
 * proxy).
 */
export async function downloadFile(url: string, dest: string): Promise<void> {
  await withRetry(
    async () => {
      try {
        await getOnce(url, dest, MAX_REDIRECTS)
      } catch (error) {
        fs.rmSync(dest, { force: true })
        throw error
      }
    },
    { label: `Download of ${safeUrl(url)}`, attempts: 3, isRetryable: isRetryableDownload, deadlineMs: deadlines().budgetMs }
  )
}

/** A small file (a `.sha256`) as text, downloaded as downloadFile does. */
export async function downloadText(url: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'pmcp-text-'))
  try {
    const file = path.join(dir, 'download')
    await downloadFile(url, file)
    return fs.readFileSync(file, 'utf8')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(fs.createReadStream(file), hash)
  return hash.digest('hex')
}

/** The digest in a `.sha256` file: `<hex>` or `<hex>  <name>` (sha256sum / shasum -a 256 output). */
export function parseSha256File(text: string): string | undefined {
  const match = /^\s*([0-9a-fA-F]{64})(?:\s|$)/.exec(text)
  return match?.[1].toLowerCase()
}
