import { describe, expect, it } from 'vitest'
import { resolvePolicy } from '../../src/policies.js'
import { missingApiKey, quotaExceededDenial } from '../../src/problem.js'
import { summarize } from '../../src/summarize.js'
import type { BucketReply, CheckReply } from '../../src/types.js'

const policy = resolvePolicy({ name: 'search', capacity: 3, refillPerSecond: 1 })

function bucket(overrides: Partial<BucketReply>): BucketReply {
  return { status: 'allowed', taken: true, remaining: 1, retryAfterMs: 0, resetMs: 2000, nextTokenMs: 1000, ...overrides }
}

function denied(): CheckReply {
  return { admitted: false, buckets: [bucket({ status: 'denied', taken: false, remaining: 1, retryAfterMs: 1000 })] }
}

describe('what a client is told', () => {
  it("names the request's cost in a 429, where one token left would not explain the refusal", () => {
    const body = JSON.parse(quotaExceededDenial(summarize(denied(), [policy], ['k'], 2, false)).body)
    expect(body).toMatchObject({ cost: 2, detail: 'Rate limit "search" exceeded: this request costs 2 tokens; retry in 1 s.' })
  })

  it('builds a flood body per policy and cost: a computed cost that changes is not sent the last cost', () => {
    const costs = [2, 2, 3, 1, 3]
    const bodies = costs.map((cost) => JSON.parse(quotaExceededDenial(summarize(denied(), [policy], ['k'], cost, false)).body))
    expect(bodies.map((b) => b.cost)).toEqual(costs)
    expect(bodies[3].detail).toBe('Rate limit "search" exceeded: this request costs 1 token; retry in 1 s.')
  })

  it('tells a client whose API key was refused that it is not valid, not that it is missing', () => {
    expect(missingApiKey('x-api-key').detail).toBe('This endpoint requires an API key in the "x-api-key" header.')
    expect(missingApiKey('x-api-key', true).detail).toBe('The API key in the "x-api-key" header is not a valid API key.')
  })

  it("gives handlers the peers' `used` and a display `resetTime`", () => {
    const before = Date.now()
    const result = summarize({ admitted: true, buckets: [bucket({ remaining: 1, resetMs: 2000 })] }, [policy], ['k'], 2, false)
    expect(result.used).toBe(2)
    expect(result.resetTime).toBeInstanceOf(Date)
    expect(result.resetTime.getTime()).toBeGreaterThanOrEqual(before + 2000)
    expect(result.resetTime.getTime()).toBeLessThanOrEqual(Date.now() + 2000)
  })
})
