import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { resolveTarget } from '../../src/targets/pmcp-run/target.js'
import { serverVersion } from '../../src/targets/pmcp-run/version.js'
import { REPO_ROOT, writeConfig } from '../helpers/workdir.js'

let dir: string

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-target-'))
})

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

function inputsFor(toml: string | undefined, target: 'aws-lambda' | 'pmcp-run' = 'aws-lambda'): { target: typeof target; workingDirectory: string; config: string } {
  const config = `conf-${Math.random().toString(36).slice(2)}.toml`
  if (toml !== undefined) writeConfig(dir, toml, config)
  return { target, workingDirectory: dir, config }
}

describe('resolveTarget', () => {
  it('the target input wins when the user set it', () => {
    expect(resolveTarget(inputsFor('[target]\ntype = "pmcp-run"\n', 'aws-lambda'), ['target'])).toBe('aws-lambda')
    expect(resolveTarget(inputsFor('[target]\ntype = "aws-lambda"\n', 'pmcp-run'), ['target'])).toBe('pmcp-run')
  })

  it("else deploy.toml's [target] type, or target_type", () => {
    expect(resolveTarget(inputsFor('[target]\ntype = "pmcp-run"\n'), [])).toBe('pmcp-run')
    expect(resolveTarget(inputsFor('[target]\ntarget_type = "pmcp-run"\n'), ['command'])).toBe('pmcp-run')
    expect(resolveTarget(inputsFor('[target]\ntype = "aws-lambda"\n'), [])).toBe('aws-lambda')
  })

  it('else aws-lambda, also when the file is missing or broken (the config module reports those)', () => {
    expect(resolveTarget(inputsFor('[server]\nname = "x"\n'), [])).toBe('aws-lambda')
    expect(resolveTarget(inputsFor(undefined), [])).toBe('aws-lambda')
    expect(resolveTarget(inputsFor('[target\ntype = "pmcp-run"'), [])).toBe('aws-lambda')
  })
})

describe('serverVersion', () => {
  it("is the crate's version from cargo metadata", async () => {
    expect(await serverVersion(path.join(REPO_ROOT, '__tests__', 'fixtures', 'hello-crate'))).toBe('0.1.0')
  })

  it('is undefined where cargo finds no project', async () => {
    expect(await serverVersion(dir)).toBeUndefined()
  })
})
