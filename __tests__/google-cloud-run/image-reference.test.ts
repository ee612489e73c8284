/**
 * The pure parts of the image path: image references (Docker's grammar and Docker Hub shorthand),
 * where the image goes (cargo-pmcp 0.28's rule and the PMCP_GCP_REGISTRY_* overrides), the
 * deterministic binary layer (read back with GNU tar), the config edit, the platform choice, and
 * the Docker token challenge.
 */
import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { ActionError } from '../../src/action-error.js'
import { mergeScopes, parseChallenge } from '../../src/targets/google-cloud-run/image/auth.js'
import { buildBinaryLayer } from '../../src/targets/google-cloud-run/image/layer.js'
import { configWithBinary, pickPlatform, type ImageConfig } from '../../src/targets/google-cloud-run/image/manifest.js'
import { imageDestination, parseImageReference, validateRepositoryId } from '../../src/targets/google-cloud-run/image/reference.js'

const gcp = { projectId: 'demo-project', region: 'us-central1' }

describe('parseImageReference', () => {
  it.each([
    ['gcr.io/distroless/cc-debian12', 'gcr.io', 'distroless/cc-debian12', 'latest', undefined],
    ['debian:bookworm-slim', 'registry-1.docker.io', 'library/debian', 'bookworm-slim', undefined],
    ['docker.io/library/ubuntu:24.04', 'registry-1.docker.io', 'library/ubuntu', '24.04', undefined],
    ['bitnami/redis', 'registry-1.docker.io', 'bitnami/redis', 'latest', undefined],
    ['localhost:5000/team/base:v2', 'localhost:5000', 'team/base', 'v2', undefined],
    ['us-docker.pkg.dev/p/r/base@sha256:' + 'a'.repeat(64), 'us-docker.pkg.dev', 'p/r/base', undefined, 'sha256:' + 'a'.repeat(64)],
    ['gcr.io/distroless/cc:nonroot@sha256:' + 'b'.repeat(64), 'gcr.io', 'distroless/cc', 'nonroot', 'sha256:' + 'b'.repeat(64)]
  ])('%s → %s / %s', (text, host, repository, tag, digest) => {
    const reference = parseImageReference(text, {})
    expect(reference.registry.host).toBe(host)
    expect(reference.repository).toBe(repository)
    expect(reference.tag).toBe(tag)
    expect(reference.digest).toBe(digest)
  })

  it('speaks plain HTTP to a loopback registry only', () => {
    expect(parseImageReference('127.0.0.1:5000/base:1', {}).registry.insecure).toBe(true)
    expect(parseImageReference('localhost:5000/base:1', {}).registry.insecure).toBe(true)
    expect(parseImageReference('gcr.io/distroless/cc-debian12', {}).registry.insecure).toBe(false)
  })

  it.each([
    ['', 'it is empty'],
    ['Debian:12', 'the name part "Debian"'],
    ['gcr.io/distroless/cc@sha256:xyz', 'the digest "sha256:xyz"'],
    ['debian:-bad', 'the tag "-bad"'],
    ['gcr.io/', 'it names no repository']
  ])('refuses %j, naming [runtime] base and why', (text, why) => {
    expect(() => parseImageReference(text, {})).toThrow(ActionError)
    expect(() => parseImageReference(text, {})).toThrow(why)
    expect(() => parseImageReference(text, {})).toThrow('[runtime] base')
  })
})

