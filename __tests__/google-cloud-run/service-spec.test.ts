import { describe, expect, it } from '@jest/globals'
import { ActionError } from '../../src/action-error.js'
import type { RunService } from '../../src/gcp/run-types.js'
import {
  revisionLabels,
  revisionName,
  revisionTemplate,
  serviceSpec,
  type RevisionConfig
} from '../../src/targets/google-cloud-run/service-spec.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`
const IMAGE = `us-central1-docker.pkg.dev/proj/pmcp/hello-run@${DIGEST}`
const SHA = '0123456789abcdef0123456789abcdef01234567'

/** Cloud Run's rule for a revision name: a DNS label (RFC 1035) of at most 63 characters. */
const DNS_LABEL = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/
/** GCP's rule for a label value. */
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/

function config(overrides: Partial<RevisionConfig> = {}): RevisionConfig {
  return {
    file: '.pmcp/deploy.toml',
    environment: { ZETA: 'last', ALPHA: 'first' },
    secrets: ['api-key', 'DB_PASSWORD'],
    cloudRun: { memory: '1Gi', cpu: '2', minInstances: 1, maxInstances: 7 },
    ...overrides
  }
}

const identity = { name: 'hello-run-0123456-abc-1', image: IMAGE, labels: { 'managed-by': 'pmcp-deploy-action', stage: 'production' } }

function thrown(action: () => unknown): ActionError {
  try {
    action()
  } catch (error) {
    if (error instanceof ActionError) return error
    throw error
  }
  throw new Error('expected an ActionError')
}

describe('revisionTemplate', () => {
  it('runs the image by digest on port 8080 with env, secrets, resources, scaling and labels', () => {
    expect(revisionTemplate(config(), identity)).toEqual({
      revision: 'hello-run-0123456-abc-1',
      labels: { 'managed-by': 'pmcp-deploy-action', stage: 'production' },
      scaling: { minInstanceCount: 1, maxInstanceCount: 7 },
      containers: [
        {
          image: IMAGE,
          ports: [{ containerPort: 8080 }],
          env: [
            { name: 'ALPHA', value: 'first' },
            { name: 'DB_PASSWORD', valueSource: { secretKeyRef: { secret: 'DB_PASSWORD', version: 'latest' } } },
            { name: 'RUST_LOG', value: 'info' },
            { name: 'ZETA', value: 'last' },
            { name: 'api-key', valueSource: { secretKeyRef: { secret: 'api-key', version: 'latest' } } }
          ],
          resources: { limits: { memory: '1Gi', cpu: '2' } }
        }
      ]
    })
  })

  it('lets [environment] set RUST_LOG, and never sets PORT itself', () => {
    const env = revisionTemplate(config({ environment: { RUST_LOG: 'debug' }, secrets: [] }), identity).containers[0].env
    expect(env).toEqual([{ name: 'RUST_LOG', value: 'debug' }])
  })

  it('refuses a variable Cloud Run reserves, on deploy.toml', () => {
    const error = thrown(() => revisionTemplate(config({ environment: { PORT: '3000', K_SERVICE: 'x' } }), identity))
    expect(error.location.file).toBe('.pmcp/deploy.toml')
    expect(error.message).toContain('PORT, K_SERVICE')
    expect(error.message).toContain('8080')
  })

  it('refuses a name that is both a variable and a secret', () => {
    const error = thrown(() => revisionTemplate(config({ environment: { TOKEN: 'x' }, secrets: ['TOKEN'] }), identity))
    expect(error.message).toMatch(/TOKEN is both in \[environment\] and in \[secrets\]/)
  })

  it('takes images by digest only (a tag would let Cloud Run run something else than was pushed)', () => {
    expect(() => revisionTemplate(config(), { ...identity, image: 'us-central1-docker.pkg.dev/proj/pmcp/hello-run:latest' })).toThrow(
      /by digest/
    )
  })
})

