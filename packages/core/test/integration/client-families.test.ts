import { type RedisClusterServer, type RedisServer, startRedis, startRedisCluster } from '@sluice/harness'
import calculateSlot from 'cluster-key-slot'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { closeNodeRedis, nodeRedisClient, nodeRedisCluster, valkeyClient, valkeyCluster } from '../../../../test/support/redis-clients.js'
import { createLimiter } from '../../src/adapter.js'
import { resolvePolicy } from '../../src/policies.js'
import { TOKEN_BUCKET_COMMAND, TOKEN_BUCKET_LUA } from '../../src/scripts/token-bucket.js'
import { adapterOf } from '../../src/stores/clients/index.js'
import { RedisStore } from '../../src/stores/redis-store.js'
import type { RedisClient, RequestView } from '../../src/types.js'

// The same wire behaviour through every client family: the script by its SHA, EVAL only after
// NOSCRIPT; one call per 128 checks of an event-loop turn; a denial remembered; a closed client
// refused unsent and answered by the failure mode.
const BUDGET = { timeoutMs: 10_000 } as const
const IP = '198.51.100.7'
const view: RequestView = { ip: IP, header: () => undefined }

interface Made {
  readonly client: RedisClient
  close(): Promise<void>
}

const families: { name: string; make(server: RedisServer): Promise<Made> }[] = [
  {
    name: 'ioredis',
    async make(server) {
      const client = server.client()
      return { client, close: async () => client.disconnect() }
    },
  },
  {
    name: 'iovalkey',
    async make(server) {
      const client = valkeyClient(server)
      return { client, close: async () => client.disconnect() }
    },
  },
  {
    name: 'node-redis',
    async make(server) {
      const client = await nodeRedisClient(server)
      return { client, close: () => closeNodeRedis(client) }
    },
  },
]

let server: RedisServer
let admin: Redis
let n = 0
const uniqueKey = (): string => `fam:${++n}:{c}:default`
const request = (key: string, capacity: number) => ({
  keys: [key],
  policies: [resolvePolicy({ capacity, refillPerSecond: 0.001 })],
  cost: 1,
})

interface ScriptStats {
  eval: number
  evalsha: number
  failedEvalsha: number
}

/** Each script command's calls, as `node` counted them since the last CONFIG RESETSTAT. */
async function statsOf(node: Redis): Promise<ScriptStats> {
  const info = await node.info('commandstats')
  const read = (command: string, field: string): number =>
    Number(new RegExp(`^cmdstat_${command}:.*\\b${field}=(\\d+)`, 'm').exec(info)?.[1] ?? 0)
  return { eval: read('eval', 'calls'), evalsha: read('evalsha', 'calls'), failedEvalsha: read('evalsha', 'failed_calls') }
}
const scriptStats = (): Promise<ScriptStats> => statsOf(admin)

beforeAll(async () => {
  server = await startRedis()
  admin = server.client()
})
afterAll(() => server.stop())

