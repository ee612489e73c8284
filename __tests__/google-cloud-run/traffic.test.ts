import { describe, expect, it } from '@jest/globals'
import { ActionError } from '../../src/action-error.js'
import type { Condition, Revision, RunService, TrafficTarget } from '../../src/gcp/run-types.js'
import {
  TAG_AND_SERVICE_MAX,
  previewTag,
  previewTraffic,
  productionTraffic,
  rollbackTarget,
  rollbackTraffic,
  servingRevision,
  tagUrl,
  withoutTag
} from '../../src/targets/google-cloud-run/traffic.js'

const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST'
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION'
const SERVICE_NAME = 'projects/proj/locations/us-central1/services/hello'

const to = (revision: string, percent: number, tag?: string): TrafficTarget => ({
  type: REVISION,
  revision,
  percent,
  ...(tag ? { tag } : {})
})

function service(overrides: Partial<RunService>): RunService {
  return { name: SERVICE_NAME, template: { containers: [{ image: 'x' }] }, ...overrides }
}

/** What Cloud Run takes and what the action promises: percents add up to 100, tags unique, nothing on LATEST. */
function expectRoutable(traffic: TrafficTarget[]): void {
  expect(traffic.reduce((sum, target) => sum + (target.percent ?? 0), 0)).toBe(100)
  const tags = traffic.map(target => target.tag).filter(Boolean)
  expect(new Set(tags).size).toBe(tags.length)
  for (const target of traffic) {
    expect(target.type).toBe(REVISION)
    expect(target.revision).toMatch(/^hello-/)
  }
}

/** A service the action deployed: production on hello-a, preview pr-3 on hello-b, a canary tag someone put on LATEST. */
const deployed = service({
  traffic: [to('hello-a', 100), { type: REVISION, revision: 'hello-b', tag: 'pr-3' }, { type: LATEST, tag: 'canary' }],
  trafficStatuses: [
    { type: REVISION, revision: 'hello-a', percent: 100, uri: undefined },
    { type: REVISION, revision: 'hello-b', tag: 'pr-3', uri: 'https://pr-3---hello-xyz-uc.a.run.app' },
    { type: LATEST, revision: 'hello-c', tag: 'canary', uri: 'https://canary---hello-xyz-uc.a.run.app' }
  ],
  latestReadyRevision: `${SERVICE_NAME}/revisions/hello-d`
})

/** A service `gcloud run deploy` made: everything on LATEST, Cloud Run's default. */
const byGcloud = service({
  traffic: [{ type: LATEST, percent: 100 }],
  trafficStatuses: [{ type: LATEST, percent: 100 }],
  latestReadyRevision: `${SERVICE_NAME}/revisions/hello-old`
})

describe('productionTraffic', () => {
  it('sends all traffic to the new revision by name and keeps every tag where it points (a LATEST tag pinned)', () => {
    const traffic = productionTraffic(deployed, 'hello-new')
    expect(traffic).toEqual([to('hello-new', 100), to('hello-b', 0, 'pr-3'), to('hello-c', 0, 'canary')])
    expectRoutable(traffic)
  })

  it('pins a LATEST tag to the latest ready revision when the status does not name one', () => {
    const traffic = productionTraffic(
      service({ traffic: [to('hello-a', 100), { type: LATEST, tag: 'edge' }], latestReadyRevision: 'hello-a' }),
      'hello-new'
    )
    expect(traffic).toEqual([to('hello-new', 100), to('hello-a', 0, 'edge')])
  })

  it('keeps a tag that sat on the production entry as a tag of the revision that served', () => {
    const traffic = productionTraffic(service({ traffic: [to('hello-a', 100, 'stable')] }), 'hello-new')
    expect(traffic).toEqual([to('hello-new', 100), to('hello-a', 0, 'stable')])
  })

  it('starts a new service with the new revision alone, and takes a gcloud-made service off LATEST', () => {
    expect(productionTraffic(undefined, 'hello-new')).toEqual([to('hello-new', 100)])
    expect(productionTraffic(byGcloud, 'hello-new')).toEqual([to('hello-new', 100)])
  })

  it('is what a rollback sends, to the revision rolled back to', () => {
    expect(rollbackTraffic(deployed, 'hello-z')).toEqual([to('hello-z', 100), to('hello-b', 0, 'pr-3'), to('hello-c', 0, 'canary')])
  })
})

