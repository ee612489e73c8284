import { describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { MaskedValues, MIN_REDACTED_LENGTH, encodingsOf, maskSecret, redact, redactDeep } from '../../src/masking.js'
import { captureStdout } from '../../testkit/annotations.js'

const fresh = (prefix: string): string => `${prefix}-${randomBytes(9).toString('hex')}`

function registry(...values: string[]): MaskedValues {
  const masked = new MaskedValues()
  for (const value of values) masked.add(value)
  return masked
}

/** `Authorization: Basic …` of the OAuth client-credentials request (RFC 6749 2.3.1: form-encoded, then base64). */
function basicHeader(clientId: string, clientSecret: string): string {
  const form = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${form(clientId)}:${form(clientSecret)}`).toString('base64')}`
}

describe('MaskedValues', () => {
  it('replaces every occurrence of every value, a Bearer header included', () => {
    const token = fresh('smk')
    const key = fresh('sk')
    const masked = registry(token, key)
    expect(masked.redact(`authorization: Bearer ${token}\nAPI_KEY=${key} and again ${token}.`)).toBe(
      'authorization: Bearer ***\nAPI_KEY=*** and again ***.'
    )
  })

  it('takes the longest value first where one value contains another', () => {
    const masked = registry('abcd1234', 'abcd1234-efgh5678')
    expect(masked.redact('x abcd1234-efgh5678 y abcd1234 z')).toBe('x *** y *** z')
  })

  it('treats regular-expression characters in a value literally', () => {
    const masked = registry('a.b*c+(d)|e[f]$^\\')
    expect(masked.redact('1 a.b*c+(d)|e[f]$^\\ 2 aXbbbc+d 3')).toBe('1 *** 2 aXbbbc+d 3')
  })

  it(`leaves values shorter than ${MIN_REDACTED_LENGTH} characters (and blank ones) in the text`, () => {
    const masked = registry('1', 'on', 'abc', '   ', '')
    expect(masked.redact('version 1 is on, abc')).toBe('version 1 is on, abc')
    expect(registry('abcd').redact('abcd')).toBe('***')
  })

  it('redacts each line of a multi-line value, as the runner masks them', () => {
    const masked = registry('-----BEGIN KEY-----\nMIIBOgIBAAJBAK\nzz\n-----END KEY-----')
    expect(masked.redact('line: MIIBOgIBAAJBAK\nshort zz stays')).toBe('line: ***\nshort zz stays')
  })

  it('redacts the URL-encoded, form-encoded and JSON-escaped forms', () => {
    const secret = 'p@ss w/rd"+\\1'
    const masked = registry(secret)
    expect(masked.redact(`?token=${encodeURIComponent(secret)}&x=1`)).toBe('?token=***&x=1')
    expect(masked.redact(`client_secret=${encodeURIComponent(secret).replace(/%20/g, '+')}`)).toBe('client_secret=***')
    expect(masked.redact(JSON.stringify({ secret }))).toBe('{"secret":"***"}')
  })

  it('redacts a client secret inside Basic authentication, whatever the length of the client id', () => {
    const secret = fresh('client-secret')
    const masked = registry(secret)
    // Ids of 1 to 6 characters put the secret at each of base64's 3 alignments, twice.
    for (const clientId of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef']) {
      const header = basicHeader(clientId, secret)
      const redacted = masked.redact(header)
      const [before, after, ...more] = redacted.slice('Basic '.length).split('***')
      expect(more).toEqual([])
      // What stays around *** decodes to the id and at most 2 bytes of the secret on each side.
      const decodedBefore = Buffer.from(before, 'base64').toString('latin1')
      expect(decodedBefore.startsWith(`${clientId}:`)).toBe(true)
      expect(decodedBefore.length - clientId.length - 1).toBeLessThanOrEqual(2)
      expect(after.replace(/=+$/, '').length).toBeLessThanOrEqual(3)
    }
  })

  it('names the encodings it catches, without blanks, duplicates or too-short forms', () => {
    const forms = encodingsOf('plain-value')
    expect(forms).toContain('plain-value')
    expect(forms).toContain(Buffer.from('plain-value').toString('base64').replace(/=+$/, '').slice(0, 12))
    expect(new Set(forms).size).toBe(forms.length)
    expect(forms.every(form => form.trim().length >= MIN_REDACTED_LENGTH)).toBe(true)
    expect(encodingsOf('ab')).toEqual([])
  })

  it('leaves text alone while nothing is masked', () => {
    expect(new MaskedValues().redact('nothing to hide ***')).toBe('nothing to hide ***')
  })
})

describe('maskSecret and redact', () => {
  it('masks the value in the log and redacts it from then on', async () => {
    const token = fresh('ghs')
    expect(redact(`token ${token}`)).toBe(`token ${token}`)
    const { output } = await captureStdout(async () => maskSecret(token))
    expect(output).toBe(`::add-mask::${token}\n`)
    expect(redact(`token ${token}`)).toBe('token ***')
  })

  it('masks a multi-line value whole and line by line in the log', async () => {
    const first = fresh('line-one')
    const second = fresh('line-two')
    const { output } = await captureStdout(async () => maskSecret(`${first}\n${second}\n`))
    expect(output.trim().split('\n')).toEqual([`::add-mask::${first}%0A${second}%0A`, `::add-mask::${first}`, `::add-mask::${second}`])
    expect(redact(`${second} then ${first}`)).toBe('*** then ***')
  })

  it('ignores an empty value (nothing to mask, nothing written)', async () => {
    const { output } = await captureStdout(async () => maskSecret(''))
    expect(output).toBe('')
  })

  it('redactDeep copies plain data with every string redacted; keys, numbers and booleans stay', async () => {
    const secret = fresh('deep')
    await captureStdout(async () => maskSecret(secret))
    const data = {
      [`key-${secret}`]: 1,
      nested: { list: [`a ${secret}`, 2, true, null, undefined, { message: secret }] },
      outputs: { Url: `https://x/?t=${secret}` }
    }
    const copy = redactDeep(data)
    expect(copy).toEqual({
      [`key-${secret}`]: 1,
      nested: { list: ['a ***', 2, true, null, undefined, { message: '***' }] },
      outputs: { Url: 'https://x/?t=***' }
    })
    expect(data.nested.list[0]).toBe(`a ${secret}`)
  })
})
