/** The part of a pino-style logger Sluice uses. */
export interface SluiceLogger {
  warn(object: object, message: string): void
}

/**
 * The logger when none is given: Node process warnings (code `SLUICE_WARNING`), which an app can
 * route or silence like Node's own, rather than writes to the console that a library must not make.
 */
export const processWarningLogger: SluiceLogger = {
  warn: (details, message) => process.emitWarning(message, { code: 'SLUICE_WARNING', detail: JSON.stringify(details) }),
}

/**
 * Logs a degraded-mode warning at most once per interval, with how many were suppressed in
 * between: a dead Redis under load must not turn into a log flood.
 */
export class WarnThrottle {
  readonly #logger: SluiceLogger | undefined
  readonly #intervalMs: number
  readonly #clock: () => number
  #nextAt = Number.NEGATIVE_INFINITY
  #suppressed = 0

  constructor(logger: SluiceLogger | undefined, intervalMs = 10_000, clock: () => number = () => performance.now()) {
    this.#logger = logger
    this.#intervalMs = intervalMs
    this.#clock = clock
  }

  warn(details: object, message: string): void {
    if (this.#logger === undefined) return
    const now = this.#clock()
    if (now < this.#nextAt) {
      this.#suppressed++
      return
    }
    this.#logger.warn({ ...details, suppressed: this.#suppressed }, message)
    this.#suppressed = 0
    this.#nextAt = now + this.#intervalMs
  }
}
