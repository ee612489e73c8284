import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { ActionError } from '../../src/action-error.js'
import { baseGlibc, checkGlibc, compareVersions, glibcNeeds } from '../../src/targets/google-cloud-run/glibc.js'
import { makeWorkDir } from '../../testkit/workdir.js'

const run = promisify(execFile)

// Real binaries, built with the host's rustc (std only): what the Cloud Run build hands to the check.
const work = makeWorkDir('glibc')
const binary = (name: string): string => path.join(work.dir, name)
const HELLO = 'fn main() { println!("hello"); }\n'
// arc4random is new in glibc 2.36: linking it makes the binary need GLIBC_2.36.
const ARC4RANDOM = 'extern "C" { fn arc4random() -> u32; }\nfn main() { println!("{}", unsafe { arc4random() }); }\n'

async function rustc(source: string, output: string, flags: string[]): Promise<void> {
  const file = binary(`${output}.rs`)
  fs.writeFileSync(file, source)
  await run('rustc', ['-C', 'debuginfo=0', ...flags, file, '-o', binary(output)])
}

beforeAll(async () => {
  await Promise.all([
    rustc(HELLO, 'hello', ['-C', 'strip=symbols']),
    rustc(HELLO, 'hello-static', ['-C', 'target-feature=+crt-static']),
    rustc(HELLO, 'hello-relr', ['-C', 'link-arg=-Wl,-z,pack-relative-relocs']),
    rustc(ARC4RANDOM, 'arc4random', [])
  ])
}, 60_000)

afterAll(() => work.remove())

/** The GLIBC_ version names `readelf -V` lists among the version needs. */
async function readelfVersionNeeds(file: string): Promise<string[]> {
  const { stdout } = await run('readelf', ['-V', '-W', file])
  const needs = stdout.slice(stdout.indexOf("Version needs section '.gnu.version_r'"))
  return [...new Set([...needs.matchAll(/Name: (GLIBC_\S+)/g)].map(match => match[1]))]
}

const numbered = (names: string[]): string[] =>
  names
    .filter(name => /^GLIBC_\d/.test(name))
    .map(name => name.slice('GLIBC_'.length))
    .sort(compareVersions)

function actionError(error: unknown): ActionError {
  expect(error).toBeInstanceOf(ActionError)
  return error as ActionError
}

describe('glibcNeeds on real binaries', () => {
  it('reads the same glibc versions as readelf from a stripped dynamic binary', async () => {
    const needs = glibcNeeds(fs.readFileSync(binary('hello')), 'hello')
    const fromReadelf = numbered(await readelfVersionNeeds(binary('hello')))
    expect(fromReadelf.length).toBeGreaterThan(0)
    expect(needs).toEqual({ static: false, glibcVersions: fromReadelf, glibc: fromReadelf.at(-1) })
  })

  it('sees the glibc 2.36 a binary calling arc4random needs', async () => {
    const needs = glibcNeeds(fs.readFileSync(binary('arc4random')), 'arc4random')
    expect(await readelfVersionNeeds(binary('arc4random'))).toContain('GLIBC_2.36')
    expect(needs.glibc).toBe('2.36')
  })

  it('counts GLIBC_ABI_DT_RELR as needing glibc 2.36', async () => {
    expect(await readelfVersionNeeds(binary('hello-relr'))).toContain('GLIBC_ABI_DT_RELR')
    const needs = glibcNeeds(fs.readFileSync(binary('hello-relr')), 'hello-relr')
    expect(needs.glibcVersions).toContain('2.36')
    expect(needs.glibc).toBe('2.36')
  })

  it('finds a static binary static, with no interpreter and no shared library, as readelf does', async () => {
    const { stdout: program } = await run('readelf', ['-l', '-W', binary('hello-static')])
    const { stdout: dynamic } = await run('readelf', ['-d', '-W', binary('hello-static')])
    expect(program).not.toContain('INTERP')
    expect(dynamic).not.toContain('(NEEDED)')
    expect(glibcNeeds(fs.readFileSync(binary('hello-static')), 'hello-static')).toEqual({ static: true, glibcVersions: [] })
  })

  it('refuses a truncated binary as not well-formed', () => {
    const truncated = fs.readFileSync(binary('hello')).subarray(0, 200)
    expect(() => glibcNeeds(truncated, 'hello')).toThrow(/hello is not a well-formed ELF file/)
  })
})

