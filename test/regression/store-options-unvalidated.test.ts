import { ErrorCodes, MemoryStore, RedisStore } from '@sluice/core'
import { createLimiter } from '@sluice/core/adapter'
import type { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { regressionSuite } from '../support/regression-suite.js'

// The stores' options were read as they came: `maxBatch: 0` (or negative) looped forever on the
// first check, `maxbatch` was accepted, `denyCacheKeys: 2.5` and `new MemoryStore({ maxKeys: 0 })`
// surfaced as uncoded TypeErrors, and a RedisStore defined its script and attached its `ready`
// listener on the user's client before reading its options (as did a limiter whose `timeoutMs`
// was invalid). They now go through the limiter's resolve-and-validate path, before anything
// touches the client.
const suite = regressionSuite()

/** What a store leaves on a client: its own properties (a defined command) and its listeners. */
function footprint(client: Redis): { keys: string[]; ready: number } {
  return { keys: Object.keys(client).sort(), ready: client.listenerCount('ready') }
}

const coded = (code: string, option: string) => expect.objectContaining({ name: 'SluiceOptionError', code, option })

describe('RedisStore options', () => {
  it.each([
    ['maxBatch', { maxBatch: 0 }],
    ['maxBatch', { maxBatch: -1 }],
    ['maxBatch', { maxBatch: 1.5 }],
    ['denyCacheKeys', { denyCacheKeys: 2.5 }],
    ['denyCacheKeys', { denyCacheKeys: -1 }],
    ['batchIntervalMs', { batchIntervalMs: -1 }],
    ['batchIntervalMs', { batchIntervalMs: Number.NaN }],
    ['coalesce', { coalesce: 'yes' }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['timeoutMs', { timeoutMs: 60_001 }],
    ['timeoutMs', { timeoutMs: 2.5 }],
    ['timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }],
    ['options', null],
  ])('refuses %s (%o) with a coded error, and leaves the client untouched', async (option, options) => {
    const client = suite.server().client({ lazyConnect: true })
    const before = footprint(client)
    expect(() => new RedisStore(client, options as object)).toThrow(coded(ErrorCodes.INVALID_OPTION, option))
    expect(footprint(client)).toEqual(before)
    client.disconnect()
  })

  it('refuses a misspelt option by the name the user wrote', () => {
    const client = suite.server().client({ lazyConnect: true })
    const before = footprint(client)
    expect(() => new RedisStore(client, { maxbatch: 10 } as object)).toThrow(coded(ErrorCodes.UNKNOWN_OPTION, 'maxbatch'))
    expect(footprint(client)).toEqual(before)
    client.disconnect()
  })

  it('refuses something that is not a Redis client with a coded error', () => {
    expect(() => new RedisStore(undefined as never)).toThrow(coded(ErrorCodes.INVALID_OPTION, 'client'))
  })

  it('answers every check with maxBatch: 1, one script call each', async () => {
    const store = new RedisStore(suite.redis(), { maxBatch: 1 })
    const prefix = suite.prefix()
    const policy = { capacity: 2, intervalNs: 1e9, shadow: false }
    const replies = await Promise.all(
      [1, 2, 3].map(() => store.checkWithin({ keys: [`${prefix}{a}`], policies: [policy], cost: 1 }, 5_000)),
    )
    expect(replies.map((r) => r.admitted)).toEqual([true, true, false])
  })
})

describe('MemoryStore options', () => {
  it.each([
    ['maxKeys', { maxKeys: 0 }],
    ['maxKeys', { maxKeys: 2.5 }],
    ['maxKeys', { maxKeys: 2 ** 31 }],
    ['clock', { clock: 5 }],
    ['options', 'big'],
  ])('refuses %s (%o) with a coded error', (option, options) => {
    expect(() => new MemoryStore(options as object)).toThrow(coded(ErrorCodes.INVALID_OPTION, option))
  })

  it('refuses a misspelt option by the name the user wrote', () => {
    expect(() => new MemoryStore({ maxkeys: 10 } as object)).toThrow(coded(ErrorCodes.UNKNOWN_OPTION, 'maxkeys'))
  })
})

describe('a limiter on a Redis client', () => {
  it.each([
    ['timeoutMs', { timeoutMs: 0 }],
    ['replicas', { replicas: 0 }],
    ['circuitBreaker.cooldownMs', { circuitBreaker: { cooldownMs: -1 } }],
    ['observer.decision', { observer: { decision: 1 } }],
  ])('refuses an invalid %s before it touches the client', (option, options) => {
    const client = suite.server().client({ lazyConnect: true })
    const before = footprint(client)
    expect(() => createLimiter({ redis: client, capacity: 5, refillPerSecond: 1, ...options } as never)).toThrow(
      coded(ErrorCodes.INVALID_OPTION, option),
    )
    expect(footprint(client)).toEqual(before)
    client.disconnect()
  })
})
