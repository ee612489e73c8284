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

const DEFAULT_ISSUER = 'token.actions.githubusercontent.com'

/** A parameter's value: the given one, else the template's default. */
function parameter(name: string, given: Record<string, string>): string {
  const value = given[name] ?? template().Parameters[name]?.Default
  if (value === undefined) throw new Error(`parameter ${name} has no default; give it`)
  return String(value)
}

/**
 * The deploy role's trust policy as CloudFormation computes it: the `!Sub` JSON with the parameters
 * (defaults unless given) and its own variables, which come out as `<Fn::If …>` placeholders.
 */
function trustPolicy(given: Record<string, string> = {}): { Statement: Statement[] } {
  const sub = template().Resources.DeployRole.Properties.AssumeRolePolicyDocument['Fn::Sub'] as [string, Record<string, unknown>]
  const [text, variables] = sub
  const resolved = text.replace(/\$\{([\w:]+)\}/g, (_match, name: string) =>
    name in variables
      ? `<${JSON.stringify(variables[name]).replace(/"/g, "'")}>`
      : parameter(name, { Repository: 'acme/weather', ...given })
  )
  return JSON.parse(resolved) as { Statement: Statement[] }
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

  it('trusts only the given repository (its production branch, pull requests, environments) with audience sts.amazonaws.com', () => {
    const [trust, ...others] = trustPolicy().Statement
    expect(others).toEqual([])
    expect(trust.Action).toBe('sts:AssumeRoleWithWebIdentity')
    expect(trust.Condition?.StringEquals).toEqual({ 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' })
    expect(trust.Condition?.StringLike).toEqual({
      'token.actions.githubusercontent.com:sub': [
        'repo:acme/weather:ref:refs/heads/main',
        'repo:acme/weather:pull_request',
        'repo:acme/weather:environment:*'
      ]
    })
    const text = template().Resources.DeployRole.Properties.AssumeRolePolicyDocument['Fn::Sub'][0] as string
    expect(text).not.toMatch(/repo:\*/)
    expect(text).not.toMatch(/repo:[^$"]*\*\//) // no wildcard owner
  })

  it('trusts only the ProductionBranch of the repository branches (default main)', () => {
    const t = template()
    expect(t.Parameters.ProductionBranch.Default).toBe('main')
    const [trust] = trustPolicy({ ProductionBranch: 'release/v2' }).Statement
    expect(trust.Condition?.StringLike).toEqual({
      'token.actions.githubusercontent.com:sub': [
        'repo:acme/weather:ref:refs/heads/release/v2',
        'repo:acme/weather:pull_request',
        'repo:acme/weather:environment:*'
      ]
    })
    const branchPattern = new RegExp(t.Parameters.ProductionBranch.AllowedPattern)
    for (const good of ['main', 'release/v2', 'trunk_1.x']) expect(branchPattern.test(good)).toBe(true)
    for (const bad of ['', '*', 'feature/*', 'refs heads', 'a"b']) expect(branchPattern.test(bad)).toBe(false)
    expect(t.Metadata['AWS::CloudFormation::Interface'].ParameterGroups.flatMap((g: { Parameters: string[] }) => g.Parameters)).toEqual(
      expect.arrayContaining(['ProductionBranch', 'MaxSessionDuration'])
    )
  })

  it('takes the role session limit as a parameter: 3600 by default, 3600 to 43200', () => {
    const t = template()
    expect(t.Parameters.MaxSessionDuration).toMatchObject({ Type: 'Number', Default: 3600, MinValue: 3600, MaxValue: 43200 })
    expect(t.Resources.DeployRole.Properties.MaxSessionDuration).toEqual({ Ref: 'MaxSessionDuration' })
  })

  it('takes the issuer host and audience as parameters: GitHub Enterprise Server', () => {
    const host = 'ghes.example.com/_services/token'
    const [trust] = trustPolicy({ GitHubIssuerHost: host, Audience: 'sts.ghes.example' }).Statement
    expect(trust.Condition?.StringEquals).toEqual({ [`${host}:aud`]: 'sts.ghes.example' })
    expect(Object.keys(trust.Condition?.StringLike ?? {})).toEqual([`${host}:sub`])
    expect(JSON.stringify(trust)).not.toContain(DEFAULT_ISSUER)

    const t = template()
    expect(t.Parameters.GitHubIssuerHost.Default).toBe(DEFAULT_ISSUER)
    expect(t.Parameters.Audience.Default).toBe('sts.amazonaws.com')
    const hostPattern = new RegExp(t.Parameters.GitHubIssuerHost.AllowedPattern)
    for (const good of [DEFAULT_ISSUER, host, 'ghes.example.com:8443/_services/token', 'token.actions.octocorp.ghe.com'])
      expect(hostPattern.test(good)).toBe(true)
    for (const bad of ['https://ghes.example.com/_services/token', 'ghes.example.com/_services/token/', '', 'a b'])
      expect(hostPattern.test(bad)).toBe(false)
    const audiencePattern = new RegExp(t.Parameters.Audience.AllowedPattern)
    expect(audiencePattern.test('sts.amazonaws.com')).toBe(true)
    expect(audiencePattern.test('https://github.com/octo-org')).toBe(true)
    for (const bad of ['', 'a"b', 'a\\b', 'a b']) expect(audiencePattern.test(bad)).toBe(false)
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
      Url: { 'Fn::Sub': 'https://${GitHubIssuerHost}' },
      ClientIdList: [{ Ref: 'Audience' }]
    })
    // github.com's thumbprints only for github.com; IAM reads another issuer's itself.
    expect(t.Conditions.IssuerIsGitHubCom).toEqual({ 'Fn::Equals': [{ Ref: 'GitHubIssuerHost' }, DEFAULT_ISSUER] })
    expect(t.Resources.GitHubOidcProvider.Properties.ThumbprintList['Fn::If'][0]).toBe('IssuerIsGitHubCom')
    expect(t.Resources.GitHubOidcProvider.Properties.ThumbprintList['Fn::If'][2]).toEqual({ Ref: 'AWS::NoValue' })
    expect(trustPolicy().Statement[0].Principal).toEqual({
      Federated: "<{'Fn::If':['CreateOidcProvider',{'Ref':'GitHubOidcProvider'},{'Ref':'ExistingOidcProviderArn'}]}>"
    })
    const arnPattern = new RegExp(t.Parameters.ExistingOidcProviderArn.AllowedPattern)
    expect(arnPattern.test('arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com')).toBe(true)
    expect(arnPattern.test('arn:aws:iam::123456789012:oidc-provider/ghes.example.com/_services/token')).toBe(true)
    expect(arnPattern.test('')).toBe(true)
    expect(arnPattern.test('arn:aws:iam::123456789012:role/other')).toBe(false)
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
    // ListStacks (cleanup's search by name) has no resource-level permissions: the one statement on every resource.
    const listStacks = statements.find(s => s.Sid === 'FindPreviewStacks')
    expect([listStacks?.Action, listStacks?.Resource]).toEqual(['cloudformation:ListStacks', '*'])
    for (const statement of statements.filter(s => s !== listStacks)) {
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
