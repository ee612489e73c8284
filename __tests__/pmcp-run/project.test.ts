/**
 * Which CDK project a pmcp-run deploy synthesizes and uploads: the rendered pmcp.run stack
 * (templates/pmcp-run), or a deploy/ project of the repository's own, decided as cargo pmcp does
 * (its unmodified scaffold, per deploy/.pmcp-scaffold.toml, is replaced by the rendered stack).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { isUntouchedCargoPmcpScaffold, prepareCdkProject, RENDERED_CDK_DIR, SCAFFOLD_RECORD } from '../../src/cdk/project.js'
import { loadConfig } from '../../src/config/index.js'
import type { Target } from '../../src/types.js'
import { resourceNames } from '../../src/names.js'
import { writeConfig } from '../../testkit/workdir.js'

const SCAFFOLD_STACK =
  "import * as cdk from 'aws-cdk-lib';\n// cargo pmcp's pmcp-run scaffold\n" +
  "const serverId = this.node.tryGetContext('serverId') || 'hello';\n"

let root: string

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-pmcprun-project-'))
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const digest = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`

/** A repository with deploy.toml and, optionally, a deploy/ CDK project with a stack.ts and a scaffold record. */
function repository(deploy?: { stack: string; recorded?: string }): string {
  const dir = fs.mkdtempSync(path.join(root, 'repo-'))
  writeConfig(dir, '[server]\nname = "hello"\n')
  if (deploy) {
    fs.mkdirSync(path.join(dir, 'deploy', 'lib'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'deploy', 'cdk.json'), '{"app":"npx ts-node --prefer-ts-exts bin/app.ts"}')
    fs.writeFileSync(path.join(dir, 'deploy', 'lib', 'stack.ts'), deploy.stack)
    if (deploy.recorded !== undefined) {
      fs.writeFileSync(
        path.join(dir, 'deploy', SCAFFOLD_RECORD),
        `# Written by cargo-pmcp\n[files]\n"lib/stack.ts" = "${deploy.recorded}"\n`
      )
    }
  }
  return dir
}

function prepare(dir: string, target: Target): { dir: string; rendered: boolean } {
  const config = loadConfig({ workingDirectory: dir, config: '.pmcp/deploy.toml', workspace: dir })
  return prepareCdkProject({
    workingDirectory: dir,
    config,
    names: resourceNames('hello', 'production'),
    architecture: 'arm64',
    target,
    commitSha: 'a',
    runId: '1'
  })
}

const renderedStack = (dir: string): string => fs.readFileSync(path.join(dir, RENDERED_CDK_DIR, 'lib', 'stack.ts'), 'utf8')

describe('the CDK project of a pmcp-run deploy', () => {
  it('is the rendered pmcp.run stack when the repository has no deploy/', () => {
    const dir = repository()
    expect(prepare(dir, 'pmcp-run')).toEqual({ dir: path.join(dir, RENDERED_CDK_DIR), rendered: true })
    expect(renderedStack(dir)).toContain("new cdk.CfnOutput(this, 'LambdaName'")
    expect(renderedStack(dir)).not.toContain('HttpApi')
  })

  it("is the repository's own deploy/ when cargo pmcp has no record of writing its stack.ts", () => {
    const dir = repository({ stack: SCAFFOLD_STACK })
    expect(prepare(dir, 'pmcp-run')).toEqual({ dir: path.join(dir, 'deploy'), rendered: false })
    expect(fs.existsSync(path.join(dir, RENDERED_CDK_DIR))).toBe(false)
  })

  it("is the rendered stack when deploy/ holds cargo pmcp's unmodified scaffold (line endings aside)", () => {
    const dir = repository({ stack: SCAFFOLD_STACK.replace(/\n/g, '\r\n'), recorded: digest(SCAFFOLD_STACK) })
    expect(isUntouchedCargoPmcpScaffold(path.join(dir, 'deploy'))).toBe(true)
    expect(prepare(dir, 'pmcp-run')).toEqual({ dir: path.join(dir, RENDERED_CDK_DIR), rendered: true })
    expect(renderedStack(dir)).toContain("'pmcp-run-pending-upload'")
  })

  it('is deploy/ as it is once its stack.ts was edited, or when the record cannot be read', () => {
    const edited = repository({ stack: `${SCAFFOLD_STACK}// memorySize: 2048\n`, recorded: digest(SCAFFOLD_STACK) })
    expect(prepare(edited, 'pmcp-run')).toEqual({ dir: path.join(edited, 'deploy'), rendered: false })
    const broken = repository({ stack: SCAFFOLD_STACK, recorded: digest(SCAFFOLD_STACK) })
    fs.writeFileSync(path.join(broken, 'deploy', SCAFFOLD_RECORD), '[files\n"lib/stack.ts" =')
    expect(prepare(broken, 'pmcp-run')).toEqual({ dir: path.join(broken, 'deploy'), rendered: false })
  })

  it('leaves aws-lambda as it was: deploy/ wins even when it is an unmodified scaffold', () => {
    const dir = repository({ stack: SCAFFOLD_STACK, recorded: digest(SCAFFOLD_STACK) })
    expect(prepare(dir, 'aws-lambda')).toEqual({ dir: path.join(dir, 'deploy'), rendered: false })
    const bare = repository()
    expect(prepare(bare, 'aws-lambda').rendered).toBe(true)
    expect(renderedStack(bare)).toContain("new apigw.HttpApi(this, 'HttpApi'")
  })
})
