import * as core from '@actions/core'
import type { AwsContext } from '../aws/clients.js'
import { currentAliasVersion, functionExists, listPublishedVersions, LIVE_ALIAS, moveAlias, type PublishedVersion } from '../aws/lambda.js'
import { ActionError } from '../errors.js'
import type { ResourceNames } from '../names.js'
import type { VersionRow } from '../report/model.js'

/** How many versions the report's table shows (current and previous are always among them). */
const TABLE_ROWS = 10
/** How many versions an error message lists. */
const LISTED_IN_ERRORS = 20

export interface RollbackOptions {
  functionName: string
  /** `previous`, a version number, or a commit SHA (7 to 40 hex characters). */
  target: string
  aws: AwsContext
}

export interface RollbackResult {
  /** The version the alias points at now. */
  functionVersion: string
  /** The version the alias pointed at before. */
  previousVersion: string
  /** Recent versions, newest first, for the report. */
  versions: VersionRow[]
}

/** The function to act on: the stack's `FunctionName` output, else the name the naming rules give. */
export function functionNameOf(stackOutputs: Record<string, string> | undefined, names: ResourceNames): string {
  return stackOutputs?.FunctionName?.trim() || names.functionName
}

function describeVersion(version: PublishedVersion, current?: string): string {
  const facts = [
    version.commit?.slice(0, 12),
    version.date?.slice(0, 16).replace('T', ' '),
    version.version === current ? 'current' : undefined
  ]
  const known = facts.filter(Boolean)
  return known.length > 0 ? `${version.version} (${known.join(', ')})` : version.version
}

/** The newest versions as an indented list, for error messages. */
function listForMessage(versions: PublishedVersion[], current?: string): string {
  if (versions.length === 0) return '  (none: the function has no published versions)'
  const newestFirst = [...versions].reverse()
  const shown = newestFirst.slice(0, LISTED_IN_ERRORS).map(v => `  - ${describeVersion(v, current)}`)
  const hidden = newestFirst.length - shown.length
  return [...shown, ...(hidden > 0 ? [`  … and ${hidden} older`] : [])].join('\n')
}

function targetMissing(functionName: string, what: string, versions: PublishedVersion[], current?: string): ActionError {
  return new ActionError(
    'Rollback target not found',
    `${what} Nothing was changed: alias ${LIVE_ALIAS} of ${functionName} still points at version ${current ?? '(none)'}.\n` +
      `Versions that exist (newest first):\n${listForMessage(versions, current)}\n` +
      "Set 'rollback-to' to 'previous', one of these version numbers, or the commit SHA (7+ characters) of one of them."
  )
}

function versionBefore(current: string, versions: PublishedVersion[]): PublishedVersion | undefined {
  // An alias on $LATEST: the newest published version is the one before it.
  const currentNumber = /^\d+$/.test(current) ? Number(current) : Number.POSITIVE_INFINITY
  return versions.filter(v => v.number < currentNumber).at(-1)
}

function versionsWithCommit(prefix: string, versions: PublishedVersion[]): PublishedVersion[] {
  return versions.filter(v => v.commit?.startsWith(prefix))
}

const SHA_LIKE = /^[0-9a-f]{7,40}$/i

/**
 * Which version `target` names: `previous` = the newest version older than the current one; a
 * number = that version (a 7+ digit number that is not a version is tried as a SHA); a SHA prefix =
 * the newest version whose description starts with a commit it begins.
 */
