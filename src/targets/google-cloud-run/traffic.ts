/**
 * Who serves what on a Cloud Run service. Production traffic always goes to a named revision, never
 * to LATEST: a preview deploys a revision of the same service, which would become LATEST and take
 * production over. Previews are revision tags with no traffic, each with its own URL
 * (`https://<tag>---<service>-<hash>.<region>.run.app`); rollback moves production traffic back to
 * a revision that exists. Every function here leaves tags it does not own where they point.
 */
import { createHash } from 'node:crypto'
import { ActionError } from '../../action-error.js'
import type { Revision, RunService, TrafficTarget } from '../../gcp/run-types.js'
import { isReady } from './conditions.js'

const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST'
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION'

/** Cloud Run refuses a traffic tag whose length plus the service name's exceeds this (together they make the tag URL's label). */
export const TAG_AND_SERVICE_MAX = 46

function percentOf(target: TrafficTarget): number {
  return target.percent ?? 0
}

function isLatest(target: TrafficTarget): boolean {
  return target.type === LATEST || (target.type === undefined && !target.revision)
}

function revisionTarget(revision: string, percent: number, tag?: string): TrafficTarget {
  return { type: REVISION, revision, percent, ...(tag ? { tag } : {}) }
}

/** The service's declared traffic; none declared means Cloud Run's default, all of it to LATEST. */
function declaredTraffic(service: RunService): TrafficTarget[] {
  return service.traffic && service.traffic.length > 0 ? service.traffic : [{ type: LATEST, percent: 100 }]
}

/** A revision's short name (what traffic names), from its full resource name (what `latestReadyRevision` and listings give). */
export function shortRevisionName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1)
}

/** The latest ready revision by short name. */
function latestReady(service: RunService): string | undefined {
  return service.latestReadyRevision ? shortRevisionName(service.latestReadyRevision) : undefined
}

/**
 * The revision a LATEST entry sends to now: what `trafficStatuses` shows for the same entry (same
 * tag), else the latest ready revision. Undefined when the service never had a ready revision.
 */
function latestNow(service: RunService, tag: string | undefined): string | undefined {
  const status = (service.trafficStatuses ?? []).find(s => isLatest(s) && (s.tag || undefined) === (tag || undefined) && s.revision)
  return status?.revision ?? latestReady(service)
}

/** The entry pinned to the revision it reaches now (a LATEST entry becomes a REVISION one); undefined when it reaches none. */
function pinned(service: RunService, target: TrafficTarget): TrafficTarget | undefined {
  if (!isLatest(target)) return target
  const revision = latestNow(service, target.tag)
  return revision ? revisionTarget(revision, percentOf(target), target.tag) : undefined
}

/** Tagged entries as 0% entries on the revisions they point at now; a tag that reaches no revision goes. */
function tagsKept(service: RunService, entries: TrafficTarget[]): TrafficTarget[] {
  return entries
    .filter(target => target.tag)
    .map(target => pinned(service, target))
    .filter((target): target is TrafficTarget & { revision: string } => target?.revision !== undefined)
    .map(target => revisionTarget(target.revision, 0, target.tag))
}

function untagged(target: TrafficTarget): TrafficTarget {
  const copy = { ...target }
  delete copy.tag
  return copy
}

/** A production deploy: all traffic to the new revision, every tag kept where it points. */
export function productionTraffic(existing: RunService | undefined, newRevision: string): TrafficTarget[] {
  return [revisionTarget(newRevision, 100), ...(existing ? tagsKept(existing, declaredTraffic(existing)) : [])]
}

/** Rollback: all traffic to `revision`, every tag kept where it points. */
export function rollbackTraffic(service: RunService, revision: string): TrafficTarget[] {
  return productionTraffic(service, revision)
}

export interface PreviewTraffic {
  traffic: TrafficTarget[]
  /**
   * True when the preview's revision had to take all traffic: a new service (a service must send its
   * traffic somewhere), or one whose production entry reaches no revision. The caller warns.
   */
  previewServesProduction: boolean
}