describe('imageDestination', () => {
  it('is the Artifact Registry repository of [gcp] repository in the region', () => {
    const destination = imageDestination({ ...gcp, repository: 'pmcp' }, 'hello-run', {})
    expect(destination.name).toBe('us-central1-docker.pkg.dev/demo-project/pmcp/hello-run')
    expect(destination.registry).toEqual({ host: 'us-central1-docker.pkg.dev', insecure: false })
    expect(destination.repository).toBe('demo-project/pmcp/hello-run')
    expect(destination.artifactRegistry).toEqual({ location: 'us-central1', repository: 'pmcp' })
  })

  it('is gcr.io without [gcp] repository, as cargo-pmcp before 0.28', () => {
    const destination = imageDestination(gcp, 'hello-run', {})
    expect(destination.name).toBe('gcr.io/demo-project/hello-run')
    expect(destination.artifactRegistry).toBeUndefined()
  })

  it('writes a domain-scoped project with a slash, as registries spell it', () => {
    expect(imageDestination({ ...gcp, projectId: 'example.com:tools' }, 'svc', {}).name).toBe('gcr.io/example.com/tools/svc')
  })

  it('goes to PMCP_GCP_REGISTRY_HOST when set, over HTTP for loopback or with PMCP_GCP_REGISTRY_INSECURE=true', () => {
    const loopback = imageDestination({ ...gcp, repository: 'pmcp' }, 'svc', { PMCP_GCP_REGISTRY_HOST: '127.0.0.1:5000' })
    expect(loopback.name).toBe('127.0.0.1:5000/demo-project/pmcp/svc')
    expect(loopback.registry.insecure).toBe(true)
    const mirror = { PMCP_GCP_REGISTRY_HOST: 'registry.internal:8443' }
    expect(imageDestination(gcp, 'svc', mirror).registry).toEqual({ host: 'registry.internal:8443', insecure: false })
    expect(imageDestination(gcp, 'svc', { ...mirror, PMCP_GCP_REGISTRY_INSECURE: 'true' }).registry.insecure).toBe(true)
  })

  it('refuses a PMCP_GCP_REGISTRY_HOST that is not host:port', () => {
    expect(() => imageDestination(gcp, 'svc', { PMCP_GCP_REGISTRY_HOST: 'http://127.0.0.1:5000/v2' })).toThrow(
      'PMCP_GCP_REGISTRY_HOST is "http://127.0.0.1:5000/v2": it must be a registry host with an optional port'
    )
  })

  it.each(['Pmcp', '1pmcp', 'pmcp-', 'pm_cp', 'pmcp/x', '--project=other', 'a'.repeat(64), ''])(
    'refuses [gcp] repository = %j with the rule and an example',
    repository => {
      expect(() => imageDestination({ ...gcp, repository }, 'svc', {})).toThrow(ActionError)
      expect(() => validateRepositoryId(repository)).toThrow(
        `[gcp] repository = ${JSON.stringify(repository)} is not an Artifact Registry repository id: use lowercase letters, ` +
          'digits and hyphens, start with a letter, end with a letter or digit, at most 63 characters (for example "pmcp").'
      )
    }
  )

  it.each(['pmcp', 'a', 'mcp-servers', 'x1', 'a'.repeat(63)])('takes [gcp] repository = %j', repository => {
    expect(() => validateRepositoryId(repository)).not.toThrow()
  })
})

describe('the binary layer', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-layer-'))
  const binary = path.join(dir, 'server')
  fs.writeFileSync(binary, crypto.randomBytes(70_001))

  it('holds the binary at usr/local/bin/mcp-server, root-owned, 0755, at the epoch, under its parent directories', async () => {
    const layer = await buildBinaryLayer(binary)
    const archive = path.join(dir, 'layer.tar.gz')
    fs.writeFileSync(archive, layer.blob)
    const listing = execFileSync('tar', ['--list', '--verbose', '--numeric-owner', '--full-time', '--file', archive], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' }
    })
    expect(
      listing
        .trim()
        .split('\n')
        .map(line => line.split(/\s+/))
    ).toEqual([
      ['drwxr-xr-x', '0/0', '0', '1970-01-01', '00:00:00', 'usr/'],
      ['drwxr-xr-x', '0/0', '0', '1970-01-01', '00:00:00', 'usr/local/'],
      ['drwxr-xr-x', '0/0', '0', '1970-01-01', '00:00:00', 'usr/local/bin/'],
      ['-rwxr-xr-x', '0/0', '70001', '1970-01-01', '00:00:00', 'usr/local/bin/mcp-server']
    ])
    const extracted = path.join(dir, 'out')
    fs.mkdirSync(extracted)
    execFileSync('tar', ['--extract', '--file', archive, '-C', extracted])
    expect(fs.readFileSync(path.join(extracted, 'usr/local/bin/mcp-server')).equals(fs.readFileSync(binary))).toBe(true)
  })

  it('has its digest over the gzip and its diff_id over the tar, the same for the same binary every time', async () => {
    const [first, second] = [await buildBinaryLayer(binary), await buildBinaryLayer(binary)]
    expect(first.digest).toBe(`sha256:${crypto.createHash('sha256').update(first.blob).digest('hex')}`)
    expect(first.diffId).toBe(`sha256:${crypto.createHash('sha256').update(gunzipSync(first.blob)).digest('hex')}`)
    expect(second.digest).toBe(first.digest)
    expect(second.diffId).toBe(first.diffId)
    expect(first.binarySize).toBe(70_001)
  })
})

