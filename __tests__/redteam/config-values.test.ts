/** Red team: wrong types, floats for integers, out-of-range numbers and hostile names in deploy.toml. */
import { describe, it } from '@jest/globals'
import { expectRefused, rows, withServer, type HostileConfig } from './hostile-config.js'

const CASES: HostileConfig[] = [
  { name: 'memory_mb written as a float (512.0)', toml: withServer('memory_mb = 512.0\n'), lineOf: 'memory_mb', says: /memory_mb/ },
  { name: 'memory_mb written with an exponent (1e3)', toml: withServer('memory_mb = 1e3\n'), lineOf: 'memory_mb', says: /memory_mb/ },
  {
    name: 'timeout_seconds with a fraction (30.5)',
    toml: withServer('timeout_seconds = 30.5\n'),
    lineOf: 'timeout_seconds',
    says: /timeout_seconds/
  },
  {
    name: '[lambda] memory_size as a float',
    toml: withServer('[lambda]\nmemory_size = 1024.0\n'),
    lineOf: 'memory_size',
    says: /memory_size/
  },
  { name: 'memory_mb = inf', toml: withServer('memory_mb = inf\n'), lineOf: 'memory_mb', says: /memory_mb/ },
  { name: 'memory_mb = nan', toml: withServer('memory_mb = nan\n'), lineOf: 'memory_mb', says: /memory_mb/ },
  { name: 'memory_mb negative', toml: withServer('memory_mb = -512\n'), lineOf: 'memory_mb', says: /memory_mb/ },
  { name: 'memory_mb zero', toml: withServer('memory_mb = 0\n'), lineOf: 'memory_mb', says: /memory_mb/ },
  {
    name: 'memory_mb beyond 64 bits',
    toml: withServer('memory_mb = 99999999999999999999999\n'),
    lineOf: 'memory_mb',
    says: /memory_mb|64|TOML/
  },
  { name: 'memory_mb as a string', toml: withServer('memory_mb = "512"\n'), lineOf: 'memory_mb', says: /memory_mb/ },
  { name: 'memory_mb as a date', toml: withServer('memory_mb = 1979-05-27\n'), lineOf: 'memory_mb', says: /memory_mb/ },
  { name: 'timeout_seconds zero', toml: withServer('timeout_seconds = 0\n'), lineOf: 'timeout_seconds', says: /timeout_seconds/ },
  {
    name: 'reserved_concurrency negative',
    toml: withServer('reserved_concurrency = -5\n'),
    lineOf: 'reserved_concurrency',
    says: /reserved_concurrency/
  },
  {
    name: 'ephemeral_storage_mb far above 10240',
    toml: withServer('ephemeral_storage_mb = 100000\n'),
    lineOf: 'ephemeral_storage_mb',
    says: /ephemeral_storage_mb/
  },
  { name: 'name with a shell injection ("x; rm -rf /")', toml: '[server]\nname = "x; rm -rf /"\n', lineOf: 'name', says: /name/ },
  { name: 'name with a path traversal ("../../etc")', toml: '[server]\nname = "../../etc"\n', lineOf: 'name', says: /name/ },
  { name: 'name empty', toml: '[server]\nname = ""\n', lineOf: 'name', says: /name/ },
  { name: 'name with a Cyrillic confusable (hеllo)', toml: '[server]\nname = "h\u0435llo"\n', lineOf: 'name', says: /name/ },
  { name: 'name as a number', toml: '[server]\nname = 123\n', lineOf: 'name', says: /name/ },
  { name: 'name 300 characters long', toml: `[server]\nname = "${'a'.repeat(300)}"\n`, lineOf: 'name', says: /name/ },
  { name: 'name missing', toml: '[server]\nmemory_mb = 512\n', says: /name/ },
  { name: '[server] as a string instead of a table', toml: 'server = "weather"\n', lineOf: 'server', says: /server/ },
  {
    name: '[[server]] as an array of tables',
    toml: '[[server]]\nname = "a"\n\n[[server]]\nname = "b"\n',
    lineOf: '[[server]]',
    says: /server/
  },
  {
    name: '[target] type of an unsupported platform',
    toml: '[target]\ntype = "gcp"\n\n[server]\nname = "rt"\n',
    lineOf: 'type',
    says: /type/
  },
  { name: '[aws] region that does not exist', toml: withServer('[aws]\nregion = "mars-north-1"\n'), lineOf: 'region', says: /region/ },
  {
    name: '[aws] account_id as an integer',
    toml: withServer('[aws]\naccount_id = 123456789012\n'),
    lineOf: 'account_id',
    says: /account_id/
  },
  {
    name: '[auth] callback_urls with plain http to a public host',
    toml: withServer('[auth]\nenabled = true\nprovider = "cognito"\ncallback_urls = ["http://evil.example.com/cb"]\n'),
    lineOf: 'callback_urls',
    says: /callback_urls/
  },
  {
    name: '[[iam.statements]] Allow * on *',
    toml: withServer('[[iam.statements]]\neffect = "Allow"\nactions = ["*"]\nresources = ["*"]\n'),
    lineOf: '[[iam.statements]]',
    says: /\*/
  },
  {
    name: '[lambda] architecture mips',
    toml: withServer('[lambda]\narchitecture = "mips"\n'),
    lineOf: 'architecture',
    says: /architecture/
  },
  { name: '[build] features as a string', toml: withServer('[build]\nfeatures = "postgres"\n'), lineOf: 'features', says: /features/ },
  {
    name: '[assets] base_dir outside the workspace',
    toml: withServer('[assets]\ninclude = ["*.json"]\nbase_dir = "../../.."\n'),
    lineOf: 'base_dir',
    says: /base_dir/
  },
  {
    name: 'mcp_path without a leading slash',
    toml: withServer('mcp_path = "mcp"\n').replace('\n\nmcp_path', '\nmcp_path'),
    lineOf: 'mcp_path',
    says: /mcp_path/
  },
  {
    name: '[observability] log_retention_days negative',
    toml: withServer('[observability]\nlog_retention_days = -1\n'),
    lineOf: 'log_retention_days',
    says: /log_retention_days/
  },
  {
    name: 'an unknown section (documented: a warning on its line, the synth goes on)',
    toml: withServer('[bogus]\nanything = 1\n'),
    says: /bogus/,
    accepted: true
  }
]

describe('red team: hostile values in deploy.toml', () => {
  it.each(rows(CASES))('%s', (_name, hostile) => expectRefused(hostile))
})
