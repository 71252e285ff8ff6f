import type { BreakerState, CircuitBreakerOptions } from './types.js'
/** Milliseconds on a monotonic clock. */
export type MillisClock = () => number

/**
 * Stops calling a store that keeps failing, so a dead Redis is not hammered and requests do not
 * each pay the time budget. After a cooldown one call is let through as a probe; its success
 * closes the circuit, its failure doubles the cooldown (up to a ceiling).
 */
export class CircuitBreaker {
  readonly #threshold: number
  readonly #baseCooldown: number
  readonly #maxCooldown: number
  readonly #clock: MillisClock
  #state: BreakerState = 'closed'
  #failures = 0
  #cooldown: number
  #retryAt = 0
  readonly #onChange: ((state: BreakerState) => void) | undefined

  /** Takes resolved options: their defaults live in options.ts's DEFAULTS, and only there. */
  constructor(
    options: Required<CircuitBreakerOptions>,
    clock: MillisClock = () => performance.now(),
    /** Told of every change of state. */
    onChange?: (state: BreakerState) => void,
  ) {
    this.#onChange = onChange
    this.#threshold = options.failureThreshold
    this.#baseCooldown = options.cooldownMs
    this.#maxCooldown = options.maxCooldownMs
    this.#cooldown = this.#baseCooldown
    this.#clock = clock
  }

  get state(): BreakerState {
    return this.#state
  }

  /** May a call go to the store now? In the open state, true once per cooldown (the probe). */
  allow(): boolean {
    if (this.#state === 'closed') return true
    if (this.#state === 'open' && this.#clock() >= this.#retryAt) {
      this.#become('half-open')
      return true
    }
    return false
  }

  success(): void {
    this.#become('closed')
    this.#failures = 0
    this.#cooldown = this.#baseCooldown
  }

  failure(): void {
    this.#failures++
    if (this.#state === 'half-open') {
      this.#cooldown = Math.min(this.#cooldown * 2, this.#maxCooldown)
      this.#open()
    } else if (this.#state === 'closed' && this.#failures >= this.#threshold) {
      this.#open()
    }
  }

  #open(): void {
    this.#retryAt = this.#clock() + this.#cooldown
    this.#become('open')
  }

  #become(state: BreakerState): void {
    if (state === this.#state) return
    this.#state = state
    this.#onChange?.(state)
  }
}
