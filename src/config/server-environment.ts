/**
 * The environment variables the generated stack gives the MCP server beyond `[environment]`, so
 * config validation can refuse `[environment]` keys that would collide with them.
 *
 * `[secrets]`: each name maps to one Secrets Manager secret `<server name>/<name>` (the form
 * cargo-pmcp's secret commands use) and one variable carrying its ARN.
 */

/** Set on the function when `[auth]` is enabled (the stack template sets exactly these). */
export const OAUTH_ENVIRONMENT_VARIABLES = [
  'OAUTH_ISSUER',
  'OAUTH_AUDIENCE',
  'COGNITO_USER_POOL_ID',
  'COGNITO_CLIENT_ID',
  'COGNITO_MACHINE_CLIENT_ID'
] as const

/** The Secrets Manager secret name for one `[secrets]` entry; previews share production's secrets. */
export function secretId(serverName: string, name: string): string {
  return `${serverName}/${name}`
}

/** `openaiKey`, `openai-key` and `OPENAI_KEY` all become `OPENAI_KEY_SECRET_ARN`. */
export function secretArnVariable(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
  return `${words.join('_').toUpperCase()}_SECRET_ARN`
}
