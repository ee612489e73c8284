/**
 * Run by proxy.test.ts as its own process (`node --import tsx`), because Node's global fetch reads
 * its dispatcher from the main realm, which a jest test (in a vm context) cannot reach: what the
 * action does at start-up (installProxySupport), then the built-in smoke test against argv[2],
 * whose MCP client uses the global fetch. Prints `{ installed, summary, errors }` as JSON (errors: those
 * of the failed tests), or reports an error the smoke test threw as the action would (an annotation) and exits 1.
 */
import { reportError } from '../../src/errors.js'
import { installProxySupport } from '../../src/net/proxy.js'
import { runBuiltin } from '../../src/smoke/builtin.js'

const installed = installProxySupport()
try {
  const report = await runBuiltin({ url: process.argv[2], timeoutSeconds: 4, sleep: async () => {} })
  const errors = report.tests.filter(test => test.status === 'Failed').map(test => test.error ?? '')
  console.log(JSON.stringify({ installed, summary: report.summary, errors }))
} catch (error) {
  reportError(error)
  process.exitCode = 1
}
