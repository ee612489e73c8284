import { jest } from '@jest/globals'

/** Captures what @actions/core writes to stdout (annotations, masks, groups) while fn runs. */
export async function captureStdout<T>(fn: () => T | Promise<T>): Promise<{ result?: T; error?: unknown; output: string }> {
  let output = ''
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output += chunk.toString()
    return true
  })
  try {
    return { result: await fn(), output }
  } catch (error) {
    return { error, output }
  } finally {
    spy.mockRestore()
  }
}

export interface Annotation {
  level: string
  properties: Record<string, string>
  message: string
}

/** Parses `::error file=…,line=…,title=…::message` lines (GitHub's workflow command format). */
export function parseAnnotations(output: string): Annotation[] {
  const unescape = (text: string): string =>
    text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')
  return output
    .split('\n')
    .map(line => /^::(error|warning|notice)( [^:]*)?::(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(match => ({
      level: match[1],
      properties: Object.fromEntries(
        (match[2] ?? '')
          .trim()
          .split(',')
          .filter(Boolean)
          .map(pair => {
            const [key, ...rest] = pair.split('=')
            return [key, unescape(rest.join('='))]
          })
      ),
      message: unescape(match[3])
    }))
}
