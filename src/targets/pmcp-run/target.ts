import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'smol-toml'
import type { ActionInputs, InputName, Target } from '../../inputs.js'

/**
 * The target of this run: the `target` input when the user set it, else deploy.toml's
 * `[target] type` (or `target_type`), else aws-lambda. A file that cannot be read or parsed here is
 * left to the config module, which reports it with its line.
 */
export function resolveTarget(inputs: Pick<ActionInputs, 'target' | 'workingDirectory' | 'config'>, setByUser: readonly InputName[]): Target {
  if (setByUser.includes('target')) return inputs.target
  let document: Record<string, unknown>
  try {
    document = parse(fs.readFileSync(path.resolve(inputs.workingDirectory, inputs.config), 'utf8'))
  } catch {
    return 'aws-lambda'
  }
  const section = document.target as Record<string, unknown> | undefined
  const type = section?.type ?? section?.target_type
  return type === 'pmcp-run' ? 'pmcp-run' : 'aws-lambda'
}
