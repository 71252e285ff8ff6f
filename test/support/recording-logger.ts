import type { SluiceLogger } from '@sluice/core'

export interface LoggedWarning {
  readonly object: Record<string, unknown>
  readonly message: string
}

/**
 * A logger that keeps what it was given, for assertions: each line's object and message, and the
 * lines' warning codes in order. Pass it wherever a test makes a warning, so nothing is printed.
 */
export function recordingLogger(): SluiceLogger & { readonly lines: LoggedWarning[]; readonly codes: string[] } {
  const lines: LoggedWarning[] = []
  return {
    lines,
    get codes() {
      return lines.map((line) => String(line.object.code))
    },
    warn(object, message) {
      lines.push({ object: object as Record<string, unknown>, message })
    },
  }
}
