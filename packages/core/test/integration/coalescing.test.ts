import { type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { resolvePolicy } from '../../src/policies.js'
import { RedisStore } from '../../src/stores/redis-store.js'
import { drain, waitsUntilAllowed } from '../support/bucket-checks.js'

// A generous budget for direct checks: these tests are about what the buckets answer, and on a
// busy machine the store's default (100 ms) could refuse one.
const BUDGET = { timeoutMs: 10_000 } as const

let server: RedisServer
let redis: Redis
let n = 0
const uniqueKey = (): string => `co:${++n}:{c}:default`

function request(key: string, capacity: number, refillPerSecond: number, cost = 1) {
  return { keys: [key], policies: [resolvePolicy({ capacity, refillPerSecond })], cost }
}
/** One single-bucket check: its bucket's reply. */
const one = async (s: RedisStore, r: ReturnType<typeof request>) => (await s.check(r)).buckets[0]!

/** Script calls Redis itself counted since the last reset. */
async function scriptCalls(): Promise<number> {
  const info = await redis.info('commandstats')
  let calls = 0
  for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1])
  return calls
}

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
})
afterAll(async () => {
  await server.stop()
})
beforeEach(async () => {
  await redis.config('RESETSTAT')
})

describe('RedisStore coalescing', () => {
  it('sends the checks of one event-loop turn as one script call per 128', async () => {
    const store = new RedisStore(redis, BUDGET)
    const replies = await Promise.all(Array.from({ length: 200 }, () => one(store, request(uniqueKey(), 5, 1))))
    expect(replies.every((r) => r.status === 'allowed' && r.remaining === 4)).toBe(true)
    expect(await scriptCalls()).toBe(2)
  })

  it('keeps checks of one key in one batch in order, so admission stays exact', async () => {
    const store = new RedisStore(redis, BUDGET)
    const key = uniqueKey()
    const replies = await Promise.all(Array.from({ length: 100 }, () => one(store, request(key, 30, 0.001))))
    expect(replies.slice(0, 30).every((r) => r.status === 'allowed')).toBe(true)
    expect(replies.slice(30).every((r) => r.status === 'denied')).toBe(true)
    expect(replies.slice(0, 30).map((r) => r.remaining)).toEqual(Array.from({ length: 30 }, (_, i) => 29 - i))
  })

  it('can be turned off: one call per check', async () => {
    const store = new RedisStore(redis, { ...BUDGET, coalesce: false, denyCacheKeys: 0 })
    await Promise.all(Array.from({ length: 20 }, () => one(store, request(uniqueKey(), 5, 1))))
    expect(await scriptCalls()).toBe(20)
  })
})

describe('RedisStore deny cache', () => {
  it('answers a flood against an empty bucket from memory, with the headers Redis would give', async () => {
    const store = new RedisStore(redis, BUDGET)
    const plain = new RedisStore(redis, { ...BUDGET, coalesce: false, denyCacheKeys: 0 })
    const key = uniqueKey()
    const check = request(key, 3, 0.01) // 100 s per token
    for (let i = 0; i < 3; i++) await one(store, check)
    const started = performance.now()
    await one(store, check) // the denial the cache keeps
    const callsBefore = await scriptCalls()
    const flood = await Promise.all(Array.from({ length: 500 }, () => one(store, check)))
    expect(await scriptCalls()).toBe(callsBefore) // not one call for 500 checks
    const truth = await one(plain, check)
    // The cache's waits may differ from Redis's only by the time that passed since it kept them.
    const elapsedMs = performance.now() - started
    expect(truth.status).toBe('denied')
    for (const reply of flood) {
      expect(reply.status).toBe('denied')
      expect(reply.remaining).toBe(truth.remaining)
      expect(Math.abs(reply.retryAfterMs - truth.retryAfterMs)).toBeLessThanOrEqual(elapsedMs + 1)
      expect(Math.abs(reply.resetMs - truth.resetMs)).toBeLessThanOrEqual(elapsedMs + 1)
    }
  })

  it('goes back to Redis once the tokens could be there', async () => {
    const store = new RedisStore(redis, BUDGET)
    const check = request(uniqueKey(), 1, 20) // a token every 50 ms
    const denied = await drain(() => one(store, check))
    expect(denied.status).toBe('denied')
    expect((await waitsUntilAllowed(() => one(store, check), denied)).length).toBeLessThanOrEqual(2)
  })

  it('lets a cheaper request through to Redis', async () => {
    const store = new RedisStore(redis, BUDGET)
    const key = uniqueKey()
    await one(store, request(key, 5, 0.001, 3)) // 2 left
    expect((await one(store, request(key, 5, 0.001, 3))).status).toBe('denied')
    expect(await one(store, request(key, 5, 0.001, 2))).toMatchObject({ status: 'allowed', remaining: 0 })
  })
})
