import type { SluiceLogger } from './types.js'
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
