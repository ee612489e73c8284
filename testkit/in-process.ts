/**
 * `run()` of src/main.ts in this process, the way the runner calls it but with its seams given: the
 * inputs, the run's context and where the report goes. What it printed, the annotations, the reports
 * and the exit code come back; the exit code is reset so the test process is not marked failed.
 */
import type { RunContext } from '../src/context.js'
import type { ActionInputs, InputName } from '../src/inputs.js'
import { run } from '../src/main.js'
import type { RunReport } from '../src/report/index.js'
import { captureStdout, parseAnnotations, type Annotation } from './annotations.js'

export interface InProcessRun {
  reports: RunReport[]
  annotations: Annotation[]
  /** The messages of the error annotations. */
  errors: string[]
  output: string
  exitCode: number | undefined
}

export async function runInProcess(inputs: ActionInputs, context: RunContext, setByUser: InputName[] = []): Promise<InProcessRun> {
  const reports: RunReport[] = []
  const { output } = await captureStdout(() =>
    run({
      readInputs: () => inputs,
      inputsSetByUser: () => setByUser,
      readRunContext: () => context,
      publish: report => Promise.resolve(void reports.push(report))
    })
  )
  const exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode)
  process.exitCode = undefined
  const annotations = parseAnnotations(output)
  return { reports, annotations, errors: annotations.filter(a => a.level === 'error').map(a => a.message), output, exitCode }
}
