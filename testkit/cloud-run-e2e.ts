/** Runs `node dist/index.js` against the Google stand-in and a loopback registry, as the google-cloud-run e2e tests do. */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { GcpStandin } from './gcp-standin.js'
import type { FakeGitHubApi } from './github-api.js'
import type { OciRegistry } from './oci-registry.js'
import { realShapedPayload, REPOSITORY } from './runner-setup.js'
import { runAction, type ActionRun } from './runner.js'
import { REPO_ROOT } from './workdir.js'

export interface CloudRunRunnerOptions {
  google: GcpStandin
  registry: OciRegistry
  github: FakeGitHubApi
  /** The server's repository (its Cargo.toml, .pmcp/deploy.toml). */
  repoDir: string
  /** Events, the cargo target directory and tool caches go here. */
  scratch: string
  /** The server's binary name (what `cargo build` leaves in target/release). */
  binary: string
  /** Run ids start after this one, so revision names differ from file to file. */
  firstRunId: number
}

export type CloudRunRun = (
  eventName: string,
  payload: object,
  sha: string,
  inputs?: Record<string, string>,
  env?: Record<string, string>
) => Promise<ActionRun>

/**
 * A runner of the action for one e2e file: inputs sign in through the stand-in's provider and
 * service account, cargo builds the server for the host (cargo-lambda cannot be installed here; the
 * host is Debian 12, the base's glibc), the builtin smoke test runs, the image goes to the registry.
 */
export function cloudRunRunner(options: CloudRunRunnerOptions): CloudRunRun {
  const { google, registry, github, repoDir, scratch, binary } = options
  let runId = options.firstRunId
  return (eventName, payload, sha, inputs = {}, env = {}) => {
    const id = String(++runId)
    const eventPath = path.join(scratch, `event-${id}.json`)
    fs.writeFileSync(eventPath, JSON.stringify(realShapedPayload({ name: eventName, payload, sha, runId: id })))
    return runAction(
      {
        // No target input: [target] type = "google-cloud-run" in deploy.toml decides.
        'working-directory': path.relative(REPO_ROOT, repoDir),
        'workload-identity-provider': google.providerName,
        'service-account': google.serviceAccount,
        'build-command': `cargo build --release --offline --locked --target-dir "${path.join(scratch, 'target')}"`,
        'binary-path': path.join(scratch, 'target', 'release', binary),
        'smoke-test': 'builtin',
        'github-token': 'ghs_e2etoken',
        ...inputs
      },
      {
        ...google.env(),
        ...google.oidcEnv(),
        PMCP_GCP_REGISTRY_HOST: registry.host,
        GITHUB_EVENT_NAME: eventName,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REPOSITORY: REPOSITORY,
        GITHUB_SHA: sha,
        GITHUB_RUN_ID: id,
        GITHUB_API_URL: github.url,
        GITHUB_REF: 'refs/heads/main',
        RUNNER_TOOL_CACHE: fs.mkdtempSync(path.join(scratch, 'tool-cache-')),
        ...env
      }
    )
  }
}
