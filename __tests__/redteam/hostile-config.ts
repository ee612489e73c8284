/**
 * Hostile deploy.toml files, run through the bundle with `command: synth`: each must be refused at
 * config load with one `::error` on deploy.toml and the line of the bad key, before a CDK project is
 * rendered (or, where the documented answer is success with a warning, exactly that).
 */
import { expect } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { expectHandledFault, runTimed, type HandledFaultExpectations } from '../../testkit/red-team.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'

export const GITHUB_TOKEN = 'ghs_RedTeamConfigToken0123456789abcdef'

export interface HostileConfig {
  /** What is hostile about it (the test's name). */
  name: string
  /** The file's bytes (a string is written as UTF-8). */
  toml: string | Buffer
  /** The text on the line the `::error` must point at (its first occurrence); no line check when left out. */
  lineOf?: string
  /** What the `::error` (or, with `exitCode: 0`, the `::warning`) must say. */
  says: RegExp
  /** 0: the documented answer is a successful synth with a warning. */
  exitCode?: 0 | 1
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

/** Writes the hostile file into a fresh repository, runs `command: synth` on it and checks the contract. */
export async function expectRefused(hostile: HostileConfig): Promise<void> {
  const work = makeWorkDir('redteam-config')
  try {
    fs.mkdirSync(path.join(work.dir, '.pmcp'))
    fs.writeFileSync(path.join(work.dir, '.pmcp', 'deploy.toml'), hostile.toml)
    const relative = path.relative(REPO_ROOT, work.dir)
    const run = await runTimed({ command: 'synth', 'working-directory': relative, 'github-token': GITHUB_TOKEN })
    const rendered = fs.existsSync(path.join(work.dir, '.pmcp', 'cdk'))
    const expectations: HandledFaultExpectations =
      hostile.exitCode === 0
        ? { exitCode: 0, warning: hostile.says }
        : {
            error: hostile.says,
            file: `${relative}/.pmcp/deploy.toml`,
            line: hostile.lineOf === undefined ? undefined : lineNumber(hostile.toml, hostile.lineOf),
            sideEffects: rendered ? ['a CDK project was rendered for a deploy.toml that is refused'] : []
          }
    expectHandledFault(run, { ...expectations, secrets: [GITHUB_TOKEN] })
    expect(run.exitCode).toBe(hostile.exitCode ?? 1)
  } finally {
    work.remove()
  }
}

/** `[name, case]` rows for `it.each`. */
export function rows(cases: HostileConfig[]): (readonly [string, HostileConfig])[] {
  return cases.map(hostile => [hostile.name, hostile] as const)
}
