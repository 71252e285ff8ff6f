import { createRequire } from 'node:module'
import { RedisStore } from '@sluice/core'
import { bucketKey, ipClientId, resolvePolicy } from '@sluice/core/internal'
import type { RedisServer } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { settledMemory } from './redis-accounting.js'

/**
 * Redis memory per idle key: `used_memory` before and after creating `keys` keys through each
 * library's own store code (one request per client, as `keys` clients would), expiry included,
 * divided by `keys`. The floor is the same key names holding the same integer as a plain
 * `SET <key> <integer> PX <ttl>`: what one number with an expiry costs, with nothing else.
 */

export const MEMORY_LIBRARIES = ['sluice', 'fastify-rate-limit', 'rlflex'] as const
export type MemoryLibrary = (typeof MEMORY_LIBRARIES)[number]

export interface MemoryResult {
  readonly library: MemoryLibrary
  readonly label: string
  readonly keys: number
  /** The first key's name and stored value, as Redis holds them. */
  readonly exampleKey: string
  readonly exampleValue: string
  /** The first key's remaining TTL right after creation: proof that the expiry is set. */
  readonly ttlMs: number
  readonly bytesPerKey: number
  readonly floorBytesPerKey: number
  readonly ratioToFloor: number
}

// Long enough that no key expires while the measurement runs, short enough to be realistic.
const TTL_MS = 600_000
const CAPACITY = 100
// Requests in flight at once while creating keys: enough to pipeline, bounded in memory.
const CHUNK = 2_000
const PASSES = 3

/** A distinct IPv4 client per index, the usual key of all three libraries. */
export function clientIp(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
}

interface KeyMaker {
  readonly label: string
  /** The Redis key the library writes for client `i`. */
  key(i: number): string
  /** Bind to a client; the returned function records one request for client `i`. */
  bind(redis: Redis): (i: number) => Promise<unknown>
}

// @fastify/rate-limit has no public export of its store, so load the file the plugin uses
// when given `redis` (index.js requires './store/RedisStore').
type FastifyRedisStore = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
) => {
  incr(
    key: string,
    cb: (error: Error | null, result: { current: number; ttl: number } | null) => void,
    timeWindow: number,
    max: number,
  ): void
}
const FastifyRateLimitRedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore') as FastifyRedisStore

const sluicePolicy = resolvePolicy({ capacity: CAPACITY, refillPerSecond: 1000 / TTL_MS })

const MAKERS: Record<MemoryLibrary, KeyMaker> = {
  sluice: {
    label: '@sluice/core RedisStore',
    // As the limiter builds it for `key: 'ip'`, default prefix and policy name.
    key: (i) => bucketKey('sluice:', ipClientId(clientIp(i))!, 'default'),
    bind(redis) {
      // Every key must land for the memory to be measured: a flood may wait past the default budget.
      const store = new RedisStore(redis, { timeoutMs: 60_000 })
      return (i) => store.check({ keys: [MAKERS.sluice.key(i)], policies: [sluicePolicy], cost: 1 })
    },
  },
  'fastify-rate-limit': {
    label: '@fastify/rate-limit RedisStore',
    // The store's default namespace before the key generator's value (the IP by default).
    key: (i) => `fastify-rate-limit-${clientIp(i)}`,
    bind(redis) {
      const store = new FastifyRateLimitRedisStore(false, false, redis)
      return (i) =>
        new Promise((resolve, reject) =>
          store.incr(clientIp(i), (error, result) => (error ? reject(error) : resolve(result)), TTL_MS, CAPACITY),
        )
    },
  },
  rlflex: {
    label: 'rate-limiter-flexible RateLimiterRedis',
    key: (i) => `rlflx:${clientIp(i)}`,
    bind(redis) {
      const limiter = new RateLimiterRedis({ storeClient: redis, useRedisPackage: false, points: CAPACITY, duration: TTL_MS / 1000 })
      return (i) => limiter.consume(clientIp(i))
    },
  },
}

async function inChunks(count: number, one: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += CHUNK) {
    const chunk: Promise<unknown>[] = []
    for (let i = start; i < Math.min(count, start + CHUNK); i++) chunk.push(one(i))
    await Promise.all(chunk)
  }
}

/**
 * Memory growth while `write` runs on a client of its own, closed before the reading: a
 * client's buffers are not key memory.
 */
async function growth(server: RedisServer, admin: Redis, write: (redis: Redis) => Promise<void>): Promise<number> {
  await admin.flushdb('SYNC')
  const before = await settledMemory(admin)
  const redis = server.client({ enableAutoPipelining: true })
  try {
    await write(redis)
  } finally {
    await redis.quit()
  }
  return (await settledMemory(admin)) - before
}

/**
 * The least growth over PASSES writes of the same keys, each from an empty database. Whatever
 * else a write can leave behind only adds: the first runs of a script grow things that stay
 * grown (the script cache, the scripting engine's buffers: about 150 KB, then half that, on
 * Redis 7.0), and a key table caught mid-rehash still holds its old array (8 bytes a slot).
 */
async function leastGrowth(server: RedisServer, admin: Redis, write: (redis: Redis) => Promise<void>): Promise<number> {
  let least = Number.POSITIVE_INFINITY
  for (let pass = 0; pass < PASSES; pass++) least = Math.min(least, await growth(server, admin, write))
  return least
}

export async function measureMemory(server: RedisServer, admin: Redis, library: MemoryLibrary, keys: number): Promise<MemoryResult> {
  const maker = MAKERS[library]
  let exampleValue = ''
  let ttlMs = 0
  const grown = await leastGrowth(server, admin, async (redis) => {
    await inChunks(keys, maker.bind(redis))
    const size = await admin.dbsize()
    if (size !== keys) throw new Error(`${library}: expected ${keys} keys after ${keys} requests, Redis holds ${size}`)
    const type = await admin.type(maker.key(0))
    exampleValue = type === 'string' ? ((await admin.get(maker.key(0))) ?? '') : `(a ${type})`
    ttlMs = await admin.pttl(maker.key(0))
    if (ttlMs <= 0) throw new Error(`${library}: key ${maker.key(0)} has no expiry (pttl ${ttlMs}), so idle clients would stay in Redis`)
  })
  // The same integer as the library stores; a timestamp-sized one if it stores something else.
  const floorValue = /^-?\d{1,19}$/.test(exampleValue) ? exampleValue : String(Date.now() * 1000)
  const floor = await leastGrowth(server, admin, (redis) => inChunks(keys, (i) => redis.set(maker.key(i), floorValue, 'PX', TTL_MS)))
  await admin.flushdb('SYNC')
  const bytesPerKey = grown / keys
  const floorBytesPerKey = floor / keys
  return {
    library,
    label: maker.label,
    keys,
    exampleKey: maker.key(0),
    exampleValue,
    ttlMs,
    bytesPerKey,
    floorBytesPerKey,
    ratioToFloor: bytesPerKey / floorBytesPerKey,
  }
}
