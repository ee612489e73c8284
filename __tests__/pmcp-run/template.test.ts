/**
 * cargo-pmcp's post-synth merges of a pmcp-run deploy: `[environment]` (without `[secrets]` names)
 * into every Lambda function, then `[server]` sizing onto the function named after the server only;
 * the template untouched, byte for byte, when there is nothing to merge.
 */
import { describe, expect, it } from '@jest/globals'
import { applyPostSynthMerges, mergeEnvironment, mergeSizing } from '../../src/targets/pmcp-run/template.js'
import type { DeployConfig } from '../../src/config/index.js'
import { captureStdout, parseAnnotations } from '../../testkit/annotations.js'

/** A synthesized template as CDK writes it (1-space JSON): the server, an authorizer, a function named by reference, a role. */
function synthesized(): string {
  return JSON.stringify(
    {
      Description: 'MCP Server: weather',
      Metadata: { 'mcp:version': '1.0' },
      Resources: {
        McpFunction1A2B: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            FunctionName: 'weather',
            MemorySize: 256,
            Timeout: 30,
            Environment: { Variables: { RUST_LOG: 'info', PMCP_ORGANIZATION_ID: 'default-org', MCP_SERVERS_TABLE: 'McpServer' } }
          }
        },
        Authorizer9F: {
          Type: 'AWS::Lambda::Function',
          Properties: { FunctionName: 'weather-authorizer', MemorySize: 128, Timeout: 5 }
        },
        Named: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: { Ref: 'NameParameter' } } },
        Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } }
      }
    },
    undefined,
    1
  )
}

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>
const resourcesOf = (text: string): Resources => (JSON.parse(text) as { Resources: Resources }).Resources

describe('the [environment] merge', () => {
  it('puts the declared variables into every Lambda function, over what the stack set, leaving the rest', async () => {
    const { result, output } = await captureStdout(() =>
      mergeEnvironment(synthesized(), { RUST_LOG: 'debug', GREETING: 'hello', MCP_SERVERS_TABLE: 'Registry' }, [])
    )
    const resources = resourcesOf(result!.template)
    expect(resources.McpFunction1A2B.Properties.Environment.Variables).toEqual({
      RUST_LOG: 'debug',
      PMCP_ORGANIZATION_ID: 'default-org',
      MCP_SERVERS_TABLE: 'Registry',
      GREETING: 'hello'
    })
    // Every Lambda function, even one without an environment of its own; nothing else.
    const merged = { RUST_LOG: 'debug', GREETING: 'hello', MCP_SERVERS_TABLE: 'Registry' }
    expect(resources.Authorizer9F.Properties.Environment).toEqual({ Variables: merged })
    expect(resources.Named.Properties.Environment).toEqual({ Variables: merged })
    expect(resources.Role.Properties).toEqual({ AssumeRolePolicyDocument: {} })
    expect(result!.lambdas).toEqual(['Authorizer9F', 'McpFunction1A2B', 'Named'])
    expect(output).toContain('Applied [environment] to 3 Lambda function(s): Authorizer9F, McpFunction1A2B, Named')
    // Re-serialized as 2-space JSON.
    expect(result!.template).toBe(JSON.stringify(JSON.parse(result!.template), null, 2))
    expect(parseAnnotations(output)).toEqual([])
  })

  it('leaves out the [secrets] names (pmcp.run injects those)', () => {
    const { template, lambdas } = mergeEnvironment(synthesized(), { API_KEY: 'not-for-the-template', GREETING: 'hi' }, ['API_KEY'])
    const variables = resourcesOf(template).McpFunction1A2B.Properties.Environment.Variables
    expect(variables.GREETING).toBe('hi')
    expect(variables).not.toHaveProperty('API_KEY')
    expect(template).not.toContain('not-for-the-template')
    expect(lambdas).toHaveLength(3)
  })

  it('returns the template byte for byte when [environment] is empty', async () => {
    const text = synthesized()
    const { result, output } = await captureStdout(() => mergeEnvironment(text, {}, ['API_KEY']))
    expect(result).toEqual({ template: text, lambdas: [] })
    expect(output).toBe('')
  })

  it('warns, naming deploy.toml and the keys, when the template has no Lambda function', async () => {
    const noLambda = JSON.stringify({ Resources: { Bucket: { Type: 'AWS::S3::Bucket' } } })
    const { result, output } = await captureStdout(() =>
      mergeEnvironment(noLambda, { ZETA: '1', ALPHA: '2', API_KEY: 'x' }, ['API_KEY'], 'server/.pmcp/deploy.toml')
    )
    expect(result!.lambdas).toEqual([])
    expect(JSON.parse(result!.template)).toEqual(JSON.parse(noLambda))
    const [warning, ...rest] = parseAnnotations(output)
    expect(rest).toEqual([])
    expect(warning.level).toBe('warning')
    expect(warning.properties).toEqual({ title: '[environment] not applied', file: 'server/.pmcp/deploy.toml' })
    expect(warning.message).toContain('[environment] of server/.pmcp/deploy.toml declared but NOT applied')
    expect(warning.message).toContain('Affected keys: ALPHA, ZETA.')
    const onlySecrets = await captureStdout(() => mergeEnvironment(noLambda, { API_KEY: 'x' }, ['API_KEY']))
    expect(parseAnnotations(onlySecrets.output)[0].message).toContain('Affected keys: (none: all declared keys are secrets)')
  })

  it('fails on a template that is not JSON', () => {
    expect(() => mergeEnvironment('{"Resources":', { A: 'b' }, [])).toThrow('Failed to parse synthesized CloudFormation template JSON')
  })
})

