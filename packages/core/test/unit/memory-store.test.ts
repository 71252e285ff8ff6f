import { describe, expect, it } from 'vitest'
import { resolvePolicy } from '../../src/policies.js'
import { MemoryStore } from '../../src/stores/memory-store.js'

function manualClock(): { now: () => number; advanceMs: (ms: number) => void } {
  let t = 0
  return {
    now: () => t,
    advanceMs: (ms) => {
      t += ms * 1_000_000
    },
  }
}

function request(key: string, capacity: number, refillPerSecond: number, cost = 1) {
  return { keys: [key], policies: [resolvePolicy({ capacity, refillPerSecond })], cost }
}
const checkOne = (store: MemoryStore, r: ReturnType<typeof request>) => store.checkSync(r).buckets[0]!

describe('MemoryStore', () => {
  it('starts a new key full and empties it exactly', () => {
    const clock = manualClock()
    const store = new MemoryStore({ clock: clock.now })
    const replies = Array.from({ length: 7 }, () => checkOne(store, request('a', 5, 1)))
    expect(replies.map((r) => r.status)).toEqual(['allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'denied', 'denied'])
    expect(replies.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0])
    expect(replies[5]!.retryAfterMs).toBe(1000)
  })

  it('refills at the configured rate, fractional rates included', () => {
    const clock = manualClock()
    const store = new MemoryStore({ clock: clock.now })
    const half = request('slow', 2, 0.5) // one token every 2 s
    checkOne(store, half)
    checkOne(store, half)
    expect(checkOne(store, half)).toMatchObject({ status: 'denied', retryAfterMs: 2000 })
    clock.advanceMs(1999)
    expect(checkOne(store, half)).toMatchObject({ status: 'denied', retryAfterMs: 1 })
    clock.advanceMs(1)
    expect(checkOne(store, half)).toMatchObject({ status: 'allowed', remaining: 0 })
  })

  it('never refills past capacity', () => {
    const clock = manualClock()
    const store = new MemoryStore({ clock: clock.now })
    checkOne(store, request('k', 3, 10))
    clock.advanceMs(3_600_000)
    expect(checkOne(store, request('k', 3, 10))).toMatchObject({ remaining: 2 })
  })

  it('does not drift after a million requests at a rate with a fractional interval', () => {
    const clock = manualClock()
    const store = new MemoryStore({ clock: clock.now })
    const check = request('drift', 10, 3) // 333 333 333 ns per token
    let admitted = 0
    for (let i = 0; i < 1_000_000; i++) {
      clock.advanceMs(1) // far faster than the rate: admitted once per interval exactly
      if (checkOne(store, check).status === 'allowed') admitted++
    }
    // The bucket starts with 10 and never fills again, so every token refilled between the first
    // request (t = 1 ms) and the last (t = 1e6 ms) is spent: exactly floor(elapsed / interval).
    // A per-request rounding of even 1 ns would shift this by several tokens.
    const elapsedNs = (1_000_000 - 1) * 1_000_000
    expect(admitted).toBe(10 + Math.floor(elapsedNs / check.policies[0]!.intervalNs))
  })

  it('keeps at most maxKeys buckets', () => {
    const store = new MemoryStore({ maxKeys: 100, clock: manualClock().now })
    for (let i = 0; i < 10_000; i++) checkOne(store, request(`flood-${i}`, 5, 1))
    expect(store.size).toBe(100)
  })

  it('denies cost > capacity with its own status and takes nothing', () => {
    const store = new MemoryStore({ clock: manualClock().now })
    expect(checkOne(store, request('c', 3, 1, 4))).toMatchObject({ status: 'cost-exceeds-capacity', remaining: 3 })
    expect(checkOne(store, request('c', 3, 1, 3))).toMatchObject({ status: 'allowed', remaining: 0 })
  })
})