describe('checkGlibc', () => {
  it('passes a binary on a base with its glibc, and says what it checked', async () => {
    const wanted = numbered(await readelfVersionNeeds(binary('hello'))).at(-1)
    const check = await checkGlibc(binary('hello'), 'gcr.io/distroless/cc-debian12')
    expect(check.base).toEqual({ name: 'distroless Debian 12', glibc: '2.36' })
    expect(check.summary).toBe(
      `${binary('hello')}: dynamically linked, needs glibc ${wanted}; base gcr.io/distroless/cc-debian12 has glibc 2.36`
    )
    await expect(checkGlibc(binary('arc4random'), 'debian:bookworm-slim')).resolves.toHaveProperty('needs.glibc', '2.36')
  })

  it('refuses a binary needing a newer glibc than the base, naming both and the fixes', async () => {
    const error = actionError(await checkGlibc(binary('arc4random'), 'debian:11-slim').catch((e: unknown) => e))
    expect(error.title).toBe('Binary needs a newer glibc than the base')
    expect(error.message).toContain(`${binary('arc4random')} needs glibc 2.36, but base debian:11-slim (Debian 11) has glibc 2.31`)
    expect(error.message).toContain('cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.31')
    expect(error.message).toContain('+crt-static')
    expect(error.message).toContain('[runtime] base')
  })

  it('refuses a binary built against a newer glibc than cc-debian12 (ubuntu-latest), suggesting a base that has it', async () => {
    // The hello binary with its newest version need renamed to GLIBC_2.39 (same length): what Ubuntu 24.04's linker leaves.
    const bytes = fs.readFileSync(binary('hello'))
    const newest = `GLIBC_${numbered(await readelfVersionNeeds(binary('hello'))).at(-1)}`
    expect(newest).toMatch(/^GLIBC_2\.\d\d$/)
    const patched = Buffer.from(bytes.toString('latin1').split(`${newest}\0`).join('GLIBC_2.39\0'), 'latin1')
    fs.writeFileSync(binary('hello-2.39'), patched)
    expect(await readelfVersionNeeds(binary('hello-2.39'))).toContain('GLIBC_2.39')

    const error = actionError(await checkGlibc(binary('hello-2.39'), 'gcr.io/distroless/cc-debian12:nonroot').catch((e: unknown) => e))
    expect(error.message).toContain(
      'needs glibc 2.39, but base gcr.io/distroless/cc-debian12:nonroot (distroless Debian 12) has glibc 2.36'
    )
    expect(error.message).toContain('x86_64-unknown-linux-gnu.2.36')
    expect(error.message).toContain('(e.g. ubuntu:24.04)')
    await expect(checkGlibc(binary('hello-2.39'), 'ubuntu:24.04')).resolves.toHaveProperty('base.glibc', '2.39')
  })

  it('passes a static binary on any base, and refuses a dynamic one on a base without glibc', async () => {
    const check = await checkGlibc(binary('hello-static'), 'gcr.io/distroless/static-debian12')
    expect(check.summary).toBe(`${binary('hello-static')}: statically linked; runs on any base (gcr.io/distroless/static-debian12)`)
    const error = actionError(await checkGlibc(binary('hello'), 'gcr.io/distroless/static-debian12').catch((e: unknown) => e))
    expect(error.message).toContain('has no C library')
  })

  it('does not check against a base whose glibc it does not know, and says so', async () => {
    const check = await checkGlibc(binary('hello'), 'debian:latest')
    expect(check.base).toBeUndefined()
    expect(check.summary).toContain('base debian:latest is not one whose glibc the action knows, so this was not checked')
  })

  it('names a binary that is not there', async () => {
    const error = actionError(await checkGlibc(binary('missing'), 'debian:12').catch((e: unknown) => e))
    expect(error.message).toContain(`${binary('missing')} (ENOENT)`)
  })
})

