import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { GCP_PERMISSIONS, type GcpPermissionRow } from '../../src/gcp/permissions.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const SCRIPT = path.join(root, 'templates/gcp-setup/setup.sh')
const PROJECT = 'acme-weather-prod'
const NUMBER = '123456789012'
const DEPLOYER = `pmcp-deploy@${PROJECT}.iam.gserviceaccount.com`
const COMPUTE_DEFAULT = `${NUMBER}-compute@developer.gserviceaccount.com`
const POOLS = `principalSet://iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools`
const PRINCIPAL_SET = `${POOLS}/github/attribute.repository/acme/weather`

interface Binding {
  resource: string
  role: string
  member: string
}
/** A project as the stand-in keeps it: resources by `<kind>/<id>`, IAM bindings, enabled APIs. */
interface Project {
  projectId: string
  projectNumber: string
  resources: Record<string, Record<string, any>>
  bindings: Binding[]
  enabledServices: string[]
  /** An error answered to the next `remaining` calls of `command` (e.g. `projects add-iam-policy-binding`). */
  failures: { command: string; message: string; remaining: number }[]
}
interface Answer {
  status: number
  stdout?: string
  stderr?: string
}

/** Flags each command accepts (`--name=value` only, the script's spelling) and those it requires. */
const COMMANDS: Record<string, { flags: string[]; required: string[] }> = {
  'projects describe': { flags: ['format'], required: [] },
  'projects add-iam-policy-binding': { flags: ['member', 'role', 'condition', 'format'], required: ['member', 'role'] },
  'services enable': { flags: ['project'], required: ['project'] },
  'iam workload-identity-pools describe': { flags: ['project', 'location', 'format'], required: ['project', 'location'] },
  'iam workload-identity-pools create': {
    flags: ['project', 'location', 'display-name', 'description'],
    required: ['project', 'location']
  },
  'iam workload-identity-pools undelete': { flags: ['project', 'location'], required: ['project', 'location'] },
  'iam workload-identity-pools providers describe': {
    flags: ['project', 'location', 'workload-identity-pool', 'format'],
    required: ['project', 'location', 'workload-identity-pool']
  },
  'iam workload-identity-pools providers create-oidc': {
    flags: [
      'project',
      'location',
      'workload-identity-pool',
      'display-name',
      'issuer-uri',
      'attribute-mapping',
      'attribute-condition',
      'allowed-audiences'
    ],
    required: ['project', 'location', 'workload-identity-pool', 'issuer-uri', 'attribute-mapping']
  },
  'iam workload-identity-pools providers undelete': {
    flags: ['project', 'location', 'workload-identity-pool'],
    required: ['project', 'location', 'workload-identity-pool']
  },
  'iam service-accounts describe': { flags: ['project', 'format'], required: [] },
  'iam service-accounts create': { flags: ['project', 'display-name', 'description'], required: ['project'] },
  'iam service-accounts add-iam-policy-binding': {
    flags: ['project', 'member', 'role', 'condition', 'format'],
    required: ['member', 'role']
  },
  'artifacts repositories describe': { flags: ['project', 'location', 'format'], required: ['project', 'location'] },
  'artifacts repositories create': {
    flags: ['project', 'location', 'repository-format', 'description'],
    required: ['project', 'location', 'repository-format']
  },
  'artifacts repositories add-iam-policy-binding': {
    flags: ['project', 'location', 'member', 'role', 'format'],
    required: ['project', 'location', 'member', 'role']
  },
  'secrets describe': { flags: ['project', 'format'], required: ['project'] },
  'secrets create': { flags: ['project', 'replication-policy'], required: ['project'] },
  'secrets add-iam-policy-binding': { flags: ['project', 'member', 'role', 'condition', 'format'], required: ['project', 'member', 'role'] }
}

class Exit extends Error {
  constructor(readonly answer: Answer) {
    super(answer.stderr)
  }
}
const usage = (message: string): Exit => new Exit({ status: 2, stderr: `ERROR: (gcloud) ${message}\n` })

