import * as core from '@actions/core'
import { GcpApiError } from '../../gcp/rest.js'
import { OperationFailedError } from '../../gcp/run-api.js'
import { setInvokerAccess } from '../../gcp/iam.js'
import type { RunService, TrafficTarget } from '../../gcp/run-types.js'
import { joinEndpoint } from '../../cdk/mcp-endpoint.js'
import { isDebianFamily } from '../../config/cloud-run.js'
import { ActionError, errorMessage } from '../../errors.js'
import type { CommandPipeline, Phase, ReportFacts } from '../../pipeline.js'
import type { Plan } from '../../plan.js'
import { smokeTestDeployment } from '../../smoke/index.js'
import { cargoCacheHit, toolchainFor } from '../../toolchain/index.js'
import type { SmokeRun } from '../../types.js'
import { buildCloudRunBinary, type CloudRunBuild } from './build.js'
import { failedConditions } from './conditions.js'
import { ensureRepository, planImage, pushImageFromBinary, pushImageWithBuildx, type ServerImage } from './image-step.js'
import { revisionRows, servingNow, taggedRevision } from './revisions.js'
import { revisionLabels, revisionName, revisionTemplate, serviceSpec, withTraffic } from './service-spec.js'
import { checkGoogleInputs, cloudRunSession, cloudRunSettings, type CloudRunSession } from './session.js'
import { previewTag, productionTraffic, previewTraffic, rollbackTraffic, shortRevisionName, tagUrl } from './traffic.js'

/** The report's outputs of a Cloud Run deploy; `McpUrl` drives output `mcp-url` and the smoke test. */
export function serviceOutputs(options: {
  plan: Plan
  session: CloudRunSession
  service: RunService
  url: string
  revision: string
  image?: string
  tag?: string
}): Record<string, string> {
  const { plan, session, service, url, revision, image, tag } = options
  const outputs: Record<string, string | undefined> = {
    McpUrl: joinEndpoint(url, plan.config.server.mcpPath),
    ServiceUrl: service.uri,
    ServiceName: session.service,
    Revision: revision,
    ProjectId: session.cloudRun.projectId,
    Region: session.cloudRun.region,
    Image: image,
    PreviewTag: tag,
    TagUrl: tag ? url : undefined
  }
  return Object.fromEntries(Object.entries(outputs).filter((entry): entry is [string, string] => Boolean(entry[1])))
}

/**
 * The `secrets` input writes AWS Secrets Manager; on Cloud Run, [secrets] names Secret Manager
 * secrets the user keeps. A warning, not an error: the reusable workflow passes an organization's
 * inherited PMCP_DEPLOY_SECRETS to every target. The values are masked all the same.
 */
function warnAboutAwsOnlySettings(plan: Plan): void {
  if (!plan.inputs.secrets?.trim()) return
  core.warning(
    "The 'secrets' input is not used on google-cloud-run: it writes to AWS Secrets Manager. On Cloud Run each name in " +
      '[secrets] of deploy.toml is the Secret Manager secret of that name, read by the revision at start (version latest); ' +
      'set the values there, e.g. `printf %s "$VALUE" | gcloud secrets versions add NAME --data-file=-`.',
    { title: 'secrets input ignored' }
  )
}

/**
 * Sends `spec` (a create when the service does not exist yet) and waits for Cloud Run to finish; a
 * revision that does not become ready is an error carrying its condition messages, and what still serves.
 */
export async function applyService(
  session: CloudRunSession,
  spec: RunService,
  options: {
    exists: boolean
    revision?: string
    what: string
    stillServing?: string
    /** The traffic the service declared before: put back when the new revision fails (see below). */
    restoreTraffic?: TrafficTarget[]
  }
): Promise<RunService> {
  const { api, service } = session
  try {
    const operation = options.exists ? await api.updateService(spec) : await api.createService(service, spec)
    await api.waitOperation(operation, options.what)
  } catch (error) {
    if (!(error instanceof OperationFailedError) || !options.revision) throw error
    const failure = await revisionFailure(session, options.revision, error, options.stillServing)
    if (options.restoreTraffic) await restoreDeclaredTraffic(session, options.restoreTraffic, options.revision)
    throw failure
  }
  const updated = await api.getService(service)
  if (!updated)
    throw new ActionError(
      'Cloud Run service vanished',
      `Service ${service} was updated but cannot be read back; someone deleted it meanwhile.`
    )
  return updated
}

