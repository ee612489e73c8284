import type { Architecture, Target } from '../types.js'
import type { AUTH_PROVIDERS, IAM_SUGAR_ACTIONS } from './schema.js'

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
  /** `[environment]` then `[lambda.environment]`, as declared; each stack adds its own defaults (RUST_LOG). */
  environment: Record<string, string>
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
  composition: { tier: 'foundation', allowComposition: true, internalOnly: false }
} as const
