import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../../src/index.js'
import { resolvePolicy } from '../../src/policies.js'
import { parseRefill } from '../../src/refill.js'
import { requestView } from '../../src/request-view.js'
import type { ResolvedPolicy } from '../../src/types.js'
import { create, refused } from '../support/refused.js'

describe('refill: a readable rate', () => {
  it.each([
    ['100/min', 100, 60],
    ['5/15min', 5, 900],
    ['10/s', 10, 1],
    ['1/2s', 1, 2],
    ['1000/h', 1000, 3600],
    ['100000/day', 100_000, 86_400],
    ['3/7day', 3, 7 * 86_400],
  ])('reads %s as %i tokens every %i s', (text, tokens, seconds) => {
    expect(parseRefill(text, 'refill')).toEqual({ tokens, seconds })
  })

  it('converts the ratio once, exactly: 100/min is 600,000,000 ns a token, and a 60 s window', () => {
    const policy = resolvePolicy({ capacity: 100, refill: '100/min' })
    expect(policy.intervalNs).toBe(600_000_000)
    expect(policy.windowSeconds).toBe(60)
    expect(policy.refillPerSecond).toBe(100 / 60)
    // 7 a minute: 60e9 / 7 rounded once, not 1e9 / (7 / 60) rounded after a rounding.
    expect(resolvePolicy({ capacity: 7, refill: '7/min' })).toMatchObject({ intervalNs: Math.round(60e9 / 7), windowSeconds: 60 })
  })

  it('gives the same bucket as the refillPerSecond it stands for', () => {
    const readable = resolvePolicy({ capacity: 20, refill: '10/s' })
    const numeric = resolvePolicy({ capacity: 20, refillPerSecond: 10 })
    expect(readable).toEqual(numeric)
  })

  it.each(['100/m', '100 per minute', '100/', '/min', '0/min', '5/0min', '1.5/min', '-1/min', '100/minute', '100/MIN', ' 100/min'])(
    'refuses %j with a coded error naming refill and the accepted form',
    (text) => {
      const error = refused(() => create({ capacity: 10, refill: text }))
      expect(error.code).toBe(ErrorCodes.INVALID_OPTION)
      expect(error.option).toBe('refill')
      expect(error.message).toContain("'100/min'")
    },
  )

  it('refuses a rate above 1e9 tokens a second', () => {
    expect(refused(() => create({ capacity: 10, refill: '2000000000/s' })).option).toBe('refill')
  })

  it('is exclusive with refillPerSecond: the error names both', () => {
    const error = refused(() => create({ capacity: 10, refill: '10/s', refillPerSecond: 10 }))
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION)
    expect(error.option).toBe('refill')
    expect(error.message).toContain('`refill`')
    expect(error.message).toContain('`refillPerSecond`')
    const inList = refused(() => create({ policies: [{ name: 'a', capacity: 1, refill: '1/s', refillPerSecond: 1 }] }))
    expect(inList.option).toBe('policies[0].refill')
    expect(inList.message).toContain('`policies[0].refillPerSecond`')
  })

  it('names refill when neither rate is given', () => {
    const error = refused(() => create({ capacity: 10 }))
    expect(error.option).toBe('refillPerSecond')
    expect(error.message).toContain('`refill`')
  })

  it('is accepted wherever a policy is: inline, policies, tiers, route overrides and manual checks', async () => {
    const limiter = create({ capacity: 100, refill: '100/min' })
    expect(limiter.options.policies[0]).toMatchObject({ intervalNs: 600_000_000 })
    const several = create({
      policies: [
        { name: 'burst', capacity: 10, refill: '10/s' },
        { name: 'daily', capacity: 1000, refill: '1000/day' },
      ],
    })
    expect(several.options.policies.map((p) => (p as ResolvedPolicy).intervalNs)).toEqual([100_000_000, 86_400_000_000])
    const tiered = create({
      tiers: { free: { capacity: 60, refill: '60/h' }, pro: [{ name: 'burst', capacity: 600, refill: '600/h' }] },
      tier: () => 'free',
    })
    expect(tiered.options.tiers?.get('free')?.[0]).toMatchObject({ intervalNs: 60_000_000_000 })
    expect(tiered.options.tiers?.get('pro')?.[0]).toMatchObject({ intervalNs: 6_000_000_000 })

    const route = limiter.forRoute({ capacity: 5, refill: '5/15min', name: 'search' }, 'GET', '/search')!
    expect(route.policies[0]).toMatchObject({ capacity: 5, intervalNs: 180_000_000_000, windowSeconds: 900 })
    const view = requestView({ ip: '203.0.113.9', headers: {} })
    const decision = await route.check({}, view)
    expect(decision?.headers['ratelimit-policy']).toBe('"search";q=5;w=900')

    const manual = await limiter.controls.check({}, { key: 'alice', policy: { name: 'login', capacity: 5, refill: '5/15min' } })
    expect(manual.policy).toMatchObject({ name: 'login', intervalNs: 180_000_000_000 })
  })

  it("keeps the limiter's rate, unconverted, on a route that changes only the capacity", () => {
    const limiter = create({ capacity: 100, refill: '7/min' })
    const route = limiter.forRoute({ capacity: 14, name: 'wide' }, 'GET', '/wide')!
    expect(route.policies[0]!.intervalNs).toBe((limiter.options.policies[0] as ResolvedPolicy).intervalNs)
    expect(route.policies[0]!.windowSeconds).toBe(120)
    // A route that sets its own rate, in either form, replaces the limiter's.
    expect(limiter.forRoute({ refillPerSecond: 2, name: 'fast' }, 'GET', '/fast')!.policies[0]!.intervalNs).toBe(500_000_000)
    expect(limiter.forRoute({ refill: '1/s', name: 'slow' }, 'GET', '/slow')!.policies[0]!.intervalNs).toBe(1_000_000_000)
    expect(() => limiter.forRoute({ refill: '1/s', refillPerSecond: 1, name: 'both' } as never, 'GET', '/both')).toThrow(
      expect.objectContaining({ option: 'config.rateLimit.refill' }),
    )
  })
})
