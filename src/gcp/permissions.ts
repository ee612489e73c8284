/**
 * Every Google call the action makes, the IAM permission it needs, on what, by whom, and the
 * predefined roles that contain it: what a PERMISSION_DENIED message tells the user to grant, and
 * what the setup script's roles are checked against.
 */

/** Who must hold the permission. */
export type GcpGrantee =
  /** The GitHub workflow's federated identity (the Workload Identity pool's principalSet for the repository). */
  | 'workload-identity-principal'
  /** The service account the action impersonates (input `service-account`). */
  | 'deploy-service-account'

export interface GcpPermissionRow {
  /** The request, `METHOD /path` with `*` for names. */
  request: string
  /** Google's name for the API, as its error messages and the console show it. */
  api: string
  permission: string
  grantee: GcpGrantee
  /** The resource the permission must be held on (a grant on its project covers it too). */
  resource: string
  /** Predefined roles that contain the permission, the narrowest first. */
  roles: readonly string[]
}

const RUN = 'Cloud Run Admin API'
const IAM_CREDENTIALS = 'IAM Service Account Credentials API'
const ARTIFACT_REGISTRY = 'Artifact Registry API'
const SERVICE = "the Cloud Run service (or its project's Cloud Run resources)"
const REPOSITORY = 'the Artifact Registry repository (or its project)'
const RUN_READERS = ['roles/run.viewer', 'roles/run.developer', 'roles/run.admin'] as const
const RUN_WRITERS = ['roles/run.developer', 'roles/run.admin'] as const

export const GCP_PERMISSIONS = {
  getService: {
    request: 'GET /v2/projects/*/locations/*/services/*',
    api: RUN,
    permission: 'run.services.get',
    grantee: 'deploy-service-account',
    resource: SERVICE,
    roles: RUN_READERS
  },
  createService: {
    request: 'POST /v2/projects/*/locations/*/services?serviceId=*',
    api: RUN,
    permission: 'run.services.create',
    grantee: 'deploy-service-account',
    resource: SERVICE,
    roles: RUN_WRITERS
  },
  updateService: {
    request: 'PATCH /v2/projects/*/locations/*/services/*',
    api: RUN,
    permission: 'run.services.update',
    grantee: 'deploy-service-account',
    resource: SERVICE,
    roles: RUN_WRITERS
  },
  deleteService: {
    request: 'DELETE /v2/projects/*/locations/*/services/*',
    api: RUN,
    permission: 'run.services.delete',
    grantee: 'deploy-service-account',
    resource: SERVICE,
    roles: RUN_WRITERS
  },
  getServiceIamPolicy: {
    request: 'GET /v2/projects/*/locations/*/services/*:getIamPolicy',
    api: RUN,
    permission: 'run.services.getIamPolicy',
    grantee: 'deploy-service-account',
    resource: SERVICE,
    roles: RUN_READERS
  },
  setServiceIamPolicy: {
    request: 'POST /v2/projects/*/locations/*/services/*:setIamPolicy',
    api: RUN,
    permission: 'run.services.setIamPolicy',
    grantee: 'deploy-service-account',
    resource: SERVICE,
    // Cloud Run Developer may read a policy but not set one: making a service public takes Admin.
    roles: ['roles/run.admin']
  },
  listRevisions: {
    request: 'GET /v2/projects/*/locations/*/services/*/revisions',
    api: RUN,
    permission: 'run.revisions.list',
    grantee: 'deploy-service-account',
    resource: SERVICE,
    roles: RUN_READERS
  },
  getRevision: {
    request: 'GET /v2/projects/*/locations/*/services/*/revisions/*',
    api: RUN,
    permission: 'run.revisions.get',
    grantee: 'deploy-service-account',
    resource: SERVICE,
    roles: RUN_READERS
  },
  waitOperation: {
    request: 'POST /v2/projects/*/locations/*/operations/*:wait',
    api: RUN,
    permission: 'run.operations.get',
    grantee: 'deploy-service-account',
    resource: "the project's Cloud Run operations",
    roles: RUN_READERS
  },
  actAsRuntimeServiceAccount: {
    request: 'POST or PATCH /v2/projects/*/locations/*/services/* (the new revision runs as the runtime service account)',
    api: RUN,
    permission: 'iam.serviceAccounts.actAs',
    grantee: 'deploy-service-account',
    resource:
      "the service's runtime service account (the revision template's serviceAccount, else the Compute Engine default " +
      'service account <project-number>-compute@developer.gserviceaccount.com)',
    roles: ['roles/iam.serviceAccountUser']
  },
  invokePrivateService: {
    request: "GET/POST <service URL> with the deploy service account's ID token (smoke test of a private service)",
    api: 'Cloud Run',
    permission: 'run.routes.invoke',
    grantee: 'deploy-service-account',
    resource: SERVICE,
    roles: ['roles/run.invoker', 'roles/run.admin']
  },
  generateAccessToken: {
    request: 'POST /v1/projects/-/serviceAccounts/*:generateAccessToken',
    api: IAM_CREDENTIALS,
    permission: 'iam.serviceAccounts.getAccessToken',
    grantee: 'workload-identity-principal',
    resource: 'the deploy service account',
    roles: ['roles/iam.workloadIdentityUser', 'roles/iam.serviceAccountTokenCreator']
  },
  generateIdToken: {
    request: 'POST /v1/projects/-/serviceAccounts/*:generateIdToken',
    api: IAM_CREDENTIALS,
    permission: 'iam.serviceAccounts.getOpenIdToken',
    grantee: 'workload-identity-principal',
    resource: 'the deploy service account',
    roles: ['roles/iam.workloadIdentityUser', 'roles/iam.serviceAccountOpenIdTokenCreator', 'roles/iam.serviceAccountTokenCreator']
  },
  getRepository: {
    request: 'GET /v1/projects/*/locations/*/repositories/*',
    api: ARTIFACT_REGISTRY,
    permission: 'artifactregistry.repositories.get',
    grantee: 'deploy-service-account',
    resource: REPOSITORY,
    roles: [
      'roles/artifactregistry.reader',
      'roles/artifactregistry.writer',
      'roles/artifactregistry.repoAdmin',
      'roles/artifactregistry.admin'
    ]
  },
  createRepository: {
    request: 'POST /v1/projects/*/locations/*/repositories?repositoryId=* (and GET /v1/projects/*/locations/*/operations/* until done)',
    api: ARTIFACT_REGISTRY,
    permission: 'artifactregistry.repositories.create',
    grantee: 'deploy-service-account',
    resource: "the repository's project",
    roles: ['roles/artifactregistry.admin']
  },
  pushImage: {
    request: 'POST/PUT/PATCH https://<region>-docker.pkg.dev/v2/<project>/<repository>/… (blobs and the manifest)',
    api: 'Artifact Registry (Docker registry API)',
    permission: 'artifactregistry.repositories.uploadArtifacts',
    grantee: 'deploy-service-account',
    resource: REPOSITORY,
    roles: ['roles/artifactregistry.writer', 'roles/artifactregistry.repoAdmin', 'roles/artifactregistry.admin']
  },
  pullImage: {
    request: 'GET/HEAD https://<region>-docker.pkg.dev/v2/<project>/<repository>/… (blobs already pushed, manifests)',
    api: 'Artifact Registry (Docker registry API)',
    permission: 'artifactregistry.repositories.downloadArtifacts',
    grantee: 'deploy-service-account',
    resource: REPOSITORY,
    roles: [
      'roles/artifactregistry.reader',
      'roles/artifactregistry.writer',
      'roles/artifactregistry.repoAdmin',
      'roles/artifactregistry.admin'
    ]
  }
} as const satisfies Record<string, GcpPermissionRow>

