import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ActionError } from '../../errors.js'
import type { RunService } from '../../gcp/run-types.js'
import {
  cleanupPreviews,
  cleanupSummaryLine,
  githubPullRequestReader,
  type PullRequestReader,
  type CleanupRow
} from '../../lifecycle/cleanup.js'
import { checkDestroyAllowed } from '../../lifecycle/destroy.js'
import type { CommandPipeline } from '../../pipeline.js'
import type { Plan } from '../../plan.js'
import { smokeTestDeployment } from '../../smoke/index.js'
import { runCacheService, setupMcpTester } from '../../toolchain/index.js'
import { applyService, onFreshRead, serviceOutputs, smokeToken } from './deploy.js'
import { destinationOf } from './image-step.js'
import { revisionRows, servingNow } from './revisions.js'
import { MANAGED_BY, revisionLabels, revisionName, revisionTemplate, serviceSpec, withTraffic } from './service-spec.js'
import { checkGoogleInputs, cloudRunSession, cloudRunSettings, type CloudRunSession } from './session.js'
import { previewTag, previewTraffic, productionTraffic, rollbackTarget, rollbackTraffic, shortRevisionName, withoutTag } from './traffic.js'

async function readService(session: CloudRunSession): Promise<RunService> {
  const service = await session.api.getService(session.service)
  if (service) return service
  const { projectId, region } = session.cloudRun
  throw new ActionError(
    'No such Cloud Run service',
    `Service ${session.service} does not exist in project ${projectId}, region ${region}: nothing to roll back. ` +
      'Check [gcp] project_id and region in deploy.toml, and that production was deployed.'
  )
}

/**
 * `command: rollback`: all production traffic to an earlier revision (`rollback-to`: previous, a
 * revision name or a commit SHA), in one traffic update: seconds, no rebuild. Preview tags stay.
 */
export function cloudRunRollbackCommand(plan: Plan): CommandPipeline {
  const { inputs, names } = plan
  let moved = false
  return {
    async run({ phase, facts }) {
      if (names.stage === 'preview') {
        throw new ActionError(
          'Rollback is for production',
          "command 'rollback' moves the production traffic of the Cloud Run service; a preview is a tag that follows its pull request. " +
            'Push a fix to the pull request (or revert the commit) to change what the preview runs.'
        )
      }
      checkGoogleInputs(plan)
      const session = await phase('credentials', () => cloudRunSession(plan))
      const target = await phase('rollback', async () => {
        const { revisions, choice, before } = await onFreshRead('Rolling back', async () => {
          const service = await readService(session)
          const revisions = await session.api.listRevisions(session.service)
          const choice = rollbackTarget(revisions, service, inputs.rollbackTo)
          const before = servingNow(service)
          if (before === choice.revision) {
            core.info(`Revision ${choice.revision} already serves all of ${session.service}'s traffic: nothing to move.`)
          } else {
            core.info(`Moving all traffic of ${session.service} from ${before ?? 'nothing'} to ${choice.revision} (tags stay)`)
            await applyService(session, withTraffic(service, rollbackTraffic(service, choice.revision)), {
              exists: true,
              what: `Moving traffic to ${choice.revision}`
            })
          }
          return { revisions, choice, before }
        })
        if (choice.note) core.info(choice.note)
        facts.previousVersion = before
        moved = true
        const after = await readService(session)
        facts.functionVersion = choice.revision
        facts.versions = revisionRows(revisions, choice.revision, before)
        if (!after.uri) throw new ActionError('No URL', `Cloud Run reported no URL for service ${session.service}.`)
        facts.outputs = serviceOutputs({ plan, session, service: after, url: after.uri, revision: choice.revision })
        return after
      })
      const mcpTester =
        inputs.smokeTest === 'mcp-tester'
          ? await phase('toolchain', () =>
              setupMcpTester({ version: inputs.mcpTesterVersion, urlTemplate: inputs.mcpTesterUrl }, runCacheService(plan))
            )
          : undefined
      const token = await smokeToken(plan, session, target)
      facts.smoke = await phase('smoke test', () => smokeTestDeployment(inputs, facts.outputs, mcpTester, token))
      if (facts.smoke.outcome === 'failed') {
        throw new ActionError(
          'Smoke test failed after the rollback',
          `All traffic of ${session.service} now goes to revision ${facts.functionVersion}, and its smoke test failed; see the job summary.`
        )
      }
      return 'rolled back'
    },
    statusAfterFailure: () => (moved ? 'rolled back' : 'failed')
  }
}

/** Removes tag `tag` from the service (its revision stays, without traffic); what was there to remove. */
export async function removePreviewTag(session: CloudRunSession, tag: string): Promise<'removed' | 'nothing to remove'> {
  return onFreshRead(`Removing tag ${tag}`, async () => {
    const service = await session.api.getService(session.service)
    const traffic = service && withoutTag(service, tag)
    if (!service || !traffic) {
      core.info(`Service ${session.service} has no tag ${tag}: nothing to remove.`)
      return 'nothing to remove'
    }
    await applyService(session, withTraffic(service, traffic), { exists: true, what: `Removing tag ${tag}` })
    core.info(`Removed tag ${tag} from ${session.service} (its revision stays, without traffic or URL)`)
    return 'removed'
  })
}

/**
 * `command: destroy`: a preview loses its tag (never the service); production deletes the service,
 * only with `confirm-destroy` naming it.
 */
