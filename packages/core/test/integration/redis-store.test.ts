import { type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolvePolicy } from '../../src/policies.js'
import { RedisStore } from '../../src/stores/redis-store.js'
import { drain, waitsUntilAllowed } from '../support/bucket-checks.js'

// A generous budget for direct checks: these tests are about what the buckets answer, and on a
// busy machine the store's default (100 ms) could refuse one.
const BUDGET = { timeoutMs: 10_000 } as const

let server: RedisServer
let redis: Redis
let store: RedisStore
let n = 0
const uniqueKey = (): string => `test:${process.pid}:${++n}:{client}:default`

function request(key: string, capacity: number, refillPerSecond: number, cost = 1) {
  return { keys: [key], policies: [resolvePolicy({ capacity, refillPerSecond })], cost }
}
/** One single-bucket check: its bucket's reply. */
const one = async (s: RedisStore, r: ReturnType<typeof request>) => (await s.check(r)).buckets[0]!

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
  store = new RedisStore(redis, BUDGET)
})
afterAll(async () => {
  await server.stop()
})

describe('RedisStore', () => {
  it('admits exactly capacity out of 200 concurrent checks', async () => {
    const key = uniqueKey()
    const replies = await Promise.all(Array.from({ length: 200 }, () => one(store, request(key, 50, 0.001))))
    expect(replies.filter((r) => r.status === 'allowed')).toHaveLength(50)
    expect(replies.filter((r) => r.status === 'denied')).toHaveLength(150)
    // Each admitted check saw a distinct remaining count, 49 down to 0.
    const remaining = replies
      .filter((r) => r.status === 'allowed')
      .map((r) => r.remaining)
      .sort((a, b) => a - b)
    expect(remaining).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })

  it('refills over real time: admitted again after the wait it announced', async () => {
    const check = request(uniqueKey(), 5, 20) // one token every 50 ms
    const denied = await drain(() => one(store, check))
    expect(denied.status).toBe('denied')
    expect(denied.retryAfterMs).toBeGreaterThan(0)
    expect(denied.retryAfterMs).toBeLessThanOrEqual(50)
    expect((await waitsUntilAllowed(() => one(store, check), denied)).length).toBeLessThanOrEqual(2)
  })

  it('supports fractional rates', async () => {
    const key = uniqueKey()
    const check = request(key, 1, 0.5)
    const started = performance.now()
    expect((await one(store, check)).status).toBe('allowed')
    const denied = await one(store, check)
    // Two seconds for the token, less what passed between the two checks, and no more.
    const elapsedMs = performance.now() - started
    expect(denied.status).toBe('denied')
    expect(denied.retryAfterMs).toBeGreaterThanOrEqual(2000 - elapsedMs)
    expect(denied.retryAfterMs).toBeLessThanOrEqual(2000)
    expect(denied.resetMs).toBe(denied.retryAfterMs)
  })

  it('takes weighted costs and denies without taking when short', async () => {
    const key = uniqueKey()
    expect(await one(store, request(key, 10, 0.001, 7))).toMatchObject({ status: 'allowed', remaining: 3 })
    expect(await one(store, request(key, 10, 0.001, 4))).toMatchObject({ status: 'denied', remaining: 3 })
    expect(await one(store, request(key, 10, 0.001, 3))).toMatchObject({ status: 'allowed', remaining: 0 })
  })

  it('denies cost > capacity with its own status and writes nothing', async () => {
    const key = uniqueKey()
    const reply = await one(store, request(key, 5, 1, 6))
    expect(reply).toMatchObject({ status: 'cost-exceeds-capacity', remaining: 5, retryAfterMs: Number.POSITIVE_INFINITY })
    expect(await redis.exists(key)).toBe(0)
  })

  it('stores one integer per key that expires when the bucket would be full', async () => {
    const key = uniqueKey()
    const started = performance.now()
    await one(store, request(key, 10, 2, 3)) // 1.5 s from full
    const ttl = await redis.pttl(key)
    // 1.5 s, less what passed until PTTL (and Redis's millisecond rounding), and no more.
    const elapsedMs = performance.now() - started
    expect(ttl).toBeGreaterThanOrEqual(1500 - elapsedMs - 1)
    expect(ttl).toBeLessThanOrEqual(1500)
    expect(await redis.object('ENCODING', key)).toBe('int')
  })

  it('recovers from SCRIPT FLUSH without surfacing an error', async () => {
    const key = uniqueKey()
    await one(store, request(key, 3, 1))
    await redis.script('FLUSH')
    expect(await one(store, request(key, 3, 1))).toMatchObject({ status: 'allowed', remaining: 1 })
  })

  it('sends EVALSHA after the first call (watched with MONITOR)', async () => {
    const monitor = await redis.monitor()
    const commands: string[] = []
    // MONITOR reports commands in the order Redis ran them, on its own connection: a PING sent
    // after the calls, once seen there, says every line before it has been read.
    let pinged!: () => void
    const pingSeen = new Promise<void>((resolve) => {
      pinged = resolve
    })
    monitor.on('monitor', (_time: string, args: string[]) => {
      const name = String(args[0]).toLowerCase()
      commands.push(name)
      if (name === 'ping') pinged()
    })
    const key = uniqueKey()
    await one(store, request(key, 3, 1))
    await one(store, request(key, 3, 1))
    await redis.ping()
    await pingSeen
    await monitor.disconnect()
    expect(commands.filter((c) => c === 'evalsha').length).toBeGreaterThanOrEqual(2)
    expect(commands.filter((c) => c === 'eval')).toHaveLength(0)
  })
})
