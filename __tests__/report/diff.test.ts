import { beforeAll, describe, expect, it } from '@jest/globals'
import { classifyDiff, destructiveChangesError, firstDeployDiff } from '../../src/cdk/diff.js'
import { renderComment } from '../../src/report/comment.js'
import type { InfraDiff } from '../../src/report/model.js'
import { renderSummary } from '../../src/report/summary.js'
import { deployedReport, STACK } from './sample.js'

const PRODUCTION = 'weather-stack'

const ROLE = {
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }
  }
}

const OLD = {
  Resources: {
    Role: ROLE,
    Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 128, Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/weather', RetentionInDays: 7 } },
    Users: { Type: 'AWS::Cognito::UserPool', Properties: { UserPoolName: 'weather' } },
    Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'weather' } }
  },
  Outputs: { McpUrl: { Value: 'https://a.invalid/mcp' } }
}

const NEW = {
  Resources: {
    Role: ROLE,
    Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256, Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/weather-v2', RetentionInDays: 7 } },
    Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'weather-renamed' } },
    Policy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'p',
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }
      }
    },
    Sg: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: 'web',
        SecurityGroupIngress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }]
      }
    }
  },
  Outputs: { McpUrl: { Value: 'https://b.invalid/mcp' } }
}

describe('classifyDiff', () => {
  let diff: InfraDiff
  beforeAll(async () => {
    diff = await classifyDiff(PRODUCTION, OLD, NEW)
  })
  const row = (id: string) => diff.resources.find(resource => resource.logicalId === id)

  it('classifies added, changed, replaced and removed resources', () => {
    expect(row('Policy')).toMatchObject({ change: 'added', type: 'AWS::IAM::Policy', destructive: false })
    expect(row('Sg')).toMatchObject({ change: 'added' })
    expect(row('Fn')).toMatchObject({ change: 'changed', properties: ['MemorySize'], destructive: false })
    expect(row('Logs')).toMatchObject({ change: 'replaced', properties: ['LogGroupName'], destructive: true })
    expect(row('Users')).toMatchObject({ change: 'removed', type: 'AWS::Cognito::UserPool', destructive: true })
    expect(row('Role')).toBeUndefined()
    expect(diff.outputsChanged).toEqual(['McpUrl'])
  })

  it('flags only stateful resources replaced or removed, and puts them first', () => {
    // An SNS topic holds no data: replacing it is not destructive.
    expect(row('Topic')).toMatchObject({ change: 'replaced', destructive: false })
    expect(diff.resources.filter(resource => resource.destructive).map(resource => resource.logicalId)).toEqual(['Users', 'Logs'])
    expect(diff.resources.slice(0, 2).every(resource => resource.destructive)).toBe(true)
  })

  it('calls out IAM and security-group changes', () => {
    expect(diff.permissionsBroadened).toBe(true)
    expect(diff.iamStatements[0]).toContain('Action')
    expect(diff.iamStatements.slice(1)).toEqual([expect.arrayContaining(['+', 's3:*'])])
    expect(diff.securityGroups.slice(1)).toEqual([expect.arrayContaining(['+', 'In', 'TCP 443'])])
  })

  it('treats a missing production as everything new', async () => {
    const first = await firstDeployDiff(PRODUCTION, NEW)
    expect(first.state).toBe('no production')
    expect(first.resources.every(resource => resource.change === 'added')).toBe(true)
  })

  it('names each destructive resource in the fail-on-destructive-changes error', async () => {
    const error = destructiveChangesError(diff)
    expect(error?.title).toBe('Destructive changes to production')
    expect(error?.message).toContain('Logs (AWS::Logs::LogGroup) replaced')
    expect(error?.message).toContain('Users (AWS::Cognito::UserPool) removed')
    expect(destructiveChangesError(await classifyDiff(PRODUCTION, OLD, OLD))).toBeUndefined()
  })
})