export type GcpCall = keyof typeof GCP_PERMISSIONS

/** What the message of a refused call names besides the table: who, where, which project. */
export interface GrantContext {
  /** The deploy service account (input `service-account`). */
  serviceAccount?: string
  /** The project the call was about, for the gcloud command. */
  project?: string
  /** The Workload Identity principal of this repository (`principalSet://…/attribute.repository/<owner>/<repo>`). */
  principal?: string
}

/** `roles/a`, `roles/a or roles/b`, `roles/a, roles/b or roles/c` */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
}

/** The gcloud command that grants the narrowest role of `call`, where the grantee and resource are known. */
function grantCommand(call: GcpCall, context: GrantContext): string | undefined {
  const row: GcpPermissionRow = GCP_PERMISSIONS[call]
  const role = row.roles[0]
  if (row.grantee === 'workload-identity-principal') {
    if (!context.serviceAccount || !context.principal) return undefined
    return `gcloud iam service-accounts add-iam-policy-binding ${context.serviceAccount} --role=${role} --member="${context.principal}"`
  }
  if (!context.serviceAccount || !context.project) return undefined
  if (call === 'actAsRuntimeServiceAccount') {
    return (
      `gcloud iam service-accounts add-iam-policy-binding <runtime-service-account> --project=${context.project} ` +
      `--role=${role} --member=serviceAccount:${context.serviceAccount}`
    )
  }
  return `gcloud projects add-iam-policy-binding ${context.project} --member=serviceAccount:${context.serviceAccount} --role=${role}`
}

/** What to grant, to whom, on what, with the command when it can be given whole. */
export function permissionAdvice(call: GcpCall, context: GrantContext = {}): string {
  const row: GcpPermissionRow = GCP_PERMISSIONS[call]
  const who =
    row.grantee === 'workload-identity-principal'
      ? "this workflow's Workload Identity principal"
      : context.serviceAccount
        ? `the service account ${context.serviceAccount}`
        : 'the deploy service account'
  const command = grantCommand(call, context)
  return (
    `${who[0].toUpperCase()}${who.slice(1)} needs the permission ${row.permission} on ${row.resource}; ` +
    (row.roles.length > 1 ? 'the predefined roles that include it are ' : 'the predefined role that includes it is ') +
    `${orList(row.roles)}.` +
    (command ? ` For example:\n  ${command}` : '')
  )
}