/**
 * A preview deploy: the production entries stay on the revisions they reach now (pinned, if they
 * were LATEST), the other tags too, and tag `tag` points at the new revision with no traffic.
 */
export function previewTraffic(existing: RunService | undefined, newRevision: string, tag: string): PreviewTraffic {
  const tagged = revisionTarget(newRevision, 0, tag)
  if (!existing) return { traffic: [revisionTarget(newRevision, 100), tagged], previewServesProduction: true }
  const entries = declaredTraffic(existing)
  const production = entries.filter(target => percentOf(target) > 0).map(target => pinned(existing, target))
  const otherTags = entries.filter(target => percentOf(target) === 0 && target.tag !== tag)
  if (production.length === 0 || production.some(target => target === undefined)) {
    const keptTags = tagsKept(
      existing,
      entries.filter(target => target.tag !== tag)
    )
    return { traffic: [revisionTarget(newRevision, 100), ...keptTags, tagged], previewServesProduction: true }
  }
  // An entry that carries traffic keeps it; only a tag equal to the preview's moves to the preview.
  const kept = (production as TrafficTarget[]).map(target => (target.tag === tag ? untagged(target) : target))
  return { traffic: [...kept, ...tagsKept(existing, otherTags), tagged], previewServesProduction: false }
}

/**
 * The service's traffic without tag `tag` (a closed preview): its 0% entry goes, an entry that carries
 * traffic only loses the tag; no percent changes. Undefined when the tag is not there.
 */
export function withoutTag(service: RunService, tag: string): TrafficTarget[] | undefined {
  const traffic = service.traffic ?? []
  if (!traffic.some(target => target.tag === tag)) return undefined
  return traffic
    .filter(target => target.tag !== tag || percentOf(target) > 0)
    .map(target => (target.tag === tag ? untagged(target) : target))
}

/**
 * The revision production traffic goes to: the one with all of it, or the largest share. Read from
 * what Cloud Run reports (`trafficStatuses`), else from the declared traffic; LATEST resolved.
 */
export function servingRevision(service: RunService): string | undefined {
  const reported = (service.trafficStatuses ?? []).filter(target => percentOf(target) > 0)
  const source = reported.length > 0 ? reported : declaredTraffic(service).filter(target => percentOf(target) > 0)
  const shares = new Map<string, number>()
  for (const target of source) {
    const revision = isLatest(target) ? (target.revision ?? latestReady(service)) : target.revision
    if (revision) shares.set(revision, (shares.get(revision) ?? 0) + percentOf(target))
  }
  let serving: string | undefined
  for (const [revision, percent] of shares) if (serving === undefined || percent > (shares.get(serving) ?? 0)) serving = revision
  return serving
}

/** The URL of tag `tag`, as Cloud Run reports it. */
export function tagUrl(service: RunService, tag: string): string | undefined {
  return (service.trafficStatuses ?? []).find(target => target.tag === tag)?.uri
}

function tagTooLong(previewId: string, service: string, shortestTag: number): ActionError {
  return new ActionError(
    'Preview tag does not fit',
    `Cloud Run allows at most ${TAG_AND_SERVICE_MAX} characters for a revision tag and the service name together, and service ` +
      `'${service}' (${service.length} characters) leaves no room for a tag of ${shortestTag} characters naming preview '${previewId}'. ` +
      `Shorten [server] name in deploy.toml to at most ${TAG_AND_SERVICE_MAX - shortestTag} characters.`
  )
}

/** Length of the id's hash that keeps two long ids cut to the same prefix apart. */
const TAG_HASH = 6

/**
 * The revision tag of a preview: `pr-<N>` for a PR number; otherwise the id in lower-case letters,
 * digits and single hyphens, starting with a letter (`p-` is put before one that does not), cut to
 * fit Cloud Run's limit on tag plus service name, with a short hash of the whole id when cut.
 */