describe('revisionName', () => {
  it('is the service, the short SHA, the run id and the attempt (base 36)', () => {
    expect(revisionName('hello-run', SHA.toUpperCase(), { runId: '12345678901', runAttempt: 2 })).toBe('hello-run-0123456-5o6aqt1-2')
  })

  it('differs between runs and between attempts of one run, and is the same for the same run', () => {
    const names = [
      revisionName('hello-run', SHA, { runId: '12345678901', runAttempt: 1 }),
      revisionName('hello-run', SHA, { runId: '12345678901', runAttempt: 2 }),
      revisionName('hello-run', SHA, { runId: '12345678902', runAttempt: 1 }),
      revisionName('hello-run', SHA, { runId: 'local', runAttempt: 1 })
    ]
    expect(new Set(names).size).toBe(4)
    // A run id too long for the room left by a 49-character service is hashed with its attempt, still apart.
    const long = { runId: '9007199254740993', runAttempt: 1 }
    expect(revisionName('s'.repeat(49), SHA, long)).not.toBe(revisionName('s'.repeat(49), SHA, { ...long, runAttempt: 2 }))
    expect(revisionName('hello-run', SHA, { runId: 'local', runAttempt: 1 })).toBe(names[3])
  })

  it('is a valid Cloud Run revision name for every service name length, dropping the SHA when there is no room', () => {
    for (let length = 1; length <= 49; length++) {
      const service = `s${'e'.repeat(length - 1)}`
      for (const runId of ['1', '9007199254740993', 'not-a-number']) {
        const name = revisionName(service, SHA, { runId, runAttempt: 37 })
        expect(name.length).toBeLessThanOrEqual(63)
        expect(name).toMatch(DNS_LABEL)
        expect(name.startsWith(`${service}-`)).toBe(true)
      }
    }
    expect(revisionName('s'.repeat(49), SHA, { runId: '12345678901', runAttempt: 1 })).toBe(`${'s'.repeat(49)}-5o6aqt1-1`)
    expect(revisionName('s'.repeat(48), SHA, { runId: '12345678901', runAttempt: 1 })).toBe(`${'s'.repeat(48)}-0123-5o6aqt1-1`)
  })

  it('leaves out a commit that has no letters or digits (a local run without git)', () => {
    expect(revisionName('hello-run', '', { runId: '7', runAttempt: 1 })).toBe('hello-run-7-1')
  })
})

describe('revisionLabels', () => {
  it('labels a production revision with the action, the commit and the stage', () => {
    expect(revisionLabels({ commitSha: SHA.toUpperCase(), stage: 'production' })).toEqual({
      'managed-by': 'pmcp-deploy-action',
      'commit-sha': SHA,
      stage: 'production'
    })
  })

  it('names the preview of a preview revision, in characters a label value may hold', () => {
    expect(revisionLabels({ commitSha: SHA, stage: 'preview', previewId: '17' })['preview-id']).toBe('17')
    const labels = revisionLabels({ commitSha: 'f'.repeat(64), stage: 'preview', previewId: `Feature/Add_OAuth!! ${'x'.repeat(80)}` })
    expect(labels['preview-id'].startsWith('feature-add_oauth-')).toBe(true)
    for (const value of Object.values(labels)) expect(value).toMatch(LABEL_VALUE)
    expect(labels['commit-sha']).toHaveLength(63)
  })
})