/** How often a change is made again on a fresh read after someone else changed the service first. */
const CONFLICT_ATTEMPTS = 3

/**
 * Runs `change` (read the service, derive the new one, send it) again when Cloud Run refuses the
 * write because the service changed since it was read (its etag; or a service created meanwhile):
 * production and a preview deploy to one service, and their runs do not wait for each other.
 */
export async function onFreshRead<T>(what: string, change: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await change()
    } catch (error) {
      if (!(error instanceof GcpApiError && error.kind === 'conflict') || attempt >= CONFLICT_ATTEMPTS) throw error
      core.info(
        `${what}: the service changed since it was read (another run?); reading it again (attempt ${attempt + 1} of ${CONFLICT_ATTEMPTS})`
      )
    }
  }
}

/**
 * After a revision failed, Cloud Run still serves the revisions that served before, but the service
 * keeps declaring the traffic it was asked for, naming the failed revision: every later traffic
 * change (a tag removed, a rollback) would be refused for it. The traffic declared before goes back,
 * the failed template stays (so no revision is made).
 */
async function restoreDeclaredTraffic(session: CloudRunSession, traffic: TrafficTarget[], failed: string): Promise<void> {
  try {
    const current = await session.api.getService(session.service)
    if (!current) return
    const operation = await session.api.updateService(withTraffic(current, traffic))
    await session.api.waitOperation(operation, `Restoring the traffic of ${session.service}`)
    core.info(`Traffic of ${session.service} declared as before revision ${failed} failed`)
  } catch (error) {
    core.warning(
      `The traffic of ${session.service} could not be declared as before revision ${failed} failed (${errorMessage(error)}); ` +
        'the next deploy sets it again.'
    )
  }
}

async function revisionFailure(
  session: CloudRunSession,
  revision: string,
  error: OperationFailedError,
  stillServing?: string
): Promise<ActionError> {
  let conditions: string[] = []
  try {
    const failed = await session.api.getRevision(session.service, revision)
    conditions = failed ? failedConditions(failed) : []
  } catch (readError) {
    core.warning(`The conditions of revision ${revision} could not be read: ${errorMessage(readError)}`)
  }
  const why = conditions.length > 0 ? conditions.join('\n') : (error.operation.error?.message ?? error.message)
  const serving = stillServing ? `Traffic was not moved: ${stillServing} still serves.` : 'No traffic was moved to it.'
  return new ActionError(
    'Cloud Run revision failed',
    `Revision ${revision} of ${session.service} did not become ready:\n${why}\n${serving} ` +
      "Check that the server listens on $PORT (8080) on 0.0.0.0 and starts without the network; its logs are in the service's Logs tab."
  )
}

/** Where the deploy goes and what it replaces: production traffic, or a preview's tag. */
interface DeployTarget {
  tag?: string
  traffic: TrafficTarget[]
  /** What served (production) or what the tag named (preview) before. */
  previous?: string
}

function deployTarget(plan: Plan, existing: RunService | undefined, revision: string, service: string): DeployTarget {
  if (plan.names.stage === 'production') return { traffic: productionTraffic(existing, revision), previous: servingNow(existing) }
  const tag = previewTag(plan.previewId ?? '', service)
  const preview = previewTraffic(existing, revision, tag)
  if (preview.previewServesProduction) {
    core.warning(
      `Service ${service} has no production revision yet, so preview ${tag} also takes its traffic: ` +
        'the service URL serves this preview until production is deployed.'
    )
  }
  return { tag, traffic: preview.traffic, previous: taggedRevision(existing, tag) }
}

/**
 * `command: deploy` with `target: google-cloud-run`: build the binary on the runner (cargo cache,
 * the base's glibc), push base + binary as an image by digest, create or update the service with a
 * named revision (production: all traffic pinned to it; a preview: tag `pr-<N>`, no traffic), set the
 * invoker policy, smoke-test the URL; a failed smoke test moves traffic (or the tag) back.
 */
