import { type Item, parseList } from 'structured-headers'
import { describe, expect, it } from 'vitest'
import { rateLimitHeaders } from '../../src/headers.js'
import { resolvePolicy } from '../../src/policies.js'
import type { RateLimitResult } from '../../src/types.js'

const policy = resolvePolicy({ capacity: 100, refillPerSecond: 3, name: 'burst' })

function result(overrides: Partial<RateLimitResult>): RateLimitResult {
  return {
    status: 'allowed',
    allowed: true,
    remaining: 42,
    used: 58,
    resetTime: new Date(0),
    retryAfterMs: 0,
    resetMs: 19_334,
    nextTokenMs: 0,
    policy,
    limit: 100,
    cost: 1,
    key: 'k',
    degraded: false,
    violated: [],
    slots: [],
    ...overrides,
    policies: [
      {
        status: 'allowed',
        taken: true,
        remaining: overrides.remaining ?? 42,
        retryAfterMs: 0,
        resetMs: 0,
        nextTokenMs: overrides.nextTokenMs ?? 0,
        policy,
        key: 'k',
      },
    ],
  }
}

describe('rateLimitHeaders', () => {
  it('describes an allowed request', () => {
    expect(rateLimitHeaders(result({}))).toEqual({
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '42',
      'x-ratelimit-reset': '20',
      'ratelimit-policy': '"burst";q=100;w=34',
      ratelimit: '"burst";r=42;t=0',
    })
  })

  it('adds Retry-After (at least 1 s) on a denial and the wait for the next token', () => {
    const headers = rateLimitHeaders(
      result({ status: 'denied', allowed: false, remaining: 0, retryAfterMs: 1, nextTokenMs: 1, resetMs: 33_334 }),
    )
    expect(headers['retry-after']).toBe('1')
    expect(headers.ratelimit).toBe('"burst";r=0;t=1')
    expect(headers['x-ratelimit-reset']).toBe('34')
  })

  it('rounds Retry-After up', () => {
    expect(rateLimitHeaders(result({ status: 'denied', allowed: false, retryAfterMs: 2001 }))['retry-after']).toBe('3')
  })

  it('emits valid structured fields that parse back to the same values', () => {
    const headers = rateLimitHeaders(result({ remaining: 7, nextTokenMs: 0 }))
    const [item] = parseList(headers['ratelimit-policy']!) as Item[]
    expect(item![0]).toBe('burst')
    expect(Object.fromEntries(item![1])).toEqual({ q: 100, w: 34 })
    const [rl] = parseList(headers.ratelimit!) as Item[]
    expect(Object.fromEntries(rl![1])).toEqual({ r: 7, t: 0 })
  })
})
