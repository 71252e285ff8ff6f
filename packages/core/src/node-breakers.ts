import { CircuitBreaker, type MillisClock } from './circuit-breaker.js'
import type { BreakerState, CircuitBreakerOptions } from './types.js'

/** Worst first: the store's state is its worst node's. */
const SEVERITY: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 }

/** How often, at most, breakers nobody asks for are looked for (ms). */
const SWEEP_EVERY_MS = 1_000

interface Entry {
  readonly breaker: CircuitBreaker
  /** When a call last asked this breaker (clock ms). */
  askedAt: number
}

/**
 * One circuit breaker (and cooldown) per node of a store, keyed as the batcher's lanes are: a
 * Cluster master whose calls time out opens its own circuit, and keys on the healthy masters
 * keep going to Redis. A store of one node (a single Redis, Sentinel, a custom store) has one.
 *
 * The store's state, as the observer and `stats()` see it, is its worst node's: `open` while any
 * node's circuit is, `half-open` while one probes. A breaker no call has asked for longer than
 * the longest cooldown is forgotten (a master whose slots moved to its replica, a node gone):
 * its state could only be stale, and its node, if asked again, starts closed.
 */
export class NodeBreakers {
  readonly #options: Required<CircuitBreakerOptions>
  readonly #clock: MillisClock
  readonly #onChange: (state: BreakerState) => void
  readonly #byNode = new Map<string, Entry>()
  #state: BreakerState = 'closed'
  #sweptAt: number

  constructor(options: Required<CircuitBreakerOptions>, clock: MillisClock, onChange: (state: BreakerState) => void) {
    this.#options = options
    this.#clock = clock
    this.#onChange = onChange
    this.#sweptAt = clock()
  }

  /** The store's state: its worst node's. */
  get state(): BreakerState {
    return this.#state
  }

  /** The breaker that answers for calls to `node`, made closed on first use. */
  of(node: string): CircuitBreaker {
    const now = this.#clock()
    if (now - this.#sweptAt >= SWEEP_EVERY_MS) this.#sweep(now)
    let entry = this.#byNode.get(node)
    if (entry === undefined) {
      entry = { breaker: new CircuitBreaker(this.#options, this.#clock, () => this.#recompute()), askedAt: now }
      this.#byNode.set(node, entry)
    }
    entry.askedAt = now
    return entry.breaker
  }

  #sweep(now: number): void {
    this.#sweptAt = now
    const idleMs = Math.max(this.#options.maxCooldownMs, SWEEP_EVERY_MS)
    let removed = false
    for (const [node, entry] of this.#byNode) {
      if (now - entry.askedAt > idleMs) {
        this.#byNode.delete(node)
        removed = true
      }
    }
    if (removed) this.#recompute()
  }

  #recompute(): void {
    let worst: BreakerState = 'closed'
    for (const { breaker } of this.#byNode.values()) if (SEVERITY[breaker.state] > SEVERITY[worst]) worst = breaker.state
    if (worst === this.#state) return
    this.#state = worst
    this.#onChange(worst)
  }
}
