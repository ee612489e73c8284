/**
 * Whether the server's binary can start on the image's base. A binary linked on the runner asks the
 * base's glibc for symbol versions (`GLIBC_2.34`, …) in its `.gnu.version_r`; a base with an older
 * glibc stops it at start with "version `GLIBC_2.xx' not found", which Cloud Run reports only as a
 * container that failed to listen on its port. Read from the ELF file itself (its dynamic segment,
 * as the loader reads it), so no tool is needed and a stripped binary reads the same.
 */
import * as fs from 'node:fs/promises'
import { ActionError } from '../../action-error.js'

/** What the binary needs from the C library. */
export interface GlibcNeeds {
  /** No program interpreter and no shared libraries: runs on any base. */
  static: boolean
  /** Every glibc version the binary needs, oldest first: from `GLIBC_x.y[.z]`, and for an ABI marker (`GLIBC_ABI_DT_RELR`) its release. */
  glibcVersions: string[]
  /** The newest of them (`2.34`); undefined for a static binary or one that names no glibc version. */
  glibc?: string
}

const PT_LOAD = 1
const PT_DYNAMIC = 2
const PT_INTERP = 3
const DT_NULL = 0
const DT_NEEDED = 1
const DT_STRTAB = 5
const DT_VERNEED = 0x6ffffffe
const DT_VERNEEDNUM = 0x6fffffff
const EM_X86_64 = 62
const EM_AARCH64 = 183
/** Bounds the walk of a corrupt file's linked lists. */
const MAX_ENTRIES = 100_000

class ElfReader {
  constructor(
    private readonly bytes: Buffer,
    private readonly file: string
  ) {}

  corrupt(what: string): ActionError {
    return new ActionError('Unreadable binary', `${this.file} is not a well-formed ELF file (${what}); rebuild it.`)
  }

  private check(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.bytes.length)
      throw this.corrupt(`${what} lies outside the file`)
  }

  u16(offset: number, what: string): number {
    this.check(offset, 2, what)
    return this.bytes.readUInt16LE(offset)
  }

  u32(offset: number, what: string): number {
    this.check(offset, 4, what)
    return this.bytes.readUInt32LE(offset)
  }

  u64(offset: number, what: string): number {
    this.check(offset, 8, what)
    const value = this.bytes.readBigUInt64LE(offset)
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw this.corrupt(`${what} is out of range`)
    return Number(value)
  }

  string(offset: number, what: string): string {
    this.check(offset, 1, what)
    const end = this.bytes.indexOf(0, offset)
    if (end < 0) throw this.corrupt(`${what} is not terminated`)
    return this.bytes.toString('latin1', offset, end)
  }
}

interface Segment {
  type: number
  offset: number
  vaddr: number
  filesz: number
}

function refuseOtherFormats(bytes: Buffer, file: string): void {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) {
    throw new ActionError(
      'Not a Linux binary',
      `${file} is not an ELF executable, so it cannot be the server's binary in a Linux image. Check [server] binary in deploy.toml ` +
        'and the build output.'
    )
  }
  const rebuild = 'Cloud Run runs linux/amd64: build for x86_64-unknown-linux-gnu.'
  if (bytes[4] !== 2) throw new ActionError('Not a 64-bit binary', `${file} is a 32-bit ELF file. ${rebuild}`)
  if (bytes[5] !== 1) throw new ActionError('Not an x86_64 binary', `${file} is a big-endian ELF file. ${rebuild}`)
  const machine = bytes.readUInt16LE(18)
  if (machine === EM_AARCH64) throw new ActionError('Not an x86_64 binary', `${file} is built for aarch64 (arm64). ${rebuild}`)
  if (machine !== EM_X86_64)
    throw new ActionError('Not an x86_64 binary', `${file} is built for ELF machine ${machine}, not x86_64. ${rebuild}`)
}

function segmentsOf(elf: ElfReader): Segment[] {
  const phoff = elf.u64(32, 'the program header table')
  const phentsize = elf.u16(54, 'the program header size')
  const phnum = elf.u16(56, 'the program header count')
  if (phnum > 0 && phentsize < 56) throw elf.corrupt('program headers are too small')
  return Array.from({ length: phnum }, (_, index) => {
    const at = phoff + index * phentsize
    return {
      type: elf.u32(at, 'a program header'),
      offset: elf.u64(at + 8, 'a program header'),
      vaddr: elf.u64(at + 16, 'a program header'),
      filesz: elf.u64(at + 32, 'a program header')
    }
  })
}

/** Where in the file a virtual address of a loaded segment is. */
function fileOffset(elf: ElfReader, segments: Segment[], address: number, what: string): number {
  const load = segments.find(s => s.type === PT_LOAD && address >= s.vaddr && address < s.vaddr + s.filesz)
  if (!load) throw elf.corrupt(`${what} is not in a loaded segment`)
  return load.offset + (address - load.vaddr)
}

