import * as core from '@actions/core'

/**
 * The one registry of the values the action masks. The runner replaces every `::add-mask::` value
 * with `***` in the job's log, and nowhere else: the job summary, the action outputs and the PR
 * comment are written by the action itself, and text from outside (a server that echoes its request
 * headers, a function that logs its configuration, an error that quotes a request) can carry a secret
 * into them. So every secret is masked through `maskSecret`, which remembers it, and everything the
 * action writes besides the log goes through `redact` (src/report/index.ts, publishReport).
 */

export const REDACTED = '***'

/**
 * Shorter values (and shorter encodings of them) are masked in the log but not redacted from what
 * the action writes: a value of one to three characters, such as a `secrets` line `DEBUG=1` or
 * `TLS=on`, would turn every such digit or word of the versions, times and names in a report into
 * `***` and leave it unreadable, while it hides nothing that could not be guessed in a few tries.
 */
export const MIN_REDACTED_LENGTH = 4

/** `application/x-www-form-urlencoded`, as the OAuth client-credentials request encodes the client secret. */
function formEncoded(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+')
}

/**
 * The base64 characters that encode `value` wherever it starts in a longer base64 text (as the
 * client secret does in `Basic base64(id:secret)`): base64 encodes 3 bytes as 4 characters, so at each
 * of the 3 alignments the groups that lie wholly inside the value encode the same way whatever
 * surrounds it. The one or two characters at each end that mix in neighbouring bytes stay visible.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8')
  return [0, 1, 2].map(skip => {
    const whole = Math.floor((bytes.length - skip) / 3) * 3
    return whole > 0 ? bytes.subarray(skip, skip + whole).toString('base64') : ''
  })
}

/**
 * The forms a value takes in what the action and the services it calls write: the value itself (a
 * `Bearer …` header holds just that), each line of a multi-line value (logs are read line by line),
 * URL and form encoding (query strings, token request bodies), inside a JSON string, and base64
 * (Basic authentication of the OAuth client-credentials requests).
 */
export function encodingsOf(value: string): string[] {
  const lines = value.split(/\r?\n/)
  const forms = [
    value,
    ...(lines.length > 1 ? lines : []),
    encodeURIComponent(value),
    formEncoded(value),
    JSON.stringify(value).slice(1, -1),
    ...base64Forms(value),
    ...base64Forms(formEncoded(value))
  ]
  return [...new Set(forms)].filter(form => form.trim().length >= MIN_REDACTED_LENGTH)
}

/** The masked values of one process and their encodings, as one pattern that matches the longest first. */
export class MaskedValues {
  private readonly forms = new Set<string>()
  private pattern?: RegExp

  add(value: string): void {
    for (const form of encodingsOf(value)) this.forms.add(form)
    this.pattern = undefined
  }

  /** `text` with every masked value, in any of its forms, replaced by `***`. */
  redact(text: string): string {
    if (this.forms.size === 0) return text
    // Longest first: where one value contains another, the alternation must take the whole of it.
    this.pattern ??= new RegExp(
      [...this.forms]
        .sort((a, b) => b.length - a.length)
        .map(form => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g'
    )
    return text.replace(this.pattern, REDACTED)
  }
}

const masked = new MaskedValues()

/**
 * Masks a secret in the job's log (`core.setSecret`) and remembers it, so that `redact` removes it
 * from everything else the action writes. Every secret the action handles goes through here.
 */
export function maskSecret(value: string): void {
  if (value === '') return
  core.setSecret(value)
  // The runner matches masks line by line, so a multi-line value is masked one line at a time too.
  const lines = value.split(/\r?\n/)
  if (lines.length > 1) for (const line of lines) if (line.trim() !== '') core.setSecret(line)
  masked.add(value)
}

/** `text` with every value masked so far (and its encodings) replaced by `***`. */
export function redact(text: string): string {
  return masked.redact(text)
}

/** A copy of plain data (a report, outputs) with every string in it redacted; object keys are names and stay. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map(item => redactDeep(item as unknown)) as T
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item as unknown)])) as T
  }
  return value
}
