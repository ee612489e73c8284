/**
 * `npm run demo` in its synth-only form (`--synth-only`): the real action synthesizes examples/hello,
 * cfn-lint checks the template, and the demo prints what the stack would create. No AWS, no network.
 */
import { describe, expect, it } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { REPO_ROOT } from '../../testkit/workdir.js'

interface DemoRun {
  exitCode: number
  stdout: string
  stderr: string
}

function runDemo(args: string[], env: Record<string, string> = {}): Promise<DemoRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => (stdout += chunk))
  child.stderr.on('data', chunk => (stderr += chunk))
  return new Promise(resolve => child.on('close', code => resolve({ exitCode: code ?? -1, stdout, stderr })))
}

/** The demo's scratch copies of examples/hello (under the gitignored .test-work/). */
function demoScratchDirs(): string[] {
  const root = path.join(REPO_ROOT, '.test-work')
  return fs.existsSync(root) ? fs.readdirSync(root).filter(name => name.startsWith('demo-hello-')) : []
}

const cfnLintInstalled = spawnSync('cfn-lint', ['--version'], { stdio: 'ignore' }).status === 0

describe('npm run demo --synth-only', () => {
  it('synthesizes examples/hello with node dist/index.js and prints its resources and outputs', async () => {
    const before = demoScratchDirs()
    const run = await runDemo(['--synth-only'])
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^▶ 1\/2 render \+ synth examples\/hello .*…$/m)
    expect(run.stdout).toMatch(/^ {4}examples\/hello\/\.pmcp\/deploy\.toml → stack hello-mcp-stack:/m)
    expect(run.stdout).toMatch(/^✔ 1\/2 render \+ synth examples\/hello .* \d+\.\d s$/m)
    if (cfnLintInstalled) {
      expect(run.stdout).toMatch(/^ {4}0 errors, \d+ warnings? or notes?$/m)
      expect(run.stdout).toMatch(/^✔ 2\/2 cfn-lint the template {2}\d+\.\d s$/m)
    } else if (process.env.CI === 'true') {
      throw new Error('cfn-lint is not on PATH; it is required when CI=true')
    } else {
      expect(run.stdout).toMatch(/^– 2\/2 cfn-lint the template {2}skipped: cfn-lint is not on PATH/m)
    }

    expect(run.stdout).toMatch(/^Resources it would create \(\d+ in 13 types\):$/m)
    expect(run.stdout).toMatch(/^ {3}1 × AWS::Lambda::Function +the MCP server/m)
    expect(run.stdout).toMatch(/^ {3}1 × AWS::Lambda::Alias +alias live/m)
    expect(run.stdout).toMatch(/^ {3}2 × AWS::ApiGatewayV2::Route +ANY \/ and ANY \/\{proxy\+\}$/m)
    expect(run.stdout).toMatch(/^ {3}2 × AWS::CloudWatch::Alarm /m)
    expect(run.stdout).toMatch(/^ {3}1 × AWS::Logs::LogGroup /m)
    expect(run.stdout).toMatch(/^ {2}McpUrl += \{HttpApi\.ApiEndpoint\}\/ +\(MCP endpoint for clients\)$/m)
    expect(run.stdout).toMatch(/^ {2}FunctionName += \{Function\}$/m)
    expect(run.stdout).toMatch(/^ {2}AliasArn += \{LiveAlias\}$/m)
    expect(run.stdout).toMatch(/^ {2}DashboardUrl += https:\/\/\{AWS::Region\}\.console\.aws\.amazon\.com\/.*#dashboards:name=hello-mcp$/m)
    expect(run.stdout).toContain('Deploy → PR comment → rollback flow skipped (--synth-only).')
    expect(run.stdout).not.toMatch(/^▶ 3\//m)
    expect(demoScratchDirs()).toEqual(before)
    // About 10 s on an idle machine; a full parallel npm test run can make it several times slower.
  }, 120_000)

  it('names the failing phase and exits 1 when the action fails', async () => {
    const before = demoScratchDirs()
    const run = await runDemo(['--synth-only'], { PMCP_TEST_DIST: '.test-work/no-such-bundle' })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/^✘ 1\/2 render \+ synth examples\/hello .* failed after \d+\.\d s$/m)
    expect(run.stderr).toMatch(/^Demo failed in phase 1\/2 render \+ synth examples\/hello .*:\nnode dist\/index\.js exited with 1:/m)
    expect(run.stdout).not.toContain('Resources it would create')
    expect(demoScratchDirs()).toEqual(before)
  }, 60_000)
})
