import type { SluiceLogger } from './types.js'

/**
 * The logger when none is given: Node process warnings (code `SLUICE_WARNING`), which an app can
 * route or silence like Node's own, rather than writes to the console that a library must not make.
 */
export const processWarningLogger: SluiceLogger = {
  warn: (details, message) => process.emitWarning(message, { code: 'SLUICE_WARNING', detail: JSON.stringify(details) }),
}