describe('the [server] sizing merge', () => {
  it('sizes only the function named after the server, and says what changed', async () => {
    const { result, output } = await captureStdout(() =>
      mergeSizing(synthesized(), 'weather', { memoryMb: 1024, timeoutSeconds: 30, ephemeralStorageMb: 2048 })
    )
    const resources = resourcesOf(result!.template)
    expect(resources.McpFunction1A2B.Properties).toMatchObject({ MemorySize: 1024, Timeout: 30, EphemeralStorage: { Size: 2048 } })
    // The authorizer and the function named by reference keep theirs.
    expect(resources.Authorizer9F.Properties).toEqual({ FunctionName: 'weather-authorizer', MemorySize: 128, Timeout: 5 })
    expect(resources.Named.Properties).toEqual({ FunctionName: { Ref: 'NameParameter' } })
    expect(result!.matched).toBe(true)
    // Sorted; the timeout already matched, so no line for it.
    expect(result!.changes).toEqual(['McpFunction1A2B: EphemeralStorage.Size (unset) -> 2048', 'McpFunction1A2B: MemorySize 256 -> 1024'])
    expect(output).toContain('Applied [server] sizing — McpFunction1A2B: MemorySize 256 -> 1024')
    expect(output).toContain('Applied [server] sizing — McpFunction1A2B: EphemeralStorage.Size (unset) -> 2048')
    expect(parseAnnotations(output)).toEqual([])
  })

  it('applies only what is declared, and says when the template already has it', async () => {
    const timeoutOnly = mergeSizing(synthesized(), 'weather', { timeoutSeconds: 60 })
    expect(resourcesOf(timeoutOnly.template).McpFunction1A2B.Properties).toMatchObject({ MemorySize: 256, Timeout: 60 })
    expect(resourcesOf(timeoutOnly.template).McpFunction1A2B.Properties).not.toHaveProperty('EphemeralStorage')
    expect(timeoutOnly.changes).toEqual(['McpFunction1A2B: Timeout 30 -> 60'])
    const same = await captureStdout(() => mergeSizing(synthesized(), 'weather', { memoryMb: 256 }))
    expect(same.result).toMatchObject({ changes: [], matched: true })
    expect(same.output).toContain('[server] sizing already matches the synthesized template')
  })

  it('returns the template byte for byte when [server] declares no size', async () => {
    const text = synthesized()
    const { result, output } = await captureStdout(() => mergeSizing(text, 'weather', {}))
    expect(result).toEqual({ template: text, changes: [], matched: false })
    expect(output).toBe('')
  })

  it('warns, naming deploy.toml and what was declared, when no function has the name', async () => {
    const { result, output } = await captureStdout(() =>
      mergeSizing(synthesized(), 'weather-pr7', { memoryMb: 512, ephemeralStorageMb: 1024 })
    )
    expect(result!.matched).toBe(false)
    expect(result!.changes).toEqual([])
    expect(JSON.parse(result!.template)).toEqual(JSON.parse(synthesized()))
    const annotations = parseAnnotations(output)
    expect(annotations).toHaveLength(1)
    expect(annotations[0].properties).toEqual({ title: '[server] sizing not applied', file: '.pmcp/deploy.toml' })
    expect(annotations[0].message).toContain("no AWS::Lambda::Function whose FunctionName is 'weather-pr7'")
    expect(annotations[0].message).toContain('Declared: memory_mb = 512, ephemeral_storage_mb = 1024.')
  })

  it('does not clobber an EphemeralStorage that is not an object', () => {
    const odd = synthesized().replace('"MemorySize": 256', '"MemorySize": 256,\n     "EphemeralStorage": "odd"')
    const { template, changes } = mergeSizing(odd, 'weather', { ephemeralStorageMb: 1024 })
    expect(resourcesOf(template).McpFunction1A2B.Properties.EphemeralStorage).toBe('odd')
    expect(changes).toEqual([])
  })
})

describe('both merges', () => {
  const config = (environment: Record<string, string>, sizing: DeployConfig['server']['sizing']): DeployConfig =>
    ({ file: '.pmcp/deploy.toml', environment, secrets: ['API_KEY'], server: { sizing } }) as unknown as DeployConfig

  it('apply [environment], then sizing onto the function named as given (a preview: <name>-pr<N>)', async () => {
    const preview = synthesized().replace('"FunctionName": "weather"', '"FunctionName": "weather-pr7"')
    const { result, output } = await captureStdout(() =>
      applyPostSynthMerges(preview, config({ RUST_LOG: 'warn', API_KEY: 'k' }, { memoryMb: 2048 }), 'weather-pr7')
    )
    const environmentLine = output.indexOf('Applied [environment] to 3 Lambda function(s)')
    expect(environmentLine).toBeGreaterThanOrEqual(0)
    expect(output.indexOf('Applied [server] sizing — McpFunction1A2B: MemorySize 256 -> 2048')).toBeGreaterThan(environmentLine)
    const merged = resourcesOf(result!)
    expect(merged.McpFunction1A2B.Properties).toMatchObject({ FunctionName: 'weather-pr7', MemorySize: 2048 })
    expect(merged.McpFunction1A2B.Properties.Environment.Variables).toMatchObject({ RUST_LOG: 'warn' })
    expect(merged.McpFunction1A2B.Properties.Environment.Variables).not.toHaveProperty('API_KEY')
    expect(merged.Authorizer9F.Properties).toMatchObject({ MemorySize: 128, Environment: { Variables: { RUST_LOG: 'warn' } } })
  })

  it('leave the template as synthesized when deploy.toml declares neither', () => {
    const text = synthesized()
    expect(applyPostSynthMerges(text, config({}, {}), 'weather')).toBe(text)
  })
})
