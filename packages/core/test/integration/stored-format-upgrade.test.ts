import { type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolvePolicy } from '../../src/policies.js'
import { TOKEN_BUCKET_COMMAND } from '../../src/scripts/token-bucket.js'
import { encodeBatchV2, TOKEN_BUCKET_V2_COMMAND, TOKEN_BUCKET_V2_LUA } from '../../src/scripts/token-bucket-v2.js'
import { encodeBatchV3, TOKEN_BUCKET_V3_COMMAND, TOKEN_BUCKET_V3_LUA } from '../../src/scripts/token-bucket-v3.js'
import { RedisStore } from '../../src/stores/redis-store.js'
import type { CheckRequest } from '../../src/types.js'

// Versions 3 and 4 of the script keep version 2's stored format (one integer per key, its arrival time
// in ns modulo 2^23 s, a TTL of the time until full): buckets written by an app still on the old
// version answer exactly under the new one, and the other way round, so a rolling upgrade where
// both run at once neither forgets nor double-counts a token.

const BUDGET = { timeoutMs: 10_000 } as const
// One token an hour: the milliseconds between two calls refill nothing a test could see.
const hourly = resolvePolicy({ capacity: 10, refillPerSecond: 1 / 3600 })
const daily = resolvePolicy({ name: 'daily', capacity: 20, refillPerSecond: 1 / 86_400, shadow: true })
const HOUR_NS = 3_600_000_000_000

let server: RedisServer
let redis: Redis
let store: RedisStore
let v2: (numKeys: number, ...args: (string | number)[]) => Promise<unknown>
let v3: (numKeys: number, ...args: (string | number)[]) => Promise<unknown>
let n = 0
const key = (): string => `upgrade:${++n}:{client}:default`

/** Version 2's reply for one check: seconds, µs, ran, then per bucket its status and debt. */
async function checkV2(request: CheckRequest): Promise<{ status: number; debtNs: number }[]> {
  const { keys, args } = encodeBatchV2([request], 0)
  const raw = (await v2(keys.length, ...keys, ...args)) as number[]
  expect(raw[2]).toBe(1)
  return request.keys.map((_, i) => ({ status: raw[3 + 2 * i]!, debtNs: raw[4 + 2 * i]! }))
}

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
  redis.defineCommand(TOKEN_BUCKET_V2_COMMAND, { lua: TOKEN_BUCKET_V2_LUA })
  v2 = (redis as unknown as Record<string, typeof v2>)[TOKEN_BUCKET_V2_COMMAND]!.bind(redis)
  redis.defineCommand(TOKEN_BUCKET_V3_COMMAND, { lua: TOKEN_BUCKET_V3_LUA })
  v3 = (redis as unknown as Record<string, typeof v3>)[TOKEN_BUCKET_V3_COMMAND]!.bind(redis)
  store = new RedisStore(redis, BUDGET)
})
afterAll(async () => {
  await server.stop()
})

/** Version 3's reply for one check: per bucket its debt, or −1 − debt when it could not afford the cost. */
async function checkV3(request: CheckRequest): Promise<number[]> {
  const { keys, args } = encodeBatchV3([request], 0)
  const raw = (await v3(keys.length, ...keys, ...args)) as number[]
  expect(raw.length).toBe(1 + request.keys.length)
  return raw.slice(1)
}

describe('stored format: version 3 and version 4 of the script share their buckets', () => {
  it('registers version 4 under a new name, beside version 3', () => {
    expect(TOKEN_BUCKET_COMMAND).toBe('sluiceTokenBucketV4')
    expect(TOKEN_BUCKET_V3_COMMAND).not.toBe(TOKEN_BUCKET_COMMAND)
  })

  it('a bucket version 3 charged answers exactly under version 4, alone and in a batch, and back', async () => {
    const k = key()
    expect(await checkV3({ keys: [k], policies: [hourly], cost: 7 })).toEqual([7 * HOUR_NS])
    const next = await store.check({ keys: [k], policies: [hourly], cost: 1 })
    expect(next.buckets[0]).toMatchObject({ status: 'allowed', taken: true, remaining: 2 })
    const [a, b] = await Promise.all([
      store.check({ keys: [k], policies: [hourly], cost: 2 }),
      store.check({ keys: [k], policies: [hourly], cost: 1 }),
    ])
    expect([a!.buckets[0]!.remaining, b!.admitted]).toEqual([0, false])
    // Version 4's state, read by version 3: 10 tokens of debt, less the ms since.
    const [back] = await checkV3({ keys: [k], policies: [hourly], cost: 1 })
    expect(back!).toBeLessThan(0)
    expect(-1 - back!).toBeGreaterThan(10 * HOUR_NS - 60_000_000_000)
  })

  it('a check of several buckets, one shadow, reads what version 3 wrote to each', async () => {
    const h = key()
    const d = key()
    await checkV3({ keys: [h, d], policies: [hourly, daily], cost: 9 })
    const reply = await store.check({ keys: [h, d], policies: [hourly, daily], cost: 2 })
    expect(reply.buckets.map((x) => [x.status, x.remaining])).toEqual([
      ['denied', 1],
      ['allowed', 11],
    ])
  })
})

