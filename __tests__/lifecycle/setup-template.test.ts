import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDocument, type CollectionTag, type ScalarTag } from 'yaml'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const TEMPLATE = path.join(root, 'templates/aws-setup/github-oidc-role.yaml')

// CloudFormation's short-form intrinsics (!Sub, !Ref, …) as plain { 'Fn::…': … } objects.
const intrinsic = (name: string, fn: string): Array<ScalarTag | CollectionTag> =>
  (['scalar', 'seq', 'map'] as const).map(collection => ({
    tag: `!${name}`,
    ...(collection === 'scalar' ? {} : { collection }),
    resolve: (value: unknown) => ({
      [fn]: value instanceof Object && 'toJSON' in value ? (value as { toJSON(): unknown }).toJSON() : value
    })
  }))
const TAGS = [
  ...intrinsic('Ref', 'Ref'),
  ...['Sub', 'If', 'Equals', 'GetAtt', 'Join', 'Select', 'Split', 'Not', 'And', 'Or'].flatMap(name => intrinsic(name, `Fn::${name}`))
]

interface Statement {
  Sid?: string
  Effect: string
  Action: string | string[]
  Resource?: unknown
  Principal?: unknown
  Condition?: Record<string, Record<string, unknown>>
}

function template(): any {
  return parseDocument(fs.readFileSync(TEMPLATE, 'utf8'), { customTags: TAGS }).toJS()
}

function cfnLintInstalled(): boolean {
  return spawnSync('cfn-lint', ['--version'], { stdio: 'ignore' }).status === 0
}

describe('one-time AWS setup template', () => {
  it('passes cfn-lint with no errors', () => {
    if (!cfnLintInstalled()) {
      if (process.env.CI === 'true') throw new Error('cfn-lint is not on PATH; it is required when CI=true')
      console.warn('Skipping cfn-lint: not on PATH (pip install cfn-lint)')
      return
    }
    const result = spawnSync('cfn-lint', ['--format', 'json', TEMPLATE], { encoding: 'utf8' })
    const findings = JSON.parse(result.stdout || '[]') as Array<{ Level: string; Rule: { Id: string }; Message: string }>
    expect(findings.filter(f => f.Level === 'Error').map(f => `${f.Rule.Id}: ${f.Message}`)).toEqual([])
    expect(findings.map(f => `${f.Level} ${f.Rule.Id}: ${f.Message}`)).toEqual([])
  })

  it('trusts only the given repository (branches, pull requests, environments) with audience sts.amazonaws.com', () => {
    const role = template().Resources.DeployRole.Properties
    const [trust, ...others] = role.AssumeRolePolicyDocument.Statement as Statement[]
    expect(others).toEqual([])
    expect(trust.Action).toBe('sts:AssumeRoleWithWebIdentity')
    expect(trust.Condition?.StringEquals).toEqual({ 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' })
    const subjects = (trust.Condition?.StringLike['token.actions.githubusercontent.com:sub'] as Array<{ 'Fn::Sub': string }>).map(
      s => s['Fn::Sub']
    )
    expect(subjects).toEqual(['repo:${Repository}:ref:refs/heads/*', 'repo:${Repository}:pull_request', 'repo:${Repository}:environment:*'])
    const text = JSON.stringify(role.AssumeRolePolicyDocument)
    expect(text).not.toMatch(/repo:\*/)
    expect(text).not.toMatch(/repo:[^$"]*\*\//) // no wildcard owner
  })

  it('accepts only one owner/name repository, never a wildcard', () => {
    const pattern = new RegExp(template().Parameters.Repository.AllowedPattern)
    expect(pattern.test('acme/weather-mcp')).toBe(true)
    expect(pattern.test('my-org/my.server_2')).toBe(true)
    for (const bad of ['*', 'acme/*', '*/weather-mcp', 'acme', 'acme/weather-mcp/extra', 'acme/weather mcp'])
      expect(pattern.test(bad)).toBe(false)
  })

  it('creates the OIDC provider only when no existing one is given', () => {
    const t = template()
    expect(t.Conditions.CreateOidcProvider).toEqual({ 'Fn::Equals': [{ Ref: 'ExistingOidcProviderArn' }, ''] })
    expect(t.Resources.GitHubOidcProvider.Condition).toBe('CreateOidcProvider')
    expect(t.Resources.GitHubOidcProvider.Properties).toMatchObject({
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com']
    })
    expect(t.Resources.DeployRole.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Federated).toEqual({
      'Fn::If': ['CreateOidcProvider', { Ref: 'GitHubOidcProvider' }, { Ref: 'ExistingOidcProviderArn' }]
    })
  })

  it('allows what deploy, hotswap, rollback and destroy need, on scoped resources only', () => {
    const statements = template().Resources.DeployRole.Properties.Policies[0].PolicyDocument.Statement as Statement[]
    const actions = statements.flatMap(s => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    expect(actions).toEqual(
      expect.arrayContaining([
        'sts:AssumeRole',
        'ssm:GetParameter',
        'cloudformation:DeleteStack',
        'cloudformation:DescribeStacks',
        'cloudformation:DescribeStackEvents',
        'lambda:UpdateFunctionCode',
        'lambda:UpdateFunctionConfiguration',
        'lambda:PublishVersion',
        'lambda:GetFunction',
        'lambda:GetAlias',
        'lambda:ListVersionsByFunction',
        'lambda:UpdateAlias',
        'logs:FilterLogEvents',
        'secretsmanager:DescribeSecret',
        'secretsmanager:CreateSecret',
        'secretsmanager:PutSecretValue',
        'cognito-idp:DescribeUserPoolClient'
      ])
    )
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow')
      expect(Array.isArray(statement.Action) ? statement.Action : [statement.Action]).not.toContainEqual(expect.stringMatching(/\*/))
      const resources = JSON.stringify(statement.Resource)
      expect(resources).not.toBe('"*"')
      expect(resources).toContain('${AWS::AccountId}')
    }
    const secrets = statements.find(s => s.Sid === 'WriteServerSecretsFromTheSecretsInput')
    expect(secrets?.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:*:${AWS::AccountId}:secret:${ServerName}/*' })
    const assume = statements.find(s => s.Sid === 'DeployThroughCdkBootstrapRoles')
    expect(assume?.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-*' })
  })
})
