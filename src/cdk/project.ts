import * as core from '@actions/core'
import * as exec from '@actions/exec'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { ActionError } from '../errors.js'
import { renderProject, type RenderOptions } from '../render/index.js'

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

/** The repository's own CDK project when it has one, else the project rendered from deploy.toml. */
export function prepareCdkProject(options: PrepareProjectOptions): CdkProject {
  const own = path.join(options.workingDirectory, USER_CDK_DIR)
  if (fs.existsSync(path.join(own, 'cdk.json'))) {
    core.info(`Using the repository's own CDK project in ${USER_CDK_DIR}/ as it is`)
    return { dir: own, rendered: false }
  }
  const dir = path.join(options.workingDirectory, RENDERED_CDK_DIR)
  const files = renderProject({ ...options, outDir: dir })
  core.info(`Rendered the CDK project into ${path.relative(options.workingDirectory, dir)}/ (${files.join(', ')})`)
  return { dir, rendered: true }
}

/** True when every package the project depends on already resolves from its directory. */
export function dependenciesPresent(dir: string): boolean {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
    devDependencies?: Record<string, string>
  }
  const names = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})]
  const require = createRequire(path.join(dir, 'package.json'))
  return names.every(name => {
    try {
      require.resolve(`${name}/package.json`)
      return true
    } catch {
      return false
    }
  })
}

/** `npm ci` with a lock file, else `npm install`; skipped when the dependencies already resolve. */
export async function installCdkDependencies(dir: string): Promise<'present' | 'installed'> {
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    throw new ActionError('CDK project has no package.json', `${dir} holds a cdk.json but no package.json; add one that depends on aws-cdk-lib and aws-cdk.`)
  }
  if (dependenciesPresent(dir)) {
    core.info('CDK project dependencies already present; no install needed')
    return 'present'
  }
  const args = fs.existsSync(path.join(dir, 'package-lock.json')) ? ['ci'] : ['install']
  const exitCode = await exec.exec('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, ignoreReturnCode: true })
  if (exitCode !== 0) {
    throw new ActionError('CDK dependencies could not be installed', `'npm ${args[0]}' failed in ${dir} (exit code ${exitCode}); see the log above.`)
  }
  return 'installed'
}