export function cloudRunDeployCommand(plan: Plan): CommandPipeline {
  const { config, names, inputs, context } = plan
  let movedBack = false
  return {
    async run({ phase, facts }) {
      warnAboutAwsOnlySettings(plan)
      checkGoogleInputs(plan)
      const cloudRun = cloudRunSettings(plan)
      // apt_packages and a Debian/Ubuntu base always mean a Docker build: then nothing is compiled on the runner.
      const docker = cloudRun.aptPackages.length > 0 || isDebianFamily(cloudRun.base)
      const toolchain = await phase('toolchain', () => toolchainFor(plan, { compilesOnRunner: !docker }))
      facts.rustcVersion = toolchain.rustcVersion
      facts.cacheHit = cargoCacheHit(toolchain.cargoCache)
      const { binary, imagePath } = await phase('render', () => planImage(plan))
      const build = imagePath.path === 'registry-api' ? await phase('build', () => buildCloudRunBinary(plan, toolchain, binary)) : undefined
      const session = await phase('credentials', () => cloudRunSession(plan))
      const deployed = await phase('deploy', async () => {
        await ensureRepository(session)
        const image: ServerImage =
          imagePath.path === 'docker-buildx'
            ? await pushImageWithBuildx(plan, session, imagePath)
            : await pushImageFromBinary(plan, session, (build as CloudRunBuild).binaryPath)
        const revision = revisionName(session.service, context.commitSha, { runId: context.runId, runAttempt: context.runAttempt ?? 1 })
        const template = revisionTemplate(
          { file: config.file, environment: config.environment, secrets: config.secrets, cloudRun },
          {
            name: revision,
            image: image.reference,
            labels: revisionLabels({ commitSha: context.commitSha, stage: names.stage, previewId: plan.previewId })
          }
        )
        const { service, target } = await onFreshRead(`Deploying revision ${revision}`, async () => {
          const existing = await session.api.getService(session.service)
          const target = deployTarget(plan, existing, revision, session.service)
          facts.previousVersion = target.previous
          const spec = serviceSpec(existing, template, target.traffic, { ingress: cloudRun.ingress })
          core.info(
            `${existing ? 'Updating' : 'Creating'} Cloud Run service ${session.service} in ${cloudRun.projectId}/${cloudRun.region}: ` +
              `revision ${revision}${target.tag ? ` tagged ${target.tag}, no traffic` : ', all traffic'}`
          )
          const service = await applyService(session, spec, {
            exists: existing !== undefined,
            revision,
            what: `Deploying revision ${revision}`,
            stillServing: servingNow(existing),
            restoreTraffic: existing?.traffic
          })
          return { service, target }
        })
        facts.functionVersion = revision
        const access = await setInvokerAccess(session.api, session.service, cloudRun.allowUnauthenticated)
        core.info(
          `Invoker policy: ${access.public ? 'public (allUsers)' : 'private (callers need an identity token)'}${describeChange(access)}`
        )
        const url = target.tag ? tagUrl(service, target.tag) : service.uri
        if (!url)
          throw new ActionError(
            'No URL',
            `Cloud Run reported no URL for ${target.tag ? `tag ${target.tag}` : 'the service'} of ${session.service}.`
          )
        facts.outputs = serviceOutputs({ plan, session, service, url, revision, image: image.reference, tag: target.tag })
        if (names.stage === 'production') {
          facts.versions = revisionRows(await session.api.listRevisions(session.service), revision, target.previous)
        }
        core.info(`Deployed ${session.service} revision ${revision}: ${facts.outputs.McpUrl}`)
        return { service, tag: target.tag }
      })
      const runSmoke = async (): Promise<SmokeRun> =>
        smokeTestDeployment(inputs, facts.outputs, toolchain.mcpTesterPath, await smokeToken(plan, session, deployed.service))
      facts.smoke = await phase('smoke test', runSmoke)
      if (facts.smoke.outcome === 'failed') {
        const afterRollback =
          inputs.rollbackOnFailure && facts.previousVersion && facts.previousVersion !== facts.functionVersion
            ? await moveBack(session, deployed.tag, facts, {
                runSmoke,
                phase,
                onMoved: () => {
                  movedBack = true
                }
              })
            : undefined
        if (inputs.rollbackOnFailure && !movedBack) {
          core.warning(
            `Smoke test failed and there is no earlier revision to move ${deployed.tag ? `tag ${deployed.tag}` : 'traffic'} back to.`
          )
        }
        throw new ActionError('Smoke test failed', smokeFailureMessage(facts, afterRollback, movedBack, deployed.tag))
      }
      return 'deployed'
    },
    statusAfterFailure: facts => (movedBack ? 'rolled back' : facts.smoke?.outcome === 'failed' ? 'deployed' : 'failed')
  }
}

