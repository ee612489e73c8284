/** Red team: deploy.toml files that are not what a TOML parser or the process environment can take. */
import { describe, it } from '@jest/globals'
import { expectRefused, rows, withServer, type HostileConfig } from './hostile-config.js'

/** Allowed origins that, as the resolved config handed to the CDK app, exceed Linux's 128 KiB per environment string. */
const hugeOrigins = Array.from({ length: 3000 }, (_, i) => `"https://origin-${String(i).padStart(5, '0')}.mcp-clients.example.com"`).join(
  ', '
)

const CASES: HostileConfig[] = [
  { name: 'a table header never closed', toml: '[server\nname = "rt"\n', lineOf: '[server', says: /TOML|deploy\.toml/ },
  { name: 'a value missing after =', toml: '[server]\nname =\n', lineOf: 'name', says: /TOML|deploy\.toml/ },
  { name: 'a string never closed', toml: '[server]\nname = "rt\nmemory_mb = 512\n', lineOf: 'name', says: /TOML|deploy\.toml/ },
  { name: 'the same key twice', toml: '[server]\nname = "a"\nname = "b"\n', lineOf: 'name = "b"', says: /name|duplicate|defined/i },
  {
    name: 'the same table twice',
    toml: '[server]\nname = "a"\n\n[server]\nmemory_mb = 512\n',
    lineOf: '[server]\nmemory_mb',
    says: /server|duplicate|defined/i
  },
  {
    name: 'a UTF-8 byte order mark before [server] (what Windows editors write): read as the same file',
    toml: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(withServer('[bogus_after_bom]\nx = 1\n'))]),
    says: /bogus_after_bom/,
    accepted: true
  },
  {
    name: 'a raw NUL byte inside a string',
    toml: Buffer.from('[server]\nname = "rt"\n\n[environment]\nTOKEN = "a\u0000b"\n'),
    lineOf: 'TOKEN',
    says: /TOML|NUL|control|TOKEN/
  },
  {
    name: 'bytes that are not UTF-8 (Latin-1 é) in a value',
    toml: Buffer.concat([Buffer.from('[server]\nname = "rt"\n\n[environment]\nGREETING = "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]),
    lineOf: 'GREETING',
    says: /UTF-8/
  },
  {
    name: 'a UTF-16 file (as PowerShell writes it)',
    toml: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[server]\nname = "rt"\n', 'utf16le')]),
    says: /UTF-8|TOML/
  },
  {
    name: 'arrays nested 5,000 deep',
    toml: withServer(`[environment]\nDEEP = ${'['.repeat(5000)}${']'.repeat(5000)}\n`),
    says: /DEEP|TOML|deep|nest/i
  },
  {
    name: 'inline tables nested 5,000 deep',
    toml: withServer(`[environment]\nDEEP = ${'{ a = '.repeat(5000)}1${' }'.repeat(5000)}\n`),
    says: /DEEP|TOML|deep|nest/i
  },
  { name: 'an empty file', toml: '', says: /name|\[server\]/ },
  {
    name: 'a binary file (a gzip header and zeros)',
    toml: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(64)]),
    says: /UTF-8|TOML/
  },
  {
    name: 'a config whose resolved form exceeds 128 KiB, more than one environment variable holds (was spawn E2BIG): synthesizes',
    toml: withServer(`[api_gateway]\ncors_origins = [${hugeOrigins}]\n`),
    synthesizes: true
  },
  {
    name: '10 MB of comments (the file is read, not choked on)',
    toml: `${'# filler line of a very long comment block\n'.repeat(240_000)}[server]\nname = 42\n`,
    lineOf: 'name = 42',
    says: /name/
  }
]

describe('red team: malformed deploy.toml files', () => {
  it.each(rows(CASES))('%s', (_name, hostile) => expectRefused(hostile))
})
