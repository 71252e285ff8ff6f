import { describe, expect, it } from 'vitest'
import { applyCheck, applySettle } from '../../src/bucket.js'
import { resolvePolicy } from '../../src/policies.js'
import { DENY_CACHE_MAX_AGE_MS, DenyCache } from '../../src/stores/deny-cache.js'
import type { CheckRequest, CheckStep, ResolvedPolicy } from '../../src/types.js'
import { manualClock } from '../support/manual-clock.js'

// 2 tokens, one a second: an empty bucket admits one token 1 s after it was found empty.
const perSecond = resolvePolicy({ capacity: 2, refillPerSecond: 1 })

function check(keys: string[], policies: readonly ResolvedPolicy[] = [perSecond], extra: Partial<CheckRequest> = {}): CheckRequest {
  return { keys, policies: keys.map((_, i) => policies[i] ?? policies[0]!), cost: 1, ...extra }
}

/** What Redis answers for a check of buckets that are empty: a denial, with every debt at the window. */
function emptyBuckets(request: CheckRequest): CheckStep {
  const step = applyCheck(
    request.policies.map((p) => p.capacity * p.intervalNs),
    request,
  )
  expect(step.reply.admitted).toBe(false)
  return step
}

function cacheAt(startMs = 0, maxKeys = 100) {
  const clock = manualClock(startMs)
  return { clock, cache: new DenyCache(maxKeys, clock.now) }
}

