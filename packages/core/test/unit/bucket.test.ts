import { describe, expect, it } from 'vitest'
import { applyCheck, ceilMs, floorDiv } from '../../src/bucket.js'

const bucket = { capacity: 10, intervalNs: 100_000_000, shadow: false } // 10 tokens, 10 per second
const one = (debt: number, cost = 1, b = bucket) => {
  const step = applyCheck([debt], { policies: [b], cost })
  return { admitted: step.reply.admitted, reply: step.reply.buckets[0]!, debt: step.debtsNs[0]! }
}

describe('applyCheck, one bucket', () => {
  it('admits from a full bucket and reports what is left', () => {
    const { admitted, reply, debt } = one(0)
    expect(admitted).toBe(true)
    // The next whole token is the one just taken: 100 ms away.
    expect(reply).toEqual({ status: 'allowed', taken: true, remaining: 9, retryAfterMs: 0, resetMs: 100, nextTokenMs: 100 })
    expect(debt).toBe(100_000_000)
  })

  it('takes the whole cost of a weighted request', () => {
    const { reply } = one(0, 4)
    expect(reply.remaining).toBe(6)
    expect(reply.resetMs).toBe(400)
  })

  it('denies without taking anything when short of cost', () => {
    const start = 8 * bucket.intervalNs // 2 tokens left
    const { admitted, reply, debt } = one(start, 3)
    expect(admitted).toBe(false)
    expect(reply).toMatchObject({ status: 'denied', taken: false, remaining: 2, retryAfterMs: 100 })
    expect(debt).toBe(start)
  })

  it('gives cost > capacity its own status that never turns into a retry', () => {
    const { reply, debt } = one(0, 11)
    expect(reply).toMatchObject({ status: 'cost-exceeds-capacity', retryAfterMs: Number.POSITIVE_INFINITY, remaining: 10 })
    expect(debt).toBe(0)
  })

  it('reports the wait for the next whole token whenever the bucket is not full, and 0 when it is', () => {
    expect(one(0, 1, { ...bucket }).reply.nextTokenMs).toBe(100)
    // Five an hour with four left: the fifth comes back 720 s after it was taken.
    const hourly = { capacity: 5, intervalNs: 720_000_000_000, shadow: false }
    expect(one(0, 1, hourly).reply).toMatchObject({ remaining: 4, nextTokenMs: 720_000 })
    // Half a second into refilling a second token: that token is half a second away.
    expect(one(hourly.intervalNs + 500_000_000, 1, hourly).reply).toMatchObject({ remaining: 2, nextTokenMs: 500 })
    // Part-way to a token: only the part still missing.
    expect(one(0, 1, bucket).debt).toBe(100_000_000)
    const step = applyCheck([40_000_000], { policies: [bucket], cost: 1 })
    expect(step.debtsNs[0]).toBe(140_000_000)
    expect(step.reply.buckets[0]).toMatchObject({ remaining: 8, nextTokenMs: 40 })
  })

  it('reports the wait for the next token when none is left', () => {
    expect(one(9 * bucket.intervalNs).reply).toMatchObject({ status: 'allowed', remaining: 0, nextTokenMs: 100, resetMs: 1000 })
    expect(one(9 * bucket.intervalNs + 30_000_000).reply).toMatchObject({
      status: 'denied',
      remaining: 0,
      retryAfterMs: 30,
      nextTokenMs: 30,
    })
  })
})

describe('applyCheck, several buckets', () => {
  const burst = { capacity: 2, intervalNs: 100_000_000, shadow: false }
  const hourly = { capacity: 5, intervalNs: 720_000_000_000, shadow: false }

  it('admits only when every enforcing bucket can pay, and then all pay', () => {
    const step = applyCheck([0, 0], { policies: [burst, hourly], cost: 1 })
    expect(step.reply.admitted).toBe(true)
    expect(step.reply.buckets.map((b) => [b.taken, b.remaining])).toEqual([
      [true, 1],
      [true, 4],
    ])
  })

  it('takes nothing from any bucket when one denies', () => {
    const start = [0, 5 * hourly.intervalNs] // burst full, hourly empty
    const step = applyCheck(start, { policies: [burst, hourly], cost: 1 })
    expect(step.reply.admitted).toBe(false)
    expect(step.reply.buckets[0]).toMatchObject({ status: 'allowed', taken: false, remaining: 2 })
    expect(step.reply.buckets[1]).toMatchObject({ status: 'denied', taken: false, remaining: 0 })
    expect(step.debtsNs).toEqual(start)
  })

  it('never denies for a shadow bucket, which pays only when it can', () => {
    const shadow = { ...burst, shadow: true }
    const empty = 2 * burst.intervalNs
    const step = applyCheck([empty, 0], { policies: [shadow, hourly], cost: 1 })
    expect(step.reply.admitted).toBe(true)
    expect(step.reply.buckets[0]).toMatchObject({ status: 'denied', taken: false })
    expect(step.reply.buckets[1]).toMatchObject({ status: 'allowed', taken: true })
    expect(step.debtsNs).toEqual([empty, hourly.intervalNs])
  })
})

describe('integer helpers', () => {
  it('floorDiv is exact near float rounding edges', () => {
    const b = 333_333_333
    for (const k of [1, 7, 1_000_000, 12_582_912]) {
      expect(floorDiv(k * b, b)).toBe(k)
      expect(floorDiv(k * b - 1, b)).toBe(k - 1)
    }
  })

  it('ceilMs rounds nanoseconds up to whole milliseconds', () => {
    expect(ceilMs(0)).toBe(0)
    expect(ceilMs(1)).toBe(1)
    expect(ceilMs(1_000_000)).toBe(1)
    expect(ceilMs(1_000_001)).toBe(2)
  })
})
