/**
 * Every Lambda version a deploy publishes carries `<commit sha> run <run id>` as its description;
 * rollback finds a version by the commit at its start. Writing and reading it live here together so
 * the two cannot drift apart.
 */
export function versionDescription(run: { commitSha: string; runId: string }): string {
  return `${run.commitSha} run ${run.runId}`
}

/** A description starts with a commit when it begins with 7 to 40 hex digits that end a word. */
const COMMIT_AT_START = /^([0-9a-f]{7,40})(?![0-9a-z])/i

/** The commit a version was published from (lower case), or undefined for a description of another shape. */
export function commitOfVersionDescription(description: string | undefined): string | undefined {
  return COMMIT_AT_START.exec(description?.trim() ?? '')?.[1]?.toLowerCase()
}
