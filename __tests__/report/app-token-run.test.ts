/**
 * A GitHub App installation token through `run()` in-process, the way the runner calls it, with the
 * report published for real (outputs, summary, PR comment) against the GitHub API stand-in. Not an
 * end-to-end run of dist/index.js: that bundle is built from these sources separately, so this test
 * drives the same code through run()'s seams instead.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { readRunContext, type RunContext } from '../../src/context.js'
import { readInputs, type ActionInputs } from '../../src/inputs.js'
import { run } from '../../src/main.js'
import { commentMarker } from '../../src/report/comment.js'
import { publishReport } from '../../src/report/index.js'
import { captureStdout } from '../../testkit/annotations.js'
import { FakeGitHubApi } from '../../testkit/github-api.js'
import { makeWorkDir, writeConfig } from '../../testkit/workdir.js'
import { runnerFiles } from './files.js'

const APP_TOKEN = 'ghs_installation-token-of-the-app'
const APP_BOT = 'pmcp-deployer[bot]'
const PR = { owner: 'acme', repo: 'tools', number: 7 }
const STACK = 'guarded-stack'

let dir: string
let remove: () => void
let api: FakeGitHubApi
const files = runnerFiles()
const savedEnv = { ...process.env }

beforeAll(async () => {
  ;({ dir, remove } = makeWorkDir('app-token-run'))
  // destroy of production without confirm-destroy: a failed run that reaches the report without any AWS call.
  writeConfig(dir, '[server]\nname = "guarded"\n[aws]\nregion = "eu-west-1"\n', '.pmcp/guarded.toml')
  api = await FakeGitHubApi.start({ authenticatedUser: null })
  process.env.GITHUB_OUTPUT = files.outputFile
  process.env.GITHUB_STEP_SUMMARY = files.summaryFile
})

afterAll(async () => {
  await api.stop()
  remove()
  files.remove()
  process.env = { ...savedEnv }
})

beforeEach(() => {
  api.reset()
  api.identify(APP_TOKEN, APP_BOT)
})

function context(): RunContext {
  return { ...readRunContext({}), eventName: 'workflow_dispatch', event: {}, repository: `${PR.owner}/${PR.repo}`, workspace: dir }
}

/** One run with the App token; the report goes where the runner's would, the API URL being the stand-in's. */
async function runWithAppToken(): Promise<string> {
  const inputs: ActionInputs = {
    ...readInputs(dir),
    command: 'destroy',
    config: '.pmcp/guarded.toml',
    githubToken: APP_TOKEN,
    prNumber: PR.number,
    comment: true
  }
  const { output } = await captureStdout(() =>
    run({
      readInputs: () => inputs,
      inputsSetByUser: () => [],
      readRunContext: context,
      publish: async (report, given, runContext) => {
        await publishReport(report, {
          comment: given.comment,
          githubToken: given.githubToken,
          prNumber: given.prNumber,
          event: { name: runContext.eventName, payload: runContext.event },
          repository: runContext.repository,
          apiUrl: api.url,
          limits: { msPerSecond: 1, spaceWrites: false }
        })
      }
    })
  )
  process.exitCode = undefined
  return output
}

describe('run() with a GitHub App installation token', () => {
  it('updates its comment in place across two runs, and leaves the same marker by others alone', async () => {
    const byActions = api.addComment(PR, `${commentMarker(STACK)}\nfrom the GITHUB_TOKEN days`, 'github-actions[bot]')

    const first = await runWithAppToken()
    const second = await runWithAppToken()

    expect(first).toContain('PR comment created')
    expect(second).toContain('PR comment updated')
    const comments = api.comments(PR)
    expect(comments).toHaveLength(2)
    expect(comments[0]).toMatchObject({ id: byActions.id, body: `${commentMarker(STACK)}\nfrom the GITHUB_TOKEN days` })
    expect(comments[1].user.login).toBe(APP_BOT)
    expect(comments[1].body.startsWith(commentMarker(STACK))).toBe(true)
    expect(api.requestsOf('POST', /\/comments$/)).toHaveLength(1)
    expect(api.requestsOf('PATCH').map(request => request.path)).toEqual([`/repos/acme/tools/issues/comments/${comments[1].id}`])
    expect(api.requestsOf('GET', /^\/user$/)).toEqual([])
    expect([first, second].join('\n')).not.toContain('::warning')
  })
})
