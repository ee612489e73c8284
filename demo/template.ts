/** What a synthesized CloudFormation template would create, in words a newcomer can read. */

export interface Template {
  Resources?: Record<string, { Type: string }>
  Outputs?: Record<string, { Description?: string; Value: unknown }>
}

/** What each resource of the rendered stack is for (types the stack does not have print without a note). */
const ROLE_OF_TYPE: Record<string, string> = {
  'AWS::Lambda::Function': 'the MCP server: your Rust binary as bootstrap, provided.al2023',
  'AWS::Lambda::Version': 'one published version per deploy (commit SHA + run id)',
  'AWS::Lambda::Alias': 'alias live: what API Gateway invokes and a rollback moves',
  'AWS::Lambda::Permission': 'lets each route invoke alias live',
  'AWS::ApiGatewayV2::Api': 'the HTTP API (the MCP URL)',
  'AWS::ApiGatewayV2::Route': 'ANY / and ANY /{proxy+}',
  'AWS::ApiGatewayV2::Integration': 'HTTP API → alias live',
  'AWS::ApiGatewayV2::Stage': 'the $default stage (auto-deploy, throttling)',
  'AWS::IAM::Role': 'the function’s execution role (logs)',
  'AWS::IAM::Policy': 'X-Ray tracing',
  'AWS::Logs::LogGroup': 'the function’s logs, with retention',
  'AWS::CloudWatch::Dashboard': 'invocations, errors, latency',
  'AWS::CloudWatch::Alarm': 'errors and latency thresholds'
}

export interface ResourceCount {
  type: string
  count: number
}

/** Resource types and how many of each, sorted by type. */
export function resourceCounts(template: Template): ResourceCount[] {
  const counts = new Map<string, number>()
  for (const { Type } of Object.values(template.Resources ?? {})) counts.set(Type, (counts.get(Type) ?? 0) + 1)
  return [...counts].map(([type, count]) => ({ type, count })).sort((a, b) => a.type.localeCompare(b.type))
}

/** CDK logical ids end in an 8-character hash (HttpApiF5A9A8A7); the name before it reads better. */
function readableId(logicalId: string): string {
  return logicalId.replace(/(?<=.)[0-9A-F]{8}$/, '')
}

/** An output's value as a string with `{Resource.Attribute}` where CloudFormation fills something in. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(describeValue).join(', ')
  if (value !== null && typeof value === 'object') {
    const [[fn, args]] = Object.entries(value)
    if (fn === 'Ref') return `{${readableId(String(args))}}`
    if (fn === 'Fn::GetAtt') return `{${(args as string[]).map(readableId).join('.')}}`
    if (fn === 'Fn::Join') {
      const [separator, parts] = args as [string, unknown[]]
      return parts.map(describeValue).join(separator)
    }
    return `{${fn}}`
  }
  return String(value)
}

export interface OutputLine {
  name: string
  description?: string
  value: string
}

export function outputLines(template: Template): OutputLine[] {
  return Object.entries(template.Outputs ?? {}).map(([name, output]) => ({
    name,
    description: output.Description,
    value: describeValue(output.Value)
  }))
}

/** The block the demo prints: `  2 × AWS::ApiGatewayV2::Route  ANY / and …` and `  McpUrl = …`. */
export function describeTemplate(template: Template): string[] {
  const resources = resourceCounts(template)
  const typeWidth = Math.max(...resources.map(r => r.type.length))
  const outputs = outputLines(template)
  const nameWidth = Math.max(...outputs.map(o => o.name.length))
  return [
    `Resources it would create (${resources.reduce((sum, r) => sum + r.count, 0)} in ${resources.length} types):`,
    ...resources.map(r => `  ${String(r.count).padStart(2)} × ${r.type.padEnd(typeWidth)}  ${ROLE_OF_TYPE[r.type] ?? ''}`.trimEnd()),
    'Outputs it would have (values CloudFormation fills in are in braces):',
    ...outputs.map(o => `  ${o.name.padEnd(nameWidth)} = ${o.value}${o.description ? `   (${o.description})` : ''}`)
  ]
}
