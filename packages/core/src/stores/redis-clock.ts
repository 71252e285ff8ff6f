import type { Deadline } from '../types.js'

/**
 * What this process knows of each Redis node's clock, so a batch can carry a deadline in Redis
 * time: the script refuses to run once its requests were already answered without it (a frozen
 * Redis resumes, a queued command is sent late), and the client who was never served from the
 * bucket never pays for it. The app's own wall clock is never used (servers' clocks disagree);
 * only its monotonic clock, and the offset between the two, learned from replies.
 *
 * Every reply carries Redis TIME, read somewhere between the call's send and its receipt, so
 * `redisTime − sentAt` bounds the offset from above; the tightest such bound is kept. A deadline
 * built from an upper bound is never early: a check that reaches Redis within its budget is
 * never refused. It can be late by the uncertainty of that bound, the fastest round trip seen
 * (well under a millisecond on a LAN), plus the drift allowance: that is the tolerance within
 * which a script that arrives just after its budget may still charge.
 */

/** How fast the two clocks may drift apart, as a fraction (NTP slews a clock by at most 5e-4). */
const DRIFT = 5e-4

interface Estimate {
  /** Upper bound of (Redis time − monotonic time), in ms, when it was learned. */
  readonly upperMs: number
  /** Monotonic ms of the call it was learned from (when it was sent). */
  readonly atMs: number
}

export class RedisClock {
  readonly #estimates = new Map<string, Estimate>()

  /** The bound as it stands at `nowMs`, widened for the drift since it was learned. */
  #upper(node: string, nowMs: number): number | undefined {
    const e = this.#estimates.get(node)
    return e === undefined ? undefined : e.upperMs + DRIFT * Math.max(0, nowMs - e.atMs)
  }

  /** A reply from `node` read Redis time `redisUs`; the call was sent at `sentMs` and answered at `receivedMs`. */
  learn(node: string, redisUs: number, sentMs: number, receivedMs: number): void {
    const redisMs = redisUs / 1000
    const upper = redisMs - sentMs
    const current = this.#upper(node, receivedMs)
    // A tighter bound replaces the old one; so does a reading that the old one cannot explain
    // (Redis's clock was stepped forward), lest every deadline be early from then on.
    if (current === undefined || upper <= current || redisMs - receivedMs > current) {
      // Aged from the send: Redis read its clock no earlier, so the drift allowance covers all of it.
      this.#estimates.set(node, { upperMs: upper, atMs: sentMs })
    }
  }

  /** Forget what was learned of `node`: it may be another server now (a new primary behind Sentinel). */
  forget(node: string): void {
    this.#estimates.delete(node)
  }

  /** Whether anything is known of `node`'s clock: a call to it can carry a deadline. */
  knows(node: string): boolean {
    return this.#estimates.has(node)
  }

  /**
   * `deadline` at the wire: the Redis time (µs since the epoch) on `node` that is surely no
   * earlier than that local instant, or 0 (no deadline) while nothing is known of that node's clock.
   */
  deadlineUs(node: string, deadline: Deadline): number {
    const upper = this.#upper(node, deadline)
    return upper === undefined || !Number.isFinite(deadline) ? 0 : Math.ceil((deadline + upper) * 1000)
  }
}