/** `--format=value(a,b.c)`: the fields tab-separated, booleans as Python prints them; `none`: nothing. */
function formatted(resource: Record<string, any>, format: string | undefined): string {
  if (format === 'none') return ''
  const fields = /^value\((.*)\)$/.exec(format ?? '')
  if (!fields) return `${JSON.stringify(resource)}\n`
  const values = fields[1].split(',').map(field => {
    const value: unknown = field.split('.').reduce<any>((object, key) => object?.[key], resource)
    if (typeof value === 'boolean') return value ? 'True' : 'False'
    return typeof value === 'string' || typeof value === 'number' ? String(value) : ''
  })
  return `${values.join('\t')}\n`
}

/**
 * gcloud as far as the script uses it, answering as gcloud does: `describe` prints the fields of
 * `--format=value(…)` or fails with NOT_FOUND (exit 1), `create` of an existing resource fails with
 * ALREADY_EXISTS, an IAM binding on a missing resource with NOT_FOUND, a command for another
 * project with PERMISSION_DENIED; an unknown command or flag, or a required flag left out, exits 2.
 */
function gcloud(project: Project, argv: string[]): Answer {
  const words = argv.filter(a => !a.startsWith('--'))
  const flags: Record<string, string> = {}
  for (const arg of argv.filter(a => a.startsWith('--'))) {
    const eq = arg.indexOf('=')
    if (eq < 0) throw usage(`flag ${arg} needs =value in this stand-in`)
    flags[arg.slice(2, eq)] = arg.slice(eq + 1)
  }
  const command = Object.keys(COMMANDS)
    .filter(c => `${words.join(' ')} `.startsWith(`${c} `))
    .sort((a, b) => b.length - a.length)[0]
  if (!command) throw usage(`Invalid choice: ${words.join(' ')}`)
  const [id, ...extra] = words.slice(command.split(' ').length)
  const spec = COMMANDS[command]
  for (const name of Object.keys(flags)) if (!spec.flags.includes(name)) throw usage(`unrecognized arguments: --${name}`)
  for (const name of spec.required) if (!(name in flags)) throw usage(`argument --${name}: Must be specified.`)
  if (id === undefined || (extra.length > 0 && command !== 'services enable')) throw usage(`wrong arguments: ${words.join(' ')}`)
  const fail = (message: string): Exit => new Exit({ status: 1, stderr: `ERROR: (gcloud.${command.replaceAll(' ', '.')}) ${message}\n` })

  const injected = project.failures.find(f => f.command === command && f.remaining > 0)
  if (injected) {
    injected.remaining -= 1
    throw fail(injected.message)
  }
  const projectId = command.startsWith('projects ') ? id : flags.project
  if (projectId !== project.projectId)
    throw fail(`PERMISSION_DENIED: Permission denied on resource project ${projectId} (or it may not exist).`)

  const group = command.split(' ').slice(0, -1).join(' ')
  const verb = command.split(' ').at(-1)
  const key =
    group === 'projects'
      ? `project/${id}`
      : group === 'iam workload-identity-pools'
        ? `pool/${id}`
        : group === 'iam workload-identity-pools providers'
          ? `provider/${flags['workload-identity-pool']}/${id}`
          : group === 'iam service-accounts'
            ? `sa/${verb === 'create' ? `${id}@${projectId}.iam.gserviceaccount.com` : id}`
            : group === 'artifacts repositories'
              ? `repository/${flags.location}/${id}`
              : `secret/${id}`
  const resource = group === 'projects' ? { projectId: project.projectId, projectNumber: project.projectNumber } : project.resources[key]

  switch (verb) {
    case 'enable':
      project.enabledServices = [...new Set([...project.enabledServices, id, ...extra])]
      return { status: 0 }
    case 'describe':
      if (!resource) throw fail('NOT_FOUND: Requested entity was not found.')
      return { status: 0, stdout: formatted(resource, flags.format) }
    case 'create':
    case 'create-oidc':
      if (resource) throw fail('ALREADY_EXISTS: Requested entity already exists')
      project.resources[key] = created(project, group, id, flags, fail)
      return { status: 0, stderr: `Created [${id}].\n` }
    case 'undelete':
      if (resource?.state !== 'DELETED') throw fail('FAILED_PRECONDITION: The resource is not deleted.')
      resource.state = 'ACTIVE'
      return { status: 0 }
    case 'add-iam-policy-binding': {
      if (!resource) throw fail('NOT_FOUND: Requested entity was not found.')
      const binding = { resource: key, role: flags.role, member: flags.member }
      if (!project.bindings.some(b => JSON.stringify(b) === JSON.stringify(binding))) project.bindings.push(binding)
      return { status: 0, stderr: `Updated IAM policy for [${id}].\n` }
    }
  }
  throw usage(`Invalid choice: ${command}`)
}

