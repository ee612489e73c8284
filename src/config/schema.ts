import { ARCHITECTURES, NOT_YET_SUPPORTED_TARGETS, TARGETS, type Target } from '../types.js'

/**
 * The deploy.toml schema: both cargo-pmcp's spelling and the book's `[lambda]`/`[vpc]` form (see the
 * README's deploy.toml section). Each field says what it accepts, so one validator can say what is allowed.
 */
export type FieldSpec =
  | {
      kind: 'string'
      pattern?: RegExp
      rule?: string
      oneOf?: readonly string[]
      /** Values cargo-pmcp knows that the action refuses with this explanation (e.g. targets it does not deploy yet). */
      notYet?: { values: readonly string[]; problem: string }
    }
  | { kind: 'integer'; min: number; max: number; allowed?: readonly number[] }
  | { kind: 'boolean' }
  | { kind: 'string-list'; pattern?: RegExp; rule?: string; oneOf?: readonly string[]; nonEmpty?: boolean }
  /** `[environment]`: environment variable names to string values. */
  | { kind: 'string-map' }
  /** A table of string values under any keys (e.g. `[auth.scopes.custom]`). */
  | { kind: 'string-table' }
  | { kind: 'boolean-or-string'; oneOf: readonly string[] }
  /** `required`: keys cargo-pmcp cannot parse the table without. `strict`: unknown keys are errors (serde's deny_unknown_fields). */
  | { kind: 'table'; fields: Record<string, FieldSpec>; required?: readonly string[]; strict?: boolean }
  /** An array of tables (`[[iam.statements]]`), each checked like `table`. */
  | { kind: 'table-list'; fields: Record<string, FieldSpec>; required?: readonly string[] }
  /** A table of string values, or a list of strings (the two spellings of `[secrets]`). */
  | { kind: 'names' }
  /** Accepted as cargo-pmcp writes it but not used by the action. */
  | { kind: 'passthrough' }
  /** Checked like `accepts`, then reported as a cargo-pmcp setting the action does not apply, saying why. */
  | { kind: 'not-applied'; accepts: FieldSpec; reason: string }
  /**
   * Applied by the listed targets only; on another target, checked like `accepts`, then reported as
   * ignored with that target's reason.
   */
  | { kind: 'target-only'; targets: readonly Target[]; accepts: FieldSpec; reasons: Partial<Record<Target, string>> }

/**
 * cargo-pmcp's rule for a server name: it names the stack (`<name>-stack`) and the function
 * (`<name>`), so a letter first, letters, digits and hyphens, no hyphen last, at most Lambda's 64.
 */
