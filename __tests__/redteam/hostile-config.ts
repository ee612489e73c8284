/**
 * Hostile deploy.toml files, run through the bundle: each must be refused at config load with one
 * `::error` on deploy.toml and the line of the bad key, before a CDK project is rendered (or, where
 * the documented answer is a warning, accepted with exactly that warning).
 */
import { expect } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { expectHandledFault, runTimed } from '../../testkit/red-team.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'

export const GITHUB_TOKEN = 'ghs_RedTeamConfigToken0123456789abcdef'

export interface HostileConfig {
  /** What is hostile about it (the test's name). */
  name: string
  /** The file's bytes (a string is written as UTF-8). */
  toml: string | Buffer
  /** The text on the line the `::error` must point at (its first occurrence; any of several); no line check when left out. */
  lineOf?: string | string[]
  /** What the `::error` (or, when `accepted`, the `::warning`) must say. */
  says?: RegExp
  /** The documented answer is that the file is accepted, with a warning that says `says`. */
  accepted?: true
  /** The documented answer is a successful synth (what only a real `cdk synth` proves, e.g. no E2BIG). */
  synthesizes?: true
}

/** `[server] name = "rt"` then `body`. */
export function withServer(body: string, name = 'rt'): string {
  return `[server]\nname = "${name}"\n\n${body}`
}

function lineNumber(toml: string | Buffer, text: string): number {
  const source = typeof toml === 'string' ? toml : toml.toString('latin1')
  const index = source.indexOf(text)
  if (index < 0) throw new Error(`'${text}' is not in the hostile config`)
  return source.slice(0, index).split('\n').length
}

/**
 * Writes the hostile file into a fresh repository and runs the action on it. A refused file is run
 * with `command: synth` and must be refused at config load. A file the action accepts with a warning
 * is run as a preview destroy without AWS credentials: past the config, the run's only error is the
 * missing credentials (a full synth would prove nothing more about the file and take seconds).
 */
export async function expectRefused(hostile: HostileConfig): Promise<void> {
  const work = makeWorkDir('redteam-config')
  try {
    fs.mkdirSync(path.join(work.dir, '.pmcp'))
    fs.writeFileSync(path.join(work.dir, '.pmcp', 'deploy.toml'), hostile.toml)
    const relative = path.relative(REPO_ROOT, work.dir)
    const common = { 'working-directory': relative, 'github-token': GITHUB_TOKEN }
    if (hostile.accepted) {
      const run = await runTimed(
        { ...common, command: 'destroy', environment: 'preview', 'preview-id': 'rt', 'aws-region': 'us-east-1' },
        { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_EC2_METADATA_DISABLED: 'true' }
      )
      expectHandledFault(run, { error: /No AWS credentials/, warning: hostile.says, secrets: [GITHUB_TOKEN] })
      return
    }
    const run = await runTimed({ ...common, command: 'synth' })
    if (hostile.synthesizes) {
      expectHandledFault(run, { exitCode: 0, secrets: [GITHUB_TOKEN] })
      expect(fs.existsSync(run.outputs['template-path'] ?? '')).toBe(true)
      return
    }
    const rendered = fs.existsSync(path.join(work.dir, '.pmcp', 'cdk'))
    expectHandledFault(run, {
      error: hostile.says,
      file: `${relative}/.pmcp/deploy.toml`,
      line: [hostile.lineOf ?? []].flat().map(text => lineNumber(hostile.toml, text)),
      sideEffects: rendered ? ['a CDK project was rendered for a deploy.toml that is refused'] : [],
      secrets: [GITHUB_TOKEN]
    })
  } finally {
    work.remove()
  }
}

/** `[name, case]` rows for `it.each`. */
export function rows(cases: HostileConfig[]): (readonly [string, HostileConfig])[] {
  return cases.map(hostile => [hostile.name, hostile] as const)
}
