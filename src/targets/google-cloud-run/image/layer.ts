/**
 * The one layer the action adds to the base image: the server binary at /usr/local/bin/mcp-server,
 * as cargo-pmcp's Dockerfile copies it there. The tar is deterministic (fixed times, owners and
 * modes, fixed entry order), so the same binary always makes the same layer digest and a second
 * push finds the layer already in the registry.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'

/** Where the image holds the binary, and what its CMD runs. */
export const IMAGE_BINARY_PATH = '/usr/local/bin/mcp-server'

const BLOCK = 512
const EXECUTABLE = 0o755

export interface BinaryLayer {
  /** The gzipped tar, as uploaded. */
  blob: Buffer
  /** sha256 of `blob`: the layer's digest in the manifest. */
  digest: string
  /** sha256 of the uncompressed tar: the layer's entry in the config's rootfs.diff_ids. */
  diffId: string
  /** Size of the binary itself. */
  binarySize: number
}

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length > length) throw new RangeError(`tar header field too long: ${value}`)
  bytes.copy(header, offset)
}

/** An octal number field: zero-padded digits and a terminating NUL, as POSIX ustar writes them. */
function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0')
  if (digits.length > length - 1) throw new RangeError(`tar header value too large: ${value}`)
  writeString(header, offset, length, `${digits}\0`)
}

/** A ustar header for an entry owned by root (0:0), mode 0755, modified at the epoch. */
function tarHeader(name: string, type: 'file' | 'directory', size: number): Buffer {
  const header = Buffer.alloc(BLOCK)
  writeString(header, 0, 100, name)
  writeOctal(header, 100, 8, EXECUTABLE)
  writeOctal(header, 108, 8, 0)
  writeOctal(header, 116, 8, 0)
  writeOctal(header, 124, 12, size)
  writeOctal(header, 136, 12, 0)
  header.fill(' ', 148, 156)
  writeString(header, 156, 1, type === 'directory' ? '5' : '0')
  writeString(header, 257, 6, 'ustar\0')
  writeString(header, 263, 2, '00')
  let checksum = 0
  for (const byte of header) checksum += byte
  writeString(header, 148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `)
  return header
}

/** The tar of the layer, streamed: the parent directories, the binary, its padding and the end-of-archive blocks. */
async function* layerTar(binaryPath: string, size: number): AsyncGenerator<Buffer> {
  const relative = IMAGE_BINARY_PATH.slice(1)
  const parts = relative.split('/')
  for (let depth = 1; depth < parts.length; depth++) yield tarHeader(`${parts.slice(0, depth).join('/')}/`, 'directory', 0)
  yield tarHeader(relative, 'file', size)
  let read = 0
  for await (const chunk of fs.createReadStream(binaryPath)) {
    read += (chunk as Buffer).length
    yield chunk as Buffer
  }
  if (read !== size) throw new Error(`${binaryPath} changed while it was read into the image layer (${size} bytes expected, ${read} read)`)
  const padding = (BLOCK - (size % BLOCK)) % BLOCK
  yield Buffer.alloc(padding + 2 * BLOCK)
}

/** Passes bytes through and hashes them on the way. */
function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      done(null, chunk)
    }
  })
}

/** Builds the binary's layer: a deterministic tar of /usr/local/bin/mcp-server, gzipped in memory. */
export async function buildBinaryLayer(binaryPath: string): Promise<BinaryLayer> {
  const binarySize = (await fs.promises.stat(binaryPath)).size
  const uncompressed = createHash('sha256')
  const compressed = createHash('sha256')
  const chunks: Buffer[] = []
  await pipeline(
    Readable.from(layerTar(binaryPath, binarySize)),
    hashing(uncompressed),
    createGzip(),
    hashing(compressed),
    async source => {
      for await (const chunk of source) chunks.push(chunk as Buffer)
    }
  )
  return {
    blob: Buffer.concat(chunks),
    digest: `sha256:${compressed.digest('hex')}`,
    diffId: `sha256:${uncompressed.digest('hex')}`,
    binarySize
  }
}