describe('the infrastructure diff in the PR comment and the job summary', () => {
  let diff: InfraDiff
  beforeAll(async () => {
    diff = await classifyDiff(PRODUCTION, OLD, NEW)
  })

  it('shows destructive changes at the top, then counts, resources, IAM and security groups', () => {
    const comment = renderComment(deployedReport({ infraDiff: diff }))
    const section = comment.slice(comment.indexOf('#### Infrastructure diff against production'))
    const destructive = section.indexOf('🛑 **Destructive changes to production** <code>weather-stack</code>')
    expect(destructive).toBeGreaterThan(0)
    expect(destructive).toBeLessThan(section.indexOf('| Resource | Type | Change | Properties |'))
    expect(section).toContain('- <code>Logs</code> (AWS::Logs::LogGroup) replaced')
    expect(section).toContain('2 added, 1 changed, 2 replaced, 1 removed')
    expect(section).toContain('| <code>Fn</code> | AWS::Lambda::Function | ✏️ changed | MemorySize |')
    expect(section).toMatch(/\*\*IAM changes \(1\): permissions broadened\*\*/)
    expect(section).toContain('**Security-group changes (1)**')
    // The diff is part of this stack's own comment: one marker, the preview's.
    expect(comment.match(/<!-- pmcp-deploy:/g)).toHaveLength(1)
    expect(comment).toContain(`<!-- pmcp-deploy:${STACK} -->`)
  })

  it('folds a long resource list in <details>', () => {
    const many: InfraDiff = {
      ...diff,
      resources: Array.from({ length: 25 }, (_, index) => ({
        logicalId: `Queue${index}`,
        type: 'AWS::SNS::Topic',
        change: 'added' as const,
        properties: [],
        destructive: false
      }))
    }
    const comment = renderComment(deployedReport({ infraDiff: many }))
    expect(comment).toContain('<details><summary>Resources (25)</summary>')
    expect(renderComment(deployedReport({ infraDiff: diff }))).not.toContain('<summary>Resources')
  })

  it('escapes hostile logical ids, types and reasons', () => {
    const hostile: InfraDiff = {
      ...diff,
      resources: [
        {
          logicalId: 'Evil|</code><img src=x onerror=alert(1)>`x`',
          type: 'AWS::S3::Bucket|<script>',
          change: 'removed',
          properties: ['A|B'],
          destructive: true
        }
      ],
      iamStatements: [],
      iamManagedPolicies: [],
      securityGroups: []
    }
    const comment = renderComment(deployedReport({ infraDiff: hostile }))
    expect(comment).not.toContain('<img')
    expect(comment).not.toContain('<script>')
    expect(comment).toContain('&lt;img src=x onerror=alert(1)&gt;')
    const row = comment.split('\n').find(line => line.includes('Evil'))
    expect(row).toBeDefined()
    expect(row).not.toMatch(/(?<!\\)\|B/)
    const unavailable = renderComment(
      deployedReport({ infraDiff: { ...hostile, state: 'unavailable', reason: 'AccessDenied: <b>no</b> | `x`', resources: [] } })
    )
    expect(unavailable).toContain(
      '⚠️ No infrastructure diff: production <code>weather-stack</code> could not be read ' +
        '(AccessDenied: &lt;b&gt;no&lt;/b&gt; \\| \\`x\\`).'
    )
  })

  it('says production does not exist yet, and says when nothing changes', async () => {
    const first = renderSummary(deployedReport({ infraDiff: await firstDeployDiff(PRODUCTION, NEW) }))
    expect(first).toContain('### Infrastructure diff against production')
    expect(first).toContain('Production <code>weather-stack</code> does not exist yet: everything is new (6 added).')
    const same = renderComment(deployedReport({ infraDiff: await classifyDiff(PRODUCTION, OLD, OLD) }))
    expect(same).toContain('No infrastructure changes to production <code>weather-stack</code>.')
    expect(renderComment(deployedReport())).not.toContain('Infrastructure diff')
  })
})
