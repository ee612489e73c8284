// The settings the aws-lambda stack reads: the one contract between the action and the rendered
// project. src/render builds a value of this type, and lib/stack.ts is rendered with this file's
// text in place of `{{settingsContract}}`, so the compiler checks both sides against it.

export interface StackSettings {
  stackName: string
  stackDescription: string
  serverName: string
  functionName: string
  stage: 'production' | 'preview'
  region: string | null
  architecture: 'arm64' | 'x86_64'
  memoryMb: number
  timeoutSeconds: number
  ephemeralStorageMb: number | null
  reservedConcurrency: number | null
  provisionedConcurrency: number | null
  mcpPath: string
  environment: Record<string, string>
  /** Carried by the function and its published version: the commit and run that deployed it. */
  versionDescription: string
  logRetentionDays: number
  enableXray: boolean
  createDashboard: boolean
  alarms: { errorThreshold: number; latencyThresholdMs: number } | null
  corsOrigins: string[]
  rateLimit: number | null
  burstLimit: number | null
  vpc: { vpcId: string; subnetIds: string[]; securityGroupIds: string[] } | null
  /** OAuth with Cognito (`[auth] enabled = true, provider = "cognito"`), or null for an open API. */
  auth: AuthSettings | null
  /** `[secrets]`: Secrets Manager secrets `<server>/<name>` the function may read; the action writes them. */
  secrets: { name: string; secretName: string; arnVariable: string }[]
  /** `[iam]`: statements added to the function's role, in cargo-pmcp's order (tables, buckets, then raw statements). */
  iamStatements: IamStatementSettings[]
}

export interface IamStatementSettings {
  effect: 'Allow' | 'Deny'
  actions: string[]
  resources: IamResource[]
}

/** An ARN as written, or a DynamoDB table (with its indexes when asked) in the stack's own region and account. */
export type IamResource = { arn: string } | { dynamodbTable: string; withIndexes: boolean }

export interface AuthSettings {
  /** Imported, not created (so never deleted); null creates a pool for this stack. */
  existingUserPoolId: string | null
  userPoolName: string
  resourceServerId: string
  createResourceServer: boolean
  /** A derived prefix gets `-<account id>` appended: hosted-domain prefixes are unique per region. */
  domain: { prefix: string; appendAccountId: boolean } | null
  callbackUrls: string[]
}