function created(
  project: Project,
  group: string,
  id: string,
  flags: Record<string, string>,
  fail: (m: string) => Exit
): Record<string, any> {
  switch (group) {
    case 'iam workload-identity-pools':
      return { name: `projects/${project.projectNumber}/locations/global/workloadIdentityPools/${id}`, state: 'ACTIVE' }
    case 'iam workload-identity-pools providers': {
      if ((flags['display-name'] ?? '').length > 32) throw fail('INVALID_ARGUMENT: display name must be at most 32 characters')
      if (!project.resources[`pool/${flags['workload-identity-pool']}`]) throw fail('NOT_FOUND: Requested entity was not found.')
      const mapping = Object.fromEntries(flags['attribute-mapping'].split(',').map(pair => pair.split('=')))
      if (!mapping['google.subject']) throw fail('INVALID_ARGUMENT: The attribute mapping must map google.subject.')
      return {
        state: 'ACTIVE',
        displayName: flags['display-name'],
        attributeMapping: mapping,
        attributeCondition: flags['attribute-condition'],
        oidc: { issuerUri: flags['issuer-uri'] }
      }
    }
    case 'iam service-accounts':
      if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(id)) throw fail(`INVALID_ARGUMENT: invalid account id ${id}`)
      return { email: `${id}@${project.projectId}.iam.gserviceaccount.com`, disabled: false, displayName: flags['display-name'] }
    case 'artifacts repositories':
      return { format: flags['repository-format'].toUpperCase(), description: flags.description }
    default:
      return { name: `projects/${project.projectNumber}/secrets/${id}`, replication: flags['replication-policy'] }
  }
}

/**
 * The `gcloud` first on the script's PATH: a bash client that sends its argv to the stand-in in
 * this process over loopback TCP (`<cloud>\0<argc>\0<arg>\0…`) and replays the answer
 * (`<status>\0<stdout>\0<stderr>\0`), so each call costs a bash start, not a Node start.
 */
const GCLOUD_CLIENT = `#!/bin/bash
exec 3<>"/dev/tcp/127.0.0.1/$FAKE_GCLOUD_PORT"
printf '%s\\0' "$FAKE_GCLOUD_CLOUD" "$#" "$@" >&3
IFS= read -r -d '' status <&3
IFS= read -r -d '' out <&3
IFS= read -r -d '' err <&3
printf '%s' "$out"
printf '%s' "$err" >&2
exit "$status"
`

interface Run {
  status: number | null
  stdout: string
  stderr: string
  /** Every gcloud argv of this run, in order. */
  calls: string[][]
  state: Project
}

const clouds = new Map<string, { project: Project; calls: string[][] }>()
let server: net.Server
let port = 0
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gcp-setup-'))

