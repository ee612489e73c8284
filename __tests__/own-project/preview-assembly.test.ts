/**
 * The preview of a CDK project of the user's own, made from production's cloud assembly
 * (src/cdk/preview-assembly.ts), on hand-written templates and manifests: no synth, no AWS.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { previewTemplate, writePreviewAssembly, type PreviewRenaming } from '../../src/cdk/preview-assembly.js'
import { ActionError } from '../../src/errors.js'
import { resourceNames } from '../../src/names.js'
import { captureStdout } from '../../testkit/annotations.js'

const production = resourceNames('hello', 'production')
const preview = resourceNames('hello', 'preview', '7')
const RENAMING: PreviewRenaming = {
  production: { stackName: production.stackName, functionName: production.functionName },
  preview: { stackName: preview.stackName, functionName: preview.functionName }
}

type Template = Parameters<typeof previewTemplate>[0]

function rewrite(template: Template): ReturnType<typeof previewTemplate> {
  return previewTemplate(template, RENAMING)
}

/** The template with one resource of type and properties, rewritten; that resource's properties. */
function rewriteOne(type: string, properties: Record<string, any>): Record<string, any> {
  const { template } = rewrite({ Resources: { It: { Type: type, Properties: properties } } })
  return template.Resources!.It.Properties!
}

/** Properties that are a resource's physical name, for the types these tests use. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName'
}

/**
 * What CloudFormation would name each resource (and each export) of template when deployed as stackName:
 * the intrinsic functions the templates here use, evaluated; a resource without a name gets one made from the stack's.
 */
function physicalNames(template: Template, stackName: string): Map<string, string> {
  const resources = template.Resources ?? {}
  const memo = new Map<string, string>()
  const physical = (id: string): string => {
    const known = memo.get(id)
    if (known !== undefined) return known
    const resource = resources[id]
    const property = NAME_PROPERTY[resource?.Type ?? '']
    const value = property ? resource.Properties?.[property] : undefined
    const name = value === undefined ? `${stackName}-${id}-GENERATED` : evaluate(value)
    memo.set(id, name)
    return name
  }
  const ref = (name: string): string =>
    name === 'AWS::StackName'
      ? stackName
      : name === 'AWS::Region'
        ? 'us-east-1'
        : name === 'AWS::AccountId'
          ? '123456789012'
          : name in resources
            ? physical(name)
            : `unresolved ${name}`
  const evaluate = (value: any): string => {
    if (typeof value === 'string') return value
    if (typeof value.Ref === 'string') return ref(value.Ref)
    if (value['Fn::GetAtt']) {
      const [id, attribute] = Array.isArray(value['Fn::GetAtt']) ? value['Fn::GetAtt'] : value['Fn::GetAtt'].split('.')
      return `${physical(id)}.${attribute}`
    }
    if (value['Fn::Join']) {
      const [separator, parts] = value['Fn::Join']
      return (parts as any[]).map(evaluate).join(separator)
    }
    if (typeof value['Fn::Sub'] === 'string') {
      return value['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_: string, name: string) =>
        name.startsWith('!') ? `\${${name.slice(1)}}` : name.includes('.') ? evaluate({ 'Fn::GetAtt': name }) : ref(name)
      )
    }
    throw new Error(`the test cannot evaluate ${JSON.stringify(value)}`)
  }
  const names = new Map<string, string>()
  for (const [id, resource] of Object.entries(resources)) if (NAME_PROPERTY[resource.Type ?? '']) names.set(id, physical(id))
  for (const [id, output] of Object.entries(template.Outputs ?? {}) as [string, any][]) {
    if (output.Export) names.set(`export ${id}`, evaluate(output.Export.Name))
  }
  return names
}