export function resolveTarget(target: string, versions: PublishedVersion[], current: string, functionName: string): PublishedVersion {
  const wanted = target.trim().toLowerCase()
  if (wanted === 'previous') {
    const before = versionBefore(current, versions)
    if (before) return before
    throw targetMissing(functionName, `There is no version before the current one (${current}) to roll back to.`, versions, current)
  }
  if (/^\d+$/.test(wanted)) {
    const byNumber = versions.find(v => v.number === Number(wanted))
    if (byNumber) return byNumber
    if (!SHA_LIKE.test(wanted)) throw targetMissing(functionName, `Version ${wanted} of ${functionName} does not exist.`, versions, current)
  }
  if (!SHA_LIKE.test(wanted)) {
    throw new ActionError(
      "Invalid input 'rollback-to'",
      `rollback-to '${target}' is neither 'previous', a version number, nor a commit SHA (7 to 40 hex characters).`
    )
  }
  const matching = versionsWithCommit(wanted, versions)
  const commits = new Set(matching.map(v => v.commit))
  if (commits.size > 1) {
    throw new ActionError(
      'Ambiguous rollback target',
      `Commit prefix ${wanted} matches ${commits.size} commits (${[...commits].map(c => c?.slice(0, 12)).join(', ')}). ` +
        'Nothing was changed; give more characters of the SHA.'
    )
  }
  const newest = matching.at(-1)
  if (newest) return newest
  throw targetMissing(functionName, `No version of ${functionName} was published from commit ${wanted}.`, versions, current)
}

/**
 * The report's version table: the newest versions, newest first, with the versions marked current and
 * previous always included.
 */
export function versionRows(versions: PublishedVersion[], marks: { current?: string; previous?: string }): VersionRow[] {
  const newestFirst = [...versions].reverse()
  const marked = new Set([marks.current, marks.previous])
  const shown = newestFirst.filter((v, index) => index < TABLE_ROWS || marked.has(v.version))
  return shown.map(v => ({
    version: v.version,
    commit: v.commit,
    date: v.date,
    ...(v.version === marks.current ? { current: true } : {}),
    ...(v.version === marks.previous ? { previous: true } : {})
  }))
}

/** The version table for a deploy that moved the alias itself (e.g. rollback on a failed smoke test). */
export async function versionTable(
  functionName: string,
  aws: AwsContext,
  marks: { current?: string; previous?: string }
): Promise<VersionRow[]> {
  return versionRows(await listPublishedVersions(functionName, aws), marks)
}

function noLiveAlias(functionName: string): ActionError {
  return new ActionError(
    `No alias '${LIVE_ALIAS}' on ${functionName}`,
    `Function ${functionName} has no alias '${LIVE_ALIAS}', so there is nothing to move back: it was probably deployed by an older ` +
      `cargo-pmcp stack, where API Gateway invokes the function directly and a rollback means a rebuild.\n` +
      `To move to this action's stack (a published version per deploy and alias '${LIVE_ALIAS}'), deploy the server once with this ` +
      "action ('command: deploy'); rollbacks work from the deploy after that."
  )
}

/**
 * `command: rollback`: moves alias `live` to the target version without rebuilding. A target that
 * does not exist changes nothing and the error lists the versions that do.
 */
export async function rollback(options: RollbackOptions): Promise<RollbackResult> {
  const { functionName, aws } = options
  const current = await currentAliasVersion(functionName, aws)
  if (current === undefined) {
    if (await functionExists(functionName, aws)) throw noLiveAlias(functionName)
    throw new ActionError(
      `Function ${functionName} not found`,
      `There is no Lambda function ${functionName} to roll back in ${aws.region}. Check 'aws-region', 'environment' and 'preview-id', ` +
        'or deploy the server first.'
    )
  }
  const versions = await listPublishedVersions(functionName, aws)
  const target = resolveTarget(options.target, versions, current, functionName)
  if (target.version === current) {
    core.info(`Alias ${LIVE_ALIAS} of ${functionName} already points at version ${current}; nothing to move.`)
  } else {
    await moveAlias(functionName, target.version, aws)
    core.info(`Moved alias ${LIVE_ALIAS} of ${functionName} from version ${current} to ${describeVersion(target)}`)
  }
  return {
    functionVersion: target.version,
    previousVersion: current,
    versions: versionRows(versions, { current: target.version, previous: current })
  }
}
