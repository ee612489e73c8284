// The settings the pmcp-run stack reads: the one contract between the action and the rendered
// project. src/render builds a value of this type, and lib/stack.ts is rendered with this file's
// text in place of `{{settingsContract}}`, so the compiler checks both sides against it.

export interface StackSettings {
  stackName: string
  stackDescription: string
  /** Also the pmcp.run project name and `PMCP_SERVER_ID`. */
  functionName: string
  architecture: 'arm64' | 'x86_64'
  memoryMb: number
  timeoutSeconds: number
  /** `[environment]` over the composition variables pmcp.run servers get. */
  environment: Record<string, string>
  /** The pmcp.run server registry the function may read to find the servers it composes. */
  serversTable: string
  logRetentionDays: number
  /** Tags cargo pmcp puts on every pmcp.run resource. */
  tags: Record<string, string>
}