/** A production template with names of every kind the rewriting tells apart. */
const PRODUCTION_TEMPLATE: Template = {
  Resources: {
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: 'hello',
        Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
        Description: 'hello server (hello-stack)',
        Environment: { Variables: { SERVER: 'hello', STACK: 'hello-stack', TABLE: { Ref: 'Sessions' } } },
        Tags: [{ Key: 'app', Value: 'hello' }],
        Code: { S3Bucket: 'hello-artifacts', S3Key: 'hello.zip' }
      }
    },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/hello', RetentionInDays: 7 } },
    Role: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: 'hello-stack-role',
        Policies: [
          {
            PolicyName: 'logs',
            PolicyDocument: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'logs:PutLogEvents',
                  Resource: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/hello:*'
                }
              ]
            }
          }
        ]
      }
    },
    Sessions: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'sessions' } },
    Othello: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'othello' } },
    Cache: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: { 'Fn::Join': ['-', ['hello', 'cache', { Ref: 'AWS::Region' }]] } } },
    Shared: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: { 'Fn::Join': ['-', ['shared', { Ref: 'AWS::AccountId' }]] } } },
    Assets: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Sub': 'assets-${AWS::AccountId}-${AWS::Region}' } } },
    Uploads: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Sub': 'hello-uploads-${AWS::AccountId}' } } },
    Generated: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Enabled' } } },
    Jobs: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-jobs' } } },
    ByStack: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { Ref: 'AWS::StackName' } } },
    Dlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::Join': ['-', [{ Ref: 'Sessions' }, 'dlq']] } } },
    Events: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Generated', 'Name'] }]] } } },
    Invoke: {
      Type: 'AWS::Lambda::Permission',
      Properties: { FunctionName: 'hello', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' }
    }
  },
  Outputs: {
    FunctionName: { Value: 'hello' },
    Url: { Value: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Export: { Name: 'hello-url' } },
    SharedUrl: { Value: 'https://example.com', Export: { Name: 'SharedUrl' } },
    StackArn: { Value: { Ref: 'Fn' }, Export: { Name: { 'Fn::Sub': '${AWS::StackName}-FunctionArn' } } },
    CrossStack: { Value: { Ref: 'Fn' }, Export: { Name: 'hello-stack:ExportsOutputRefFn12345678' } },
    Vpc: { Value: { 'Fn::ImportValue': 'hello-shared-vpc' } }
  }
}

