import type { Architecture, Target } from '../types.js'
import type { AUTH_PROVIDERS, CLOUD_RUN_INGRESS, IAM_SUGAR_ACTIONS } from './schema.js'

/** deploy.toml with every default applied: what the rest of the action works from. */
export interface DeployConfig {
  /** Path of the file, relative to the workspace (as annotations name it). */
  file: string
  /** `version` is not applied (loading warns); a CDK project of the user's own still gets it in PMCP_CONFIG_JSON. */
  target: { type: Target; version?: string }
  /** `accountId`: the deploy stops when the credentials belong to another account. */
  aws: { region?: string; accountId?: string }
  server: {
    name: string
    memoryMb: number
    timeoutSeconds: number
    ephemeralStorageMb?: number
    reservedConcurrency?: number
    provisionedConcurrency?: number
    /** The path the server serves MCP at: `/` by default, `/mcp` on Google Cloud Run (cargo-pmcp's defaults). */
    mcpPath: string
    /**
     * What `[server]` (or `[lambda]`) declares about the function's size, nothing defaulted: pmcp-run
     * writes exactly these over the synthesized template (cargo pmcp's post-synth sizing merge), so an
     * undeclared value leaves the template's own.
     */
    sizing: { memoryMb?: number; timeoutSeconds?: number; ephemeralStorageMb?: number }
  }
  /** From `[lambda] architecture`; the `architecture` input wins over it. */
  architecture?: Architecture
  /**
   * `[environment]` then `[lambda.environment]`, as declared; each stack adds its own defaults (RUST_LOG).
   * On Google Cloud Run `[environment]` alone: `[lambda]` is not read there.
   */
  environment: Record<string, string>
  /**
   * `[secrets]` names. On the AWS targets each is a Secrets Manager secret `<server name>/<name>`; on
   * Google Cloud Run each is a Secret Manager secret id, given to the server as the environment
   * variable of the same name.
   */
  secrets: string[]
  auth: {
    enabled: boolean
    /** Only `cognito` is built by the aws-lambda stack; the OIDC providers are accepted with a warning. */
    provider: AuthProvider
    callbackUrls: string[]
    cognito: {
      /** An existing pool to use instead of creating one. */
      userPoolId?: string
      userPoolName?: string
      /** Hosted-domain prefix; derived from the function name when a new pool is created without one. */
      domain?: string
      resourceServerId: string
      /** `[auth.cognito] create_resource_server`: for an existing pool, whether the stack adds the resource server. */
      createResourceServer?: boolean
    }
    /** `[auth.dcr]`, cargo-pmcp's defaults when omitted: what pmcp-run's configureServerOAuth is given. */
    dcr: { enabled: boolean; publicClientPatterns: string[]; defaultScopes: string[]; allowedScopes: string[] }
  }
  observability: {
    logRetentionDays: number
    enableXray: boolean
    createDashboard: boolean
    alarms?: { errorThreshold: number; latencyThresholdMs: number }
  }
  apiGateway: { rateLimit?: number; burstLimit?: number; corsOrigins: string[] }
  /** A `[vpc]` without vpc_id is refused, so a resolved one always names its VPC. */
  vpc?: { vpcId: string; subnetIds: string[]; securityGroupIds: string[] }
  /** Passed to `cargo lambda build` as `--features` and `--no-default-features`. */
  build: { features: string[]; noDefaultFeatures: boolean }
  /**
   * `[assets]`: files packaged with the function. Globs are relative to `baseDir` (else the workspace
   * root); `exclude` is applied after `include`; empty when omitted from an [assets] table, as in cargo-pmcp.
   * `includeLine`: the line of `include`, where a missing file it names is annotated.
   */
  assets: { include: string[]; exclude: string[]; baseDir?: string; includeLine?: number }
  /** `[composition]` with cargo-pmcp's defaults: how pmcp.run registers the server for server-to-server calls. */
  composition: { tier: string; allowComposition: boolean; internalOnly: boolean; description?: string }
  /** `[metadata]`: overrides of the `mcp:*` template metadata pmcp.run reads. */
  metadata: { serverType?: string; snapshotBaked?: boolean }
  /** `[iam]`: statements added to the function's role, checked as cargo-pmcp checks them (fail closed). */
  iam: IamConfig
  /** `[gcp]`, the Cloud Run keys of `[server]`, `[runtime]` and `[layout]`: present when the run deploys to google-cloud-run. */
  cloudRun?: CloudRunConfig
}

