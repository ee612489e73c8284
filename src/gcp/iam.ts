/**
 * Who may invoke a Cloud Run service: `[server] allow_unauthenticated` as the service's IAM policy.
 * The policy is read, changed in the one binding that matters and written back with the etag it was
 * read with, so every other binding and member (someone's own invoker, a group's viewer role) stays,
 * and a policy changed by someone else in between is read again instead of overwritten.
 */
import * as core from '@actions/core'
import { ActionError } from '../action-error.js'
import { GcpApiError } from './rest.js'
import type { CloudRunApi } from './run-api.js'
import type { IamPolicy } from './run-types.js'

export const INVOKER_ROLE = 'roles/run.invoker'
export const ALL_USERS = 'allUsers'
/** Any Google account: not public, but not private either, so a private service has neither. */
export const ALL_AUTHENTICATED_USERS = 'allAuthenticatedUsers'

/** How often a write that lost the race with another change is tried again, each time on a fresh read. */
const CONFLICT_ATTEMPTS = 4

export interface InvokerChange {
  /** Whether the service is public now. */
  public: boolean
  /** Members added to roles/run.invoker. */
  added: string[]
  /** Members removed from roles/run.invoker. */
  removed: string[]
}

type Binding = NonNullable<IamPolicy['bindings']>[number]

/**
 * `policy` with `allUsers` in the unconditional roles/run.invoker binding (public), or without
 * `allUsers` and `allAuthenticatedUsers` in any invoker binding (private). Nothing else changes.
 */
export function withInvokerPolicy(
  policy: IamPolicy,
  allowUnauthenticated: boolean
): { policy: IamPolicy; added: string[]; removed: string[] } {
  const bindings: Binding[] = (policy.bindings ?? []).map(binding => ({ ...binding, members: [...binding.members] }))
  const added: string[] = []
  const removed: string[] = []
  if (allowUnauthenticated) {
    // A conditional binding admits only when its condition holds: public means the unconditional one.
    const invoker = bindings.find(binding => binding.role === INVOKER_ROLE && !binding.condition)
    if (!invoker) {
      bindings.push({ role: INVOKER_ROLE, members: [ALL_USERS] })
      added.push(ALL_USERS)
    } else if (!invoker.members.includes(ALL_USERS)) {
      invoker.members.push(ALL_USERS)
      added.push(ALL_USERS)
    }
  } else {
    for (const binding of bindings) {
      if (binding.role !== INVOKER_ROLE) continue
      const kept = binding.members.filter(member => member !== ALL_USERS && member !== ALL_AUTHENTICATED_USERS)
      for (const member of binding.members) if (!kept.includes(member) && !removed.includes(member)) removed.push(member)
      binding.members = kept
    }
  }
  // A binding without members means nothing; the API drops it, and sending it back is noise.
  return { policy: { ...policy, bindings: bindings.filter(binding => binding.members.length > 0) }, added, removed }
}

function isConcurrentChange(error: unknown): boolean {
  return error instanceof GcpApiError && (error.status === 409 || error.googleStatus === 'ABORTED')
}

/** An organization policy (domain restricted sharing) refuses `allUsers`: Google answers 400 FAILED_PRECONDITION. */
function isOrganizationRefusal(error: unknown): error is GcpApiError {
  return error instanceof GcpApiError && error.googleStatus === 'FAILED_PRECONDITION'
}

function organizationRefusal(error: GcpApiError, serviceId: string): ActionError {
  return new ActionError(
    'Organization policy refuses a public service',
    `Making ${serviceId} public (roles/run.invoker for allUsers) was refused: ${error.apiMessage}\n` +
      'An organization policy restricts who may be granted roles in this project (Domain restricted sharing, the constraint ' +
      'iam.allowedPolicyMemberDomains), and allUsers is outside it. Either set [server] allow_unauthenticated = false in ' +
      ".pmcp/deploy.toml (the action then smoke-tests the service with the deploy service account's ID token), or ask an " +
      'organization administrator for an exception for this project.'
  )
}

/**
 * Makes the service public (`allowUnauthenticated`) or private, by a read-modify-write of its IAM
 * policy. Returns what changed; nothing is written when nothing needs to change.
 */
export async function setInvokerAccess(api: CloudRunApi, serviceId: string, allowUnauthenticated: boolean): Promise<InvokerChange> {
  for (let attempt = 1; ; attempt++) {
    const current = await api.getIamPolicy(serviceId)
    const { policy, added, removed } = withInvokerPolicy(current, allowUnauthenticated)
    if (added.length === 0 && removed.length === 0) return { public: allowUnauthenticated, added, removed }
    try {
      await api.setIamPolicy(serviceId, policy)
      core.info(
        `${serviceId}: ${allowUnauthenticated ? 'public' : 'private'} ` +
          `(${[...added.map(member => `+${member}`), ...removed.map(member => `-${member}`)].join(', ')} in ${INVOKER_ROLE})`
      )
      return { public: allowUnauthenticated, added, removed }
    } catch (error) {
      if (isOrganizationRefusal(error) && allowUnauthenticated) throw organizationRefusal(error, serviceId)
      if (!isConcurrentChange(error) || attempt >= CONFLICT_ATTEMPTS) throw error
      core.info(`The IAM policy of ${serviceId} changed while it was being updated; reading it again (attempt ${attempt + 1})`)
    }
  }
}