describe('previewTemplate', () => {
  const { template, changes } = rewrite(PRODUCTION_TEMPLATE)
  const resources = template.Resources!
  const outputs = template.Outputs as Record<string, any>

  it("renames a literal name equal to, or containing, production's function or stack name", () => {
    expect(resources.Fn.Properties!.FunctionName).toBe('hello-pr7')
    expect(resources.Logs.Properties!.LogGroupName).toBe('/aws/lambda/hello-pr7')
    expect(resources.Role.Properties!.RoleName).toBe('hello-pr7-stack-role')
  })

  it("suffixes -pr<N> to a literal name without the server's (or with it only inside another word)", () => {
    expect(resources.Sessions.Properties!.TableName).toBe('sessions-pr7')
    expect(resources.Othello.Properties!.TableName).toBe('othello-pr7')
    expect(rewriteOne('AWS::S3::Bucket', { BucketName: 'hello2-assets' }).BucketName).toBe('hello2-assets-pr7')
    expect(rewriteOne('AWS::S3::Bucket', { BucketName: 'my-hellos' }).BucketName).toBe('my-hellos-pr7')
  })

  it("renames the server's name inside Fn::Join and Fn::Sub, and suffixes one without it", () => {
    expect(resources.Cache.Properties!.TableName).toEqual({ 'Fn::Join': ['-', ['hello-pr7', 'cache', { Ref: 'AWS::Region' }]] })
    expect(resources.Uploads.Properties!.BucketName).toEqual({ 'Fn::Sub': 'hello-pr7-uploads-${AWS::AccountId}' })
    expect(resources.Assets.Properties!.BucketName).toEqual({ 'Fn::Sub': 'assets-${AWS::AccountId}-${AWS::Region}-pr7' })
    expect(resources.Shared.Properties!.TableName).toEqual({
      'Fn::Join': ['', [{ 'Fn::Join': ['-', ['shared', { Ref: 'AWS::AccountId' }]] }, '-pr7']]
    })
  })

  it('renames each branch of Fn::If on its own: a name renamed in one branch only would be production’s in the other', () => {
    const name = (value: unknown): unknown => rewriteOne('AWS::DynamoDB::Table', { TableName: value }).TableName
    expect(name({ 'Fn::If': ['IsBig', 'hello-table', 'shared-table'] })).toEqual({
      'Fn::If': ['IsBig', 'hello-pr7-table', 'shared-table-pr7']
    })
    expect(name({ 'Fn::If': ['IsBig', { Ref: 'AWS::StackName' }, 'shared-table'] })).toEqual({
      'Fn::If': ['IsBig', { Ref: 'AWS::StackName' }, 'shared-table-pr7']
    })
    expect(name({ 'Fn::If': ['IsBig', 'shared-table', { Ref: 'AWS::NoValue' }] })).toEqual({
      'Fn::If': ['IsBig', 'shared-table-pr7', { Ref: 'AWS::NoValue' }]
    })
    expect(() => name({ 'Fn::If': ['IsBig', { 'Fn::FindInMap': ['Names', 'prod', 'table'] }, 'hello'] })).toThrow(/It\.TableName/)
  })

  it("leaves a name built from the stack's name or this template's resources (Ref, GetAtt, Fn::Sub of them)", () => {
    for (const id of ['Jobs', 'ByStack', 'Dlq', 'Events']) {
      expect(resources[id].Properties).toEqual(PRODUCTION_TEMPLATE.Resources![id].Properties)
      expect(changes.some(change => change.where.startsWith(`${id}.`))).toBe(false)
    }
    expect(resources.Generated.Properties).toEqual({ VersioningConfiguration: { Status: 'Enabled' } })
  })

  it("keeps environment, tags, code and descriptions verbatim, and points other properties at the preview's names", () => {
    const fn = resources.Fn.Properties!
    const original = PRODUCTION_TEMPLATE.Resources!.Fn.Properties!
    for (const key of ['Environment', 'Tags', 'Code', 'Description']) expect(fn[key]).toEqual(original[key])
    expect(fn.Role).toEqual({ 'Fn::GetAtt': ['Role', 'Arn'] })
    expect(resources.Invoke.Properties!.FunctionName).toBe('hello-pr7')
    expect(JSON.stringify(resources.Role.Properties!.Policies)).toContain('log-group:/aws/lambda/hello-pr7:*')
    expect(resources.Logs.Properties!.RetentionInDays).toBe(7)
  })

  it('renames export names the same way, leaves those made from the stack name, and references as they are', () => {
    expect(outputs.Url.Export.Name).toBe('hello-pr7-url')
    expect(outputs.SharedUrl.Export.Name).toBe('SharedUrl-pr7')
    expect(outputs.StackArn.Export.Name).toEqual({ 'Fn::Sub': '${AWS::StackName}-FunctionArn' })
    expect(outputs.CrossStack.Export.Name).toBe('hello-pr7-stack:ExportsOutputRefFn12345678')
    expect(outputs.FunctionName.Value).toBe('hello-pr7')
    expect(outputs.Url.Value).toEqual({ 'Fn::GetAtt': ['Fn', 'Arn'] })
    expect(outputs.Vpc.Value).toEqual({ 'Fn::ImportValue': 'hello-shared-vpc' })
  })

  it("gives no resource and no export the physical name production's has", () => {
    const before = physicalNames(PRODUCTION_TEMPLATE, RENAMING.production.stackName)
    const after = physicalNames(template, RENAMING.preview.stackName)
    expect([...after.keys()]).toEqual([...before.keys()])
    for (const [id, name] of after) expect({ id, name }).not.toEqual({ id, name: before.get(id) })
    const productionNames = new Set(before.values())
    expect([...after.values()].filter(name => productionNames.has(name))).toEqual([])
    expect(after.get('Dlq')).toBe('sessions-pr7-dlq')
    expect(after.get('Jobs')).toBe('hello-pr7-stack-jobs')
  })

  it('lists each change with where it was made, and leaves the given template as it was', () => {
    expect(changes).toContainEqual({ where: 'Fn.FunctionName', from: 'hello', to: 'hello-pr7' })
    expect(changes).toContainEqual({ where: 'Sessions.TableName', from: 'sessions', to: 'sessions-pr7' })
    expect(changes).toContainEqual({ where: 'Outputs.Url.Export.Name', from: 'hello-url', to: 'hello-pr7-url' })
    expect(PRODUCTION_TEMPLATE.Resources!.Fn.Properties!.FunctionName).toBe('hello')
    expect((PRODUCTION_TEMPLATE.Outputs as any).SharedUrl.Export.Name).toBe('SharedUrl')
  })

  it('renames the stack name before the function name it starts with, and not another server whose name contains this one', () => {
    const properties = rewriteOne('AWS::IAM::Policy', {
      PolicyDocument: {
        Resource: ['arn:aws:lambda:*:*:function:hello-stack-Fn', 'arn:aws:lambda:*:*:function:hello-world', 'hellox', 'xhello']
      }
    })
    expect(properties.PolicyDocument.Resource).toEqual([
      'arn:aws:lambda:*:*:function:hello-pr7-stack-Fn',
      'arn:aws:lambda:*:*:function:hello-pr7-world',
      'hellox',
      'xhello'
    ])
  })

  describe('refuses a name it cannot rewrite', () => {
    const cases: [string, Template, string][] = [
      [
        'a Ref to a parameter',
        {
          Parameters: { FnName: { Type: 'String', Default: 'hello' } },
          Resources: { McpFunction: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: { Ref: 'FnName' } } } }
        } as Template,
        'McpFunction.FunctionName'
      ],
      [
        'Fn::FindInMap',
        {
          Resources: { Store: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: { 'Fn::FindInMap': ['Names', 'prod', 'table'] } } } }
        },
        'Store.TableName'
      ],
      [
        'Fn::Sub with literal variables',
        {
          Resources: {
            Store: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Sub': ['${Prefix}-data', { Prefix: 'acme' }] } } }
          }
        },
        'Store.BucketName'
      ],
      [
        'an export named from a mapping',
        { Outputs: { Api: { Value: 'x', Export: { Name: { 'Fn::FindInMap': ['Names', 'prod', 'export'] } } } } },
        'Outputs.Api.Export.Name'
      ]
    ]
    it.each(cases)('%s', (_, template, where) => {
      let error: unknown
      try {
        rewrite(template)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ActionError)
      const actionError = error as ActionError
      expect(actionError.title).toBe('Preview cannot rename a resource')
      expect(actionError.message).toContain(where)
      expect(actionError.message).toMatch(/PMCP_FUNCTION_NAME or PMCP_STACK_NAME/)
      expect(actionError.message).toMatch(/leave the name to CloudFormation/)
    })
  })
})