export function cloudRunDestroyCommand(plan: Plan): CommandPipeline {
  const { names, inputs } = plan
  return {
    async run({ phase }) {
      checkDestroyAllowed({ stackName: names.stackName, stage: names.stage, confirmDestroy: inputs.confirmDestroy })
      checkGoogleInputs(plan)
      const session = await phase('credentials', () => cloudRunSession(plan))
      return phase('destroy', async () => {
        if (names.stage === 'preview') return removePreviewTag(session, previewTag(plan.previewId ?? '', session.service))
        const operation = await session.api.deleteService(session.service)
        if (!operation) {
          core.info(`Service ${session.service} does not exist: nothing to remove.`)
          return 'nothing to remove'
        }
        await session.api.waitOperation(operation, `Deleting service ${session.service}`)
        core.info(`Deleted Cloud Run service ${session.service} (its images stay in the registry)`)
        return 'removed'
      })
    }
  }
}

/** Tag `pr-<N>` → N; another tag (production's own, a branch preview, someone else's) → undefined. */
export function tagPrNumber(tag: string): number | undefined {
  const match = /^pr-([1-9]\d*)$/.exec(tag)
  return match ? Number(match[1]) : undefined
}

/**
 * The service's preview tags whose pull request is closed or merged (or, with `max-preview-age`,
 * older than that) removed, one traffic update each. A tag is ours when its revision carries our label.
 */
export async function cleanupCloudRunPreviews(
  session: CloudRunSession,
  options: { readPullRequest: PullRequestReader; maxAgeDays?: number }
): Promise<CleanupRow[]> {
  const service = await session.api.getService(session.service)
  if (!service) {
    core.info(`Service ${session.service} does not exist: no previews to clean up.`)
    return []
  }
  const revisions = await session.api.listRevisions(session.service)
  const byName = new Map(revisions.map(revision => [shortRevisionName(revision.name), revision]))
  const candidates = (service.traffic ?? []).flatMap(target => {
    const prNumber = target.tag ? tagPrNumber(target.tag) : undefined
    if (!target.tag || prNumber === undefined) return []
    const revision = target.revision ? byName.get(shortRevisionName(target.revision)) : undefined
    return [
      {
        name: target.tag,
        prNumber,
        createdAt: revision?.createTime ? new Date(revision.createTime) : undefined,
        ours: revision?.labels?.['managed-by'] === MANAGED_BY
      }
    ]
  })
  core.info(`Found ${candidates.length} preview tag(s) on ${session.service}`)
  return cleanupPreviews({ ...options, candidates, destroy: tag => removePreviewTag(session, tag) })
}

/** `command: cleanup`: preview tags of closed pull requests removed. */
export function cloudRunCleanupCommand(plan: Plan): CommandPipeline {
  const { inputs, context } = plan
  return {
    async run({ phase, facts }) {
      checkGoogleInputs(plan)
      const session = await phase('credentials', () => cloudRunSession(plan))
      const rows = await phase('destroy', () =>
        cleanupCloudRunPreviews(session, {
          readPullRequest: githubPullRequestReader({ token: inputs.githubToken, repository: context.repository }),
          maxAgeDays: inputs.maxPreviewAgeDays
        })
      )
      facts.cleanup = rows
      core.info(`Cleanup of ${session.service}: ${cleanupSummaryLine(rows)}`)
      const failed = rows.filter(row => row.action === 'failed')
      if (failed.length > 0) {
        throw new ActionError('Cleanup could not remove every preview', failed.map(row => `${row.name}: ${row.reason}`).join('\n'))
      }
      return 'cleaned'
    }
  }
}

/** A digest that stands for the one the build will have: synth builds nothing. */
const DIGEST_OF_THE_BUILD = `sha256:${'0'.repeat(64)}`

/**
 * `command: synth`: the Cloud Run service a production deploy would send (or a preview's, on a
 * preview plan), with deploy.toml applied, written as JSON; nothing is built and Google is not called.
 * The image digest is a placeholder: the real one is known once the image is pushed.
 */
export function cloudRunSynthCommand(plan: Plan): CommandPipeline {
  const { config, names, context } = plan
  return {
    async run({ phase, facts }) {
      const cloudRun = cloudRunSettings(plan)
      const service = names.stackName
      return phase('synth', () => {
        const image = `${destinationOf({ cloudRun, service }).name}@${DIGEST_OF_THE_BUILD}`
        const revision = revisionName(service, context.commitSha, { runId: context.runId, runAttempt: context.runAttempt ?? 1 })
        const template = revisionTemplate(
          { file: config.file, environment: config.environment, secrets: config.secrets, cloudRun },
          { name: revision, image, labels: revisionLabels({ commitSha: context.commitSha, stage: names.stage, previewId: plan.previewId }) }
        )
        const traffic =
          names.stage === 'production'
            ? productionTraffic(undefined, revision)
            : previewTraffic(undefined, revision, previewTag(plan.previewId ?? '', service)).traffic
        const spec = serviceSpec(undefined, template, traffic, { ingress: cloudRun.ingress })
        // Beside the server, as `cdk synth` leaves its cdk.out: an artifact a later step can read or upload.
        const file = path.join(plan.inputs.workingDirectory, '.pmcp', 'cloud-run', `${service}.service.json`)
        fs.mkdirSync(path.dirname(file), { recursive: true })
        const name = `projects/${cloudRun.projectId}/locations/${cloudRun.region}/services/${service}`
        fs.writeFileSync(file, `${JSON.stringify({ name, ...spec }, null, 2)}\n`)
        facts.templatePath = file
        core.info(
          `Cloud Run service ${service} as a deploy would send it (image digest is the build's, shown as ${DIGEST_OF_THE_BUILD}): ${file}`
        )
        return 'synthesized' as const
      })
    }
  }
}
