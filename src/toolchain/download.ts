import * as tc from '@actions/tool-cache'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { HttpStatusError } from '../http.js'

/**
 * Downloads url to dest with @actions/tool-cache's `downloadTool`: @actions/http-client underneath,
 * so HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply, redirects are followed, and network errors, 408,
 * 429 and 5xx are retried. An HTTP error answer becomes an HttpStatusError; a network failure is
 * thrown as it comes (callers name the URL, the input and the proxy).
 */
export async function downloadFile(url: string, dest: string): Promise<void> {
  try {
    await tc.downloadTool(url, dest)
  } catch (error) {
    if (error instanceof tc.HTTPError) {
      throw new HttpStatusError(error.httpStatusCode ?? 0, url, `GET ${url} answered HTTP ${error.httpStatusCode}`)
    }
    throw error
  }
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
