import { ARCHITECTURES, TARGETS } from '../types.js'

/**
 * The deploy.toml schema: both cargo-pmcp's spelling and the book's `[lambda]`/`[vpc]` form (see the
 * README's deploy.toml section). Each field says what it accepts, so one validator can say what is allowed.
 */
export type FieldSpec =
  | { kind: 'string'; pattern?: RegExp; rule?: string; oneOf?: readonly string[] }
  | { kind: 'integer'; min: number; max: number; allowed?: readonly number[] }
  | { kind: 'boolean' }
  | { kind: 'string-list'; pattern?: RegExp; rule?: string }
  | { kind: 'string-map' }
  | { kind: 'boolean-or-string'; oneOf: readonly string[] }
  | { kind: 'table'; fields: Record<string, FieldSpec> }
  /** A table of string values, or a list of strings (the two spellings of `[secrets]`). */
  | { kind: 'names' }
  /** Accepted as cargo-pmcp writes it but not used by the action. */
  | { kind: 'passthrough' }
  /** Checked like `accepts`, then reported as a cargo-pmcp setting the action does not apply, saying why. */
  | { kind: 'not-applied'; accepts: FieldSpec; reason: string }

/**
 * cargo-pmcp's rule for a server name: it names the stack (`<name>-stack`) and the function
 * (`<name>`), so a letter first, letters, digits and hyphens, no hyphen last, at most Lambda's 64.
 */
export const SERVER_NAME_PATTERN = /^[a-zA-Z](?:[a-zA-Z0-9-]{0,62}[a-zA-Z0-9])?$/

/** The values CloudWatch Logs accepts for a log group's retention; 0 means never expire. */
export const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
] as const

const string = (extra: Omit<Extract<FieldSpec, { kind: 'string' }>, 'kind'> = {}): FieldSpec => ({ kind: 'string', ...extra })
const integer = (min: number, max: number): FieldSpec => ({ kind: 'integer', min, max })
const boolean: FieldSpec = { kind: 'boolean' }
const table = (fields: Record<string, FieldSpec>): FieldSpec => ({ kind: 'table', fields })
const passthrough: FieldSpec = { kind: 'passthrough' }
const notApplied = (accepts: FieldSpec, reason: string): FieldSpec => ({ kind: 'not-applied', accepts, reason })
const architecture = string({ oneOf: ARCHITECTURES })
const urlList: FieldSpec = { kind: 'string-list', pattern: /^(\*|https?:\/\/\S+)$/, rule: "'*' or http(s) URLs" }
/** Cognito accepts https callback URLs, plain http only for localhost, and no fragment. */
const callbackUrlList: FieldSpec = {
  kind: 'string-list',
  pattern: /^(https:\/\/[^\s#]+|http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/[^\s#]*)?)$/,
  rule: 'https URLs without a #fragment; plain http only for localhost, e.g. "http://localhost:3000/callback"'
}

/** Cognito refuses hosted-domain prefixes that contain these words. */
export const RESERVED_DOMAIN_WORDS = ['aws', 'amazon', 'cognito'] as const

export const DEPLOY_TOML_SCHEMA: Record<string, FieldSpec> = {
  target: table({
    type: string({ oneOf: TARGETS }),
    target_type: string({ oneOf: TARGETS }),
    version: notApplied(string(), 'cargo pmcp deploy init records the version of the file format here')
  }),
  aws: table({
    region: string({ pattern: /^[a-z]{2}(-[a-z]+)+-\d$/, rule: 'an AWS region such as us-east-1' }),
    account_id: string({ pattern: /^\d{12}$/, rule: 'a 12-digit AWS account id (as a quoted string)' })
  }),
  server: table({
    name: string({
      pattern: SERVER_NAME_PATTERN,
      rule: 'a letter, then letters, digits or hyphens, at most 64 characters, not ending with a hyphen'
    }),
    memory_mb: integer(128, 10240),
    timeout_seconds: integer(1, 900),
    ephemeral_storage_mb: integer(512, 10240),
    reserved_concurrency: integer(0, 100000),
    mcp_path: string({ pattern: /^\/[A-Za-z0-9._~\-/]*$/, rule: "a URL path starting with '/'" }),
    binary: notApplied(string(), "cargo-pmcp builds it for Google Cloud Run only; Lambda runs the Lambda crate's bootstrap binary"),
    memory: passthrough,
    cpu: passthrough,
    ingress: passthrough,
    allow_unauthenticated: passthrough,
    max_instances: passthrough,
    min_instances: passthrough
  }),
  environment: { kind: 'string-map' },
  secrets: { kind: 'names' },
  auth: table({
    enabled: boolean,
    provider: string({ oneOf: ['none', 'cognito'] }),
    callback_urls: callbackUrlList,
    user_pool_id: string({ pattern: /^[\w-]+_[0-9a-zA-Z]+$/, rule: 'a Cognito user pool id such as us-east-1_AbC123' }),
    client_id: notApplied(string(), 'the stack creates its own app clients and gives the function their ids'),
    cognito: table({
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
      social_providers: passthrough,
      mfa: passthrough,
      access_token_ttl: passthrough,
      refresh_token_ttl: passthrough
    }),
    oidc: passthrough,
    dcr: passthrough,
    scopes: passthrough
  }),
  observability: table({
    log_retention_days: { kind: 'integer', min: 0, max: 3653, allowed: LOG_RETENTION_DAYS },
    enable_xray: boolean,
    create_dashboard: boolean,
    alarms: table({
      error_threshold: integer(1, 1000000),
      latency_threshold_ms: integer(1, 900000)
    })
  }),
  api_gateway: table({
    rate_limit: integer(1, 1000000),
    burst_limit: integer(0, 1000000),
    throttling_rate: integer(1, 1000000),
    throttling_burst: integer(0, 1000000),
    cors_origins: urlList
  }),
  lambda: table({
    memory_size: integer(128, 10240),
    timeout_seconds: integer(1, 900),
    architecture,
    reserved_concurrency: integer(0, 100000),
    provisioned_concurrency: integer(0, 100000),
    tracing: { kind: 'boolean-or-string', oneOf: ['Active', 'PassThrough', 'Disabled'] },
    environment: { kind: 'string-map' }
  }),
  vpc: table({
    vpc_id: string({ pattern: /^vpc-[0-9a-f]+$/, rule: 'a VPC id such as vpc-0abc123' }),
    subnet_ids: { kind: 'string-list', pattern: /^subnet-[0-9a-f]+$/, rule: 'subnet ids such as subnet-0abc123' },
    security_group_ids: { kind: 'string-list', pattern: /^sg-[0-9a-f]+$/, rule: 'security group ids such as sg-0abc123' }
  }),
  build: table({
    features: { kind: 'string-list' },
    no_default_features: boolean
  }),
  // cargo-pmcp sections the action accepts unchanged but does not act on.
  assets: passthrough,
  composition: passthrough,
  iam: passthrough,
  widgets: passthrough,
  post_deploy_tests: passthrough,
  layout: passthrough,
  runtime: passthrough,
  metadata: passthrough,
  gcp: passthrough,
  azure: passthrough
}