describe.each(families)('through $name', (family) => {
  let made: Made
  beforeAll(async () => {
    made = await family.make(server)
  })
  afterAll(() => made.close())
  beforeEach(async () => {
    await admin.config('RESETSTAT')
  })

  it('runs the script by its SHA, and sends it whole once after SCRIPT FLUSH', async () => {
    const store = new RedisStore(made.client, BUDGET)
    const key = uniqueKey()
    expect((await store.check(request(key, 10))).buckets[0]).toMatchObject({ status: 'allowed', remaining: 9 })
    await admin.script('FLUSH')
    await admin.config('RESETSTAT')
    for (let remaining = 8; remaining >= 4; remaining--) {
      expect((await store.check(request(key, 10))).buckets[0]).toMatchObject({ status: 'allowed', remaining })
    }
    const stats = await scriptStats()
    // The first call after the flush is answered NOSCRIPT and sent whole, once; every other is EVALSHA.
    expect(stats.eval).toBe(1)
    expect(stats.failedEvalsha).toBe(1)
    expect(stats.evalsha).toBe(5)
  })

  it('sends the checks of one event-loop turn as one script call per 128', async () => {
    const store = new RedisStore(made.client, BUDGET)
    // The script is loaded and the node's clock known before counting.
    await store.check(request(uniqueKey(), 5))
    await admin.config('RESETSTAT')
    const replies = await Promise.all(Array.from({ length: 200 }, () => store.check(request(uniqueKey(), 5))))
    expect(replies.every((r) => r.admitted && r.buckets[0]!.remaining === 4)).toBe(true)
    expect(await scriptStats()).toEqual({ eval: 0, evalsha: 2, failedEvalsha: 0 })
  })

  it('admits exactly the capacity of 100 concurrent checks on one key', async () => {
    const store = new RedisStore(made.client, BUDGET)
    const key = uniqueKey()
    const replies = await Promise.all(Array.from({ length: 100 }, () => store.check(request(key, 30))))
    expect(replies.filter((r) => r.admitted)).toHaveLength(30)
    expect(replies.slice(0, 30).map((r) => r.buckets[0]!.remaining)).toEqual(Array.from({ length: 30 }, (_, i) => 29 - i))
  })

  it('answers a drained bucket from the deny cache, with no call', async () => {
    const store = new RedisStore(made.client, BUDGET)
    const key = uniqueKey()
    await store.check(request(key, 1))
    expect((await store.check(request(key, 1))).admitted).toBe(false)
    await admin.config('RESETSTAT')
    expect((await store.check(request(key, 1))).admitted).toBe(false)
    expect(await scriptStats()).toEqual({ eval: 0, evalsha: 0, failedEvalsha: 0 })
  })

  it('resets and peeks a client through the limiter controls', async () => {
    const limiter = createLimiter<object>({
      redis: made.client,
      capacity: 3,
      refillPerSecond: 0.001,
      prefix: `famctl${++n}:`,
      timeoutMs: 10_000,
      logger: recordingLogger(),
    })
    const route = limiter.forRoute(undefined, '*', '*')!
    for (let i = 0; i < 3; i++) await route.check({}, view)
    const ref = { ip: IP }
    expect((await limiter.controls.peek(ref))?.remaining).toBe(0)
    await limiter.controls.reset(ref)
    expect((await limiter.controls.peek(ref))?.remaining).toBe(3)
    expect((await route.check({}, view))!.result!.remaining).toBe(2)
  })
})

// The script's reply is integers only: through ioredis and iovalkey the store calls the command's
// `…Buffer` twin, whose reply is not walked for Buffers to turn into strings (profile.md).
describe.each(families.filter((f) => f.name !== 'node-redis'))('the reply, through $name', (family) => {
  it("calls the script's Buffer twin, and reads the same integers", async () => {
    const made = await family.make(server)
    try {
      const client = made.client as Redis
      client.defineCommand(TOKEN_BUCKET_COMMAND, { lua: TOKEN_BUCKET_LUA })
      const twin = Reflect.get(client, `${TOKEN_BUCKET_COMMAND}Buffer`) as (...args: unknown[]) => Promise<unknown>
      const plain = Reflect.get(client, TOKEN_BUCKET_COMMAND) as (...args: unknown[]) => Promise<unknown>
      const calls = { twin: 0, plain: 0 }
      Reflect.set(client, `${TOKEN_BUCKET_COMMAND}Buffer`, function (this: unknown, ...args: unknown[]) {
        calls.twin++
        return twin.apply(this, args)
      })
      Reflect.set(client, TOKEN_BUCKET_COMMAND, function (this: unknown, ...args: unknown[]) {
        calls.plain++
        return plain.apply(this, args)
      })
      const store = new RedisStore(made.client, BUDGET)
      const key = uniqueKey()
      for (let remaining = 2; remaining >= 0; remaining--) {
        expect((await store.check(request(key, 3))).buckets[0]).toMatchObject({ status: 'allowed', remaining })
      }
      // The first refusal is Redis's too (the deny cache learns from it).
      expect(await store.check(request(key, 3))).toMatchObject({ admitted: false })
      expect(calls).toEqual({ twin: 4, plain: 0 })
    } finally {
      await made.close()
    }
  })
})

describe.each(families)('a closed client, through $name', (family) => {
  it('is refused unsent and answered by the failure mode', async () => {
    const made = await family.make(server)
    const options = { redis: made.client, capacity: 3, refillPerSecond: 0.001, prefix: `famdown${++n}:`, logger: recordingLogger() }
    const route = createLimiter<object>({ ...options, failureMode: 'deny', timeoutMs: 5_000 }).forRoute(undefined, '*', '*')!
    expect((await route.check({}, view))!.outcome).toBe('allowed')
    await made.close()
    await admin.config('RESETSTAT')
    const started = performance.now()
    const decision = (await route.check({}, view))!
    expect(decision.outcome).toBe('unavailable')
    expect(decision.deny?.status).toBe(503)
    // At once, not at the 5 s budget: a closed client is refused before anything is queued.
    expect(performance.now() - started).toBeLessThan(2_500)
    expect(await scriptStats()).toEqual({ eval: 0, evalsha: 0, failedEvalsha: 0 })
  })
})

