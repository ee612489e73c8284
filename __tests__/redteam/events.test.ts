/**
 * Red team: event payload files (GITHUB_EVENT_PATH) that are empty, null, not JSON, of the wrong
 * shape or missing what their event always has. Each is one `::error` naming the payload, before
 * anything else happens (a run that read on would end at the credentials: there is no AWS here).
 */
import { afterAll, beforeAll, describe, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { expectHandledFault, runTimed } from '../../testkit/red-team.js'
import { makeWorkDir, REPO_ROOT } from '../../testkit/workdir.js'

const GITHUB_TOKEN = 'ghs_RedTeamEventsToken0123456789abcdef'
const SHA = 'c0ffee0123456789abcdef0123456789abcdef01'
const REPOSITORY = { full_name: 'octo-org/octo-repo', default_branch: 'main' }

interface BrokenEvent {
  name: string
  eventName: string
  /** The file's content; `undefined` with `path` set: the path is used as it is. */
  content?: string | Buffer
  /** GITHUB_EVENT_PATH when it is not a file written by the test: a directory, a missing file. */
  path?: (scratch: string) => string
}

const pullRequest = (fields: object): string => JSON.stringify({ action: 'opened', number: 7, repository: REPOSITORY, ...fields })

const BROKEN_EVENTS: BrokenEvent[] = [
  { name: 'an empty file (pull_request)', eventName: 'pull_request', content: '' },
  { name: 'an empty file (push)', eventName: 'push', content: '' },
  { name: 'null (pull_request)', eventName: 'pull_request', content: 'null' },
  { name: 'null (push)', eventName: 'push', content: 'null' },
  { name: 'not JSON (cut off)', eventName: 'pull_request', content: '{"action": "opened", "pull_request": {"number": 7' },
  { name: 'a JSON array', eventName: 'pull_request', content: '[]' },
  { name: 'a JSON string', eventName: 'push', content: '"refs/heads/main"' },
  { name: 'a pull_request event without pull_request', eventName: 'pull_request', content: pullRequest({}) },
  { name: 'pull_request: null', eventName: 'pull_request', content: pullRequest({ pull_request: null }) },
  { name: 'pull_request as a string', eventName: 'pull_request', content: pullRequest({ pull_request: 'seven' }) },
  {
    name: 'pull_request.number as a string',
    eventName: 'pull_request',
    content: pullRequest({ pull_request: { number: '7', head: { sha: SHA, repo: REPOSITORY }, base: { repo: REPOSITORY } } })
  },
  {
    name: 'pull_request.number negative and fractional',
    eventName: 'pull_request',
    content: pullRequest({ number: -1.5, pull_request: { number: -1.5, head: { sha: SHA, repo: REPOSITORY }, base: { repo: REPOSITORY } } })
  },
  {
    name: 'pull_request.head as a string',
    eventName: 'pull_request',
    content: pullRequest({ pull_request: { number: 7, head: 'feature', base: { repo: REPOSITORY } } })
  },
  { name: 'GITHUB_EVENT_PATH names a missing file', eventName: 'pull_request', path: scratch => path.join(scratch, 'no-such-event.json') },
  { name: 'GITHUB_EVENT_PATH names a directory', eventName: 'pull_request', path: scratch => scratch },
  { name: 'arrays nested 200,000 deep', eventName: 'pull_request', content: `${'['.repeat(200_000)}${']'.repeat(200_000)}` }
]

describe('red team: broken event payloads', () => {
  let work: { dir: string; remove: () => void }
  let scratch: string

  beforeAll(() => {
    work = makeWorkDir('redteam-events')
    fs.mkdirSync(path.join(work.dir, '.pmcp'))
    fs.writeFileSync(path.join(work.dir, '.pmcp', 'deploy.toml'), '[server]\nname = "rt-events"\n')
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-redteam-events-'))
  })

  afterAll(() => {
    work?.remove()
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
  })

  it.each(BROKEN_EVENTS.map(broken => [broken.name, broken] as const))('%s', async (_name, broken) => {
    let eventPath: string
    if (broken.path) {
      eventPath = broken.path(scratch)
    } else {
      eventPath = path.join(scratch, `event-${Math.random().toString(36).slice(2)}.json`)
      fs.writeFileSync(eventPath, broken.content ?? '')
    }
    const run = await runTimed(
      {
        command: 'destroy',
        environment: 'preview',
        ...(broken.eventName === 'push' && { 'preview-id': 'rt' }),
        'working-directory': path.relative(REPO_ROOT, work.dir),
        'aws-region': 'us-east-1',
        'github-token': GITHUB_TOKEN,
        'request-timeout': '1'
      },
      {
        GITHUB_EVENT_NAME: broken.eventName,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REPOSITORY: 'octo-org/octo-repo',
        GITHUB_REF: broken.eventName === 'push' ? 'refs/heads/main' : 'refs/pull/7/merge',
        GITHUB_SHA: SHA,
        GITHUB_RUN_ID: '19',
        GITHUB_API_URL: 'http://127.0.0.1:9',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_EC2_METADATA_DISABLED: 'true'
      }
    )
    expectHandledFault(run, { error: /event payload|GITHUB_EVENT_PATH/i, secrets: [GITHUB_TOKEN] })
  })
})