describe('baseGlibc', () => {
  it.each([
    ['gcr.io/distroless/cc-debian12', '2.36'],
    ['gcr.io/distroless/cc-debian12:nonroot', '2.36'],
    [`gcr.io/distroless/cc-debian12@sha256:${'a'.repeat(64)}`, '2.36'],
    ['debian:12', '2.36'],
    ['debian:12.5-slim', '2.36'],
    ['docker.io/library/debian:bookworm-slim', '2.36'],
    ['Debian:Bookworm-20240701', '2.36'],
    ['gcr.io/distroless/cc-debian11', '2.31'],
    ['debian:bullseye', '2.31'],
    ['ubuntu:22.04', '2.35'],
    ['ubuntu:jammy', '2.35'],
    ['ubuntu:24.04', '2.39'],
    ['gcr.io/distroless/static-debian12', null]
  ])('knows %s: glibc %s', (base, glibc) => {
    expect(baseGlibc(base)?.glibc).toBe(glibc)
  })

  it.each([
    'debian:latest',
    'debian:120',
    'ubuntu:latest',
    'alpine:3.20',
    'mycorp/debian:12',
    'gcr.io/distroless/cc-debian123',
    'gcr.io/distroless/cc'
  ])('does not claim to know %s', base => {
    expect(baseGlibc(base)).toBeUndefined()
  })
})

describe('compareVersions', () => {
  it('compares part by part as numbers', () => {
    expect(['2.17', '2.2.5', '2.36', '2.3.4', '2.3'].sort(compareVersions)).toEqual(['2.2.5', '2.3', '2.3.4', '2.17', '2.36'])
  })
})

// --- synthetic ELF files, for what no compiler here makes ---

interface ElfShape {
  elfClass?: number
  endianness?: number
  machine?: number
  interpreter?: boolean
  needed?: string[]
  /** Version needs, per library: its file name and the version names. */
  versionNeeds?: { file: string; names: string[] }[]
}

/** A minimal ELF64 file: header, program headers (LOAD of the whole file, INTERP, DYNAMIC), strings, version needs, dynamic entries. */
function elf(shape: ElfShape): Buffer {
  const base = 0x400000
  const phnum = 3
  const strings: string[] = ['']
  const stringOffset = (text: string): number => {
    const at = strings.join('\0').length + 1
    strings.push(text)
    return at
  }
  const neededOffsets = (shape.needed ?? []).map(stringOffset)
  const verneed = (shape.versionNeeds ?? []).map(need => ({ file: stringOffset(need.file), names: need.names.map(stringOffset) }))
  const strtab = Buffer.from(`${strings.join('\0')}\0`, 'latin1')
  const interp = Buffer.from('/lib64/ld-linux-x86-64.so.2\0', 'latin1')

  const verneedSize = verneed.reduce((size, need) => size + 16 + 16 * need.names.length, 0)
  const verneedTable = Buffer.alloc(verneedSize)
  let at = 0
  verneed.forEach((need, index) => {
    const entrySize = 16 + 16 * need.names.length
    verneedTable.writeUInt16LE(1, at)
    verneedTable.writeUInt16LE(need.names.length, at + 2)
    verneedTable.writeUInt32LE(need.file, at + 4)
    verneedTable.writeUInt32LE(16, at + 8)
    verneedTable.writeUInt32LE(index === verneed.length - 1 ? 0 : entrySize, at + 12)
    need.names.forEach((name, auxIndex) => {
      const aux = at + 16 + 16 * auxIndex
      verneedTable.writeUInt32LE(name, aux + 8)
      verneedTable.writeUInt32LE(auxIndex === need.names.length - 1 ? 0 : 16, aux + 12)
    })
    at += entrySize
  })

  const interpAt = 64 + 56 * phnum
  const strtabAt = interpAt + interp.length
  const verneedAt = strtabAt + strtab.length
  const dynamicAt = verneedAt + verneedTable.length
  const entries: [number, number][] = [
    ...neededOffsets.map((offset): [number, number] => [1, offset]),
    [5, base + strtabAt],
    ...(verneed.length > 0
      ? ([
          [0x6ffffffe, base + verneedAt],
          [0x6fffffff, verneed.length]
        ] as [number, number][])
      : []),
    [0, 0]
  ]
  const dynamic = Buffer.alloc(16 * entries.length)
  entries.forEach(([tag, value], index) => {
    dynamic.writeBigInt64LE(BigInt(tag), 16 * index)
    dynamic.writeBigUInt64LE(BigInt(value), 16 * index + 8)
  })
  const size = dynamicAt + dynamic.length

  const header = Buffer.alloc(64)
  header.writeUInt32BE(0x7f454c46, 0)
  header[4] = shape.elfClass ?? 2
  header[5] = shape.endianness ?? 1
  header[6] = 1
  header.writeUInt16LE(3, 16)
  header.writeUInt16LE(shape.machine ?? 62, 18)
  header.writeBigUInt64LE(64n, 32)
  header.writeUInt16LE(56, 54)
  header.writeUInt16LE(phnum, 56)
  const programHeaders = Buffer.alloc(56 * phnum)
  const segment = (index: number, type: number, offset: number, length: number): void => {
    const p = 56 * index
    programHeaders.writeUInt32LE(type, p)
    programHeaders.writeBigUInt64LE(BigInt(offset), p + 8)
    programHeaders.writeBigUInt64LE(BigInt(base + offset), p + 16)
    programHeaders.writeBigUInt64LE(BigInt(length), p + 32)
  }
  segment(0, 1, 0, size)
  // Without an interpreter its program header is PT_NULL.
  segment(1, shape.interpreter === false ? 0 : 3, interpAt, interp.length)
  segment(2, 2, dynamicAt, dynamic.length)
  return Buffer.concat([header, programHeaders, interp, strtab, verneedTable, dynamic])
}

