/** What the pmcp-run target uploads as the server: the raw bootstrap, or cargo-pmcp's deterministic zip with the assets. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { serverPackage } from '../../src/targets/pmcp-run/package.js'
import { readZip } from '../../testkit/pmcp-run-service.js'

let buildDir: string
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 9, 9, 9])

beforeEach(() => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-package-'))
  fs.writeFileSync(path.join(buildDir, 'bootstrap'), ELF, { mode: 0o755 })
})
afterEach(() => fs.rmSync(buildDir, { recursive: true, force: true }))

function put(destination: string, text: string): { source: string; destination: string; sizeBytes: number } {
  const file = path.join(buildDir, destination)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return { source: `/repo/${destination}`, destination, sizeBytes: text.length }
}

describe('serverPackage', () => {
  it('is the raw bootstrap as application/octet-stream when nothing is packaged beside it', () => {
    const upload = serverPackage({ bootstrapPath: path.join(buildDir, 'bootstrap'), packaged: [] })
    expect(upload.contentType).toBe('application/octet-stream')
    expect(Buffer.from(upload.body)).toEqual(ELF)
    expect(upload.label).toBe('bootstrap')
  })

  it("is a zip of bootstrap (0755), the assets and config.toml (0644), in byte order at the DOS epoch, as cargo-pmcp's lambda_zip", () => {
    const packaged = [put('config.toml', 'name = "x"\n'), put('assets/models/model.onnx', 'weights'), put('assets/Readme.md', '# r')]
    const upload = serverPackage({ bootstrapPath: path.join(buildDir, 'bootstrap'), packaged })
    expect(upload.contentType).toBe('application/zip')
    expect(upload.label).toBe('deployment package')
    const entries = readZip(upload.body)
    expect(entries.map(e => [e.name, e.os, e.mode.toString(8)])).toEqual([
      ['assets/Readme.md', 3, '100644'],
      ['assets/models/model.onnx', 3, '100644'],
      ['bootstrap', 3, '100755'],
      ['config.toml', 3, '100644']
    ])
    expect(Buffer.from(entries[1].data).toString()).toBe('weights')
    expect(Buffer.from(entries[2].data)).toEqual(ELF)

    // Every local header carries DOS time 00:00 and date 1980-01-01 (0x0021), whatever the files' own times.
    const body = Buffer.from(upload.body)
    let offset = 0
    const stamps: string[] = []
    while (body.readUInt32LE(offset) === 0x04034b50) {
      stamps.push(`${body.readUInt16LE(offset + 10)}/${body.readUInt16LE(offset + 12).toString(16)}`)
      offset += 30 + body.readUInt16LE(offset + 26) + body.readUInt16LE(offset + 28) + body.readUInt32LE(offset + 18)
    }
    expect(stamps).toEqual(['0/21', '0/21', '0/21', '0/21'])

    fs.utimesSync(path.join(buildDir, 'config.toml'), new Date(2030, 1, 1), new Date(2030, 1, 1))
    expect(Buffer.from(serverPackage({ bootstrapPath: path.join(buildDir, 'bootstrap'), packaged }).body)).toEqual(body)
  })
})
