import * as core from '@actions/core'

/**
 * The MCP endpoint of a stack that has no `McpUrl` output (cargo pmcp's scaffold outputs only `ApiUrl`),
 * computed as cargo pmcp computes it for aws-lambda (deployment/mcp_endpoint.rs): the `ApiUrl` output
 * with `[server] mcp_path` appended, one `/` at the junction, nothing appended when the URL already
 * ends with the path, and `/` (the default) meaning the API URL as it is.
 */
export function joinEndpoint(serviceUrl: string, mcpPath: string): string {
  const bare = mcpPath.replace(/\/+$/, '')
  if (bare === '') return serviceUrl
  const trailing = mcpPath.slice(bare.length)
  const base = serviceUrl.replace(/\/+$/, '')
  return base.endsWith(bare) ? `${base}${trailing}` : `${base}${mcpPath}`
}

/** The stack's outputs with `McpUrl` added from `ApiUrl` when the stack has none (see joinEndpoint). */
export function withMcpUrl(outputs: Record<string, string>, mcpPath: string): Record<string, string> {
  if (outputs.McpUrl?.trim() || !outputs.ApiUrl?.trim()) return outputs
  const mcpUrl = joinEndpoint(outputs.ApiUrl.trim(), mcpPath)
  core.info(`The stack has no McpUrl output: the MCP endpoint is its ApiUrl with [server] mcp_path (${mcpPath}), ${mcpUrl}`)
  return { ...outputs, McpUrl: mcpUrl }
}
