/**
 * What Cloud Run says about a revision that does not come up: a service carries its outcome in
 * `terminalCondition` plus `conditions`, a revision in `conditions` only. A failed revision repeats
 * itself (the service's `Ready` quotes the revision's, which quotes `ContainerHealthy`), so the
 * messages are folded into the few a user needs to read.
 */
import type { Condition } from '../../gcp/run-types.js'

/** A service or a revision, as far as their conditions go. */
export interface HasConditions {
  terminalCondition?: Condition
  conditions?: Condition[]
}

function allConditions(resource: HasConditions): Condition[] {
  return [...(resource.terminalCondition ? [resource.terminalCondition] : []), ...(resource.conditions ?? [])]
}

/** True when the resource's `Ready` condition succeeded; a resource that reports none is not counted as ready. */
export function isReady(resource: HasConditions): boolean {
  return allConditions(resource).find(condition => condition.type === 'Ready')?.state === 'CONDITION_SUCCEEDED'
}

function describe(condition: Condition): string {
  const reason = condition.reason ?? condition.revisionReason
  const message = condition.message?.trim() || '(Cloud Run gave no message)'
  return `${condition.type}${reason ? ` (${reason})` : ''}: ${message}`
}

/**
 * The failed conditions as `Type (Reason): message`, the terminal condition first, then the others in
 * the order Cloud Run lists them. A condition whose message is repeated within another's (or is the
 * same) is left out: the longer one says it with more context.
 */
export function failedConditions(resource: HasConditions): string[] {
  const failed = allConditions(resource).filter(condition => condition.state === 'CONDITION_FAILED')
  const messages = failed.map(condition => condition.message?.trim() ?? '')
  const kept = failed.filter((_, index) => {
    const message = messages[index]
    if (message === '') return true
    const firstSame = messages.indexOf(message) === index
    const quotedElsewhere = messages.some((other, otherIndex) => otherIndex !== index && other !== message && other.includes(message))
    return firstSame && !quotedElsewhere
  })
  return [...new Set(kept.map(describe))]
}