function dynamicEntries(elf: ElfReader, dynamic: Segment): { tag: number; value: number }[] {
  const entries: { tag: number; value: number }[] = []
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz && entries.length < MAX_ENTRIES; at += 16) {
    // Tags of interest fit in 32 bits; the high half of an OS-specific one is not needed to tell them apart.
    const tag = elf.u32(at, 'the dynamic section') + elf.u32(at + 4, 'the dynamic section') * 0x1_0000_0000
    if (tag === DT_NULL) break
    entries.push({ tag, value: elf.u64(at + 8, 'the dynamic section') })
  }
  return entries
}

/** The version names of `.gnu.version_r`: each needed file's Verneed entry, each with its chain of Vernaux names. */
function neededVersionNames(elf: ElfReader, verneed: number, count: number, strtab: number): string[] {
  const names: string[] = []
  let entry = verneed
  for (let index = 0; index < Math.min(count, MAX_ENTRIES); index++) {
    const auxCount = elf.u16(entry + 2, 'a version need entry')
    let aux = entry + elf.u32(entry + 8, 'a version need entry')
    for (let auxIndex = 0; auxIndex < auxCount; auxIndex++) {
      names.push(elf.string(strtab + elf.u32(aux + 8, 'a version need aux entry'), 'a version name'))
      const nextAux = elf.u32(aux + 12, 'a version need aux entry')
      if (nextAux === 0) break
      aux += nextAux
    }
    const next = elf.u32(entry + 12, 'a version need entry')
    if (next === 0) break
    entry += next
  }
  return names
}

const GLIBC_VERSION = /^GLIBC_(\d+(?:\.\d+){1,2})$/
/** ABI markers a linker adds as version needs, by the glibc release that first has them. */
const GLIBC_ABI_MARKERS: Record<string, string> = {
  // Relative relocations packed as DT_RELR (`-z pack-relative-relocs`), loadable since glibc 2.36.
  GLIBC_ABI_DT_RELR: '2.36'
}

function glibcVersionOf(name: string): string | undefined {
  return GLIBC_VERSION.exec(name)?.[1] ?? GLIBC_ABI_MARKERS[name]
}

/** Compares `2.34` and `2.2.5` part by part, as numbers. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number)
  const right = b.split('.').map(Number)
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0)
    if (difference !== 0) return difference
  }
  return 0
}

/** What an x86_64 ELF executable needs from glibc; anything else (not ELF, 32-bit, arm64) is an ActionError. */
export function glibcNeeds(bytes: Buffer, file: string): GlibcNeeds {
  refuseOtherFormats(bytes, file)
  const elf = new ElfReader(bytes, file)
  const segments = segmentsOf(elf)
  const interpreter = segments.some(s => s.type === PT_INTERP)
  const dynamic = segments.find(s => s.type === PT_DYNAMIC)
  const entries = dynamic ? dynamicEntries(elf, dynamic) : []
  const value = (tag: number): number | undefined => entries.find(e => e.tag === tag)?.value
  const needsLibraries = entries.some(e => e.tag === DT_NEEDED)
  const verneed = value(DT_VERNEED)
  const strtab = value(DT_STRTAB)
  let names: string[] = []
  if (verneed !== undefined) {
    if (strtab === undefined) throw elf.corrupt('version needs without a string table')
    const strtabOffset = fileOffset(elf, segments, strtab, 'the dynamic string table')
    names = neededVersionNames(elf, fileOffset(elf, segments, verneed, 'the version needs'), value(DT_VERNEEDNUM) ?? 0, strtabOffset)
  }
  const versions = [...new Set(names.map(glibcVersionOf).filter((v): v is string => v !== undefined))]
  versions.sort(compareVersions)
  return { static: !interpreter && !needsLibraries, glibcVersions: versions, ...(versions.length > 0 ? { glibc: versions.at(-1) } : {}) }
}

