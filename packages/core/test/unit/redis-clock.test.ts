import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deadlineAt } from '../../src/deadline.js'
import { RedisClock } from '../../src/stores/redis-clock.js'

// The drift allowance redis-clock.ts grants: NTP slews a clock by at most 500 ppm.
const DRIFT = 5e-4

/** Deadlines are whole µs computed through ms doubles: equal within the µs the rounding may add. */
function expectUs(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1)
}

/** A clock that learned one sample: sent at `sentMs`, Redis read `redisMs`, answered at `receivedMs`. */
function learned(sentMs: number, redisMs: number, receivedMs: number): RedisClock {
  const clock = new RedisClock()
  clock.learn('n', redisMs * 1000, sentMs, receivedMs)
  return clock
}

describe('RedisClock', () => {
  it('has no deadline (0) for a node it has heard nothing from', () => {
    const clock = new RedisClock()
    expect(clock.deadlineUs('n', deadlineAt(1_000))).toBe(0)
    clock.learn('other', 5_000_000, 100, 101)
    expect(clock.deadlineUs('n', deadlineAt(1_000))).toBe(0)
    expect(clock.deadlineUs('other', deadlineAt(1_000))).toBeGreaterThan(0)
  })

  it('has no deadline for an unbounded budget', () => {
    expect(learned(100, 2_000, 101).deadlineUs('n', deadlineAt(Number.POSITIVE_INFINITY))).toBe(0)
  })

  it('bounds the offset from above by Redis time minus the send time', () => {
    // Redis read 2000 ms somewhere between local 100 and 101: at local 100 it read at most 2000,
    // and a millisecond later at most 2001, plus the drift allowance for that millisecond.
    expect(learned(100, 2_000, 101).deadlineUs('n', deadlineAt(100))).toBe(2_000_000)
    expectUs(learned(100, 2_000, 101).deadlineUs('n', deadlineAt(101)), (2_001 + DRIFT * 1) * 1000)
  })

  it('replaces its bound with a tighter sample and keeps it against a looser one', () => {
    const clock = learned(100, 2_000, 101) // offset ≤ 1900
    clock.learn('n', 2_099_500, 200, 200.5) // offset ≤ 1899.5: tighter
    expect(clock.deadlineUs('n', deadlineAt(200.5))).toBe(learned(200, 2_099.5, 200.5).deadlineUs('n', deadlineAt(200.5)))
    expectUs(clock.deadlineUs('n', deadlineAt(200.5)), (2_100 + DRIFT * 0.5) * 1000)

    const before = clock.deadlineUs('n', deadlineAt(1_000))
    clock.learn('n', 2_200_000, 300, 300.5) // offset ≤ 1900, and consistent with ≤ 1899.5: looser
    expect(clock.deadlineUs('n', deadlineAt(1_000))).toBe(before)
  })

  it("follows Redis's clock stepped back: the new reading is the tighter bound", () => {
    const clock = learned(100, 2_000, 101)
    clock.learn('n', (200 + 1_900 - 10_000) * 1000, 200, 200) // 10 s earlier than before
    expect(clock.deadlineUs('n', deadlineAt(200))).toBe((200 + 1_900 - 10_000) * 1000)
  })

  it("resets its bound on a reading it cannot explain (Redis's clock stepped forward), lest every deadline be early", () => {
    const clock = learned(100, 2_000, 101) // offset ≤ 1900
    // Redis stepped forward by 10 s: it reads 12 299.75 at local 400.25, so its offset is ≥ 11 899.25.
    clock.learn('n', 12_299_750, 400, 400.5)
    const deadline = clock.deadlineUs('n', deadlineAt(400.5))
    expect(deadline).toBe(learned(400, 12_299.75, 400.5).deadlineUs('n', deadlineAt(400.5)))
    // Redis reads at most 12 300.25 at local 400.5 (and the drift allowance since the send); the
    // old bound would have said 2 300.5.
    expectUs(deadline, (12_300.25 + DRIFT * 0.5) * 1000)
  })

  it('widens the bound by the drift allowance as it ages', () => {
    const clock = learned(1_000, 2_000, 1_000) // offset exactly 1000, learned at local 1000
    expect(clock.deadlineUs('n', deadlineAt(1_000))).toBe(2_000_000)
    expectUs(clock.deadlineUs('n', deadlineAt(11_000)), (11_000 + 1_000 + DRIFT * 10_000) * 1000)
    expectUs(clock.deadlineUs('n', deadlineAt(1_001_000)), (1_001_000 + 1_000 + DRIFT * 1_000_000) * 1000)
  })

  it("is never earlier than Redis's time at the local deadline, and late by at most the newest sample's uncertainty and drift", () => {
    // Redis's clock is the monotonic clock plus a fixed offset, both in whole µs, so the true
    // Redis time at any local instant is exact. Each call is sent, read by Redis `readUs` later,
    // and answered `replyUs` after that; deadlines are asked for at or after the latest answer.
    const call = fc.record({
      gapUs: fc.integer({ min: 0, max: 5_000_000 }),
      readUs: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 200_000 })),
      replyUs: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 200_000 })),
      laterUs: fc.array(fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000_000 })), { maxLength: 3 }),
    })
    const scenario = fc.record({
      // Redis µs since the epoch minus monotonic µs: around today's epoch.
      offsetUs: fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 }),
      startUs: fc.integer({ min: 0, max: 1_000_000_000_000 }),
      calls: fc.array(call, { minLength: 1, maxLength: 8 }),
    })
    fc.assert(
      fc.property(scenario, ({ offsetUs, startUs, calls }) => {
        const clock = new RedisClock()
        let nowUs = startUs
        for (const { gapUs, readUs, replyUs, laterUs } of calls) {
          const sentUs = nowUs + gapUs
          const receivedUs = sentUs + readUs + replyUs
          clock.learn('n', offsetUs + sentUs + readUs, sentUs / 1000, receivedUs / 1000)
          nowUs = receivedUs
          for (const localUs of [receivedUs, ...laterUs.map((d) => receivedUs + d)]) {
            const deadline = clock.deadlineUs('n', deadlineAt(localUs / 1000))
            const redisUs = offsetUs + localUs
            expect(deadline).toBeGreaterThanOrEqual(redisUs)
            // The drift allowance runs from the send, when Redis may already have read its clock.
            expect(deadline).toBeLessThanOrEqual(redisUs + readUs + DRIFT * (localUs - sentUs) + 2)
          }
        }
      }),
      { numRuns: 500 },
    )
  })
})
