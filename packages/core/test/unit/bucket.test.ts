import { describe, expect, it } from 'vitest'
import { ceilMs, floorDiv, takeTokens } from '../../src/bucket.js'

const check = { capacity: 10, intervalNs: 100_000_000, cost: 1 } // 10 tokens, 10 per second

describe('takeTokens', () => {
  it('admits from a full bucket and reports what is left', () => {
    const step = takeTokens(0, check)
    expect(step.reply).toEqual({ status: 'allowed', remaining: 9, retryAfterMs: 0, resetMs: 100, nextTokenMs: 0 })
    expect(step.debtNs).toBe(100_000_000)
  })

  it('takes the whole cost of a weighted request', () => {
    const step = takeTokens(0, { ...check, cost: 4 })
    expect(step.reply.remaining).toBe(6)
    expect(step.reply.resetMs).toBe(400)
  })

  it('denies without taking anything when short of cost', () => {
    const debt = 8 * check.intervalNs // 2 tokens left
    const step = takeTokens(debt, { ...check, cost: 3 })
    expect(step.reply.status).toBe('denied')
    expect(step.debtNs).toBe(debt)
    expect(step.reply.remaining).toBe(2)
    expect(step.reply.retryAfterMs).toBe(100) // one more token needed
  })

  it('gives cost > capacity its own status that never turns into a retry', () => {
    const step = takeTokens(0, { ...check, cost: 11 })
    expect(step.reply.status).toBe('cost-exceeds-capacity')
    expect(step.reply.retryAfterMs).toBe(Number.POSITIVE_INFINITY)
    expect(step.debtNs).toBe(0)
    expect(step.reply.remaining).toBe(10)
  })

  it('reports the wait for the next token only when none is left', () => {
    const last = takeTokens(9 * check.intervalNs, check)
    expect(last.reply).toMatchObject({ status: 'allowed', remaining: 0, nextTokenMs: 100, resetMs: 1000 })
    const partial = takeTokens(9 * check.intervalNs + 30_000_000, check) // 0.7 tokens left
    expect(partial.reply).toMatchObject({ status: 'denied', remaining: 0, retryAfterMs: 30, nextTokenMs: 30 })
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
