/**
 * Getting one blob into the destination repository at the least cost: nothing when it is there
 * already (HEAD), a cross-repository mount when the base lives on the same registry, else an
 * upload — one PUT for a small blob, PATCH chunks with Content-Range for a large one, so a base
 * layer streams from its registry to ours without being held whole. A failed chunk resumes where
 * the registry's Range says it stopped; a lost upload session starts over.
 */
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import { ActionError, errorMessage } from '../../../action-error.js'
import { sleep as defaultSleep, withRetry } from '../../../retry.js'
import { isRegistryFault, RegistryAnswerError, type RegistryClient } from './registry.js'

export type BlobOutcome = 'present' | 'mounted' | 'uploaded'

export interface BlobToPush {
  digest: string
  size: number
  /** For log lines and messages: `base layer 2/5`, `binary layer`, `image config`. */
  label: string
  /** The whole blob from its first byte; opened again when an upload starts over. */
  open: () => AsyncIterable<Buffer> | Iterable<Buffer>
  /** A repository of the same registry that holds the blob (the base image's), for a mount. */
  mountFrom?: string
}

export interface UploadLimits {
  /** Blobs up to this size go in one PUT. */
  monolithicMaxBytes: number
  /** Larger ones go in PATCH chunks of this size. */
  chunkBytes: number
}

/** 16 MiB: one request for a config or a typical binary layer, bounded memory for large base layers. */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { monolithicMaxBytes: 16 * 1024 * 1024, chunkBytes: 16 * 1024 * 1024 }

/** Times one chunk is resumed at the registry's Range before the upload starts over. */
const CHUNK_RESUMES = 3
/** Times an upload starts over (a new session) before it fails. */
const UPLOAD_ATTEMPTS = 3

/** The registry no longer has the upload session, or holds bytes other than those sent: start over. */
class UploadLost extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UploadLost'
  }
}

/** `source` cut into pieces of exactly `size` bytes (the last one shorter). */
async function* inChunks(source: AsyncIterable<Buffer> | Iterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = []
  let length = 0
  for await (const piece of source) {
    let rest = piece
    while (length + rest.length >= size) {
      const take = size - length
      pending.push(rest.subarray(0, take))
      yield Buffer.concat(pending)
      pending = []
      length = 0
      rest = rest.subarray(take)
    }
    if (rest.length > 0) {
      pending.push(rest)
      length += rest.length
    }
  }
  if (length > 0) yield Buffer.concat(pending)
}

/** Counts and hashes the bytes of a blob as they pass, to refuse a source that is not the blob it claims to be. */
class BlobCheck {
  private readonly hash = createHash('sha256')
  private bytes = 0

  constructor(private readonly blob: BlobToPush) {}

  add(chunk: Buffer): void {
    this.bytes += chunk.length
    if (this.bytes > this.blob.size) throw this.mismatch(`more than ${this.blob.size} bytes`)
    this.hash.update(chunk)
  }

  verify(): void {
    const digest = `sha256:${this.hash.digest('hex')}`
    if (this.bytes !== this.blob.size || digest !== this.blob.digest) throw this.mismatch(`${this.bytes} bytes with digest ${digest}`)
  }

  private mismatch(what: string): ActionError {
    return new ActionError(
      `${this.blob.label} does not match its digest`,
      `The ${this.blob.label} ${this.blob.digest} (${this.blob.size} bytes) was read as ${what}: its source served other bytes ` +
        'than its manifest describes. Check the route to the base image registry and run the job again.'
    )
  }
}

export interface PushBlobOptions {
  limits?: UploadLimits
  sleep?: (ms: number) => Promise<void>
}