describe('previewTraffic', () => {
  it('adds the preview tag with no traffic, leaving production and the other tags as they are', () => {
    const { traffic, previewServesProduction } = previewTraffic(deployed, 'hello-new', 'pr-7')
    expect(traffic).toEqual([to('hello-a', 100), to('hello-b', 0, 'pr-3'), to('hello-c', 0, 'canary'), to('hello-new', 0, 'pr-7')])
    expect(previewServesProduction).toBe(false)
    expectRoutable(traffic)
  })

  it('moves the tag of a preview deployed again to its new revision', () => {
    const { traffic } = previewTraffic(deployed, 'hello-new', 'pr-3')
    expect(traffic).toEqual([to('hello-a', 100), to('hello-c', 0, 'canary'), to('hello-new', 0, 'pr-3')])
    expectRoutable(traffic)
  })

  it('pins production of a gcloud-made service, which would otherwise follow LATEST onto the preview', () => {
    const { traffic, previewServesProduction } = previewTraffic(byGcloud, 'hello-new', 'pr-7')
    expect(traffic).toEqual([to('hello-old', 100), to('hello-new', 0, 'pr-7')])
    expect(previewServesProduction).toBe(false)
    expectRoutable(traffic)
  })

  it('keeps a production entry that carries its own tag once, with that tag', () => {
    const { traffic } = previewTraffic(service({ traffic: [to('hello-a', 100, 'stable')] }), 'hello-new', 'pr-7')
    expect(traffic).toEqual([to('hello-a', 100, 'stable'), to('hello-new', 0, 'pr-7')])
    expectRoutable(traffic)
  })

  it('takes the preview tag off a production entry that had it, without moving its traffic', () => {
    const { traffic } = previewTraffic(service({ traffic: [to('hello-a', 60, 'pr-7'), to('hello-b', 40)] }), 'hello-new', 'pr-7')
    expect(traffic).toEqual([to('hello-a', 60), to('hello-b', 40), to('hello-new', 0, 'pr-7')])
    expectRoutable(traffic)
  })

  it('gives the preview all traffic when there is no production to keep, and says so', () => {
    const fresh = previewTraffic(undefined, 'hello-new', 'pr-7')
    expect(fresh).toEqual({ traffic: [to('hello-new', 100), to('hello-new', 0, 'pr-7')], previewServesProduction: true })
    expectRoutable(fresh.traffic)
    const neverReady = previewTraffic(service({ traffic: [{ type: LATEST, percent: 100 }, to('hello-b', 0, 'pr-3')] }), 'hello-new', 'pr-7')
    expect(neverReady).toEqual({
      traffic: [to('hello-new', 100), to('hello-b', 0, 'pr-3'), to('hello-new', 0, 'pr-7')],
      previewServesProduction: true
    })
  })
})

describe('withoutTag', () => {
  it('drops the closed preview’s entry and nothing else', () => {
    expect(withoutTag(deployed, 'pr-3')).toEqual([to('hello-a', 100), { type: LATEST, tag: 'canary' }])
  })

  it('only untags an entry that carries traffic', () => {
    expect(withoutTag(service({ traffic: [to('hello-a', 100, 'pr-3')] }), 'pr-3')).toEqual([to('hello-a', 100)])
  })

  it('has nothing to do when the tag is not there', () => {
    expect(withoutTag(deployed, 'pr-99')).toBeUndefined()
    expect(withoutTag(service({}), 'pr-3')).toBeUndefined()
  })
})

describe('servingRevision and tagUrl', () => {
  it('names the revision with all traffic, or the largest share', () => {
    expect(servingRevision(deployed)).toBe('hello-a')
    expect(servingRevision(service({ traffic: [to('hello-a', 30), to('hello-b', 70)] }))).toBe('hello-b')
    expect(servingRevision(service({ traffic: [to('hello-a', 40), to('hello-b', 35), to('hello-b', 25, 'x')] }))).toBe('hello-b')
  })

  it('resolves LATEST, and believes what Cloud Run reports over what was asked', () => {
    expect(servingRevision(byGcloud)).toBe('hello-old')
    expect(servingRevision(service({ traffic: [to('hello-new', 100)], trafficStatuses: [to('hello-old', 100)] }))).toBe('hello-old')
    expect(servingRevision(service({ traffic: [{ type: LATEST, percent: 100 }] }))).toBeUndefined()
  })

  it('reads a tag’s URL from the traffic statuses', () => {
    expect(tagUrl(deployed, 'pr-3')).toBe('https://pr-3---hello-xyz-uc.a.run.app')
    expect(tagUrl(deployed, 'pr-4')).toBeUndefined()
  })
})