describe('serviceSpec', () => {
  const template = revisionTemplate(config({ secrets: [] }), {
    ...identity,
    labels: revisionLabels({ commitSha: SHA, stage: 'production' })
  })
  const traffic = [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const, revision: identity.name, percent: 100 }]

  it('creates a service with the template and traffic, leaving ingress to Cloud Run unless deploy.toml sets it', () => {
    expect(serviceSpec(undefined, template, traffic, {})).toEqual({ labels: { 'managed-by': 'pmcp-deploy-action' }, template, traffic })
    expect(serviceSpec(undefined, template, traffic, {})).not.toHaveProperty('ingress')
    expect(serviceSpec(undefined, template, traffic, { ingress: 'all' }).ingress).toBe('INGRESS_TRAFFIC_ALL')
    expect(serviceSpec(undefined, template, traffic, { ingress: 'internal' }).ingress).toBe('INGRESS_TRAFFIC_INTERNAL_ONLY')
    expect(serviceSpec(undefined, template, traffic, { ingress: 'internal-and-cloud-load-balancing' }).ingress).toBe(
      'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER'
    )
  })

  const existing = {
    name: 'projects/proj/locations/us-central1/services/hello-run',
    uid: '5a1f',
    generation: '4',
    createTime: '2026-01-01T00:00:00Z',
    updateTime: '2026-01-02T00:00:00Z',
    creator: 'someone@example.com',
    lastModifier: 'someone@example.com',
    etag: '"abc123"',
    labels: { team: 'search' },
    annotations: { 'run.googleapis.com/description': 'kept' },
    ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY',
    invokerIamDisabled: false,
    template: {
      revision: 'hello-run-old-1',
      labels: { owner: 'ops', 'commit-sha': 'old', stage: 'preview', 'preview-id': '5', 'managed-by': 'pmcp-deploy-action' },
      annotations: { 'run.googleapis.com/cloudsql-instances': 'proj:us-central1:db' },
      serviceAccount: 'runtime@proj.iam.gserviceaccount.com',
      timeout: '120s',
      vpcAccess: { connector: 'projects/proj/locations/us-central1/connectors/c' },
      scaling: { minInstanceCount: 0, maxInstanceCount: 3 },
      containers: [
        { name: 'proxy', image: 'envoyproxy/envoy:v1.30' },
        {
          name: 'app',
          image: 'us-central1-docker.pkg.dev/proj/pmcp/hello-run@sha256:old',
          command: ['/usr/local/bin/mcp-server'],
          ports: [{ name: 'http1', containerPort: 8080 }],
          env: [{ name: 'GONE', value: 'was set in the console' }],
          resources: { limits: { memory: '256Mi', cpu: '1', 'nvidia.com/gpu': '1' }, cpuIdle: true },
          startupProbe: { tcpSocket: { port: 8080 } }
        }
      ]
    },
    traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }],
    uri: 'https://hello-run-xyz-uc.a.run.app',
    urls: ['https://hello-run-xyz-uc.a.run.app'],
    trafficStatuses: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }],
    latestReadyRevision: 'projects/proj/locations/us-central1/services/hello-run/revisions/hello-run-old-1',
    latestCreatedRevision: 'projects/proj/locations/us-central1/services/hello-run/revisions/hello-run-old-1',
    terminalCondition: { type: 'Ready', state: 'CONDITION_SUCCEEDED' },
    conditions: [{ type: 'RoutesReady', state: 'CONDITION_SUCCEEDED' }],
    observedGeneration: '4',
    reconciling: false,
    satisfiesPzs: false
  } as unknown as RunService

  it('updates the service as read: etag, name and what others set stay; our fields are replaced; output-only fields go', () => {
    const spec = serviceSpec(existing, template, traffic, {}) as unknown as Record<string, unknown>
    expect(spec).toEqual({
      name: 'projects/proj/locations/us-central1/services/hello-run',
      etag: '"abc123"',
      labels: { team: 'search', 'managed-by': 'pmcp-deploy-action' },
      annotations: { 'run.googleapis.com/description': 'kept' },
      ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY',
      invokerIamDisabled: false,
      template: {
        revision: identity.name,
        labels: { owner: 'ops', 'managed-by': 'pmcp-deploy-action', 'commit-sha': SHA, stage: 'production' },
        annotations: { 'run.googleapis.com/cloudsql-instances': 'proj:us-central1:db' },
        serviceAccount: 'runtime@proj.iam.gserviceaccount.com',
        timeout: '120s',
        vpcAccess: { connector: 'projects/proj/locations/us-central1/connectors/c' },
        scaling: { minInstanceCount: 1, maxInstanceCount: 7 },
        containers: [
          { name: 'proxy', image: 'envoyproxy/envoy:v1.30' },
          {
            name: 'app',
            image: IMAGE,
            command: ['/usr/local/bin/mcp-server'],
            ports: [{ containerPort: 8080 }],
            env: [
              { name: 'ALPHA', value: 'first' },
              { name: 'RUST_LOG', value: 'info' },
              { name: 'ZETA', value: 'last' }
            ],
            resources: { limits: { memory: '1Gi', cpu: '2', 'nvidia.com/gpu': '1' }, cpuIdle: true },
            startupProbe: { tcpSocket: { port: 8080 } }
          }
        ]
      },
      traffic
    })
    expect(JSON.stringify(spec)).not.toMatch(/"(uri|urls|uid|generation|createTime|trafficStatuses|latestReadyRevision|conditions)"/)
  })

  it('replaces the ingress only when deploy.toml sets one', () => {
    expect(serviceSpec(existing, template, traffic, { ingress: 'all' }).ingress).toBe('INGRESS_TRAFFIC_ALL')
  })

  it('leaves the service it was given as it was', () => {
    const before = JSON.stringify(existing)
    serviceSpec(existing, template, traffic, { ingress: 'all' })
    expect(JSON.stringify(existing)).toBe(before)
  })
})
