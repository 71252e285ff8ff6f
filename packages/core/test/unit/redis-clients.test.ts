import { Redis } from 'ioredis'
import { Redis as Valkey } from 'iovalkey'
import { createClient, createCluster, createSentinel } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { createLimiter } from '../../src/adapter.js'
import { ErrorCodes, SluiceError, SluiceOptionError } from '../../src/errors.js'
import { resolvePolicy } from '../../src/policies.js'
import { adapterOf, familyOf } from '../../src/stores/clients/index.js'
import { RedisStore } from '../../src/stores/redis-store.js'
import type { LimiterOptions, RedisClient } from '../../src/types.js'

// None of these is ever connected, and no command is sent: detection reads only what a client is.
const ioredis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false })
const valkey = new Valkey({ port: 1, lazyConnect: true, enableOfflineQueue: false })
const nodeRedis = createClient({ url: 'redis://127.0.0.1:1' })
const nodeRedisCluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] })
const nodeRedisSentinel = createSentinel({ name: 'primary', sentinelRootNodes: [{ host: '127.0.0.1', port: 1 }] })
afterAll(() => {
  ioredis.disconnect()
  valkey.disconnect()
})

function optionError(run: () => unknown): SluiceOptionError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceOptionError)
    return error as SluiceOptionError
  }
  throw new Error('accepted')
}

const limiterOn = (redis: unknown) => createLimiter({ capacity: 1, refillPerSecond: 1, redis } as unknown as LimiterOptions<unknown>)

describe('the Redis client families', () => {
  it.each([
    ['an ioredis Redis', ioredis, 'ioredis'],
    ['an iovalkey client', valkey, 'ioredis'],
    ['a node-redis client', nodeRedis, 'node-redis'],
    ['a node-redis cluster', nodeRedisCluster, 'node-redis'],
    ['a node-redis Sentinel client', nodeRedisSentinel, 'node-redis'],
  ] as const)('tells %s apart, once, at registration', (_, client, family) => {
    expect(familyOf(client)).toBe(family)
    expect(adapterOf(client as RedisClient).family).toBe(family)
    // One adapter per client, however many stores share it.
    expect(adapterOf(client as RedisClient)).toBe(adapterOf(client as RedisClient))
    expect(() => limiterOn(client)).not.toThrow()
  })

  it.each([
    ['a URL', 'redis://127.0.0.1:6380'],
    ['null', null],
    ['an empty object', {}],
    ['a function', () => {}],
    ['half an ioredis client', { defineCommand() {} }],
    ['half a node-redis client', { evalSha() {}, isOpen: true }],
    ['half a node-redis cluster', { evalSha() {}, masters: [] }],
    ['options for a client', { host: '127.0.0.1', port: 6380 }],
  ])('refuses %s with a coded option error naming what is accepted', (_, value) => {
    const error = optionError(() => limiterOn(value))
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION)
    expect(error.option).toBe('redis')
    expect(error.message).toContain('`redis`')
    for (const accepted of [
      'ioredis Redis or Cluster',
      'iovalkey',
      'node-redis client, cluster or Sentinel client (createClient, createCluster or createSentinel',
    ]) {
      expect(error.message).toContain(accepted)
    }
  })

  it('takes a node-redis Sentinel client as one node, waited for until the app connects it', () => {
    const adapter = adapterOf(nodeRedisSentinel as RedisClient)
    expect(adapter.client).toBe(nodeRedisSentinel)
    expect(adapter.isCluster).toBe(false)
    // Not connected by the app: waited for, never connected by Sluice.
    expect(adapter.status()).toBe('not connected')
  })

  it('refuses the same values as a RedisStore client, naming `client`', () => {
    const error = optionError(() => new RedisStore({} as RedisClient))
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION)
    expect(error.option).toBe('client')
    expect(error.message).toContain('node-redis')
  })

  it('never connects a node-redis client the app has not: a check waits for it, then gives up unsent', async () => {
    const store = new RedisStore(nodeRedis, { timeoutMs: 20 })
    const policy = resolvePolicy({ capacity: 1, refillPerSecond: 1 })
    const error = await store.check({ keys: ['k'], policies: [policy], cost: 1 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SluiceError)
    expect((error as SluiceError).code).toBe(ErrorCodes.STORE_UNAVAILABLE)
    expect((error as SluiceError).message).toContain('not connected')
    expect(nodeRedis.isOpen).toBe(false)
  })
})