export function previewTag(previewId: string, service: string): string {
  const trimmed = previewId.trim()
  const room = TAG_AND_SERVICE_MAX - service.length
  if (/^\d+$/.test(trimmed)) {
    const tag = `pr-${trimmed}`
    if (tag.length > room) throw tagTooLong(previewId, service, tag.length)
    return tag
  }
  const cleaned = trimmed
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  if (cleaned === '') {
    throw new ActionError("Invalid input 'preview-id'", `preview-id '${previewId}' has no letters or digits to name a preview tag with.`)
  }
  const tag = /^[a-z]/.test(cleaned) ? cleaned : `p-${cleaned}`
  if (tag.length <= room) return tag
  // The hash is of the id alone, so the same preview keeps its tag from run to run.
  const hash = createHash('sha256').update(trimmed).digest('hex').slice(0, TAG_HASH)
  // The shortest cut tag is a letter, a hyphen and the hash.
  if (room < TAG_HASH + 2) throw tagTooLong(previewId, service, TAG_HASH + 2)
  return `${tag.slice(0, room - TAG_HASH - 1).replace(/-+$/, '')}-${hash}`
}

// --- rollback -------------------------------------------------------------------------------------

/** How many revisions an error message lists. */
const LISTED_IN_ERRORS = 20
const SHA_LIKE = /^[0-9a-f]{7,40}$/

export interface RollbackChoice {
  /** The revision's short name (what traffic names). */
  revision: string
  /** Something the log should say about the choice (several matches, a preview revision). */
  note?: string
}

function shortName(revision: Revision): string {
  return shortRevisionName(revision.name)
}

function serviceShortName(service: RunService, revisions: Revision[]): string {
  const name = service.name ?? revisions[0]?.service ?? 'the service'
  return name.slice(name.lastIndexOf('/') + 1)
}

function isPreview(revision: Revision): boolean {
  return revision.labels?.stage === 'preview'
}

/** Creation time in ms; a revision without one counts as the oldest. */
function createdAt(revision: Revision): number {
  const time = revision.createTime ? Date.parse(revision.createTime) : Number.NaN
  return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time
}

/** Newest first, by creation time (then name, for revisions created in the same instant). */
function newestFirst(revisions: Revision[]): Revision[] {
  return [...revisions].sort((a, b) => createdAt(b) - createdAt(a) || shortName(b).localeCompare(shortName(a)))
}

function describeRevision(revision: Revision, serving: string | undefined): string {
  const labels = revision.labels ?? {}
  const facts = [
    labels['commit-sha'] ? `commit ${labels['commit-sha'].slice(0, 12)}` : undefined,
    labels.stage === 'preview'
      ? `preview${labels['preview-id'] ? ` ${labels['preview-id']}` : ''}`
      : (labels.stage ?? 'not deployed by this action'),
    revision.createTime ? revision.createTime.slice(0, 16).replace('T', ' ') : undefined,
    isReady(revision) ? undefined : 'not ready',
    shortName(revision) === serving ? 'serving now' : undefined
  ]
  return `${shortName(revision)} (${facts.filter(Boolean).join(', ')})`
}

function listForMessage(revisions: Revision[], serving: string | undefined): string {
  if (revisions.length === 0) return '  (none)'
  const sorted = newestFirst(revisions)
  const shown = sorted.slice(0, LISTED_IN_ERRORS).map(revision => `  - ${describeRevision(revision, serving)}`)
  const hidden = sorted.length - shown.length
  return [...shown, ...(hidden > 0 ? [`  … and ${hidden} older`] : [])].join('\n')
}

function targetMissing(what: string, revisions: Revision[], service: RunService): ActionError {
  const serving = servingRevision(service)
  return new ActionError(
    'Rollback target not found',
    `${what} Nothing was changed: service ${serviceShortName(service, revisions)} still sends its traffic to ` +
      `${serving ?? '(no revision)'}.\n` +
      `Revisions that exist (newest first):\n${listForMessage(revisions, serving)}\n` +
      "Set 'rollback-to' to 'previous', one of these revision names, or the commit SHA (7+ characters) of one of them."
  )
}

function notReady(revision: Revision, revisions: Revision[], service: RunService): ActionError {
  return targetMissing(`Revision ${shortName(revision)} is not ready to serve, so traffic cannot move to it.`, revisions, service)
}