function describeChange(change: { added: string[]; removed: string[] }): string {
  const parts = [
    ...(change.added.length > 0 ? [`added ${change.added.join(', ')}`] : []),
    ...(change.removed.length > 0 ? [`removed ${change.removed.join(', ')}`] : [])
  ]
  return parts.length > 0 ? ` (${parts.join('; ')} to roles/run.invoker)` : ' (unchanged)'
}

/**
 * The smoke test's bearer token: `smoke-test-token` when given; for a private service an identity
 * token of the deploy service account with the service URL as audience (what Cloud Run checks).
 */
export async function smokeToken(plan: Plan, session: CloudRunSession, service: RunService): Promise<string | undefined> {
  if (plan.inputs.smokeTestToken) return plan.inputs.smokeTestToken
  if (session.cloudRun.allowUnauthenticated || plan.inputs.smokeTest === 'none' || !service.uri) return undefined
  core.info(`Service ${session.service} is private: the smoke test calls it with an identity token for ${service.uri}`)
  return session.credentials.idToken(service.uri)
}

interface MoveBackSteps {
  runSmoke: () => Promise<SmokeRun>
  onMoved: () => void
  phase: <T>(name: Phase, work: () => Promise<T>) => Promise<T>
}

/**
 * A failed smoke test with `rollback-on-failure`: production traffic (or the preview's tag) goes back
 * to the revision it reached before this deploy, and that revision is smoke-tested in turn.
 */
async function moveBack(
  session: CloudRunSession,
  tag: string | undefined,
  facts: ReportFacts,
  steps: MoveBackSteps
): Promise<SmokeRun | undefined> {
  const previous = facts.previousVersion as string
  return steps.phase('rollback', async () => {
    const current = await session.api.getService(session.service)
    if (!current) throw new ActionError('Cloud Run service vanished', `Service ${session.service} cannot be read to move traffic back.`)
    // The preview's tag goes back exactly as a preview deploy of that revision would point it.
    const traffic = tag ? previewTraffic(current, previous, tag).traffic : rollbackTraffic(current, previous)
    await applyService(session, withTraffic(current, traffic), {
      exists: true,
      what: `Moving ${tag ? `tag ${tag}` : 'traffic'} back to ${previous}`
    })
    steps.onMoved()
    // The service URL and the tag URL stay what they were: only the revision behind them changed.
    facts.outputs = { ...facts.outputs, Revision: previous }
    if (!tag) facts.versions = revisionRows(await session.api.listRevisions(session.service), previous, facts.functionVersion)
    core.warning(
      `Smoke test of revision ${facts.functionVersion} failed: ${tag ? `tag ${tag}` : 'traffic'} of ${session.service} ` +
        `moved back to ${shortRevisionName(previous)}`
    )
    try {
      return await steps.runSmoke()
    } catch (error) {
      core.warning(`Smoke test of revision ${previous} after the rollback could not run: ${errorMessage(error)}`)
      return undefined
    }
  })
}

function smokeFailureMessage(facts: ReportFacts, afterRollback: SmokeRun | undefined, movedBack: boolean, tag: string | undefined): string {
  const failed = facts.smoke?.report.tests.filter(test => test.status === 'Failed') ?? []
  const what = tag ? `Tag ${tag}` : 'Production traffic'
  const lines = [
    `The smoke test of revision ${facts.functionVersion ?? '?'} failed: ` +
      `${failed.map(t => `${t.name}${t.error ? ` (${t.error})` : ''}`).join('; ')}.`
  ]
  if (movedBack) {
    const verdict = afterRollback ? `its smoke test ${afterRollback.outcome}` : 'its smoke test could not run'
    lines.push(`${what} was moved back to revision ${facts.previousVersion}; ${verdict}.`)
  } else {
    lines.push(`${what} still goes to revision ${facts.functionVersion ?? '?'}.`)
  }
  return lines.join(' ')
}
