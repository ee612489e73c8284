import type { RunService, Revision, TrafficTarget } from '../../gcp/run-types.js'
import type { VersionRow } from '../../report/model.js'
import { servingRevision, shortRevisionName } from './traffic.js'

/** How many revisions the report lists. */
const LISTED = 10

/** The revision serving production traffic now, by its short name. */
export function servingNow(service: RunService | undefined): string | undefined {
  const serving = service && servingRevision(service)
  return serving && shortRevisionName(serving)
}

/** The revision tag `tag` names (declared traffic), by its short name. */
export function taggedRevision(service: RunService | undefined, tag: string): string | undefined {
  const entry: TrafficTarget | undefined = service?.traffic?.find(target => target.tag === tag)
  return entry?.revision && shortRevisionName(entry.revision)
}

/**
 * The rollback table of the report: the newest production revisions (preview revisions left out),
 * with the commit each was deployed from, which one serves now and which served before.
 */
export function revisionRows(revisions: Revision[], current: string | undefined, previous: string | undefined): VersionRow[] {
  return revisions
    .filter(revision => revision.labels?.stage !== 'preview')
    .sort((a, b) => (b.createTime ?? '').localeCompare(a.createTime ?? ''))
    .slice(0, LISTED)
    .map(revision => {
      const name = shortRevisionName(revision.name)
      return {
        version: name,
        commit: revision.labels?.['commit-sha'],
        date: revision.createTime,
        ...(name === current ? { current: true } : {}),
        ...(name === previous && previous !== current ? { previous: true } : {})
      }
    })
}
