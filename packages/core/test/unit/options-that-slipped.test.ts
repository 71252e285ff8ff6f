import { describe, expect, it } from 'vitest'
import { createLimiter } from '../../src/adapter.js'
import { ErrorCodes, SluiceOptionError } from '../../src/index.js'
import { resolvePolicy } from '../../src/policies.js'
import { MAX_WINDOW_NS } from '../../src/scripts/token-bucket.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import type { LimiterOptions } from '../../src/types.js'

// Option values that were accepted and failed later (or were refused though valid).
const base = { capacity: 10, refillPerSecond: 1 }
const create = (options: object) => createLimiter(options as LimiterOptions<unknown>)

describe('options that slipped through', () => {
  it.each([
    ['circuitBreaker.cooldownMs', { ...base, circuitBreaker: { cooldownMs: 5_000, maxCooldownMs: 1_000 } }],
    ['observer.decision', { ...base, observer: { decision: 42 } }],
    ['observer.storeCall', { ...base, observer: { storeCall: 'yes' } }],
    ['key.verify', { ...base, key: { header: 'x-api-key', verify: true } }],
    ['memoryMaxKeys', { ...base, memoryMaxKeys: 2 ** 31 }],
  ])('refuses %s with a coded error naming it', (option, options) => {
    expect(() => create(options)).toThrow(expect.objectContaining({ name: 'SluiceOptionError', code: ErrorCodes.INVALID_OPTION, option }))
  })

  it('lets a longer first cooldown raise an unset ceiling rather than refusing it', () => {
    expect(create({ ...base, circuitBreaker: { cooldownMs: 10_000 } }).options.circuitBreaker).toMatchObject({
      cooldownMs: 10_000,
      maxCooldownMs: 10_000,
    })
  })

  it('bounds a static cost by the enforcing policies only: a shadow policy never denies', () => {
    const limiter = create({
      policies: [
        { name: 'live', capacity: 10, refillPerSecond: 1 },
        { name: 'trial', capacity: 2, refillPerSecond: 1, shadow: true },
      ],
      cost: 5,
    })
    expect(limiter.options.cost).toBe(5)
    expect(() => create({ policies: [{ name: 'live', capacity: 4, refillPerSecond: 1 }], cost: 5 })).toThrow(SluiceOptionError)
  })

  it('refuses a window of exactly the clock range, where an empty bucket would read as full', () => {
    // 2^21 s at one token per 2^21 / 4 s: capacity × interval is exactly the bound.
    const atBound = { capacity: 4, refillPerSecond: 4 / (MAX_WINDOW_NS / 1e9) }
    expect(() => resolvePolicy(atBound)).toThrow(expect.objectContaining({ option: 'capacity' }))
    expect(() => resolvePolicy({ ...atBound, capacity: 3 })).not.toThrow()
  })

  it('allocates nothing up front for a large memoryMaxKeys', () => {
    const before = process.memoryUsage().rss
    const limiter = create({ ...base, memoryMaxKeys: 100_000_000 })
    // An eagerly allocated cache of that size takes gigabytes (and 2^31 killed the process).
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024)
    expect(limiter.options.store).toBeInstanceOf(MemoryStore)
  })
})
