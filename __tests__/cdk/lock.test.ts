import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { resourceNames } from '../../src/names.js'
import { renderProject } from '../../src/render/index.js'
import {
  CDK_LOCK_FILE,
  cdkLockProblems,
  readJson,
  renderedManifest,
  repositoryVersions,
  type LockFile,
  type Manifest
} from '../../testkit/cdk-lock.js'
import { REPO_ROOT } from '../../testkit/workdir.js'

const lock = (): LockFile => readJson<LockFile>(CDK_LOCK_FILE)

describe("the rendered CDK project's package-lock.json", () => {
  it('is rendered beside package.json, and agrees with it and with the versions this repository tests with', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pmcp-cdk-lock-'))
    try {
      const workingDirectory = path.join(REPO_ROOT, 'examples', 'hello')
      const config = loadConfig({ workingDirectory, config: '.pmcp/deploy.toml', workspace: REPO_ROOT })
      const written = renderProject({
        config,
        names: resourceNames(config.server.name, 'production'),
        architecture: 'arm64',
        outDir: out,
        target: config.target.type,
        commitSha: 'abc1234',
        runId: '1'
      })
      expect(written).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']))
      expect(fs.readFileSync(path.join(out, 'package-lock.json'), 'utf8')).toBe(fs.readFileSync(CDK_LOCK_FILE, 'utf8'))
      const manifest = readJson<Manifest>(path.join(out, 'package.json'))
      expect(manifest.dependencies).toEqual(renderedManifest().dependencies)
      expect(manifest.devDependencies).toEqual(renderedManifest().devDependencies)
      expect(cdkLockProblems(manifest, readJson<LockFile>(path.join(out, 'package-lock.json')), repositoryVersions())).toEqual([])
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  })

  it('is found out of step when package.json, the lock or the installed version moves', () => {
    const manifest = renderedManifest()
    const repository = repositoryVersions()
    expect(cdkLockProblems(manifest, lock(), repository)).toEqual([])

    const ranged: Manifest = { ...manifest, dependencies: { ...manifest.dependencies, 'aws-cdk-lib': '^2.276.0' } }
    expect(cdkLockProblems(ranged, lock(), repository)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dependencies\.aws-cdk-lib: package\.json has \^2\.276\.0, the lock's root package 2\.276\.0/)
      ])
    )
    const added: Manifest = { ...manifest, devDependencies: { ...manifest.devDependencies, 'ts-node': '10.9.2' } }
    expect(cdkLockProblems(added, lock(), repository)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^devDependencies\.ts-node: package\.json has 10\.9\.2, the lock's root package nothing/)
      ])
    )

    const moved = lock()
    moved.packages['node_modules/constructs'].version = '10.0.0'
    expect(cdkLockProblems(manifest, moved, repository)).toEqual(
      expect.arrayContaining([
        'constructs: package.json has 10.8.1, the lock installs 10.0.0',
        "constructs: the lock installs 10.0.0, this repository's node_modules has 10.8.1",
        "node_modules/constructs: constructs@10.0.0 is not in this repository's package-lock.json"
      ])
    )

    const upgradedHere = { ...repository, installed: (name: string) => (name === 'aws-cdk' ? '2.2000.0' : repository.installed(name)) }
    expect(cdkLockProblems(manifest, lock(), upgradedHere)).toEqual([
      "aws-cdk: the lock installs 2.1148.1, this repository's node_modules has 2.2000.0"
    ])
  })
})