describe('previewTag', () => {
  const VALID_TAG = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/

  it('is pr-<N> for a PR number', () => {
    expect(previewTag('17', 'hello')).toBe('pr-17')
  })

  it('makes a tag of a branch-like id, starting with a letter', () => {
    expect(previewTag('Feature/Add_OAuth!!', 'hello')).toBe('feature-add-oauth')
    expect(previewTag('42-fix', 'hello')).toBe('p-42-fix')
  })

  it('fits tag and service name into Cloud Run’s limit, keeping long ids apart and stable', () => {
    const service = 'weather-server-production'
    const one = previewTag('feature/a-very-long-branch-name-number-one', service)
    const two = previewTag('feature/a-very-long-branch-name-number-two', service)
    for (const tag of [one, two]) {
      expect(tag).toMatch(VALID_TAG)
      expect(tag.length + service.length).toBeLessThanOrEqual(TAG_AND_SERVICE_MAX)
    }
    expect(one).not.toBe(two)
    expect(one).toBe(previewTag('feature/a-very-long-branch-name-number-one', service))
    expect(one.startsWith('feature-a-very')).toBe(true)
  })

  it('says which name to shorten when no tag fits', () => {
    let error: unknown
    try {
      previewTag('12345', 'x'.repeat(40))
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ActionError)
    expect((error as ActionError).message).toContain('at most 38 characters')
    expect(() => previewTag('some-branch', 'x'.repeat(40))).toThrow(/at most 38 characters/)
    expect(previewTag('some-long-branch', 'x'.repeat(38))).toMatch(/^s-[0-9a-f]{6}$/)
    expect(() => previewTag('///', 'hello')).toThrow(ActionError)
  })
})

