import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readRunContext } from '../../src/context.js'
import { ActionError } from '../../src/errors.js'
import { readInputs, type InputName } from '../../src/inputs.js'
import { resolvePlan, type Plan } from '../../src/plan.js'
import { serverVersion } from '../../src/targets/pmcp-run/version.js'
import { REPO_ROOT, writeConfig } from '../../testkit/workdir.js'

let dir: string

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-target-'))
})

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

function planFor(toml: string | undefined, target: 'aws-lambda' | 'pmcp-run' = 'aws-lambda', setByUser: InputName[] = []): Plan {
  const config = `conf-${Math.random().toString(36).slice(2)}.toml`
  // Every valid file needs a server name; the target sections under test come first.
  if (toml !== undefined) writeConfig(dir, toml.includes('[server]') ? toml : `${toml}\n[server]\nname = "x"\n`, config)
  const inputs = { ...readInputs(dir), target, workingDirectory: dir, config }
  return resolvePlan(inputs, { ...readRunContext({}), workspace: dir }, { setByUser, env: {} })
}

const resolveTarget = (toml: string | undefined, target: 'aws-lambda' | 'pmcp-run', setByUser: InputName[]): string =>
  planFor(toml, target, setByUser).target

describe('the plan picks the target', () => {
  it('the target input wins when the user set it', () => {
    expect(resolveTarget('[target]\ntype = "pmcp-run"\n', 'aws-lambda', ['target'])).toBe('aws-lambda')
    expect(resolveTarget('[target]\ntype = "aws-lambda"\n', 'pmcp-run', ['target'])).toBe('pmcp-run')
  })

  it("else deploy.toml's [target] type, or target_type", () => {
    expect(resolveTarget('[target]\ntype = "pmcp-run"\n', 'aws-lambda', [])).toBe('pmcp-run')
    expect(resolveTarget('[target]\ntarget_type = "pmcp-run"\n', 'aws-lambda', ['command'])).toBe('pmcp-run')
    expect(resolveTarget('[target]\ntype = "aws-lambda"\n', 'aws-lambda', [])).toBe('aws-lambda')
  })

  it('else aws-lambda; a missing or broken file is the config error, read once', () => {
    expect(resolveTarget('[server]\nname = "x"\n', 'aws-lambda', [])).toBe('aws-lambda')
    expect(() => planFor(undefined)).toThrow(ActionError)
    expect(() => planFor('[target\ntype = "pmcp-run"')).toThrow(/TOML syntax/)
  })

  it('keeps the resolved target in the inputs the commands read', () => {
    expect(planFor('[target]\ntype = "pmcp-run"\n[server]\nname = "x"\n').inputs.target).toBe('pmcp-run')
  })
})

describe('serverVersion', () => {
  it("is the crate's version from cargo metadata", async () => {
    expect(await serverVersion(path.join(REPO_ROOT, 'testkit', 'fixtures', 'hello-crate'))).toBe('0.1.0')
  })

  it('is undefined where cargo finds no project', async () => {
    expect(await serverVersion(dir)).toBeUndefined()
  })
})

describe('the run context', () => {
  it('links the workflow run and the commit deployed when the repository is known', () => {
    const context = readRunContext({
      GITHUB_REPOSITORY: 'acme/tools',
      GITHUB_RUN_ID: '42',
      GITHUB_SHA: 'abc1234',
      GITHUB_SERVER_URL: 'https://ghe.example.com'
    })
    expect(context.runUrl).toBe('https://ghe.example.com/acme/tools/actions/runs/42')
    expect(context.commitUrl).toBe('https://ghe.example.com/acme/tools/commit/abc1234')
    expect(readRunContext({ GITHUB_SHA: 'abc1234' })).toMatchObject({ runUrl: undefined, commitUrl: undefined })
  })
})

describe('the plan of a google-cloud-run deploy', () => {
  const cloudRun =
    '[target]\ntype = "google-cloud-run"\n[gcp]\nproject_id = "demo-project"\nregion = "us-central1"\n[server]\nname = "hello-run"\n'

  function cloudRunPlan(overrides: Partial<Plan['inputs']> = {}, eventName = 'push', prNumber?: number): Plan {
    const config = `conf-${Math.random().toString(36).slice(2)}.toml`
    writeConfig(dir, cloudRun, config)
    const inputs = { ...readInputs(dir), workingDirectory: dir, config, ...overrides }
    return resolvePlan(inputs, { ...readRunContext({}), eventName, prNumber, workspace: dir }, { setByUser: [], env: {} })
  }

  it('names the service after the server in production and in a preview (previews are tags of it)', () => {
    expect(cloudRunPlan().names).toEqual({ stage: 'production', stackName: 'hello-run', functionName: 'hello-run' })
    const preview = cloudRunPlan({}, 'pull_request', 7)
    expect(preview.names).toEqual({ stage: 'preview', stackName: 'hello-run', functionName: 'hello-run' })
    expect(preview.previewId).toBe('7')
  })

  it('builds x86_64, and refuses an architecture input asking for arm64', () => {
    expect(cloudRunPlan().architecture).toBe('x86_64')
    expect(() => cloudRunPlan({ architecture: 'arm64' })).toThrow(/Cloud Run runs linux\/amd64 containers only/)
  })

  it('refuses a preview without an id', () => {
    expect(() => cloudRunPlan({ environment: 'preview' })).toThrow(/needs an id/)
  })
})