describe.each(families)('a Redis that dies and comes back, through $name', (family) => {
  it('is refused unsent while the client reconnects, then answers from Redis again', async () => {
    const own = await startRedis()
    const made = await family.make(own)
    // Every family's client emits these two, as ioredis and node-redis both document them.
    const events = made.client as unknown as { once(event: 'ready' | 'reconnecting', listener: () => void): unknown }
    try {
      const options = { redis: made.client, capacity: 3, refillPerSecond: 0.001, prefix: `famdie${++n}:`, logger: recordingLogger() }
      const route = createLimiter<object>({ ...options, failureMode: 'deny', timeoutMs: 5_000 }).forRoute(undefined, '*', '*')!
      expect((await route.check({}, view))!.result!.remaining).toBe(2)
      const reconnecting = new Promise<void>((resolve) => events.once('reconnecting', resolve))
      await own.kill()
      await reconnecting
      const started = performance.now()
      const decision = (await route.check({}, view))!
      expect(decision.outcome).toBe('unavailable')
      // At once, not at the 5 s budget, and nothing queued to be sent on reconnect.
      expect(performance.now() - started).toBeLessThan(2_500)
      const ready = new Promise<void>((resolve) => events.once('ready', resolve))
      await own.restart()
      await ready
      // A new, empty Redis without the script: NOSCRIPT, EVAL, and a full bucket less one.
      const back = (await route.check({}, view))!
      expect(back.outcome).toBe('allowed')
      expect(back.result!.remaining).toBe(2)
      expect(await own.client().keys(`${options.prefix}*`)).toHaveLength(1)
    } finally {
      await made.close()
      await own.stop()
    }
  }, 30_000)
})

const clusterFamilies: { name: string; make(cluster: RedisClusterServer): Promise<Made> }[] = [
  {
    name: 'node-redis',
    async make(cluster) {
      const client = await nodeRedisCluster(cluster)
      return { client, close: () => closeNodeRedis(client) }
    },
  },
  {
    name: 'iovalkey',
    async make(cluster) {
      const client = valkeyCluster(cluster)
      return { client, close: async () => client.disconnect() }
    },
  },
]

describe.each(clusterFamilies)('a Redis Cluster through $name', (family) => {
  let cluster: RedisClusterServer
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 })
  }, 60_000)
  afterAll(() => cluster.stop())

  it("runs the script by its SHA on the key's node, and sends it whole once after SCRIPT FLUSH", async () => {
    const made = await family.make(cluster)
    try {
      const store = new RedisStore(made.client, BUDGET)
      const nodes = cluster.ports.map((port) => cluster.node(port))
      const keys = Array.from({ length: 6 }, () => uniqueKey())
      for (const key of keys) expect((await store.check(request(key, 10))).buckets[0]!.remaining).toBe(9)
      await Promise.all(
        nodes.map(async (node) => {
          await node.script('FLUSH')
          await node.config('RESETSTAT')
        }),
      )
      const key = keys[0]!
      for (let remaining = 8; remaining >= 4; remaining--) {
        expect((await store.check(request(key, 10))).buckets[0]).toMatchObject({ status: 'allowed', remaining })
      }
      const ownerPort = await cluster.ownerOf(calculateSlot(key))
      // The breaker and the batcher's group of a key are its slot's master, by the client's own map.
      expect(adapterOf(made.client).nodeOfSlot(calculateSlot(key))).toBe(`127.0.0.1:${ownerPort}`)
      const owner = cluster.node(ownerPort)
      expect(await statsOf(owner)).toEqual({ eval: 1, evalsha: 5, failedEvalsha: 1 })
      // Nothing went anywhere else.
      const all = await Promise.all(nodes.map(statsOf))
      expect(all.reduce((sum, s) => sum + s.eval + s.evalsha, 0)).toBe(6)
    } finally {
      await made.close()
    }
  }, 30_000)
})
