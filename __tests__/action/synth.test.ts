import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseAnnotations } from '../../testkit/annotations.js'
import { runAction } from '../../testkit/runner.js'
import { makeWorkDir, REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

describe('node dist/index.js as a runner runs it', () => {
  it('synthesizes examples/hello and sets template-path and stack-name', async () => {
    // With aws-cdk-lib's built-in template validation, which jest.config.js turns off for other suites:
    // the shipped example synthesizes without a word on stderr from it either.
    const run = await runAction({ command: 'synth', 'working-directory': 'examples/hello' }, { CDK_VALIDATION: 'true' })
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.outputs['stack-name']).toBe('hello-mcp-stack')
    const templatePath = run.outputs['template-path']
    expect(templatePath).toBe(path.join(REPO_ROOT, 'examples', 'hello', '.pmcp', 'cdk', 'cdk.out', 'hello-mcp-stack.template.json'))
    const template = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: any }>
      Outputs: object
    }
    const types = Object.values(template.Resources).map(r => r.Type)
    for (const type of [
      'AWS::Lambda::Function',
      'AWS::Lambda::Version',
      'AWS::Lambda::Alias',
      'AWS::ApiGatewayV2::Api',
      'AWS::Logs::LogGroup',
      'AWS::CloudWatch::Dashboard'
    ]) {
      expect(types).toContain(type)
    }
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'McpUrl', 'FunctionName', 'AliasArn', 'LogGroupName', 'DashboardUrl'])
    )
    expect(run.stdout).toContain('Stack hello-mcp-stack:')
    expect(run.stdout).toMatch(/1 × AWS::Lambda::Alias/)
  })

  it('rejects an invalid deploy.toml with annotations on file and line, no stack trace, exit 1', async () => {
    const { dir, remove } = makeWorkDir('action-bad')
    try {
      writeConfig(dir, '[server]\nname = "ok-name"\ntimeout_seconds = 5000\n')
      const run = await runAction({ command: 'synth', 'working-directory': path.relative(REPO_ROOT, dir) })
      expect(run.exitCode).toBe(1)
      const [error] = parseAnnotations(run.stdout).filter(a => a.level === 'error')
      expect(error.properties.file).toBe(`${path.relative(REPO_ROOT, dir)}/.pmcp/deploy.toml`)
      expect(error.properties.line).toBe('3')
      expect(error.message).toMatch(/\[server\] timeout_seconds is 5000, out of range/)
      expect(run.stdout + run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
      expect(fs.existsSync(path.join(dir, '.pmcp', 'cdk'))).toBe(false)
    } finally {
      remove()
    }
  })

  it('rejects a malformed secrets input before doing anything, without echoing the value', async () => {
    const run = await runAction({
      command: 'deploy',
      'working-directory': 'examples/hello',
      secrets: 'API_KEY=fine\nhunter2-no-equals-sign'
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::error title=Invalid secrets input::Line 2 is not NAME=value/)
    expect(run.stdout).toContain('::add-mask::fine')
    expect(run.stdout.replace(/^::add-mask::.+$/gm, '')).not.toMatch(/hunter2|=fine/)
    expect(run.stdout).not.toMatch(/Installing|toolchain|cargo/i)
  })
})
