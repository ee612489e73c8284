import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * A scratch directory inside the repository (gitignored `.test-work/`), so a CDK project rendered
 * there resolves aws-cdk-lib, aws-cdk and tsx from the repository's node_modules.
 */
export function makeWorkDir(prefix: string): { dir: string; remove: () => void } {
  const root = path.join(REPO_ROOT, '.test-work')
  fs.mkdirSync(root, { recursive: true })
  const dir = fs.mkdtempSync(path.join(root, `${prefix}-`))
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** Writes `.pmcp/deploy.toml` (or another path) under dir and returns dir. */
export function writeConfig(dir: string, toml: string, relative = '.pmcp/deploy.toml'): string {
  fs.mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true })
  fs.writeFileSync(path.join(dir, relative), toml)
  return dir
}