describe('writePreviewAssembly', () => {
  let root: string
  let assembly: string
  let out: string
  let productionText: string
  let productionHash: string

  const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex')
  const readJson = (file: string): any => JSON.parse(fs.readFileSync(file, 'utf8'))
  const writeJson = (file: string, value: unknown): void => fs.writeFileSync(file, JSON.stringify(value, undefined, 2))

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'preview-assembly-'))
    assembly = path.join(root, 'cdk.out')
    out = path.join(root, 'cdk.preview.out')
    fs.mkdirSync(path.join(assembly, 'asset.0123abcd'), { recursive: true })
    fs.writeFileSync(path.join(assembly, 'asset.0123abcd', 'bootstrap'), 'binary')
    productionText = JSON.stringify(PRODUCTION_TEMPLATE, undefined, 1)
    productionHash = sha256(productionText)
    fs.writeFileSync(path.join(assembly, 'hello-stack.template.json'), productionText)
    fs.writeFileSync(path.join(assembly, 'other-stack.template.json'), JSON.stringify({ Resources: {} }))
    const destination = (objectKey: string): Record<string, unknown> => ({
      'current_account-current_region': {
        bucketName: 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}',
        objectKey,
        assumeRoleArn:
          'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-file-publishing-role-${AWS::AccountId}-${AWS::Region}'
      }
    })
    writeJson(path.join(assembly, 'hello-stack.assets.json'), {
      version: '48.0.0',
      files: {
        '0123abcd': { source: { path: 'asset.0123abcd', packaging: 'zip' }, destinations: destination('0123abcd.zip') },
        [productionHash]: {
          source: { path: 'hello-stack.template.json', packaging: 'file' },
          destinations: destination(`${productionHash}.json`)
        }
      },
      dockerImages: {}
    })
    writeJson(path.join(assembly, 'manifest.json'), {
      version: '48.0.0',
      artifacts: {
        'hello-stack.assets': { type: 'cdk:asset-manifest', properties: { file: 'hello-stack.assets.json' } },
        'hello-stack': {
          type: 'aws:cloudformation:stack',
          environment: 'aws://unknown-account/unknown-region',
          properties: {
            templateFile: 'hello-stack.template.json',
            validateOnSynth: false,
            stackTemplateAssetObjectUrl: `s3://cdk-hnb659fds-assets-\${AWS::AccountId}-\${AWS::Region}/${productionHash}.json`
          },
          dependencies: ['hello-stack.assets'],
          metadata: { '/hello-stack/Fn/Resource': [{ type: 'aws:cdk:logicalId', data: 'Fn' }] },
          displayName: 'hello-stack'
        },
        'other-stack.assets': { type: 'cdk:asset-manifest', properties: { file: 'other-stack.assets.json' } },
        'other-stack': {
          type: 'aws:cloudformation:stack',
          properties: { templateFile: 'other-stack.template.json' },
          dependencies: ['other-stack.assets'],
          displayName: 'other-stack'
        },
        Tree: { type: 'cdk:tree', properties: { file: 'tree.json' } }
      }
    })
  })

  afterEach(() => fs.rmSync(root, { recursive: true, force: true }))

  /** writePreviewAssembly with its log kept off the test's output. */
  async function write(artifactId = 'hello-stack'): Promise<ReturnType<typeof writePreviewAssembly>> {
    const { result, error } = await captureStdout(() => writePreviewAssembly(assembly, artifactId, out, RENAMING))
    if (error !== undefined) throw error as Error
    return result!
  }

  it('writes the rewritten template into a copy of the assembly, leaving production’s assembly as it was', async () => {
    const result = await write()
    expect(result.dir).toBe(out)
    expect(result.templatePath).toBe(path.join(out, 'hello-stack.template.json'))
    expect(readJson(result.templatePath)).toEqual(rewrite(PRODUCTION_TEMPLATE).template)
    expect(result.changes).toEqual(rewrite(PRODUCTION_TEMPLATE).changes)
    expect(fs.readFileSync(path.join(out, 'asset.0123abcd', 'bootstrap'), 'utf8')).toBe('binary')
    expect(fs.readFileSync(path.join(assembly, 'hello-stack.template.json'), 'utf8')).toBe(productionText)
    expect(readJson(path.join(assembly, 'manifest.json')).artifacts['hello-stack'].displayName).toBe('hello-stack')
  })

  it('logs each change', async () => {
    const { output } = await captureStdout(() => writePreviewAssembly(assembly, 'hello-stack', out, RENAMING))
    expect(output).toContain('preview: Fn.FunctionName: hello → hello-pr7')
    expect(output).toContain('preview: Outputs.SharedUrl.Export.Name: SharedUrl → SharedUrl-pr7')
  })

  it('publishes the template under the hash of its new content, not under production’s', async () => {
    const result = await write()
    const hash = sha256(fs.readFileSync(result.templatePath))
    expect(hash).not.toBe(productionHash)
    const assets = readJson(path.join(out, 'hello-stack.assets.json'))
    expect(Object.keys(assets.files).sort()).toEqual(['0123abcd', hash].sort())
    expect(assets.files[hash].source).toEqual({ path: 'hello-stack.template.json', packaging: 'file' })
    expect(assets.files[hash].destinations['current_account-current_region'].objectKey).toBe(`${hash}.json`)
    expect(assets.files['0123abcd'].destinations['current_account-current_region'].objectKey).toBe('0123abcd.zip')
    const stack = readJson(path.join(out, 'manifest.json')).artifacts['hello-stack']
    expect(stack.properties.stackTemplateAssetObjectUrl).toBe(`s3://cdk-hnb659fds-assets-\${AWS::AccountId}-\${AWS::Region}/${hash}.json`)
    expect(readJson(path.join(assembly, 'hello-stack.assets.json')).files[productionHash]).toBeDefined()
  })

  it('keeps only the preview stack, under the preview’s name, with what it needs', async () => {
    await write()
    const manifest = readJson(path.join(out, 'manifest.json'))
    const stacks = Object.entries(manifest.artifacts as Record<string, any>).filter(
      ([, artifact]) => artifact.type === 'aws:cloudformation:stack'
    )
    expect(stacks.map(([id]) => id)).toEqual(['hello-stack'])
    const stack = manifest.artifacts['hello-stack']
    expect(stack.displayName).toBe('hello-pr7-stack')
    expect(stack.properties.stackName).toBe('hello-pr7-stack')
    expect(stack.properties.templateFile).toBe('hello-stack.template.json')
    expect(stack.properties.validateOnSynth).toBe(false)
    expect(stack.dependencies).toEqual(['hello-stack.assets'])
    expect(stack.environment).toBe('aws://unknown-account/unknown-region')
    expect(manifest.artifacts['hello-stack.assets']).toBeDefined()
    expect(manifest.artifacts['other-stack']).toBeUndefined()
    expect(manifest.version).toBe('48.0.0')
  })

  it('replaces an earlier preview assembly', async () => {
    fs.mkdirSync(out, { recursive: true })
    fs.writeFileSync(path.join(out, 'stale.template.json'), '{}')
    await write()
    expect(fs.existsSync(path.join(out, 'stale.template.json'))).toBe(false)
  })

  it('refuses a stack that depends on another stack, which the preview would share with production', async () => {
    const manifest = readJson(path.join(assembly, 'manifest.json'))
    manifest.artifacts['hello-stack'].dependencies.push('other-stack')
    writeJson(path.join(assembly, 'manifest.json'), manifest)
    await expect(write()).rejects.toThrow(ActionError)
    await expect(write()).rejects.toThrow(/depends on the stacks other-stack/)
    expect(fs.existsSync(out)).toBe(false)
  })

  it('fails on a stack that is not in the assembly', async () => {
    await expect(write('missing-stack')).rejects.toThrow(/No stack missing-stack in the cloud assembly/)
  })
})