/** Puts one blob into `repository` unless it is there already; what it took. */
export async function pushBlob(
  client: RegistryClient,
  repository: string,
  blob: BlobToPush,
  options: PushBlobOptions = {}
): Promise<BlobOutcome> {
  const limits = options.limits ?? DEFAULT_UPLOAD_LIMITS
  const wait = options.sleep ?? defaultSleep
  if (await client.hasBlob(repository, blob.digest, `checking for the ${blob.label} ${blob.digest}`)) return 'present'
  let location: string | undefined
  if (blob.mountFrom) {
    try {
      const mount = await client.mountBlob(repository, blob.digest, blob.mountFrom, `mounting the ${blob.label} from ${blob.mountFrom}`)
      if ('mounted' in mount) return 'mounted'
      location = mount.location
      core.info(`  ${client.host} did not mount the ${blob.label} from ${blob.mountFrom}: uploading it`)
    } catch (error) {
      if (!(error instanceof RegistryAnswerError)) throw error
      const why = error.codes[0] ?? `HTTP ${error.status}`
      core.info(`  ${client.host} refused to mount the ${blob.label} from ${blob.mountFrom} (${why}): uploading it`)
    }
  }
  const upload = new BlobUpload(client, blob, limits, wait)
  try {
    return await withRetry(
      async attempt => {
        if (attempt > 0 && (await client.hasBlob(repository, blob.digest, `checking for the ${blob.label} ${blob.digest}`)))
          return 'present'
        const started = location ?? (await client.startUpload(repository, `starting the upload of the ${blob.label}`))
        location = undefined
        await upload.run(started)
        return 'uploaded'
      },
      {
        label: `Upload of the ${blob.label} ${blob.digest} to ${client.host}`,
        attempts: UPLOAD_ATTEMPTS,
        isRetryable: error => error instanceof UploadLost || isRegistryFault(error),
        sleep: wait
      }
    )
  } catch (error) {
    if (error instanceof UploadLost) {
      throw new ActionError(
        `${client.host} lost the upload`,
        `The upload of the ${blob.label} ${blob.digest} to ${client.host}/${repository} failed ${UPLOAD_ATTEMPTS} times: ` +
          `${error.message}. ` +
          'Run the job again; if it keeps failing, check for a proxy between the runner and the registry.'
      )
    }
    throw error
  }
}

/** One attempt at an upload, from a started session to the registry's check of the digest. */
class BlobUpload {
  constructor(
    private readonly client: RegistryClient,
    private readonly blob: BlobToPush,
    private readonly limits: UploadLimits,
    private readonly wait: (ms: number) => Promise<void>
  ) {}

  async run(location: string): Promise<void> {
    try {
      await this.transfer(location)
    } catch (error) {
      // The session expired or the registry lost track of it: a new one may well succeed.
      const lost =
        error instanceof RegistryAnswerError &&
        (error.status === 416 || error.codes.some(code => code === 'BLOB_UPLOAD_UNKNOWN' || code === 'BLOB_UPLOAD_INVALID'))
      if (lost) throw new UploadLost(error.message)
      throw error
    }
  }

  private async transfer(location: string): Promise<void> {
    const check = new BlobCheck(this.blob)
    if (this.blob.size <= this.limits.monolithicMaxBytes) {
      const pieces: Buffer[] = []
      for await (const piece of this.blob.open()) {
        check.add(piece)
        pieces.push(piece)
      }
      check.verify()
      await this.client.putBlob(location, this.blob.digest, Buffer.concat(pieces), `uploading the ${this.blob.label}`)
      return
    }
    let next = location
    let offset = 0
    for await (const chunk of inChunks(this.blob.open(), this.limits.chunkBytes)) {
      check.add(chunk)
      next = await this.sendChunk(next, offset, chunk)
      offset += chunk.length
    }
    check.verify()
    await this.client.finishUpload(next, this.blob.digest, `completing the upload of the ${this.blob.label}`)
  }

  /**
   * PATCHes one chunk; after a transient failure, asks the registry how much it holds and sends the
   * rest of the chunk from there. An upload the registry no longer knows is lost (start over).
   */
  private async sendChunk(location: string, start: number, chunk: Buffer): Promise<string> {
    const end = start + chunk.length
    let current = location
    let sent = 0
    for (let resume = 0; ; resume++) {
      const operation = `uploading bytes ${start + sent}-${end - 1} of the ${this.blob.label}`
      try {
        return await this.client.patchChunk(current, start + sent, chunk.subarray(sent), operation)
      } catch (error) {
        if (!isRegistryFault(error) || resume >= CHUNK_RESUMES) throw error
        const status = await this.client.uploadStatus(current, `reading the state of the upload of the ${this.blob.label}`)
        if (!status) throw new UploadLost(`the registry no longer knows the upload session after: ${errorMessage(error)}`)
        if (status.offset < start || status.offset > end) {
          throw new UploadLost(`the registry holds ${status.offset} bytes, outside the chunk ${start}-${end - 1} being sent`)
        }
        sent = status.offset - start
        current = status.location
        core.info(`  ${operation} failed (${errorMessage(error)}); ${this.client.host} holds ${status.offset} bytes: resuming there`)
        // The chunk arrived whole and only the answer was lost.
        if (sent === chunk.length) return current
        await this.wait(500 * (resume + 1))
      }
    }
  }
}
