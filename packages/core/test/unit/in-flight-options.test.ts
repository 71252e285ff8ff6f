import { describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import { ErrorCodes, type SluiceOptionError } from '../../src/index.js'
import { DEFAULT_LEASE_MS } from '../../src/policies.js'
import { DenyCache } from '../../src/stores/deny-cache.js'
import type { CheckReply, CheckRequest, LimiterOptions, ResolvedPolicy, Store } from '../../src/types.js'

function create(options: Record<string, unknown>) {
  return createLimiter<object>({ logger: recordingLogger(), ...options } as unknown as LimiterOptions<object>)
}

function rejects(options: Record<string, unknown>): SluiceOptionError {
  try {
    create(options)
  } catch (error) {
    return error as SluiceOptionError
  }
  throw new Error(`accepted ${JSON.stringify(options)}`)
}

const exports = { name: 'exports', concurrency: 3 }
const burst = { name: 'burst', capacity: 10, refillPerSecond: 1 }

describe('concurrency policies', () => {
  it('resolve alone, beside token buckets and in tiers, with leaseMs 30 000 by default', () => {
    expect(create(exports).options.policies).toEqual([{ name: 'exports', concurrency: 3, leaseMs: DEFAULT_LEASE_MS, shadow: false }])
    expect(create({ policies: [burst, { ...exports, leaseMs: 1_000 }] }).options.policies[1]).toMatchObject({ leaseMs: 1_000 })
    const tiered = create({ tiers: { free: { concurrency: 1 }, pro: [burst, exports] }, tier: () => 'free' })
    expect(tiered.options.tiers?.get('free')).toEqual([{ name: 'free', concurrency: 1, leaseMs: DEFAULT_LEASE_MS, shadow: false }])
  })

  it.each([
    ['concurrency', { name: 'x', concurrency: 0 }],
    ['concurrency', { name: 'x', concurrency: 1.5 }],
    ['concurrency', { name: 'x', concurrency: '3' }],
    ['leaseMs', { name: 'x', concurrency: 3, leaseMs: 999 }],
    ['leaseMs', { name: 'x', concurrency: 3, leaseMs: 1_000.5 }],
    ['name', { concurrency: 3 }],
    ['capacity', { name: 'x', concurrency: 3, capacity: 10 }],
    ['refillPerSecond', { name: 'x', concurrency: 3, refillPerSecond: 1 }],
    ['shadow', { name: 'x', concurrency: 3, shadow: true }],
    ['leaseMs', { ...burst, leaseMs: 5_000 }],
    ['policies[1].leaseMs', { policies: [burst, { name: 'x', concurrency: 2, leaseMs: 10 }] }],
  ])('refuse a bad %s with a coded option error naming it', (option, options) => {
    const error = rejects(options)
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION)
    expect(error.option).toBe(option)
  })

  it('bound no cost: a cost is checked against the token buckets only', () => {
    expect(() => create({ ...exports, cost: 50 })).not.toThrow()
    expect(() => create({ policies: [exports, burst], cost: 10 })).not.toThrow()
    expect(rejects({ policies: [exports, burst], cost: 11 }).option).toBe('cost')
  })

  it('lend no bucket fields to a route override, which inherits from the first token-bucket policy', () => {
    const limiter = create({ policies: [exports, { ...burst, refill: '7/min', refillPerSecond: undefined }] })
    const route = limiter.forRoute({ capacity: 14 }, 'GET', '/wide')!
    expect(route.policies).toHaveLength(1)
    expect(route.policies[0]).toMatchObject({ name: 'burst', capacity: 14, windowSeconds: 120 })
    // With no token bucket at all, a partial bucket override names its own rate.
    const only = create(exports)
    expect(() => only.forRoute({ capacity: 5 }, 'GET', '/x')).toThrow(
      expect.objectContaining({ option: 'config.rateLimit.refillPerSecond' }),
    )
    // A route may have an in-flight limit of its own.
    expect(() => only.forRoute({ name: 'uploads', concurrency: 1 }, 'POST', '/upload')).not.toThrow()
  })

  it('need a store with leases, wherever they are declared', () => {
    const store: Store = {
      kind: 'custom',
      check: (request: CheckRequest): Promise<CheckReply> =>
        Promise.resolve({ admitted: true, buckets: request.keys.map(() => ({}) as never) }),
    }
    expect(rejects({ store, ...exports })).toMatchObject({ code: ErrorCodes.INVALID_OPTION, option: 'store' })
    const limiter = create({ store, ...burst })
    expect(() => limiter.forRoute({ name: 'up', concurrency: 1 }, 'POST', '/up')).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION, option: 'config.rateLimit.concurrency' }),
    )
  })

  it('refuse one id with two shapes, as buckets do', () => {
    const a = create({ ...exports, prefix: 'same:' })
    expect(rejects({ ...exports, concurrency: 4, prefix: 'same:', store: a.options.store })).toMatchObject({
      code: ErrorCodes.INVALID_OPTION,
      option: 'name',
    })
    a.close()
  })
})

describe('the deny cache', () => {
  it('never answers, nor remembers, a check that asks for a slot', () => {
    const cache = new DenyCache(10)
    const policy = { capacity: 1, intervalNs: 1e12, shadow: false } as ResolvedPolicy
    const plain: CheckRequest = { keys: ['k'], policies: [policy], cost: 1 }
    const slots = [{ key: 'c', limit: 1, leaseMs: 1_000, leaseId: '1' }]
    const denied = { reply: { admitted: false, buckets: [] }, debtsNs: [1e12] }
    cache.record({ ...plain, slots }, denied, performance.now())
    expect(cache.answer(plain)).toBeUndefined()
    cache.record(plain, denied, performance.now())
    expect(cache.answer(plain)?.admitted).toBe(false)
    expect(cache.answer({ ...plain, slots })).toBeUndefined()
  })
})
