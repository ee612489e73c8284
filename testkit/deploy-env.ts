import { jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DeployStackOptions } from '../src/cdk/deploy.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '..')
const fixture = path.join(repoRoot, 'testkit', 'fixtures', 'moto-cdk-app')

/**
 * A writable copy of the moto CDK fixture inside the repository (so the app resolves aws-cdk-lib
 * from the repository's node_modules); removed by the returned function.
 */
export function copyFixture(): { dir: string; remove(): void } {
  const workRoot = path.join(repoRoot, '.test-work')
  fs.mkdirSync(workRoot, { recursive: true })
  const dir = fs.mkdtempSync(path.join(workRoot, 'pmcp-cdk-'))
  fs.cpSync(fixture, dir, { recursive: true })
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

/** The environment the action gives a CDK app (see src/cdk/environment.ts), for a server called `name`. */
export function deployOptions(cdkDir: string, name: string, overrides: Partial<DeployStackOptions> = {}): DeployStackOptions {
  const stackName = `${name}-stack`
  return {
    cdkDir,
    stackName,
    account: '123456789012',
    region: 'us-east-1',
    env: {
      PMCP_STACK_NAME: stackName,
      PMCP_SERVER_NAME: name,
      PMCP_FUNCTION_NAME: name,
      PMCP_ENVIRONMENT: 'production',
      PMCP_CONFIG_JSON: JSON.stringify({ server: { name, mcpPath: '/mcp' } }),
      SERVER_NAME: name
    },
    cdkArgs: ['--method=direct'],
    hotswap: false,
    cdkBootstrap: true,
    retry: { sleep: async () => {} },
    deleteOptions: { pollMs: 50 },
    ...overrides
  }
}

/** Captures stdout (log lines and streamed CDK output) until the returned function is called. */
export function captureStdout(): { text(): string; restore(): void } {
  let written = ''
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written += chunk.toString()
    return true
  })
  return { text: () => written, restore: () => spy.mockRestore() }
}
