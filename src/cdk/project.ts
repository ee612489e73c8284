import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'smol-toml'
import type { Plan } from '../plan.js'
import { renderProject, type RenderOptions } from '../render/index.js'
import { runCacheService } from '../toolchain/index.js'
import { installCdkDependencies } from './dependencies.js'

export { dependenciesPresent, installCdkDependencies, cdkDependenciesCacheKey, type CdkDependencies } from './dependencies.js'

/** The directory `cargo pmcp deploy init` writes its CDK project to. */
export const USER_CDK_DIR = 'deploy'
/** Where the action renders its own CDK project, inside the working directory. */
export const RENDERED_CDK_DIR = path.join('.pmcp', 'cdk')

export interface CdkProject {
  dir: string
  /** false: the repository's own CDK project, used as it is. */
  rendered: boolean
}

export type PrepareProjectOptions = Omit<RenderOptions, 'outDir' | 'templatesDir'> & { workingDirectory: string }

/** Where cargo pmcp records the SHA-256 of the scaffold files it wrote into deploy/. */
export const SCAFFOLD_RECORD = '.pmcp-scaffold.toml'

/**
 * True when deploy/lib/stack.ts is still the scaffold cargo pmcp last wrote, as its provenance
 * record (deploy/.pmcp-scaffold.toml, `[files] "lib/stack.ts" = "sha256:<hex>"`, line endings
 * normalized to LF) says. Without a record, or with one that cannot be read, it is not.
 */
export function isUntouchedCargoPmcpScaffold(cdkDir: string): boolean {
  try {
    const record = parse(fs.readFileSync(path.join(cdkDir, SCAFFOLD_RECORD), 'utf8')) as { files?: Record<string, unknown> }
    const recorded = record.files?.['lib/stack.ts']
    const stack = fs.readFileSync(path.join(cdkDir, 'lib', 'stack.ts'), 'utf8').replace(/\r\n/g, '\n')
    return typeof recorded === 'string' && recorded.toLowerCase() === `sha256:${createHash('sha256').update(stack).digest('hex')}`
  } catch {
    return false
  }
}

/** The literal cargo pmcp's aws-lambda stack.ts scaffold bakes the server name into (pmcp-run's is a serverId context fallback). */
const AWS_LAMBDA_SCAFFOLD_LITERAL = /^\s*const serverName = '[^']*';\s*$/m

/**
 * True when cargo pmcp deploys deploy/ by rendering the stack from deploy.toml rather than running it:
 * its unmodified scaffold (see isUntouchedCargoPmcpScaffold), on pmcp.run (deploy/pmcp_run) and on
 * aws-lambda (targets/aws_lambda/deploy.rs: an unmodified scaffold goes to the template renderer, a
 * hand-modified stack.ts to `npx cdk deploy`). On aws-lambda only its aws-lambda scaffold counts: an
 * unmodified pmcp-run scaffold in deploy/ stays the project it is.
 */
export function rendersOverCargoPmcpScaffold(cdkDir: string, target: PrepareProjectOptions['target']): boolean {
  if (!isUntouchedCargoPmcpScaffold(cdkDir)) return false
  if (target === 'pmcp-run') return true
  return AWS_LAMBDA_SCAFFOLD_LITERAL.test(fs.readFileSync(path.join(cdkDir, 'lib', 'stack.ts'), 'utf8'))
}

/**
 * The repository's own CDK project when it has one, else the project rendered from deploy.toml.
 * As cargo pmcp does, only a stack.ts someone edited counts as a project of one's own: cargo pmcp's
 * unmodified scaffold is replaced by the stack rendered from deploy.toml (see rendersOverCargoPmcpScaffold).
 */
export function prepareCdkProject(options: PrepareProjectOptions): CdkProject {
  const own = path.join(options.workingDirectory, USER_CDK_DIR)
  if (fs.existsSync(path.join(own, 'cdk.json'))) {
    if (!rendersOverCargoPmcpScaffold(own, options.target)) {
      core.info(`Using the repository's own CDK project in ${USER_CDK_DIR}/ as it is`)
      return { dir: own, rendered: false }
    }
    core.info(
      `${USER_CDK_DIR}/ holds cargo pmcp's unmodified scaffold (${USER_CDK_DIR}/${SCAFFOLD_RECORD}): ` +
        `rendering the ${options.target === 'pmcp-run' ? 'pmcp.run' : 'aws-lambda'} stack from deploy.toml instead, ` +
        'as cargo pmcp deploy does'
    )
  }
  const dir = path.join(options.workingDirectory, RENDERED_CDK_DIR)
  const files = renderProject({ ...options, outDir: dir })
  core.info(`Rendered the CDK project into ${path.relative(options.workingDirectory, dir)}/ (${files.join(', ')})`)
  return { dir, rendered: true }
}

/**
 * The plan's CDK project (rendered, or the repository's own) with its dependencies installed: from
 * the run's cache (inputs `cache`, `save-cache`, `cache-key`) when the project has a package-lock.json.
 */
export async function cdkProjectFor(plan: Plan): Promise<CdkProject> {
  const { config, names, architecture, region, target, inputs, context } = plan
  const project = prepareCdkProject({
    workingDirectory: inputs.workingDirectory,
    config,
    names,
    architecture,
    region,
    target,
    commitSha: context.commitSha,
    runId: context.runId
  })
  await installCdkDependencies(project.dir, { cache: runCacheService(plan), cacheKey: inputs.cacheKey })
  return project
}
