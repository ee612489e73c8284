import * as core from '@actions/core'

/** Where in a user's file a problem sits, so GitHub can annotate the line. */
export interface SourceLocation {
  file?: string
  line?: number
  column?: number
}

/**
 * An error the user can act on: it is reported as one `::error` annotation (title, file, line)
 * and never with a stack trace. Anything thrown that is not an ActionError is a bug of ours.
 */
export class ActionError extends Error {
  readonly title: string
  readonly location: SourceLocation

  constructor(title: string, message: string, location: SourceLocation = {}) {
    super(message)
    this.name = 'ActionError'
    this.title = title
    this.location = location
  }
}

export function annotationProperties(title: string, location: SourceLocation): core.AnnotationProperties {
  return {
    title,
    file: location.file,
    startLine: location.line,
    startColumn: location.column
  }
}

/** Several problems found in one pass (e.g. every bad key of deploy.toml), each its own annotation. */
export class ActionErrors extends Error {
  readonly errors: ActionError[]

  constructor(errors: ActionError[]) {
    super(errors.map(e => e.message).join('\n'))
    this.name = 'ActionErrors'
    this.errors = errors
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