export type CloudRunIngress = (typeof CLOUD_RUN_INGRESS)[number]

/** What Google Cloud Run deploys, with cargo-pmcp's defaults applied. */
export interface CloudRunConfig {
  /** `[gcp] project_id`, else GOOGLE_CLOUD_PROJECT / CLOUDSDK_CORE_PROJECT (cargo-pmcp asks gcloud's config). */
  projectId: string
  /** `[gcp] region`, else CLOUD_RUN_REGION / CLOUDSDK_RUN_REGION. */
  region: string
  /** `[gcp] repository`: the Artifact Registry repository; unset, cargo-pmcp pushes to gcr.io/<project>/<service>. */
  repository?: string
  /** A Cloud Run memory limit as written, e.g. `512Mi`. */
  memory: string
  /** A Cloud Run CPU limit as written, e.g. `1`. */
  cpu: string
  minInstances: number
  maxInstances: number
  /** Only when `[server] ingress` is set; else the service keeps Cloud Run's (`all`). */
  ingress?: CloudRunIngress
  /** true: anyone may call the service (allUsers get roles/run.invoker); false: callers need an identity token. */
  allowUnauthenticated: boolean
  /** `[server] binary`: the binary to run; unset, the only binary that is not a Lambda one (see targets/google-cloud-run/binary.ts). */
  binary?: string
  /** `[runtime] base`: the image the binary is put on. */
  base: string
  /** `[runtime] apt_packages`: installed on a Debian or Ubuntu base by `apt-get`, so only with docker buildx. */
  aptPackages: string[]
  /**
   * `[layout]`. Kind `multi-crate-isolated`: the working directory holds sibling crates, `primary` is the
   * directory of the one deployed and `pathDeps` the siblings it depends on by path. Another kind
   * means cargo-pmcp's default layout (the crate or workspace in the working directory).
   */
  layout?: { kind: string; primary: string; pathDeps: string[] }
  /** deploy.toml lines of the keys that are written, for annotations by the deploy (e.g. a `[server] binary` that is not found). */
  lines: { server?: number; binary?: number; base?: number; aptPackages?: number; layout?: number }
}

export type AuthProvider = (typeof AUTH_PROVIDERS)[number]

export type IamSugarAction = (typeof IAM_SUGAR_ACTIONS)[number]

export interface IamConfig {
  /** DynamoDB tables: read → GetItem, Query, Scan, BatchGetItem; write → PutItem, UpdateItem, DeleteItem, BatchWriteItem. */
  tables: { name: string; actions: IamSugarAction[]; includeIndexes: boolean }[]
  /** S3 buckets, object ARNs only (`arn:aws:s3:::NAME/*`): read → GetObject; write → PutObject, DeleteObject. */
  buckets: { name: string; actions: IamSugarAction[] }[]
  /** Raw statements, as written; never Allow "*" on "*". */
  statements: { effect: 'Allow' | 'Deny'; actions: string[]; resources: string[] }[]
}

export const CONFIG_DEFAULTS = {
  memoryMb: 512,
  timeoutSeconds: 30,
  mcpPath: '/',
  /** What every stack gives the function before `[environment]`. */
  environment: { RUST_LOG: 'info' },
  /** cargo-pmcp's defaults when `[observability]` or one of its keys is omitted: 0 (never expire), off, off. */
  logRetentionDays: 0,
  enableXray: false,
  createDashboard: false,
  errorThreshold: 10,
  latencyThresholdMs: 5000,
  resourceServerId: 'mcp',
  dcr: {
    enabled: true,
    publicClientPatterns: ['claude', 'desktop', 'cursor', 'mcp-inspector', 'chatgpt'],
    defaultScopes: ['openid', 'email', 'mcp/read'],
    allowedScopes: ['openid', 'email', 'profile', 'mcp/read', 'mcp/write']
  },
  composition: { tier: 'foundation', allowComposition: true, internalOnly: false },
  /** cargo-pmcp's Cloud Run defaults (deploy.rs `resolve_params`, dockerfile.rs `runtime_stage`, mcp_endpoint.rs). */
  cloudRun: {
    memory: '512Mi',
    cpu: '1',
    minInstances: 0,
    maxInstances: 10,
    allowUnauthenticated: true,
    base: 'gcr.io/distroless/cc-debian12',
    mcpPath: '/mcp',
    /** What `cargo pmcp deploy init` writes as `[gcp] project_id`; cargo-pmcp reads it as unset. */
    projectPlaceholder: 'your-gcp-project-id'
  }
} as const