/** Bases whose glibc is known: image (any tag, digest or registry spelling), and its glibc; `null` has none. */
const KNOWN_BASES: { image: RegExp; name: string; glibc: string | null }[] = [
  { image: /^gcr\.io\/distroless\/(?:cc|base)-debian12(?::|@|$)/, name: 'distroless Debian 12', glibc: '2.36' },
  { image: /^gcr\.io\/distroless\/(?:cc|base)-debian11(?::|@|$)/, name: 'distroless Debian 11', glibc: '2.31' },
  { image: /^gcr\.io\/distroless\/static-debian1[12](?::|@|$)/, name: 'distroless static', glibc: null },
  { image: /^debian:(?:13|trixie)(?:[-.@].*)?$/, name: 'Debian 13', glibc: '2.41' },
  { image: /^debian:(?:12|bookworm)(?:[-.@].*)?$/, name: 'Debian 12', glibc: '2.36' },
  { image: /^debian:(?:11|bullseye)(?:[-.@].*)?$/, name: 'Debian 11', glibc: '2.31' },
  { image: /^ubuntu:(?:20\.04|focal)(?:[-@].*)?$/, name: 'Ubuntu 20.04', glibc: '2.31' },
  { image: /^ubuntu:(?:22\.04|jammy)(?:[-@].*)?$/, name: 'Ubuntu 22.04', glibc: '2.35' },
  { image: /^ubuntu:(?:24\.04|noble)(?:[-@].*)?$/, name: 'Ubuntu 24.04', glibc: '2.39' }
]

/** Where Docker Hub's official images also live, spelled out. */
const DOCKER_HUB_LIBRARY = /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?(?:library\/)?/

interface KnownBase {
  name: string
  glibc: string | null
}

/** The glibc of a base image the action knows, `null` for a base without one; undefined when unknown (moving tags such as `latest`). */
export function baseGlibc(base: string): KnownBase | undefined {
  const image = base.trim().toLowerCase().replace(DOCKER_HUB_LIBRARY, '')
  const known = KNOWN_BASES.find(entry => entry.image.test(image))
  return known ? { name: known.name, glibc: known.glibc } : undefined
}

/** A known base with at least `version` of glibc, to suggest. */
function newerBase(version: string): string | undefined {
  const suggestions: [string, string][] = [
    ['debian:13-slim', '2.41'],
    ['ubuntu:24.04', '2.39']
  ]
  return suggestions
    .filter(([, glibc]) => compareVersions(glibc, version) >= 0)
    .sort(([, a], [, b]) => compareVersions(a, b))
    .at(0)?.[0]
}

export interface GlibcCheck {
  needs: GlibcNeeds
  /** The base's glibc when known (`null`: the base has none). */
  base?: KnownBase
  /** One line for the log: what the binary needs and what the base has. */
  summary: string
}

function describeNeeds(needs: GlibcNeeds): string {
  if (needs.static) return 'statically linked'
  return needs.glibc ? `dynamically linked, needs glibc ${needs.glibc}` : 'dynamically linked, names no glibc version'
}

/**
 * Reads the binary and holds it against the base: a dynamically linked binary on a base without
 * glibc, or one needing a newer glibc than the base has, is an ActionError that says how to build
 * for the base. An unknown base is not checked (the summary says so).
 */
export async function checkGlibc(binaryPath: string, base: string): Promise<GlibcCheck> {
  let bytes: Buffer
  try {
    bytes = await fs.readFile(binaryPath)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ActionError(
      'Binary not found',
      `Cannot read the server's binary ${binaryPath} (${code ?? String(error)}); the build should have made it.`
    )
  }
  const needs = glibcNeeds(bytes, binaryPath)
  const known = baseGlibc(base)
  const what = `${binaryPath}: ${describeNeeds(needs)}`
  if (needs.static) return { needs, ...(known ? { base: known } : {}), summary: `${what}; runs on any base (${base})` }
  if (!known) return { needs, summary: `${what}; base ${base} is not one whose glibc the action knows, so this was not checked` }
  if (known.glibc === null) {
    throw new ActionError(
      'Binary needs glibc, base has none',
      `${what}, but base ${base} (${known.name}) has no C library, so the container could not start. Either build statically ` +
        "(RUSTFLAGS='-C target-feature=+crt-static'), or set [runtime] base in deploy.toml to gcr.io/distroless/cc-debian12."
    )
  }
  if (needs.glibc && compareVersions(needs.glibc, known.glibc) > 0) {
    const newer = newerBase(needs.glibc)
    throw new ActionError(
      'Binary needs a newer glibc than the base',
      `${binaryPath} needs glibc ${needs.glibc}, but base ${base} (${known.name}) has glibc ` +
        `${known.glibc}: the container would stop at start with "version \`GLIBC_${needs.glibc}' not found". ` +
        `Either build for glibc ${known.glibc}: \`cargo zigbuild --release --target x86_64-unknown-linux-gnu.${known.glibc}\` ` +
        "(zig as the linker, as cargo-lambda uses it), or statically (RUSTFLAGS='-C target-feature=+crt-static'), " +
        `or set [runtime] base in deploy.toml to an image with glibc ${needs.glibc} or newer` +
        `${newer ? ` (e.g. ${newer})` : ''}.`
    )
  }
  return { needs, base: known, summary: `${what}; base ${base} has glibc ${known.glibc}` }
}