describe('glibcNeeds on synthetic ELF files', () => {
  it('reads version needs of several libraries, in number order, ignoring other versions', () => {
    const file = elf({
      needed: ['libc.so.6', 'libm.so.6', 'libgcc_s.so.1'],
      versionNeeds: [
        { file: 'libc.so.6', names: ['GLIBC_2.17', 'GLIBC_2.2.5', 'GLIBC_PRIVATE'] },
        { file: 'libgcc_s.so.1', names: ['GCC_4.2.0'] },
        { file: 'libm.so.6', names: ['GLIBC_2.29', 'GLIBC_2.2.5'] }
      ]
    })
    expect(glibcNeeds(file, 'server')).toEqual({ static: false, glibcVersions: ['2.2.5', '2.17', '2.29'], glibc: '2.29' })
  })

  it('finds no glibc version in a dynamic binary without version needs, and passes it on a glibc base', async () => {
    const file = elf({ needed: ['libc.so.6'] })
    expect(glibcNeeds(file, 'server')).toEqual({ static: false, glibcVersions: [] })
    fs.writeFileSync(binary('unversioned'), file)
    expect((await checkGlibc(binary('unversioned'), 'debian:12')).summary).toContain('dynamically linked, names no glibc version')
  })

  it('counts a binary with neither interpreter nor shared libraries as static (static-pie)', () => {
    expect(glibcNeeds(elf({ interpreter: false }), 'server').static).toBe(true)
    expect(glibcNeeds(elf({ interpreter: false, needed: ['libc.so.6'] }), 'server').static).toBe(false)
  })

  it('refuses what Cloud Run cannot run: not ELF, 32-bit, big-endian, arm64, another machine', () => {
    const refusal = (bytes: Buffer): ActionError => {
      try {
        glibcNeeds(bytes, 'target/release/server')
      } catch (error) {
        return actionError(error)
      }
      throw new Error('expected a refusal')
    }
    expect(refusal(Buffer.from('#!/bin/sh\necho this is a script, not a binary\n'.repeat(3))).message).toContain(
      'target/release/server is not an ELF executable'
    )
    expect(refusal(elf({ elfClass: 1 })).message).toContain('is a 32-bit ELF file')
    expect(refusal(elf({ endianness: 2 })).message).toContain('big-endian')
    expect(refusal(elf({ machine: 183 })).message).toContain('built for aarch64 (arm64). Cloud Run runs linux/amd64')
    expect(refusal(elf({ machine: 40 })).message).toContain('ELF machine 40')
  })

  it('refuses version needs that point outside the loaded file', () => {
    const file = elf({ needed: ['libc.so.6'], versionNeeds: [{ file: 'libc.so.6', names: ['GLIBC_2.34'] }] })
    // Point the first version need's first aux entry far past the end of the file.
    const verneedAt = file.indexOf(Buffer.from('GLIBC_2.34\0', 'latin1')) + 'GLIBC_2.34\0'.length
    file.writeUInt32LE(0x100000, verneedAt + 8)
    expect(() => glibcNeeds(file, 'server')).toThrow(/server is not a well-formed ELF file/)
  })
})