export const SERVER_NAME_PATTERN = /^[a-zA-Z](?:[a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?$/

/** An AWS region name: `[aws] region` and the `aws-region` input. */
export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/

/**
 * Cloud Run's rule for a service name, which `[server] name` becomes there: lower-case letters,
 * digits and hyphens, a letter first, no hyphen last, fewer than 50 characters (the service URL and
 * the revision names are built from it).
 */
export const CLOUD_RUN_SERVICE_NAME_PATTERN = /^[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?$/

/**
 * A Google Cloud project id: 6 to 30 lower-case letters, digits and hyphens, a letter first, no
 * hyphen last; a domain-scoped project has its domain before a colon (`example.com:my-project`).
 */
export const GCP_PROJECT_ID_PATTERN = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/

/** A Google Cloud region such as us-central1 or northamerica-northeast1. */
export const GCP_REGION_PATTERN = /^[a-z]+-[a-z]+\d+$/

/** Artifact Registry's rule for a repository id (cargo-pmcp's `validate_repository`). */
export const ARTIFACT_REPOSITORY_PATTERN = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** `[server] ingress` values: cargo-pmcp passes them to `gcloud run deploy --ingress`. */
export const CLOUD_RUN_INGRESS = ['all', 'internal', 'internal-and-cloud-load-balancing'] as const

/** The only `[layout] kind` cargo-pmcp gives a meaning; any other kind gets the default layout. */
export const MULTI_CRATE_ISOLATED = 'multi-crate-isolated'

/**
 * A binary, package or sibling crate directory as cargo-pmcp writes it into a Dockerfile `RUN` or
 * `COPY` line: ASCII letters, digits, `-` and `_` only (its `is_safe_name`).
 */
export const DOCKERFILE_SAFE_NAME = /^[A-Za-z0-9_-]+$/

/** The values CloudWatch Logs accepts for a log group's retention; 0 means never expire. */
export const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
] as const

/** Largest value of a Rust u32, the type cargo-pmcp reads counts and sizes into. */
export const U32_MAX = 4294967295

/**
 * `[auth] provider` values cargo-pmcp 0.28 gives a meaning (`AuthConfig::to_env_vars`): Cognito, or an
 * external OIDC issuer. Any other string is read by cargo-pmcp as "none"; the action refuses it instead.
 */
export const AUTH_PROVIDERS = ['none', 'cognito', 'oidc', 'google', 'auth0', 'okta', 'entra'] as const
/** The providers the aws-lambda stack does not build: an external issuer validates the tokens. */
export const OIDC_PROVIDERS = ['oidc', 'google', 'auth0', 'okta', 'entra'] as const

/** `[[iam.tables]]` / `[[iam.buckets]]` actions: cargo-pmcp's sugar keywords. */
export const IAM_SUGAR_ACTIONS = ['read', 'write', 'readwrite'] as const
/** cargo-pmcp's rule for a `[[iam.statements]]` action (`*` alone is allowed too). */
export const IAM_ACTION_PATTERN = /^(\*|[a-z0-9-]+:[A-Za-z0-9*]+)$/
/** cargo-pmcp's curated AWS service prefixes; another prefix is a warning, not an error. */
export const KNOWN_IAM_SERVICE_PREFIXES = [
  'acm',
  'apigateway',
  'appconfig',
  'athena',
  'autoscaling',
  'batch',
  'cloudformation',
  'cloudfront',
  'cloudwatch',
  'codebuild',
  'codepipeline',
  'cognito-idp',
  'cognito-identity',
  'dynamodb',
  'ec2',
  'ecr',
  'ecs',
  'elasticloadbalancing',
  'events',
  'eventbridge',
  'execute-api',
  'firehose',
  'glue',
  'iam',
  'kinesis',
  'kms',
  'lambda',
  'logs',
  'rds',
  'route53',
  's3',
  'secretsmanager',
  'sns',
  'sqs',
  'ssm',
  'states',
  'sts',
  'waf',
  'wafv2',
  'xray'
] as const

/** `[assets] exclude` when the whole table is omitted (cargo-pmcp's `AssetsConfig::default`). */
export const DEFAULT_ASSET_EXCLUDES = ['**/*.tmp', '**/.DS_Store', '**/Thumbs.db'] as const

const string = (extra: Omit<Extract<FieldSpec, { kind: 'string' }>, 'kind'> = {}): FieldSpec => ({ kind: 'string', ...extra })
const integer = (min: number, max: number): FieldSpec => ({ kind: 'integer', min, max })
const boolean: FieldSpec = { kind: 'boolean' }
const stringList = (extra: Omit<Extract<FieldSpec, { kind: 'string-list' }>, 'kind'> = {}): FieldSpec => ({ kind: 'string-list', ...extra })
const table = (fields: Record<string, FieldSpec>, required: readonly string[] = []): FieldSpec => ({ kind: 'table', fields, required })
const tableList = (fields: Record<string, FieldSpec>, required: readonly string[]): FieldSpec => ({ kind: 'table-list', fields, required })
const notApplied = (accepts: FieldSpec, reason: string): FieldSpec => ({ kind: 'not-applied', accepts, reason })
type Reasons = Partial<Record<Target, string>>
const only = (targets: readonly Target[], accepts: FieldSpec, reasons: Reasons): FieldSpec => ({
  kind: 'target-only',
  targets,
  accepts,
  reasons
})
const awsLambdaOnly = (accepts: FieldSpec, onPmcpRun: string, onCloudRun?: string): FieldSpec =>
  only(['aws-lambda'], accepts, { 'pmcp-run': onPmcpRun, 'google-cloud-run': onCloudRun })
const pmcpRunOnly = (accepts: FieldSpec, onAwsLambda: string, onCloudRun: string): FieldSpec =>
  only(['pmcp-run'], accepts, { 'aws-lambda': onAwsLambda, 'google-cloud-run': onCloudRun })
/** Applied by both AWS targets; on Cloud Run, ignored with `onCloudRun`. */
const awsOnly = (accepts: FieldSpec, onCloudRun: string): FieldSpec =>
  only(['aws-lambda', 'pmcp-run'], accepts, { 'google-cloud-run': onCloudRun })
const cloudRunOnly = (accepts: FieldSpec, onAws: string = cloudRun): FieldSpec =>
  only(['google-cloud-run'], accepts, { 'aws-lambda': onAws, 'pmcp-run': onAws })
/** Why a setting of the aws-lambda stack means nothing on pmcp.run. */
const onPmcpRun = (what: string): string => `pmcp.run ${what}, as cargo pmcp deploys there; the setting applies to target aws-lambda`
/** Why a setting of the AWS targets means nothing on Cloud Run. */
const onCloudRun = (what: string): string => `on Cloud Run ${what}, as cargo pmcp deploys there`
const noCognitoOnCloudRun = onCloudRun('no Cognito user pool is created: [server] allow_unauthenticated decides who may call')
const architecture = string({ oneOf: ARCHITECTURES })
const urlList: FieldSpec = { kind: 'string-list', pattern: /^(\*|https?:\/\/\S+)$/, rule: "'*' or http(s) URLs" }
const httpsUrl = string({ pattern: /^https?:\/\/\S+$/, rule: 'an http(s) URL, e.g. "https://accounts.google.com"' })
/** Cognito accepts https callback URLs, plain http only for localhost, and no fragment. */
const callbackUrlList: FieldSpec = {
  kind: 'string-list',
  pattern: /^(https:\/\/[^\s#]+|http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/[^\s#]*)?)$/,
  rule: 'https URLs without a #fragment; plain http only for localhost, e.g. "http://localhost:3000/callback"'
}
/** A relative path inside the repository: cargo-pmcp refuses `..` segments (path traversal). */
const insidePath = string({
  pattern: /^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+$/,
  rule: 'a path relative to the workspace root, without ".." segments'
})
/** A glob as cargo-pmcp's glob crate compiles it: brackets must close. */
const globList = stringList({
  pattern: /^[^[\]]*(\[[^\]]+\][^[\]]*)*$/,
  rule: 'glob patterns such as "resources/**/*.md"; a [ must be closed'
})
const argv = stringList({ nonEmpty: true, rule: 'a command as a list of arguments, e.g. ["npm", "run", "build"]' })
const cloudRun = 'it configures Google Cloud Run; the setting applies to target google-cloud-run'
const cloudRunMemory = string({
  pattern: /^\d+(\.\d+)?(M|G|Mi|Gi)$/,
  rule: 'a Cloud Run memory limit: a number and M, G, Mi or Gi, e.g. "512Mi" or "1Gi"'
})
const cloudRunCpu = string({
  pattern: /^(\d+(\.\d+)?|\d+m)$/,
  rule: 'a Cloud Run CPU limit as a quoted number: "1", "2", "4", "6" or "8", e.g. cpu = "1"'
})
/** Cloud Run's instance counts are 32-bit integers in its API. */
const INT32_MAX = 2147483647
const dockerfileName = (what: string): FieldSpec =>
  string({
    pattern: DOCKERFILE_SAFE_NAME,
    rule: `${what}: ASCII letters, digits, - or _ (cargo-pmcp writes it into the Dockerfile)`
  })
/**
 * A container image reference as Docker parses one: an optional registry host (with port), a
 * lower-case path, an optional tag and an optional digest.
 */
const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?'
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const imageReference = string({
  pattern: new RegExp(
    `^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*(?::\\d+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*` +
      '(?::\\w[\\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$'
  ),
  rule: 'a container image reference such as "gcr.io/distroless/cc-debian12" or "debian:bookworm-slim"'
})
/** A Debian package as `apt-get install` takes it, optionally with `:arch` or `=version`; nothing a shell would read. */
const aptPackage = stringList({
  pattern: /^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9-]+)?(?:=[A-Za-z0-9.+:~-]+)?$/,
  rule: 'Debian package names such as "ca-certificates" or "libssl3"'
})

/** Cognito refuses hosted-domain prefixes that contain these words. */
export const RESERVED_DOMAIN_WORDS = ['aws', 'amazon', 'cognito'] as const

export const DEPLOY_TOML_SCHEMA: Record<string, FieldSpec> = {
  target: table({
    type: string({
      oneOf: TARGETS,
      notYet: { values: NOT_YET_SUPPORTED_TARGETS, problem: 'is a cargo-pmcp target that this action does not support yet' }
    }),
    target_type: string({
      oneOf: TARGETS,
      notYet: { values: NOT_YET_SUPPORTED_TARGETS, problem: 'is a cargo-pmcp target that this action does not support yet' }
    }),
    version: string()
  }),
  aws: awsOnly(
    table({
      region: string({ pattern: AWS_REGION_PATTERN, rule: 'an AWS region such as us-east-1' }),
      account_id: string({ pattern: /^\d{12}$/, rule: 'a 12-digit AWS account id (as a quoted string)' })
    }),
    onCloudRun('the project and region come from [gcp]')
  ),
  server: table({
    name: string({
      pattern: SERVER_NAME_PATTERN,
      rule: 'a letter, then letters, digits or hyphens, at most 64 characters, not ending with a hyphen'
    }),
    memory_mb: awsOnly(integer(128, 10240), onCloudRun('the container\'s memory is [server] memory, e.g. memory = "512Mi"')),
    timeout_seconds: awsOnly(integer(1, 900), onCloudRun("no request timeout is set: the service keeps Cloud Run's default (300 s)")),
    ephemeral_storage_mb: awsOnly(integer(512, 10240), onCloudRun("the container's files live in its memory ([server] memory)")),
    reserved_concurrency: awsLambdaOnly(
      integer(0, 100000),
      onPmcpRun('sets no concurrency limit on the function'),
      onCloudRun('scaling is [server] min_instances and max_instances')
    ),
    mcp_path: only(
      ['aws-lambda', 'google-cloud-run'],
      string({ pattern: /^\/[A-Za-z0-9._~\-/]*$/, rule: "a URL path starting with '/'" }),
      {
        'pmcp-run': onPmcpRun('serves the server at the URL it reports (<api>/<deployment id>/mcp)')
      }
    ),
    binary: cloudRunOnly(
      dockerfileName("a binary target's name"),
      "cargo-pmcp builds it for Google Cloud Run only; Lambda runs the Lambda crate's bootstrap binary"
    ),
    memory: cloudRunOnly(cloudRunMemory),
    cpu: cloudRunOnly(cloudRunCpu),
    ingress: cloudRunOnly(string({ oneOf: CLOUD_RUN_INGRESS })),
    allow_unauthenticated: cloudRunOnly(boolean),
    max_instances: cloudRunOnly(integer(1, INT32_MAX)),
    min_instances: cloudRunOnly(integer(0, INT32_MAX))
  }),
  environment: { kind: 'string-map' },
  secrets: { kind: 'names' },
  auth: table({
    enabled: boolean,
    provider: string({ oneOf: AUTH_PROVIDERS }),
    callback_urls: callbackUrlList,
    user_pool_id: awsLambdaOnly(
      string({ pattern: /^[\w-]+_[0-9a-zA-Z]+$/, rule: 'a Cognito user pool id such as us-east-1_AbC123' }),
      onPmcpRun('keeps its own OAuth user pools (configureServerOAuth with [auth.dcr])'),
      noCognitoOnCloudRun
    ),
    client_id: notApplied(string(), 'the stack creates its own app clients and gives the function their ids'),
    cognito: awsLambdaOnly(
      table({
        user_pool_id: string({ pattern: /^[\w-]+_[0-9a-zA-Z]+$/, rule: 'a Cognito user pool id such as us-east-1_AbC123' }),
        user_pool_name: string(),
        resource_server_id: string({
          pattern: /^[\w+\-.:/]{1,256}$/,
          rule: 'letters, digits and _ + - . : / (Cognito resource server identifier), e.g. "mcp"'
        }),
        create_resource_server: boolean,
        domain: string({
          pattern: new RegExp(`^(?!.*(${RESERVED_DOMAIN_WORDS.join('|')}))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`),
          rule: 'a lower-case hosted-domain prefix (letters, digits, hyphens; up to 63; without the words aws, amazon or cognito)'
        }),
        social_providers: notApplied(
          stringList(),
          'the user pool signs people in with its own accounts; no social identity provider is added'
        ),
        mfa: notApplied(string(), "the user pool keeps Cognito's default MFA setting (off)"),
        access_token_ttl: notApplied(string(), "the app clients keep Cognito's default token lifetimes"),
        refresh_token_ttl: notApplied(string(), "the app clients keep Cognito's default token lifetimes")
      }),
      onPmcpRun('keeps its own OAuth user pools (configureServerOAuth with [auth.dcr])'),
      noCognitoOnCloudRun
    ),
    oidc: notApplied(
      table(
        {
          provider_type: string(),
          issuer: httpsUrl,
          client_id: string(),
          client_secret: string(),
          audience: string(),
          jwks_url: httpsUrl,
          scopes: stringList()
        },
        ['issuer', 'client_id']
      ),
      'the stack builds no authorizer for an external OIDC issuer (see [auth] provider)'
    ),
    dcr: pmcpRunOnly(
      table({ enabled: boolean, public_client_patterns: stringList(), default_scopes: stringList(), allowed_scopes: stringList() }),
      'the aws-lambda stack registers two fixed Cognito app clients and has no Dynamic Client Registration endpoint; pmcp.run applies it',
      onCloudRun('no OAuth server stands in front of the service; pmcp.run applies it')
    ),
    scopes: notApplied(
      table({ custom: { kind: 'string-table' } }),
      'the resource server gets the scopes read and write; custom scopes are not created'
    )
  }),
  observability: awsLambdaOnly(
    table({
      log_retention_days: integer(0, U32_MAX),
      enable_xray: boolean,
      create_dashboard: boolean,
      alarms: table(
        {
          error_threshold: integer(1, 1000000),
          latency_threshold_ms: integer(1, 900000)
        },
        ['error_threshold', 'latency_threshold_ms']
      )
    }),
    onPmcpRun('keeps function logs 7 days and always traces, with no dashboard or alarms'),
    onCloudRun("logs go to Cloud Logging, kept as the project's log buckets say; no X-Ray, dashboard or alarms are created")
  ),
  api_gateway: awsLambdaOnly(
    table({
      rate_limit: integer(1, 1000000),
      burst_limit: integer(0, 1000000),
      throttling_rate: integer(1, 1000000),
      throttling_burst: integer(0, 1000000),
      cors_origins: urlList
    }),
    onPmcpRun('routes requests through its own shared endpoint'),
    onCloudRun('requests reach the service through its own URL; there is no API Gateway to throttle')
  ),
  lambda: awsOnly(
    table({
      memory_size: integer(128, 10240),
      timeout_seconds: integer(1, 900),
      architecture,
      reserved_concurrency: awsLambdaOnly(integer(0, 100000), onPmcpRun('sets no concurrency limit on the function')),
      provisioned_concurrency: awsLambdaOnly(integer(0, 100000), onPmcpRun('keeps no provisioned concurrency')),
      tracing: awsLambdaOnly({ kind: 'boolean-or-string', oneOf: ['Active', 'PassThrough', 'Disabled'] }, onPmcpRun('always traces')),
      environment: { kind: 'string-map' }
    }),
    onCloudRun('the container is configured by [server] memory, cpu and [environment], for linux/amd64')
  ),
  vpc: awsLambdaOnly(
    table({
      vpc_id: string({ pattern: /^vpc-[0-9a-f]+$/, rule: 'a VPC id such as vpc-0abc123' }),
      subnet_ids: { kind: 'string-list', pattern: /^subnet-[0-9a-f]+$/, rule: 'subnet ids such as subnet-0abc123' },
      security_group_ids: { kind: 'string-list', pattern: /^sg-[0-9a-f]+$/, rule: 'security group ids such as sg-0abc123' }
    }),
    onPmcpRun('runs the function in its own network'),
    onCloudRun('no VPC connector is configured')
  ),
  // cargo-pmcp refuses unknown keys here (deny_unknown_fields), so a misspelt key cannot build with the default features.
  build: awsOnly(
    { kind: 'table', fields: { features: stringList(), no_default_features: boolean }, strict: true },
    onCloudRun("the Dockerfile builds the binary with its package's default features")
  ),
  assets: awsOnly(
    table({ include: globList, exclude: globList, base_dir: insidePath }),
    onCloudRun('the image holds the binary only: embed the files the server reads (include_str!, include_bytes!)')
  ),
  iam: awsOnly(
    table({
      tables: tableList(
        {
          name: string({ pattern: /\S/, rule: 'a DynamoDB table name' }),
          actions: stringList({ oneOf: IAM_SUGAR_ACTIONS, nonEmpty: true }),
          include_indexes: boolean
        },
        ['name', 'actions']
      ),
      buckets: tableList(
        {
          name: string({ pattern: /\S/, rule: 'an S3 bucket name' }),
          actions: stringList({ oneOf: IAM_SUGAR_ACTIONS, nonEmpty: true })
        },
        ['name', 'actions']
      ),
      statements: tableList(
        {
          effect: string({ oneOf: ['Allow', 'Deny'] }),
          actions: stringList({ pattern: IAM_ACTION_PATTERN, rule: 'service:Action such as "s3:GetObject", or "*"', nonEmpty: true }),
          resources: stringList({ pattern: /\S/, rule: 'ARNs, or "*"', nonEmpty: true })
        },
        ['effect', 'actions', 'resources']
      )
    }),
    onCloudRun('the service runs as a Google service account, whose roles are granted in Google Cloud, not by IAM statements')
  ),
  widgets: notApplied(
    tableList({ path: insidePath, build: argv, install: argv, output_dir: string(), embedded_in_crates: stringList() }, ['path']),
    'the action does not build widgets: build them in a step before this action, so the crate embeds the built files'
  ),
  post_deploy_tests: notApplied(
    table({
      enabled: boolean,
      checks: stringList(),
      apps_mode: string({ oneOf: ['standard', 'chatgpt', 'claude-desktop'] }),
      on_failure: string({
        oneOf: ['fail', 'warn'],
        notYet: {
          values: ['rollback'],
          problem: 'is not implemented by cargo-pmcp 0.28, which refuses it (the new revision would stay live)'
        }
      }),
      timeout_seconds: integer(0, Number.MAX_SAFE_INTEGER),
      warmup_grace_ms: integer(0, Number.MAX_SAFE_INTEGER)
    }),
    "the action runs its own smoke test after a deploy: the 'smoke' inputs of the step decide it"
  ),
  metadata: pmcpRunOnly(
    table({ server_type: string(), snapshot_baked: boolean }),
    'it sets the template metadata pmcp.run reads (mcp:serverType, mcp:snapshotBaked); an aws-lambda stack has no reader for it',
    onCloudRun('there is no template whose mcp:* metadata pmcp.run would read')
  ),
  composition: pmcpRunOnly(
    table({ tier: string(), allow_composition: boolean, internal_only: boolean, description: string() }),
    'server-to-server composition is registered by pmcp.run; the aws-lambda stack creates nothing for it',
    onCloudRun('nothing registers the server for composition (pmcp.run does)')
  ),
  layout: cloudRunOnly(
    table(
      {
        kind: string({ pattern: /\S/, rule: `a layout kind, e.g. "${MULTI_CRATE_ISOLATED}"` }),
        primary: dockerfileName("the directory of the crate to deploy, beside deploy.toml's project"),
        path_deps: stringList({
          pattern: DOCKERFILE_SAFE_NAME,
          rule: "sibling crate directories: ASCII letters, digits, - or _ (cargo-pmcp writes them into the Dockerfile's COPY lines)"
        })
      },
      ['kind', 'primary']
    )
  ),
  runtime: cloudRunOnly(table({ base: imageReference, apt_packages: aptPackage })),
  gcp: cloudRunOnly(
    table(
      {
        // Empty is cargo-pmcp's "unset" (it then asks gcloud): the action reads the environment instead.
        project_id: string({
          pattern: new RegExp(`^$|${GCP_PROJECT_ID_PATTERN.source}`),
          rule: 'a Google Cloud project id: 6 to 30 lower-case letters, digits or hyphens, a letter first, e.g. "my-project-123"'
        }),
        region: string({
          pattern: new RegExp(`^$|${GCP_REGION_PATTERN.source}`),
          rule: 'a Google Cloud region such as "us-central1"'
        }),
        repository: string({
          pattern: ARTIFACT_REPOSITORY_PATTERN,
          rule:
            'an Artifact Registry repository id: lower-case letters, digits and hyphens, a letter first, ' +
            'no hyphen last, at most 63, e.g. "pmcp"'
        })
      },
      ['project_id', 'region']
    )
  ),
  azure: notApplied(
    table({
      resource_group: string(),
      environment: string(),
      location: string(),
      target_port: integer(0, 65535),
      min_replicas: integer(0, U32_MAX)
    }),
    'it configures Azure Container Apps, which the action does not deploy'
  )
}
