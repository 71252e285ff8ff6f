import type { SluiceLogger } from '../../../src/types.js'

export interface LoggedWarning {
  readonly object: Record<string, unknown>
  readonly message: string
}

/** A logger that keeps what it was given, for assertions. */
export function recordingLogger(): SluiceLogger & { readonly lines: LoggedWarning[] } {
  const lines: LoggedWarning[] = []
  return {
    lines,
    warn(object, message) {
      lines.push({ object: object as Record<string, unknown>, message })
    },
  }
}
