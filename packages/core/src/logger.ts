import type { SluiceLogger } from './types.js'

/**
 * The logger when none is given: Node process warnings, with the warning's own `SLUICE_*` code,
 * which an app can route or silence like Node's own, rather than writes to the console that a
 * library must not make.
 */
export const processWarningLogger: SluiceLogger = {
  warn(details, message) {
    const { code, ...rest } = details as { code?: unknown }
    process.emitWarning(message, { code: typeof code === 'string' ? code : 'SLUICE_WARNING', detail: JSON.stringify(rest) })
  },
}