beforeAll(async () => {
  fs.writeFileSync(path.join(scratch, 'gcloud'), GCLOUD_CLIENT, { mode: 0o755 })
  server = net.createServer(socket => {
    let buffer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      const fields = buffer.split('\0')
      if (fields.length < 3 || fields.length - 3 < Number(fields[1])) return
      const [cloudId, argc] = fields
      const argv = fields.slice(2, 2 + Number(argc))
      const cloud = clouds.get(cloudId)
      let answer: Answer
      if (!cloud) answer = { status: 99, stderr: `no cloud ${cloudId}\n` }
      else {
        cloud.calls.push(argv)
        try {
          answer = gcloud(cloud.project, argv)
        } catch (error) {
          if (!(error instanceof Exit)) throw error
          answer = error.answer
        }
      }
      socket.end(`${answer.status}\0${answer.stdout ?? ''}\0${answer.stderr ?? ''}\0`)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as net.AddressInfo).port
})

afterAll(async () => {
  await new Promise(resolve => server.close(resolve))
  fs.rmSync(scratch, { recursive: true, force: true })
})

/** A project with nothing but itself (and the Compute Engine default account, as Google makes it). */
function freshProject(): Project {
  return {
    projectId: PROJECT,
    projectNumber: NUMBER,
    resources: { [`sa/${COMPUTE_DEFAULT}`]: { email: COMPUTE_DEFAULT, disabled: false } },
    bindings: [],
    enabledServices: [],
    failures: []
  }
}

/** A stand-in project, for one or more runs of the script (or of other bash with gcloud in it). */
function fakeCloud(project: Project): {
  run: (env?: Record<string, string>, args?: string[]) => Promise<Run>
  bash: (source: string) => Promise<Run>
} {
  const cloudId = String(clouds.size + 1)
  const cloud = { project, calls: [] as string[][] }
  clouds.set(cloudId, cloud)
  const execute = async (bashArgs: string[], env: Record<string, string>): Promise<Run> => {
    cloud.calls = []
    // Only what the script is given: no PROJECT_ID or CLOUDSDK_* of the machine running the tests.
    // No stdin: bash given a socket as stdin takes itself for a remote shell and reads ~/.bashrc.
    const child = spawn('bash', bashArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${scratch}:${process.env.PATH ?? ''}`,
        HOME: scratch,
        FAKE_GCLOUD_PORT: String(port),
        FAKE_GCLOUD_CLOUD: cloudId,
        RETRY_DELAY: '0',
        ...env
      }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const status = await new Promise<number | null>(resolve => child.on('close', resolve))
    return { status, stdout, stderr, calls: cloud.calls, state: structuredClone(cloud.project) }
  }
  return {
    run: (env = { PROJECT_ID: PROJECT, REPOSITORY: 'acme/weather' }, args = []) => execute([SCRIPT, ...args], env),
    bash: source => execute(['-euo', 'pipefail', '-c', source], {})
  }
}

/** Exit 0 with nothing on stderr but gcloud's own progress lines (gcloud writes `Created [..]` there). */
function expectSuccess(run: Run): void {
  expect(run.stderr.split('\n').filter(line => line && !/^(Created|Updated IAM policy for) \[/.test(line))).toEqual([])
  expect(run.status).toBe(0)
}

const isCreate = (call: string[]): boolean => call.some(word => ['create', 'create-oidc', 'undelete'].includes(word))
const flag = (call: string[], name: string): string | undefined => call.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const callsOf = (run: Run, ...command: string[]): string[][] => run.calls.filter(call => command.every((word, i) => call[i] === word))

/** The bindings a fresh run of the default settings must leave, and no others. */
const DEFAULT_BINDINGS: Binding[] = [
  { resource: `sa/${DEPLOYER}`, role: 'roles/iam.workloadIdentityUser', member: PRINCIPAL_SET },
  { resource: `project/${PROJECT}`, role: 'roles/run.admin', member: `serviceAccount:${DEPLOYER}` },
  { resource: `sa/${COMPUTE_DEFAULT}`, role: 'roles/iam.serviceAccountUser', member: `serviceAccount:${DEPLOYER}` },
  { resource: 'repository/us-central1/pmcp', role: 'roles/artifactregistry.writer', member: `serviceAccount:${DEPLOYER}` }
]

const byKey = (a: Binding, b: Binding): number => JSON.stringify(a).localeCompare(JSON.stringify(b))

describe('templates/gcp-setup/setup.sh', () => {
  it('is valid bash and passes shellcheck', () => {
    expect(spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' })
    if (spawnSync('shellcheck', ['--version'], { stdio: 'ignore' }).status !== 0) {
      if (process.env.CI === 'true') throw new Error('shellcheck is not on PATH; it is required when CI=true (apt-get install shellcheck)')
      console.warn('Skipping shellcheck: not on PATH (apt-get install shellcheck)')
      return
    }
    const lint = spawnSync('shellcheck', ['--severity=style', SCRIPT], { encoding: 'utf8' })
    expect(lint.stdout + lint.stderr).toBe('')
    expect(lint.status).toBe(0)
  })

  // Pool, provider admitting only the repository, deploy account, image repository; exactly these roles.
  it('sets up a fresh project: APIs, Workload Identity, deploy account, image repository, roles', async () => {
    const run = await fakeCloud(freshProject()).run()
    expectSuccess(run)

    expect(new Set(run.state.enabledServices)).toEqual(
      new Set([
        'run.googleapis.com',
        'artifactregistry.googleapis.com',
        'iamcredentials.googleapis.com',
        'sts.googleapis.com',
        'iam.googleapis.com',
        'secretmanager.googleapis.com'
      ])
    )
    expect(run.state.resources['pool/github']).toMatchObject({ state: 'ACTIVE' })
    const provider = run.state.resources['provider/github/gh-weather']
    expect(provider.attributeCondition).toBe("assertion.repository == 'acme/weather'")
    expect(provider.oidc).toEqual({ issuerUri: 'https://token.actions.githubusercontent.com' })
    expect(provider.attributeMapping).toEqual({
      'google.subject': 'assertion.sub',
      'attribute.actor': 'assertion.actor',
      'attribute.repository': 'assertion.repository',
      'attribute.repository_owner': 'assertion.repository_owner',
      'attribute.ref': 'assertion.ref'
    })
    // No audience list: the provider then accepts its own resource URL, the audience the action asks for.
    expect(flag(callsOf(run, 'iam', 'workload-identity-pools', 'providers', 'create-oidc')[0], 'allowed-audiences')).toBeUndefined()
    expect(run.state.resources[`sa/${DEPLOYER}`]).toMatchObject({ disabled: false })
    expect(run.state.resources['repository/us-central1/pmcp']).toMatchObject({ format: 'DOCKER' })

    expect([...run.state.bindings].sort(byKey)).toEqual([...DEFAULT_BINDINGS].sort(byKey))
    // The project-level grant must not stall on a policy that already holds conditional bindings.
    expect(flag(callsOf(run, 'projects', 'add-iam-policy-binding')[0], 'condition')).toBe('None')

    expect(run.stdout).toContain(
      `workload-identity-provider: projects/${NUMBER}/locations/global/workloadIdentityPools/github/providers/gh-weather\n`
    )
    expect(run.stdout).toContain(`service-account: ${DEPLOYER}\n`)
    expect(run.stdout).toContain(`[gcp]\nproject_id = "${PROJECT}"\nregion = "us-central1"\nrepository = "pmcp"\n`)
  })

  it('run again, creates nothing, grants the same roles and prints the same values', async () => {
    const cloud = fakeCloud(freshProject())
    const first = await cloud.run()
    expect(first.status).toBe(0)
    expect(first.calls.filter(isCreate).length).toBe(4) // pool, provider, deploy account, image repository

    const second = await cloud.run()
    expectSuccess(second)
    expect(second.calls.filter(isCreate)).toEqual([])
    expect(second.state.resources).toEqual(first.state.resources)
    expect([...second.state.bindings].sort(byKey)).toEqual([...DEFAULT_BINDINGS].sort(byKey))
    expect(second.stdout.slice(second.stdout.indexOf('workload-identity-provider:'))).toBe(
      first.stdout.slice(first.stdout.indexOf('workload-identity-provider:'))
    )
  })

  it('grants every permission of the action’s permission table, to its grantee, on its resource or project', async () => {
    const run = await fakeCloud(freshProject()).run()
    expectSuccess(run)
    const member = { 'deploy-service-account': `serviceAccount:${DEPLOYER}`, 'workload-identity-principal': PRINCIPAL_SET }
    /** Where a grant covers the permission: its resource, or the project (IAM inherits downwards). */
    const grantedOn = (permission: string): string[] => {
      if (permission.startsWith('run.')) return [`project/${PROJECT}`]
      if (permission.startsWith('artifactregistry.')) return [`project/${PROJECT}`, 'repository/us-central1/pmcp']
      if (permission === 'iam.serviceAccounts.actAs') return [`project/${PROJECT}`, `sa/${COMPUTE_DEFAULT}`]
      if (/^iam\.serviceAccounts\.get(AccessToken|OpenIdToken)$/.test(permission)) return [`project/${PROJECT}`, `sa/${DEPLOYER}`]
      throw new Error(`${permission}: no rule here for where it is granted; add one`)
    }
    // The setup creates the repository itself, so the deploy account needs only to push to it.
    const madeUnnecessary: Record<string, string> = { createRepository: 'repository/us-central1/pmcp' }
    const uncovered = Object.entries(GCP_PERMISSIONS as Record<string, GcpPermissionRow>)
      .filter(([call, row]) => {
        if (call in madeUnnecessary) return false
        return !run.state.bindings.some(
          b => b.member === member[row.grantee] && row.roles.includes(b.role) && grantedOn(row.permission).includes(b.resource)
        )
      })
      .map(([call, row]) => `${call}: ${row.permission} (${row.roles.join(' | ')}) for ${row.grantee}`)
    expect(uncovered).toEqual([])
    for (const resource of Object.values(madeUnnecessary)) expect(run.state.resources[resource]).toBeDefined()
  })

  it('matches the README: its setup command, the values it shows, and the same setup with gcloud alone', async () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('### Google Cloud setup, once per project'))
    const [download, gcloudAlone] = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map(m => m[1])
    const invocation = download.split('\n').find(line => line.endsWith(' bash setup.sh')) ?? ''
    const settings = Object.fromEntries(invocation.split(' ').flatMap(word => (word.includes('=') ? [word.split('=')] : [])))
    expect(Object.keys(settings)).toEqual(['PROJECT_ID', 'REPOSITORY', 'REGION', 'SECRETS'])
    const project = (): Project => ({ ...freshProject(), projectId: settings.PROJECT_ID })

    const bySetup = await fakeCloud(project()).run(settings)
    expectSuccess(bySetup)
    const shown = /```text\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
    expect(shown).toMatch(/^workload-identity-provider: .*\nservice-account: .*\n$/)
    expect(bySetup.stdout).toContain(`\n${shown}`)

    const byHand = await fakeCloud(project()).bash(gcloudAlone)
    expectSuccess(byHand)
    const essentials = (state: Project) => ({
      services: [...state.enabledServices].sort(),
      resources: Object.keys(state.resources).sort(),
      provider: Object.entries(state.resources)
        .filter(([key]) => key.startsWith('provider/'))
        .map(([, p]) => ({ condition: p.attributeCondition, mapping: p.attributeMapping, oidc: p.oidc })),
      repositories: Object.entries(state.resources)
        .filter(([key]) => key.startsWith('repository/'))
        .map(([, r]) => r.format),
      bindings: [...state.bindings].sort(byKey)
    })
    expect(essentials(byHand.state)).toEqual(essentials(bySetup.state))
  })

  it('takes every setting as a flag too, and gives [secrets] to the runtime account it creates', async () => {
    const state = freshProject()
    state.resources['secret/API_KEY'] = { name: `projects/${NUMBER}/secrets/API_KEY` }
    const runtime = `mcp-runtime@${PROJECT}.iam.gserviceaccount.com`
    const run = await fakeCloud(state).run({}, [
      '--project-id',
      PROJECT,
      '--repository=acme/weather',
      '--region',
      'europe-west1',
      '--server-name',
      'weather',
      '--pool=gh-pool',
      '--provider=weather-main',
      '--service-account=weather-deployer',
      '--artifact-repository=mcp-images',
      `--runtime-service-account=${runtime}`,
      '--secrets',
      'API_KEY, DB_URL'
    ])
    expectSuccess(run)
    const deployer = `weather-deployer@${PROJECT}.iam.gserviceaccount.com`
    expect(
      run.calls.filter(isCreate).map(call =>
        call
          .slice(0, -1)
          .join(' ')
          .replace(/ --.*$/, '')
      )
    ).toEqual([
      'iam workload-identity-pools create gh-pool',
      'iam workload-identity-pools providers create-oidc weather-main',
      'iam service-accounts create weather-deployer',
      'iam service-accounts create mcp-runtime',
      'artifacts repositories create mcp-images',
      'secrets create DB_URL'
    ])
    expect([...run.state.bindings].sort(byKey)).toEqual(
      [
        {
          resource: `sa/${deployer}`,
          role: 'roles/iam.workloadIdentityUser',
          member: `${POOLS}/gh-pool/attribute.repository/acme/weather`
        },
        { resource: `project/${PROJECT}`, role: 'roles/run.admin', member: `serviceAccount:${deployer}` },
        { resource: `sa/${runtime}`, role: 'roles/iam.serviceAccountUser', member: `serviceAccount:${deployer}` },
        { resource: 'repository/europe-west1/mcp-images', role: 'roles/artifactregistry.writer', member: `serviceAccount:${deployer}` },
        { resource: 'secret/API_KEY', role: 'roles/secretmanager.secretAccessor', member: `serviceAccount:${runtime}` },
        { resource: 'secret/DB_URL', role: 'roles/secretmanager.secretAccessor', member: `serviceAccount:${runtime}` }
      ].sort(byKey)
    )
    expect(run.stdout).toContain(
      `workload-identity-provider: projects/${NUMBER}/locations/global/workloadIdentityPools/gh-pool/providers/weather-main\n`
    )
    expect(run.stdout).toContain(`service-account: ${deployer}\n`)
    expect(run.stdout).toContain('[server]\nname = "weather"\n')
    expect(run.stdout).toContain('[secrets]\nAPI_KEY = "Secret Manager secret API_KEY"\nDB_URL = "Secret Manager secret DB_URL"\n')
  })

  it('names the provider after the repository within 32 characters, and its display name fits too', async () => {
    const run = await fakeCloud(freshProject()).run({ PROJECT_ID: PROJECT, REPOSITORY: 'Acme-Labs/Weather_Forecast.Server-For-Everyone' })
    expectSuccess(run)
    const provider = run.state.resources['provider/github/gh-weather-forecast-server-for-e']
    expect(provider.attributeCondition).toBe("assertion.repository == 'Acme-Labs/Weather_Forecast.Server-For-Everyone'")
    expect(provider.displayName).toBe('Acme-Labs/Weather_Forecast.Serve')
    expect(run.state.bindings).toContainEqual({
      resource: `sa/${DEPLOYER}`,
      role: 'roles/iam.workloadIdentityUser',
      member: `${POOLS}/github/attribute.repository/Acme-Labs/Weather_Forecast.Server-For-Everyone`
    })
  })

  it('refuses to adopt an existing provider that admits other repositories, saying how to go on', async () => {
    const state = freshProject()
    state.resources['pool/github'] = { state: 'ACTIVE' }
    state.resources['provider/github/gh-weather'] = {
      state: 'ACTIVE',
      attributeCondition: "assertion.repository_owner == 'acme'",
      oidc: { issuerUri: 'https://token.actions.githubusercontent.com' }
    }
    const run = await fakeCloud(state).run()
    expect(run.status).toBe(1)
    expect(run.stderr).toContain(
      `provider gh-weather of pool github exists with attribute condition "assertion.repository_owner == 'acme'"`
    )
    expect(run.stderr).toContain(`not "assertion.repository == 'acme/weather'"`)
    expect(run.stderr).toContain('--provider gh-something')
    expect(run.stderr).toContain('gcloud iam workload-identity-pools providers update-oidc gh-weather')
    expect(run.calls.filter(isCreate)).toEqual([])
    expect(run.state.bindings).toEqual([])
  })

  it('restores a pool and provider deleted less than 30 days ago instead of creating them', async () => {
    const state = freshProject()
    state.resources['pool/github'] = { state: 'DELETED' }
    state.resources['provider/github/gh-weather'] = {
      state: 'DELETED',
      attributeCondition: "assertion.repository == 'acme/weather'",
      oidc: { issuerUri: 'https://token.actions.githubusercontent.com' }
    }
    const run = await fakeCloud(state).run()
    expectSuccess(run)
    expect(run.calls.filter(isCreate).map(call => call.slice(0, 5).join(' '))).toEqual([
      'iam workload-identity-pools undelete github --project=acme-weather-prod',
      'iam workload-identity-pools providers undelete gh-weather',
      'iam service-accounts create pmcp-deploy --project=acme-weather-prod',
      'artifacts repositories create pmcp --project=acme-weather-prod'
    ])
    expect(run.state.resources['pool/github'].state).toBe('ACTIVE')
    expect(run.state.resources['provider/github/gh-weather'].state).toBe('ACTIVE')
  })

  it('retries an IAM change while the account it just created is not visible to IAM yet', async () => {
    const state = freshProject()
    state.failures = [
      {
        command: 'iam service-accounts add-iam-policy-binding',
        message: `INVALID_ARGUMENT: Service account ${DEPLOYER} does not exist.`,
        remaining: 2
      }
    ]
    const run = await fakeCloud(state).run()
    expectSuccess(run)
    expect(run.stdout.match(/not visible to IAM yet; retrying in 0s/g)).toHaveLength(2)
    expect([...run.state.bindings].sort(byKey)).toEqual([...DEFAULT_BINDINGS].sort(byKey))
  })

  it('stops on an IAM change that fails for another reason, with gcloud’s message', async () => {
    const state = freshProject()
    state.failures = [
      {
        command: 'projects add-iam-policy-binding',
        message: 'PERMISSION_DENIED: Policy update access denied.',
        remaining: 9
      }
    ]
    const run = await fakeCloud(state).run()
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('PERMISSION_DENIED: Policy update access denied.')
    expect(run.stderr).toContain('setup.sh: gcloud projects add-iam-policy-binding acme-weather-prod ... failed (above)')
    expect(callsOf(run, 'projects', 'add-iam-policy-binding')).toHaveLength(1)
  })

  it('takes a lookup that fails for another reason than NOT_FOUND for an error, never for a missing resource', async () => {
    const state = freshProject()
    state.failures = [
      {
        command: 'iam workload-identity-pools describe',
        message: 'PERMISSION_DENIED: Permission iam.workloadIdentityPools.get denied on resource.',
        remaining: 1
      }
    ]
    const run = await fakeCloud(state).run()
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('PERMISSION_DENIED: Permission iam.workloadIdentityPools.get denied on resource.')
    expect(run.stderr).toContain('setup.sh: gcloud iam workload-identity-pools describe failed (above)')
    expect(run.calls.filter(isCreate)).toEqual([])
  })

  it('stops at a project it cannot read, before changing anything', async () => {
    const run = await fakeCloud(freshProject()).run({ PROJECT_ID: 'acme-other', REPOSITORY: 'acme/weather' })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain("setup.sh: cannot read project 'acme-other'")
    expect(run.calls).toEqual([['projects', 'describe', 'acme-other', '--format=value(projectNumber)']])
  })

  it('says the Compute Engine default account is missing rather than creating an account of Google’s', async () => {
    const state = freshProject()
    state.resources = {}
    const run = await fakeCloud(state).run()
    expect(run.status).toBe(1)
    expect(run.stderr).toContain(`service account ${COMPUTE_DEFAULT} does not exist`)
    expect(run.stderr).toContain('gcloud services enable compute.googleapis.com')
    expect(callsOf(run, 'iam', 'service-accounts', 'create').map(call => call[3])).toEqual(['pmcp-deploy'])
  })

  it.each([
    [{ REPOSITORY: 'acme/weather' }, 'PROJECT_ID is required'],
    [{ PROJECT_ID: PROJECT }, 'REPOSITORY is required'],
    [{ PROJECT_ID: PROJECT, REPOSITORY: 'acme/*' }, "REPOSITORY 'acme/*' is not valid: owner/name exactly as GitHub spells it"],
    [{ PROJECT_ID: PROJECT, REPOSITORY: "acme/x' || true || '" }, 'REPOSITORY'],
    [{ PROJECT_ID: PROJECT, REPOSITORY: 'https://github.com/acme/weather' }, 'is not valid'],
    [{ PROJECT_ID: PROJECT, REPOSITORY: 'acme/..' }, 'is not a repository name'],
    [{ PROJECT_ID: '123456789012', REPOSITORY: 'acme/weather' }, 'not its name or number'],
    [{ PROJECT_ID: PROJECT, REPOSITORY: 'acme/weather', POOL: 'gcp-github' }, 'the prefix gcp- is reserved'],
    [
      { PROJECT_ID: PROJECT, REPOSITORY: 'acme/weather', SERVICE_ACCOUNT: `pmcp-deploy@${PROJECT}.iam.gserviceaccount.com` },
      'the account id only'
    ],
    [{ PROJECT_ID: PROJECT, REPOSITORY: 'acme/weather', SECRETS: 'API_KEY,bad/name' }, "a name in SECRETS 'bad/name' is not valid"],
    [
      { PROJECT_ID: PROJECT, REPOSITORY: 'acme/weather', ISSUER_URI: 'http://token.example.com' },
      "ISSUER_URI 'http://token.example.com' is not valid"
    ]
  ])('refuses %j before calling gcloud', async (env, message) => {
    const run = await fakeCloud(freshProject()).run(env)
    expect(run.status).toBe(1)
    expect(run.stderr).toContain(message)
    expect(run.calls).toEqual([])
  })

  it('refuses an unknown flag and a bare argument, and prints its usage on --help', async () => {
    const cloud = fakeCloud(freshProject())
    expect(await cloud.run(undefined, ['--projet', 'x'])).toMatchObject({
      status: 1,
      stderr: 'setup.sh: unknown flag --projet (see --help)\n',
      calls: []
    })
    expect(await cloud.run(undefined, ['acme/weather'])).toMatchObject({ status: 1, calls: [] })
    const help = await cloud.run(undefined, ['--help'])
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^Usage: setup\.sh/)
    expect(help.calls).toEqual([])
  })
})