/** `previous`: the newest production revision (or one made before the action labelled any) older than the serving one, and ready. */
function previousRevision(revisions: Revision[], service: RunService): RollbackChoice {
  const serving = servingRevision(service)
  const current = revisions.find(revision => shortName(revision) === serving)
  if (!current) {
    throw targetMissing(
      `The revision serving now (${serving ?? 'none'}) is not among the service's revisions, ` +
        'so there is no telling which one came before it.',
      revisions,
      service
    )
  }
  const before = newestFirst(revisions).find(
    revision => !isPreview(revision) && isReady(revision) && createdAt(revision) < createdAt(current)
  )
  if (!before) {
    throw targetMissing(`There is no ready production revision older than the one serving now (${serving}).`, revisions, service)
  }
  return { revision: shortName(before) }
}

function previewNote(revision: Revision): string | undefined {
  if (!isPreview(revision)) return undefined
  const id = revision.labels?.['preview-id']
  return `${shortName(revision)} was deployed as a preview${id ? ` (${id})` : ''}; production traffic now goes to it.`
}

function byCommit(prefix: string, revisions: Revision[], service: RunService): RollbackChoice {
  const matching = newestFirst(revisions).filter(revision => revision.labels?.['commit-sha']?.startsWith(prefix))
  if (matching.length === 0) throw targetMissing(`No revision was deployed from commit ${prefix}.`, revisions, service)
  const commits = [...new Set(matching.map(revision => revision.labels?.['commit-sha']))]
  if (commits.length > 1) {
    throw new ActionError(
      'Ambiguous rollback target',
      `Commit prefix ${prefix} matches ${commits.length} commits (${commits.map(commit => commit?.slice(0, 12)).join(', ')}). ` +
        'Nothing was changed; give more characters of the SHA.'
    )
  }
  const ready = matching.filter(revision => isReady(revision))
  if (ready.length === 0) throw notReady(matching[0], revisions, service)
  // A commit deployed to production and as a preview: production's revision is the one meant.
  const chosen = ready.find(revision => !isPreview(revision)) ?? ready[0]
  const several =
    matching.length > 1
      ? `${matching.length} revisions were deployed from commit ${commits[0]?.slice(0, 12)} ` +
        `(${matching.map(shortName).join(', ')}); rolling back to ${shortName(chosen)}, the newest ready ` +
        `${isPreview(chosen) ? 'one' : 'production one'}.`
      : undefined
  const note = [several, previewNote(chosen)].filter(Boolean).join(' ')
  return { revision: shortName(chosen), ...(note ? { note } : {}) }
}

/**
 * Which revision `wanted` names: `previous`; a revision name, short (`hello-00002-abc`) or the full
 * resource name; or a commit SHA (7 to 40 hex characters) matched as a prefix of label `commit-sha`
 * (several revisions of it: the newest ready one, production before preview). A target that does
 * not exist or cannot serve is an error listing the revisions there are.
 */
export function rollbackTarget(revisions: Revision[], service: RunService, wanted: string): RollbackChoice {
  const asked = wanted.trim().toLowerCase()
  if (asked === 'previous') return previousRevision(revisions, service)
  const named = revisions.find(revision => (asked.includes('/') ? revision.name.toLowerCase() : shortName(revision)) === asked)
  if (named) {
    if (!isReady(named)) throw notReady(named, revisions, service)
    const note = previewNote(named)
    return { revision: shortName(named), ...(note ? { note } : {}) }
  }
  if (SHA_LIKE.test(asked)) return byCommit(asked, revisions, service)
  if (asked.includes('/') || asked.startsWith(`${serviceShortName(service, revisions)}-`)) {
    throw targetMissing(`Revision ${wanted.trim()} does not exist.`, revisions, service)
  }
  throw new ActionError(
    "Invalid input 'rollback-to'",
    `rollback-to '${wanted}' is neither 'previous', a revision name of service ${serviceShortName(service, revisions)}, ` +
      'nor a commit SHA (7 to 40 hex characters).'
  )
}
