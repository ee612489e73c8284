/**
 * What to check when a registry refuses: for the destination, the service account's role on the
 * Artifact Registry repository or the repository itself; for the base, `[runtime] base` and whether
 * it can be read with the credentials given.
 */
import type { RegistryFailure } from './registry.js'
import type { ImageDestination, ImageReference } from './reference.js'

const REFUSED = new Set(['DENIED', 'UNAUTHORIZED'])

function refused(failure: RegistryFailure): boolean {
  return failure.status === 401 || failure.status === 403 || (failure.code !== undefined && REFUSED.has(failure.code))
}

const RATE_LIMITED =
  'The registry rate-limits pulls (Docker Hub does so for anonymous ones): copy the base into your Artifact Registry ' +
  'repository and set [runtime] base to the copy, or run the job again later.'

/** Advice for refusals of the push to the destination repository. */
export function destinationAdvice(destination: ImageDestination): (failure: RegistryFailure) => string {
  const ar = destination.artifactRegistry
  const project = destination.project
  return failure => {
    if (refused(failure)) {
      if (ar) {
        return (
          `The deploying service account needs roles/artifactregistry.writer on the Artifact Registry repository ` +
          `${ar.repository} (project ${project}, location ${ar.location}): gcloud artifacts repositories add-iam-policy-binding ` +
          `${ar.repository} --project=${project} --location=${ar.location} --member=serviceAccount:<service-account> ` +
          '--role=roles/artifactregistry.writer.'
        )
      }
      return (
        `gcr.io pushes go to the gcr.io repository of project ${project} in Artifact Registry: the service account needs ` +
        'roles/artifactregistry.createOnPushWriter there (roles/artifactregistry.writer once the repository exists). ' +
        'Or set [gcp] repository (for example "pmcp") to push to an Artifact Registry repository of your own.'
      )
    }
    if (failure.code === 'NAME_UNKNOWN' || failure.status === 404) {
      if (ar) {
        return (
          `The Artifact Registry repository ${ar.repository} does not exist in project ${project}, location ${ar.location}: ` +
          `create it once (gcloud artifacts repositories create ${ar.repository} --repository-format=docker ` +
          `--location=${ar.location} --project=${project}) or set [gcp] repository to an existing Docker repository.`
        )
      }
      return `Project ${project} has no gcr.io repository: set [gcp] repository (for example "pmcp") to push to Artifact Registry.`
    }
    if (failure.code === 'TOOMANYREQUESTS' || failure.status === 429) return 'The registry throttled the push: run the job again later.'
    if (failure.code === 'DIGEST_INVALID' || failure.code === 'SIZE_INVALID') {
      return 'The registry received other bytes than were sent: check for a proxy between the runner and the registry.'
    }
    return ''
  }
}

/** Advice for refusals of reads of the base image; `anonymous` when no credentials were given for its registry. */
export function baseAdvice(base: ImageReference, anonymous: boolean): (failure: RegistryFailure) => string {
  return failure => {
    if (refused(failure)) {
      return anonymous
        ? `${base.text} is not public, and no credentials were sent for ${base.registry.host}: use a public base, ` +
            'or one in an Artifact Registry repository of your project, which the deploy reads with the service account.'
        : `The credentials sent to ${base.registry.host} may not read ${base.text}: grant the service account ` +
            'roles/artifactregistry.reader on the repository that holds it, or use a public base.'
    }
    if (failure.code === 'NAME_UNKNOWN') return `${base.registry.host} has no repository ${base.repository}: check [runtime] base.`
    if (failure.code === 'MANIFEST_UNKNOWN' || failure.status === 404) {
      return `${base.text} does not exist on ${base.registry.host} (no such repository, tag or digest): check [runtime] base.`
    }
    if (failure.code === 'TOOMANYREQUESTS' || failure.status === 429) return RATE_LIMITED
    return ''
  }
}

/** What to check when the destination's token service refuses the Google access token. */
export const DESTINATION_CREDENTIAL_ADVICE =
  'The password is the access token of the deploying service account (user oauth2accesstoken): check the ' +
  "'workload-identity-provider' and 'service-account' inputs, and that the service account may push to the repository " +
  '(roles/artifactregistry.writer).'

export function baseCredentialAdvice(base: ImageReference, anonymous: boolean): string {
  return anonymous
    ? `${base.text} was read without credentials, as a public image: use a public base, or one your service account may read.`
    : `Check that the credentials given for ${base.registry.host} may read ${base.text}.`
}