describe('DenyCache', () => {
  it('answers a denial from memory, counting down the wait, until Redis could admit', () => {
    const { clock, cache } = cacheAt()
    const request = check(['k'])
    cache.record(request, emptyBuckets(request), 0)
    expect(cache.answer(request)).toMatchObject({ admitted: false, buckets: [{ status: 'denied', retryAfterMs: 1_000, taken: false }] })
    clock.advance(999)
    expect(cache.answer(request)).toMatchObject({ admitted: false, buckets: [{ status: 'denied', retryAfterMs: 1 }] })
    clock.advance(1)
    expect(cache.answer(request)).toBeUndefined()
  })

  it('ages the debts from the time the check was sent, not from when the reply came back', () => {
    const { clock, cache } = cacheAt(100)
    const request = check(['k'])
    const step = emptyBuckets(request)
    clock.advance(500) // the reply arrives 500 ms after the check was sent
    cache.record(request, step, 100)
    // Redis may have computed the debt as early as 100: 500 ms of refill are already owed back.
    expect(cache.answer(request)?.buckets[0]?.retryAfterMs).toBe(500)
  })

  it('forgets an entry once it would admit, even for a costlier check that it would still deny', () => {
    const costly = { ...check(['k']), cost: 2 }
    const { clock, cache } = cacheAt()
    const control = new DenyCache(100, clock.now)
    for (const c of [cache, control]) c.record(check(['k']), emptyBuckets(check(['k'])), 0)
    clock.advance(1_000)
    expect(cache.answer(check(['k']))).toBeUndefined()
    // The control was never asked the cheap check: its entry still refuses the costly one.
    expect(control.answer(costly)).toMatchObject({ admitted: false })
    expect(cache.answer(costly)).toBeUndefined()
  })

  it(`never answers from an entry older than DENY_CACHE_MAX_AGE_MS (${DENY_CACHE_MAX_AGE_MS} ms)`, () => {
    // One token per 100 s: by its debts alone the entry would refuse for 100 s.
    const slow = resolvePolicy({ capacity: 1, refillPerSecond: 0.01 })
    const { clock, cache } = cacheAt()
    const request = check(['k'], [slow])
    cache.record(request, emptyBuckets(request), 0)
    clock.advance(DENY_CACHE_MAX_AGE_MS)
    expect(cache.answer(request)).toMatchObject({ admitted: false })
    clock.advance(0.5)
    expect(cache.answer(request)).toBeUndefined()
    // Dropped, not merely skipped: set back to an age it was answered at, the clock finds nothing.
    clock.advance(-0.5)
    expect(cache.answer(request)).toBeUndefined()
  })

  it('ignores dry runs: neither records nor answers them', () => {
    const { cache } = cacheAt()
    const peek = check(['peeked'], [perSecond], { dryRun: true })
    cache.record(peek, emptyBuckets(peek), 0)
    expect(cache.answer(check(['peeked']))).toBeUndefined()

    const request = check(['k'])
    cache.record(request, emptyBuckets(request), 0)
    expect(cache.answer({ ...request, dryRun: true })).toBeUndefined()
    expect(cache.answer(request)).toMatchObject({ admitted: false })
  })

  it('clears an entry when Redis admits a later check of the same buckets', () => {
    const { cache } = cacheAt()
    const request = check(['k'])
    cache.record(request, emptyBuckets(request), 0)
    cache.record(request, applyCheck([0], request), 0)
    expect(cache.answer(request)).toBeUndefined()
  })

  it('forget(keys) drops every entry that involves one of those buckets, and only those', () => {
    const { cache } = cacheAt()
    const requests = [check(['a', 'b']), check(['b']), check(['c']), check(['c', 'd'])]
    for (const r of requests) cache.record(r, emptyBuckets(r), 0)
    cache.forget(['b', 'x'])
    expect(requests.map((r) => cache.answer(r)?.admitted)).toEqual([undefined, undefined, false, false])
  })

  it('does not answer the same keys under different policies, but does under an equal policy built again', () => {
    const { cache } = cacheAt()
    const request = check(['k'])
    cache.record(request, emptyBuckets(request), 0)
    expect(cache.answer(check(['k'], [resolvePolicy({ capacity: 2, refillPerSecond: 1, name: 'again' })]))).toMatchObject({
      admitted: false,
    })
    expect(cache.answer(check(['k'], [resolvePolicy({ capacity: 3, refillPerSecond: 1 })]))).toBeUndefined()

    const { cache: fresh } = cacheAt()
    fresh.record(request, emptyBuckets(request), 0)
    expect(fresh.answer(check(['k'], [resolvePolicy({ capacity: 2, refillPerSecond: 2 })]))).toBeUndefined()
  })

  it('does not answer when the shadow flags changed, though the buckets would still deny', () => {
    const shadow = resolvePolicy({ capacity: 2, refillPerSecond: 1, shadow: true })
    const { cache } = cacheAt()
    const recorded = check(['a', 'b'], [perSecond, shadow])
    cache.record(recorded, emptyBuckets(recorded), 0)
    expect(cache.answer(check(['a', 'b'], [shadow, perSecond]))).toBeUndefined()
  })

  it('answers a check of several buckets until every enforcing one could pay', () => {
    const fast = resolvePolicy({ capacity: 2, refillPerSecond: 4, name: 'fast' }) // a token per 250 ms
    const { clock, cache } = cacheAt()
    const request = check(['fast', 'slow'], [fast, perSecond])
    cache.record(request, emptyBuckets(request), 0)
    clock.advance(500) // the fast bucket could pay, the slow one not yet
    expect(cache.answer(request)).toMatchObject({
      admitted: false,
      buckets: [{ status: 'allowed' }, { status: 'denied', retryAfterMs: 500 }],
    })
    clock.advance(500)
    expect(cache.answer(request)).toBeUndefined()
  })

  it('keeps at most maxKeys entries, dropping the least recently used', () => {
    const { cache } = cacheAt(0, 2)
    const [a, b, c] = [check(['a']), check(['b']), check(['c'])]
    cache.record(a, emptyBuckets(a), 0)
    cache.record(b, emptyBuckets(b), 0)
    cache.answer(a) // a is now the most recently used
    cache.record(c, emptyBuckets(c), 0)
    expect([a, b, c].map((r) => cache.answer(r)?.admitted)).toEqual([false, undefined, false])
  })

  it("is brought up to date by this replica's settle: a refund answered from a stale denial never", () => {
    const { clock, cache } = cacheAt()
    const request = check(['k'])
    const empty = emptyBuckets(request)
    cache.record(request, empty, 0)
    expect(cache.answer(request)?.admitted).toBe(false)
    // A refund of 2 tokens: the bucket is full again, and the cache must not deny.
    const settle = { keys: ['k'], policies: request.policies, delta: -2 }
    cache.settled(settle, applySettle(empty.debtsNs, settle), clock.now())
    expect(cache.answer(request)).toBeUndefined()
    // An extra charge into debt is remembered: 3 tokens of debt, 4 s until one token fits.
    const charged = applySettle([2 * perSecond.intervalNs], { keys: ['k'], policies: request.policies, delta: 2 })
    cache.record(request, applyCheck(charged.debtsNs, request), clock.now())
    cache.settled({ keys: ['k'], policies: request.policies, delta: 2 }, charged, clock.now())
    expect(cache.answer(request)).toMatchObject({ admitted: false, buckets: [{ retryAfterMs: 3_000, remaining: 0 }] })
  })

  it('forgets, on a settle, every denial over other keys as well (whose debt it does not know)', () => {
    const { cache } = cacheAt()
    const both = check(['a', 'b'])
    cache.record(both, emptyBuckets(both), 0)
    const settle = { keys: ['a'], policies: [perSecond], delta: -1 }
    cache.settled(settle, applySettle([perSecond.capacity * perSecond.intervalNs], settle), 0)
    expect(cache.answer(both)).toBeUndefined()
  })
})
