/**
 * Regenerates templates/shared/package-lock.json, the lock every rendered CDK project is installed
 * from (`npm ci`) and cached by, from this repository's own package-lock.json: the packages
 * templates/shared/package.json.hbs lists, at the versions it pins, with every transitive package at
 * the version this repository's tests ran with.
 *   node --import tsx scripts/update-cdk-lock.ts           write it
 *   node --import tsx scripts/update-cdk-lock.ts --check   exit 1 when the committed lock differs
 * After a bump of aws-cdk-lib, constructs, aws-cdk, tsx or typescript: `npm install` here, set the same
 * exact versions in templates/shared/package.json.hbs, run this, and commit both.
 * __tests__/cdk/lock.test.ts fails while the lock is out of step.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  CDK_LOCK_FILE,
  cdkLockProblems,
  readJson,
  renderedManifest,
  repositoryVersions,
  type LockEntry,
  type LockFile
} from '../testkit/cdk-lock.js'
import { REPO_ROOT } from '../testkit/workdir.js'

function generate(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cdk-lock-'))
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(renderedManifest(), null, 2)}\n`)
    // Starting from the repository's lock, npm keeps each package's locked version and drops what is not needed.
    const start = readJson<LockFile & { version?: string; packages: Record<string, LockEntry & { version?: string }> }>(
      path.join(REPO_ROOT, 'package-lock.json')
    )
    delete start.version
    delete start.packages[''].version
    fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(start))
    execFileSync(
      'npm',
      [
        'install',
        '--package-lock-only',
        '--ignore-scripts',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--omit-lockfile-registry-resolved',
        '--loglevel=error'
      ],
      { cwd: dir, stdio: 'inherit' }
    )
    return fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function main(): void {
  const lock = generate()
  const problems = cdkLockProblems(renderedManifest(), JSON.parse(lock) as LockFile, repositoryVersions())
  if (problems.length > 0) throw new Error(`The generated lock is not in step:\n  ${problems.join('\n  ')}`)
  const current = fs.existsSync(CDK_LOCK_FILE) ? fs.readFileSync(CDK_LOCK_FILE, 'utf8') : ''
  const packages = Object.keys(readJson<LockFile>(path.join(REPO_ROOT, 'package-lock.json')).packages).length
  if (process.argv.includes('--check')) {
    if (current !== lock) {
      console.error(`${path.relative(REPO_ROOT, CDK_LOCK_FILE)} is out of date; run node --import tsx scripts/update-cdk-lock.ts`)
      process.exitCode = 1
    } else console.log(`${path.relative(REPO_ROOT, CDK_LOCK_FILE)} is up to date`)
    return
  }
  fs.writeFileSync(CDK_LOCK_FILE, lock)
  const locked = Object.keys((JSON.parse(lock) as LockFile).packages).length - 1
  const unchanged = current === lock ? ', unchanged' : ''
  console.log(`${path.relative(REPO_ROOT, CDK_LOCK_FILE)}: ${locked} packages (of ${packages - 1} in this repository's lock)${unchanged}`)
}

main()
