// The settings the pmcp-run stack reads: the one contract between the action and the rendered
// project. src/render builds a value of this type, and lib/stack.ts is rendered with this file's
// text in place of `{{settingsContract}}`, so the compiler checks both sides against it.

export interface StackSettings {
  stackName: string
  stackDescription: string
  /** Also the pmcp.run project name, `PMCP_SERVER_ID` and the `service` tag. */
  functionName: string
  architecture: 'arm64' | 'x86_64'
  /**
   * The size cargo pmcp's pmcp-run stack gives the function (256 MB, 30 s). What `[server]` declares
   * is merged into the synthesized template afterwards, as cargo pmcp does.
   */
  memoryMb: number
  timeoutSeconds: number
  /**
   * RUST_LOG and the composition variables cargo pmcp's stack sets. `[environment]` is merged into
   * the synthesized template afterwards (over these), as cargo pmcp does.
   */
  environment: Record<string, string>
  /** The pmcp.run server registry the function may read to find the servers it composes. */
  serversTable: string
  /** `[iam]`: statements added to the function's role, in cargo-pmcp's order (tables, buckets, then raw statements). */
  iamStatements: IamStatementSettings[]
  /** The template's top-level Metadata (`mcp:*`, what pmcp.run reads); null when none was extracted. */
  metadata: Record<string, unknown> | null
  /** Tags cargo pmcp puts on every pmcp.run resource. */
  tags: Record<string, string>
}

export interface IamStatementSettings {
  effect: 'Allow' | 'Deny'
  actions: string[]
  resources: IamResource[]
}

/** An ARN as written, or a DynamoDB table (with its indexes when asked) in the stack's own region and account. */
export type IamResource = { arn: string } | { dynamodbTable: string; withIndexes: boolean }
