import { type RedisClusterServer, type RedisServer, startRedis, startRedisCluster } from '@sluice/harness'
import calculateSlot from 'cluster-key-slot'
import type { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { closeNodeRedis, nodeRedisClient, nodeRedisCluster, valkeyClient } from '../../../../test/support/redis-clients.js'
import { createLimiter } from '../../src/adapter.js'
import type { RedisClient, RequestView } from '../../src/types.js'

// With `failureMode: 'deny'` and a frozen Redis, requests were answered 503, and when Redis
// resumed, their queued scripts ran and took tokens from a client who was never served. Each
// batch now carries a deadline in Redis time, which the script honours.
const PAUSE_MS = 1_500
const client: RequestView = { ip: '198.51.100.9', header: () => undefined }
let n = 0

async function lateChecksTakeNothing(
  redis: RedisClient,
  ownerOf: (key: string) => Promise<Redis>,
  sameConnection: (key: string) => Promise<unknown>,
) {
  const options = { redis, capacity: 10, refillPerSecond: 0.001, prefix: `late${++n}:`, timeoutMs: 10_000, logger: recordingLogger() }
  // The first token through a limiter with a generous budget, so that a slow machine cannot hand
  // it to the failure mode; its reply also tells this client's stores the node's clock.
  const steady = createLimiter<object>(options).forRoute(undefined, '*', '*')!
  const first = (await steady.check({}, client))!
  expect(first.result!.remaining).toBe(9)
  const key = first.result!.key
  const route = createLimiter<object>({ ...options, failureMode: 'deny', timeoutMs: 50 }).forRoute(undefined, '*', '*')!

  const owner = await ownerOf(key)
  await owner.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL')
  const refused = await Promise.all(Array.from({ length: 4 }, () => route.check({}, client)))
  expect(refused.map((d) => d!.outcome)).toEqual(['unavailable', 'unavailable', 'unavailable', 'unavailable'])
  expect(refused.map((d) => d!.deny?.status)).toEqual([503, 503, 503, 503])

  // A command on the limiter's own connection is answered after the scripts queued before it,
  // so once it returns (after the pause), the late scripts have run.
  await sameConnection(key)
  const after = (await steady.check({}, client))!
  // 10 − the first request − this one: the four refused requests paid nothing.
  expect(after.result!.remaining).toBe(8)
}

describe('on one Redis', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(() => server.stop())

  it('takes nothing for checks the failure mode answered while Redis was frozen', async () => {
    const redis = server.client()
    const admin = server.client()
    await lateChecksTakeNothing(
      redis,
      async () => admin,
      () => redis.ping(),
    )
  }, 30_000)

  it('takes nothing for them through node-redis either', async () => {
    const redis = await nodeRedisClient(server)
    const admin = server.client()
    try {
      await lateChecksTakeNothing(
        redis,
        async () => admin,
        () => redis.ping(),
      )
    } finally {
      await closeNodeRedis(redis)
    }
  }, 30_000)

  it('takes nothing for them through iovalkey either', async () => {
    const redis = valkeyClient(server)
    const admin = server.client()
    try {
      await lateChecksTakeNothing(
        redis,
        async () => admin,
        () => redis.ping(),
      )
    } finally {
      redis.disconnect()
    }
  }, 30_000)
})

describe('on a Redis Cluster', () => {
  let cluster: RedisClusterServer
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 })
  }, 60_000)
  afterAll(() => cluster.stop())

  it('takes nothing for checks the failure mode answered while their node was frozen', async () => {
    const redis: Cluster = cluster.client()
    await lateChecksTakeNothing(
      redis,
      // The bucket's hash tag names its slot, and so the one node to freeze.
      async (key) => cluster.node(await cluster.ownerOf(calculateSlot(key))),
      (key) => redis.exists(key),
    )
  }, 60_000)

  it('takes nothing for them through a node-redis cluster either', async () => {
    const redis = await nodeRedisCluster(cluster)
    try {
      await lateChecksTakeNothing(
        redis,
        async (key) => cluster.node(await cluster.ownerOf(calculateSlot(key))),
        (key) => redis.exists(key),
      )
    } finally {
      await closeNodeRedis(redis)
    }
  }, 60_000)
})
