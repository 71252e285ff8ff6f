import { type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deadlineIn } from '../../src/deadline.js'
import { resolvePolicy } from '../../src/policies.js'
import { RedisStore } from '../../src/stores/redis-store.js'
import type { BucketPolicy } from '../../src/types.js'

// The script's settle operations (kinds 2 and 3) on real Redis: exact to the token, clamped to
// [full, capacity below empty], a refund of a missing key writes nothing, a bucket refunded to
// full is deleted, alone (the four-argument path) and in a batch with checks.

const hourly = resolvePolicy({ capacity: 10, refillPerSecond: 1 / 3600 })
const daily = resolvePolicy({ name: 'daily', capacity: 20, refillPerSecond: 1 / 86_400, shadow: true })
const HOUR_NS = 3_600_000_000_000
// Refill between two calls of a test: far less than this.
const SLACK_NS = 60_000_000_000

let server: RedisServer
let redis: Redis
let store: RedisStore
let n = 0
const key = (): string => `settle:${++n}:{client}:default`
const within = (): ReturnType<typeof deadlineIn> => deadlineIn(5_000)

const check = (keys: string[], policies: BucketPolicy[], cost: number) => store.checkWithin({ keys, policies, cost }, within())
const peek = (keys: string[], policies: BucketPolicy[]) => store.checkWithin({ keys, policies, cost: 1, dryRun: true }, within())
const settle = (keys: string[], policies: BucketPolicy[], delta: number) => store.settleWithin({ keys, policies, delta }, within())

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
  store = new RedisStore(redis, { timeoutMs: 5_000 })
})
afterAll(async () => {
  await server.stop()
})

describe('settle in the script', () => {
  it('refunds exactly, never above full, and deletes a bucket refunded to full', async () => {
    const k = key()
    await check([k], [hourly], 6)
    await settle([k], [hourly], -2)
    expect((await peek([k], [hourly])).buckets[0]!.remaining).toBe(6)
    await settle([k], [hourly], -50)
    expect(await redis.exists(k)).toBe(0)
    expect((await peek([k], [hourly])).buckets[0]!.remaining).toBe(10)
  })

  it('leaves a missing key alone on a refund', async () => {
    const k = key()
    const reply = await settle([k], [hourly], -3)
    expect(reply.buckets[0]!.remaining).toBe(10)
    expect(await redis.exists(k)).toBe(0)
  })

  it('charges extra into debt, capped at the capacity below empty, with a TTL covering the debt', async () => {
    const k = key()
    await check([k], [hourly], 4)
    const reply = await settle([k], [hourly], 12)
    // 16 tokens taken from 10: 6 in debt, told 0.
    expect(reply.buckets[0]).toMatchObject({ remaining: 0 })
    expect(reply.buckets[0]!.resetMs).toBeGreaterThan(16 * 3_600_000 - 60_000)
    const denied = await check([k], [hourly], 1)
    expect(denied.admitted).toBe(false)
    // The debt and this request's own token: 7 tokens, about 7 hours.
    expect(denied.buckets[0]!.retryAfterMs).toBeGreaterThan(7 * 3_600_000 - 60_000)
    expect(denied.buckets[0]!.retryAfterMs).toBeLessThanOrEqual(7 * 3_600_000)
    await settle([k], [hourly], 1_000)
    const capped = await peek([k], [hourly])
    expect(capped.buckets[0]!.resetMs).toBeLessThanOrEqual(20 * 3_600_000)
    expect(capped.buckets[0]!.resetMs).toBeGreaterThan(20 * 3_600_000 - 60_000)
    expect(await redis.pttl(k)).toBeGreaterThan(20 * 3_600_000 - 60_000)
    // Refunded out of debt, exactly: 20 short, 13 back, 3 remain.
    await settle([k], [hourly], -13)
    expect((await peek([k], [hourly])).buckets[0]!.remaining).toBe(3)
  })

  it('settles several buckets at once, and a charge of a missing key starts from full', async () => {
    const [h, d] = [key(), key()]
    await check([h, d], [hourly, daily], 3)
    const reply = await settle([h, d], [hourly, daily], 2)
    expect(reply.buckets.map((b) => b.remaining)).toEqual([5, 15])
    const fresh = key()
    expect((await settle([fresh], [hourly], 4)).buckets[0]!.remaining).toBe(6)
  })

  it('runs in one batch with checks, in order, each seeing the one before', async () => {
    const k = key()
    await check([k], [hourly], 10)
    const [refund, after, charge, last] = await Promise.all([
      settle([k], [hourly], -5),
      check([k], [hourly], 5),
      settle([k], [hourly], 3),
      check([k], [hourly], 1),
    ])
    expect(refund!.buckets[0]!.remaining).toBe(5)
    expect(after!.admitted).toBe(true)
    expect(charge!.buckets[0]!.remaining).toBe(0)
    expect(last!.admitted).toBe(false)
    // 3 tokens of debt and its own: 4 hours, less the refill since.
    expect(last!.buckets[0]!.retryAfterMs).toBeGreaterThan((4 * HOUR_NS - SLACK_NS) / 1e6)
  })

  it('coalesces a settle with the checks of its turn into one script call (watched with MONITOR)', async () => {
    const [a, b] = [key(), key()]
    await check([a], [hourly], 4)
    const monitor = await redis.monitor()
    const scripts: string[] = []
    // MONITOR reports commands in the order Redis ran them, on its own connection: a PING sent
    // after the calls, once seen there, says every script line before it has been read.
    let pinged!: () => void
    const pingSeen = new Promise<void>((resolve) => {
      pinged = resolve
    })
    monitor.on('monitor', (_time: string, args: string[]) => {
      const name = String(args[0]).toLowerCase()
      if (name === 'evalsha' || name === 'eval') scripts.push(name)
      if (name === 'ping') pinged()
    })
    await Promise.all([settle([a], [hourly], -2), check([b], [hourly], 1), check([a], [hourly], 1)])
    await redis.ping()
    await pingSeen
    await monitor.disconnect()
    expect(scripts).toHaveLength(1)
    expect((await peek([a], [hourly])).buckets[0]!.remaining).toBe(7)
  })
})
