import type { RedisClient, StoreClient } from '../../types.js'
import { invalid } from '../../validate.js'
import { ioRedisAdapter, isIoRedis } from './ioredis.js'
import { isNodeRedis, nodeRedisAdapter } from './node-redis.js'
import { isNodeRedisCluster, nodeRedisClusterAdapter } from './node-redis-cluster.js'
import { isNodeRedisSentinel, nodeRedisSentinelAdapter } from './node-redis-sentinel.js'

/** What an error says is accepted as a Redis client. */
export const ACCEPTED_CLIENTS =
  'an ioredis Redis or Cluster, an iovalkey client, or a node-redis client, cluster or Sentinel client (createClient, createCluster or createSentinel from the redis package, v5)'

/**
 * Whether `value` is a client Sluice can speak to, and which family: told apart here, once, when
 * a store is made; nothing downstream asks again.
 */
export function familyOf(value: unknown): StoreClient['family'] | undefined {
  if (value === null || typeof value !== 'object') return undefined
  if (isIoRedis(value)) return 'ioredis'
  if (isNodeRedisSentinel(value) || isNodeRedis(value) || isNodeRedisCluster(value)) return 'node-redis'
  return undefined
}

/** Refuse, with a coded option error naming `option`, what is not an accepted client. */
export function assertRedisClient(value: unknown, option: string): asserts value is RedisClient {
  if (familyOf(value) === undefined) throw invalid(option, value, `expected ${ACCEPTED_CLIENTS}`)
}

const adapters = new WeakMap<object, StoreClient>()

/** The one adapter of `client`, made on first use (ioredis's script command is defined then). */
export function adapterOf(client: RedisClient): StoreClient {
  let adapter = adapters.get(client)
  if (adapter === undefined) {
    // A Sentinel client looks like a plain one (evalSha, isReady): told apart first.
    adapter = isNodeRedisSentinel(client)
      ? nodeRedisSentinelAdapter(client)
      : isNodeRedis(client)
        ? nodeRedisAdapter(client)
        : isNodeRedisCluster(client)
          ? nodeRedisClusterAdapter(client)
          : ioRedisAdapter(client)
    adapters.set(client, adapter)
  }
  return adapter
}