describe('stored format: version 2 and the current script share their buckets', () => {
  it('registers the new script under a new name, beside the old', () => {
    expect(TOKEN_BUCKET_COMMAND).not.toBe(TOKEN_BUCKET_V2_COMMAND)
    expect(typeof (redis as unknown as Record<string, unknown>)[TOKEN_BUCKET_COMMAND]).toBe('function')
  })

  it('a bucket the old script charged answers exactly under the new one', async () => {
    const k = key()
    expect(await checkV2({ keys: [k], policies: [hourly], cost: 7 })).toEqual([{ status: 1, debtNs: 7 * HOUR_NS }])
    const next = await store.check({ keys: [k], policies: [hourly], cost: 1 })
    expect(next.admitted).toBe(true)
    expect(next.buckets[0]).toMatchObject({ status: 'allowed', taken: true, remaining: 2 })
    const short = await store.check({ keys: [k], policies: [hourly], cost: 3 })
    expect(short.admitted).toBe(false)
    expect(short.buckets[0]).toMatchObject({ status: 'denied', taken: false, remaining: 2 })
    // And in a batch of several checks (the general layout), the same bucket again.
    const [a, b] = await Promise.all([
      store.check({ keys: [k], policies: [hourly], cost: 2 }),
      store.check({ keys: [k], policies: [hourly], cost: 1 }),
    ])
    expect([a!.buckets[0]!.remaining, b!.admitted]).toEqual([0, false])
  })

  it('a bucket the new script charged answers exactly under the old one', async () => {
    const fresh = key()
    const existing = key()
    // The new script's first charge of a key (SET … NX GET) and its charge of an existing one.
    await store.check({ keys: [fresh], policies: [hourly], cost: 4 })
    await store.check({ keys: [existing], policies: [hourly], cost: 1 })
    await store.check({ keys: [existing], policies: [hourly], cost: 3 })
    for (const k of [fresh, existing]) {
      const [after] = await checkV2({ keys: [k], policies: [hourly], cost: 1 })
      expect(after!.status).toBe(1)
      // 5 tokens of debt, less the few ms refilled since the first charge.
      expect(after!.debtNs).toBeLessThanOrEqual(5 * HOUR_NS)
      expect(after!.debtNs).toBeGreaterThan(5 * HOUR_NS - 60_000_000_000)
      expect((await checkV2({ keys: [k], policies: [hourly], cost: 6 }))[0]!.status).toBe(0)
    }
  })

  it('stores the same value and TTL as the old script for the same charge', async () => {
    const old = key()
    const now = key()
    await checkV2({ keys: [old], policies: [hourly], cost: 2 })
    await store.check({ keys: [now], policies: [hourly], cost: 2 })
    const [vOld, vNow] = [await redis.get(old), await redis.get(now)]
    expect(vOld).toMatch(/^\d+$/)
    expect(vNow).toMatch(/^\d+$/)
    // Arrival times a few ms apart (the two calls), each 2 hours after its call.
    expect(Math.abs(Number(vNow) - Number(vOld))).toBeLessThan(60_000_000_000)
    const [tOld, tNow] = [await redis.pttl(old), await redis.pttl(now)]
    expect(tOld).toBeGreaterThan(2 * 3_600_000 - 60_000)
    expect(tOld).toBeLessThanOrEqual(2 * 3_600_000)
    expect(Math.abs(tNow - tOld)).toBeLessThan(60_000)
  })

  it('a check of several buckets, one shadow, reads what the old script wrote to each', async () => {
    const h = key()
    const d = key()
    await checkV2({ keys: [h, d], policies: [hourly, daily], cost: 9 })
    // The hourly bucket has 1 token, the shadow daily one 11: a cost of 2 is short on the hourly.
    const reply = await store.check({ keys: [h, d], policies: [hourly, daily], cost: 2 })
    expect(reply.admitted).toBe(false)
    expect(reply.buckets.map((b) => [b.status, b.remaining])).toEqual([
      ['denied', 1],
      ['allowed', 11],
    ])
    const fits = await store.check({ keys: [h, d], policies: [hourly, daily], cost: 1 })
    expect(fits.admitted).toBe(true)
    expect(fits.buckets.map((b) => b.remaining)).toEqual([0, 10])
  })

  it('a dry run answers from the stored bucket and takes nothing, alone or in a batch', async () => {
    const k = key()
    await checkV2({ keys: [k], policies: [hourly], cost: 6 })
    const before = await redis.get(k)
    const alone = await store.check({ keys: [k], policies: [hourly], cost: 4, dryRun: true })
    expect(alone.buckets[0]).toMatchObject({ status: 'allowed', taken: false, remaining: 4 })
    const ghost = key()
    const [dry, full] = await Promise.all([
      store.check({ keys: [k], policies: [hourly], cost: 5, dryRun: true }),
      store.check({ keys: [ghost], policies: [hourly], cost: 1, dryRun: true }),
    ])
    expect(dry!.buckets[0]).toMatchObject({ status: 'denied', taken: false, remaining: 4 })
    expect(full!.buckets[0]).toMatchObject({ status: 'allowed', taken: false, remaining: 10 })
    expect(await redis.get(k)).toBe(before)
    // A dry run of a new key leaves no key behind.
    expect(await redis.exists(ghost)).toBe(0)
  })
})
