import { MAX_TIMEOUT_MS } from './store-options.js'
import type { Deadline } from './types.js'

// A `Deadline` is made once per request, where its budget (`timeoutMs`) starts, and handed down
// as it is to every layer that waits (the batcher's queue, the wait for a ready client, the
// wire); the Redis clock converts it to Redis time at the wire (redis-clock.ts). No layer adds a
// budget of its own to it.

/**
 * The deadline `ms` from now. Every deadline is finite, so a call that a store receives late
 * (after a freeze, a reconnect) never takes tokens whenever it lands: a budget is clamped to at
 * most `MAX_TIMEOUT_MS`, and a negative or NaN one is due at once.
 */
export function deadlineIn(ms: number, now: number = performance.now()): Deadline {
  const budget = Number.isNaN(ms) ? 0 : Math.min(Math.max(ms, 0), MAX_TIMEOUT_MS)
  return (now + budget) as Deadline
}

/** Milliseconds left until `deadline` (negative once it has passed). */
export function remaining(deadline: Deadline, now: number = performance.now()): number {
  return deadline - now
}

/**
 * A deadline handed back as a plain number by code that keeps instants of the same clock
 * without the type (the batcher, whose calls bring deadlines and whose flush gets the earliest).
 */
export function deadlineAt(instantMs: number): Deadline {
  return instantMs as Deadline
}
