import { ActionError } from '../../src/errors.js'
import { HttpStatusError, httpStatusOf, isTransientError, isTransientStatus } from '../../src/http.js'

describe('isTransientStatus', () => {
  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [408, false],
    [409, false],
    [200, false]
  ])('HTTP %i → %s', (status, transient) => {
    expect(isTransientStatus(status)).toBe(transient)
  })
})

describe('isTransientError', () => {
  it('follows the status of an HTTP error', () => {
    expect(isTransientError(new HttpStatusError(503, 'https://example.com', 'unavailable'))).toBe(true)
    expect(isTransientError(new HttpStatusError(404, 'https://example.com', 'not found'))).toBe(false)
  })

  it('reads any error that carries a numeric status, as Octokit errors do', () => {
    expect(isTransientError(Object.assign(new Error('rate limited'), { status: 429 }))).toBe(true)
    expect(isTransientError(Object.assign(new Error('forbidden'), { status: 403 }))).toBe(false)
  })

  it('takes an error without a status for the network', () => {
    expect(isTransientError(new TypeError('fetch failed'))).toBe(true)
    expect(isTransientError(Object.assign(new Error('not a status'), { status: '503' }))).toBe(true)
  })

  it('never retries an ActionError', () => {
    expect(isTransientError(new ActionError('Rejected', 'the server said no'))).toBe(false)
  })
})

describe('httpStatusOf', () => {
  it('is the numeric status, else undefined', () => {
    expect(httpStatusOf(new HttpStatusError(502, 'https://example.com', 'bad gateway'))).toBe(502)
    expect(httpStatusOf(new Error('no status'))).toBeUndefined()
    expect(httpStatusOf(undefined)).toBeUndefined()
    expect(httpStatusOf('a string')).toBeUndefined()
  })
})