describe('configWithBinary', () => {
  const base: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: {
      User: '65532',
      Env: ['PATH=/usr/bin', 'PORT=3000', 'TZ=UTC'],
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo hi'],
      WorkingDir: '/home/nonroot',
      Labels: { vendor: 'base' },
      StopSignal: 'SIGTERM'
    },
    rootfs: { type: 'layers', diff_ids: ['sha256:1'] },
    history: [{ created_by: 'base' }],
    'moby.buildkit.buildinfo.v1': 'kept'
  }

  it('runs the binary, sets PORT=8080 in place and exposes 8080, keeping everything else of the base', () => {
    const config = configWithBinary(base, { diffId: 'sha256:2', labels: { 'dev.pmcp.commit': 'abc' } })
    expect(config.config).toEqual({
      User: '65532',
      Env: ['PATH=/usr/bin', 'PORT=8080', 'TZ=UTC'],
      Cmd: ['/usr/local/bin/mcp-server'],
      WorkingDir: '/home/nonroot',
      Labels: { vendor: 'base', 'dev.pmcp.commit': 'abc' },
      StopSignal: 'SIGTERM',
      ExposedPorts: { '8080/tcp': {} }
    })
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: ['sha256:1', 'sha256:2'] })
    expect(config.history).toHaveLength(2)
    expect(config.history?.[1].created).toBe('2024-01-01T00:00:00Z')
    expect(config['moby.buildkit.buildinfo.v1']).toBe('kept')
    expect(base.config?.Entrypoint).toEqual(['/bin/sh', '-c'])
  })

  it('appends PORT=8080 to a base without PORT, and to one without any environment', () => {
    expect(configWithBinary({ ...base, config: { Env: ['A=1'] } }, { diffId: 'sha256:2' }).config?.Env).toEqual(['A=1', 'PORT=8080'])
    expect(configWithBinary({ rootfs: { type: 'layers', diff_ids: [] } }, { diffId: 'sha256:2' }).config?.Env).toEqual(['PORT=8080'])
  })
})

describe('pickPlatform', () => {
  const entry = (architecture: string, variant?: string, os = 'linux'): any => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${architecture}${variant ?? ''}`,
    size: 1,
    platform: { os, architecture, ...(variant ? { variant } : {}) }
  })

  it('takes linux/amd64, the entry without a CPU variant first', () => {
    const index = { manifests: [entry('arm64'), entry('amd64', 'v3'), entry('amd64'), entry('unknown', undefined, 'unknown')] }
    expect(pickPlatform(index, 'the base').digest).toBe('sha256:amd64')
    expect(pickPlatform({ manifests: [entry('amd64', 'v2')] }, 'the base').digest).toBe('sha256:amd64v2')
  })

  it('names the platforms there are when linux/amd64 is not among them (attestations aside)', () => {
    const index = {
      manifests: [entry('arm64'), entry('s390x'), entry('amd64', undefined, 'windows'), entry('unknown', undefined, 'unknown')]
    }
    expect(() => pickPlatform(index, 'the base image x')).toThrow(
      'the base image x has no linux/amd64 image; it has linux/arm64, linux/s390x, windows/amd64. Cloud Run runs linux/amd64'
    )
  })
})

describe('the token challenge', () => {
  it("reads Docker's Bearer challenge and merges scopes per repository", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",' +
          'scope="repository:library/debian:pull",error="insufficient_scope"'
      )
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/debian:pull',
        error: 'insufficient_scope'
      }
    })
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } })
    expect(mergeScopes(['repository:a/b:push', 'repository:c:pull', 'repository:a/b:pull'])).toEqual([
      'repository:a/b:pull,push',
      'repository:c:pull'
    ])
  })
})