describe('rollbackTarget', () => {
  const ready: Condition[] = [{ type: 'Ready', state: 'CONDITION_SUCCEEDED' }]
  const failed: Condition[] = [{ type: 'Ready', state: 'CONDITION_FAILED', message: 'container failed to start' }]
  const sha = (c: string): string => c.repeat(40)
  const revision = (
    name: string,
    createTime: string,
    labels: Record<string, string> | undefined,
    conditions: Condition[] = ready
  ): Revision => ({ name: `${SERVICE_NAME}/revisions/${name}`, createTime, conditions, ...(labels ? { labels } : {}) })
  const production = (commit: string): Record<string, string> => ({
    'managed-by': 'pmcp-deploy-action',
    'commit-sha': commit,
    stage: 'production'
  })
  const preview = (commit: string, id: string): Record<string, string> => ({ ...production(commit), stage: 'preview', 'preview-id': id })

  const revisions = [
    revision('hello-00001-abc', '2026-01-01T10:00:00Z', undefined),
    revision('hello-aaaaaaa-1-1', '2026-01-02T10:00:00.250Z', production(sha('a'))),
    revision('hello-bbbbbbb-2-1', '2026-01-03T10:00:00Z', preview(sha('b'), '5')),
    revision('hello-ccccccc-3-1', '2026-01-04T10:00:00Z', production(sha('c')), failed),
    revision('hello-ddddddd-4-1', '2026-01-05T10:00:00Z', production(sha('d'))),
    revision('hello-eeeeeee-5-1', '2026-01-06T10:00:00Z', preview(sha('e'), '6'))
  ]
  const servingOn = (name: string): RunService => service({ traffic: [to(name, 100)] })

  function error(action: () => unknown): ActionError {
    try {
      action()
    } catch (caught) {
      if (caught instanceof ActionError) return caught
      throw caught
    }
    throw new Error('expected an ActionError')
  }

  it('takes previous to the newest ready production revision older than the serving one', () => {
    expect(rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), 'previous')).toEqual({ revision: 'hello-aaaaaaa-1-1' })
    expect(rollbackTarget(revisions, servingOn('hello-aaaaaaa-1-1'), 'Previous')).toEqual({ revision: 'hello-00001-abc' })
  })

  it('orders by creation time, fractions of seconds included', () => {
    const sameSecond = [
      revision('hello-later', '2026-01-02T10:00:00.9Z', production(sha('9'))),
      revision('hello-earlier', '2026-01-02T10:00:00Z', production(sha('8')))
    ]
    expect(rollbackTarget(sameSecond, servingOn('hello-later'), 'previous')).toEqual({ revision: 'hello-earlier' })
  })

  it('lists the revisions and how to pick one when there is no previous', () => {
    const message = error(() => rollbackTarget(revisions, servingOn('hello-00001-abc'), 'previous')).message
    expect(message).toContain('no ready production revision older than the one serving now (hello-00001-abc)')
    expect(message).toContain('Nothing was changed')
    expect(message).toContain('- hello-eeeeeee-5-1 (commit eeeeeeeeeeee, preview 6, 2026-01-06 10:00)')
    expect(message).toContain('- hello-ccccccc-3-1 (commit cccccccccccc, production, 2026-01-04 10:00, not ready)')
    expect(message).toContain('- hello-00001-abc (not deployed by this action, 2026-01-01 10:00, serving now)')
    expect(message.indexOf('- hello-eeeeeee')).toBeLessThan(message.indexOf('- hello-00001-abc'))
    expect(message).toContain("Set 'rollback-to' to 'previous', one of these revision names, or the commit SHA")
  })

  it('refuses previous when the serving revision is not among those listed', () => {
    expect(error(() => rollbackTarget(revisions, servingOn('hello-gone'), 'previous')).message).toContain('(hello-gone) is not among')
  })

  it('takes a revision by its short or full name, saying when it was a preview', () => {
    expect(rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), 'hello-00001-abc')).toEqual({ revision: 'hello-00001-abc' })
    expect(rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), `${SERVICE_NAME}/revisions/hello-aaaaaaa-1-1`)).toEqual({
      revision: 'hello-aaaaaaa-1-1'
    })
    const choice = rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), 'hello-bbbbbbb-2-1')
    expect(choice.revision).toBe('hello-bbbbbbb-2-1')
    expect(choice.note).toContain('deployed as a preview (5)')
  })

  it('refuses a revision that is not ready or does not exist', () => {
    const notReady = error(() => rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), 'hello-ccccccc-3-1'))
    expect(notReady.message).toContain('hello-ccccccc-3-1 is not ready')
    const missing = error(() => rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), 'hello-00009-xyz'))
    expect(missing.title).toBe('Rollback target not found')
    expect(missing.message).toContain('hello-00009-xyz does not exist')
    expect(missing.message).toContain('still sends its traffic to hello-ddddddd-4-1')
  })

  it('takes a commit SHA prefix, in any case', () => {
    expect(rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), 'AAAAAAA')).toEqual({ revision: 'hello-aaaaaaa-1-1' })
    expect(rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), sha('a'))).toEqual({ revision: 'hello-aaaaaaa-1-1' })
  })

  it('takes the newest ready revision of a commit deployed several times, production first, and says so', () => {
    const again = [
      ...revisions,
      revision('hello-aaaaaaa-7-1', '2026-01-07T10:00:00Z', preview(sha('a'), '9')),
      revision('hello-ddddddd-8-1', '2026-01-08T10:00:00Z', production(sha('d'))),
      revision('hello-ddddddd-9-1', '2026-01-09T10:00:00Z', production(sha('d')), failed)
    ]
    const fromPreview = rollbackTarget(again, servingOn('hello-ddddddd-4-1'), 'aaaaaaa')
    expect(fromPreview.revision).toBe('hello-aaaaaaa-1-1')
    expect(fromPreview.note).toContain('2 revisions were deployed from commit aaaaaaaaaaaa')
    const newest = rollbackTarget(again, servingOn('hello-aaaaaaa-1-1'), 'ddddddd')
    expect(newest.revision).toBe('hello-ddddddd-8-1')
    expect(newest.note).toContain('3 revisions')
  })

  it('refuses a prefix of several commits, a commit not deployed, a commit whose revisions cannot serve, and nonsense', () => {
    const twoCommits = [
      revision('hello-x-1', '2026-01-01T00:00:00Z', production(`abcdef01${'0'.repeat(32)}`)),
      revision('hello-y-1', '2026-01-02T00:00:00Z', production(`abcdef02${'0'.repeat(32)}`))
    ]
    expect(error(() => rollbackTarget(twoCommits, servingOn('hello-y-1'), 'abcdef0')).title).toBe('Ambiguous rollback target')
    expect(error(() => rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), '1234567')).message).toContain(
      'No revision was deployed from commit 1234567'
    )
    expect(error(() => rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), 'ccccccc')).message).toContain('is not ready')
    expect(error(() => rollbackTarget(revisions, servingOn('hello-ddddddd-4-1'), 'v1.2')).title).toBe("Invalid input 'rollback-to'")
  })
})
