import type { RedisClient } from '@sluice/core'
import { startRedis, startRedisCluster, startRedisSentinel } from '@sluice/harness'
import { createSentinel } from 'redis'
import { closeNodeRedis, nodeRedisClient, nodeRedisCluster, valkeyClient, valkeyCluster, valkeySentinel } from './redis-clients.js'

/**
 * Where the conformance suites keep their buckets: one Redis and a three-master Redis Cluster
 * through ioredis, both through node-redis, one Redis through iovalkey, and a primary behind
 * three Sentinels through ioredis and node-redis (`createSentinel`); a Cluster and a Sentinel
 * primary through iovalkey too, for the store contract only. Each started server is the suite's
 * own, stopped with `stop`.
 */
export interface RedisBackend {
  readonly client: RedisClient
  /** Every key matching `pattern`, on every node. */
  keys(pattern: string): Promise<string[]>
  stop(): Promise<void>
}

export interface RedisBackendSpec {
  readonly name: string
  /**
   * A further topology of a client family already covered elsewhere: only the store contract
   * (conformance.test.ts) runs on it, through one adapter, so CI stays small.
   */
  readonly contractOnly?: true
  start(): Promise<RedisBackend>
}

export const redisBackends: readonly RedisBackendSpec[] = [
  {
    name: 'one Redis',
    async start(): Promise<RedisBackend> {
      const server = await startRedis()
      const client = server.client()
      return { client, keys: (pattern) => client.keys(pattern), stop: () => server.stop() }
    },
  },
  {
    name: 'a Redis Cluster',
    async start(): Promise<RedisBackend> {
      const cluster = await startRedisCluster({ masters: 3 })
      const nodes = cluster.ports.map((port) => cluster.node(port))
      return {
        client: cluster.client(),
        keys: async (pattern) => (await Promise.all(nodes.map((node) => node.keys(pattern)))).flat(),
        stop: () => cluster.stop(),
      }
    },
  },
  {
    name: 'one Redis through node-redis',
    async start(): Promise<RedisBackend> {
      const server = await startRedis()
      const client = await nodeRedisClient(server)
      const inspector = server.client()
      return {
        client,
        keys: (pattern) => inspector.keys(pattern),
        stop: async () => {
          await closeNodeRedis(client)
          await server.stop()
        },
      }
    },
  },
  {
    name: 'a Redis Cluster through node-redis',
    async start(): Promise<RedisBackend> {
      const cluster = await startRedisCluster({ masters: 3 })
      const client = await nodeRedisCluster(cluster)
      const nodes = cluster.ports.map((port) => cluster.node(port))
      return {
        client,
        keys: async (pattern) => (await Promise.all(nodes.map((node) => node.keys(pattern)))).flat(),
        stop: async () => {
          await closeNodeRedis(client)
          await cluster.stop()
        },
      }
    },
  },
  {
    name: 'one Redis through iovalkey',
    async start(): Promise<RedisBackend> {
      const server = await startRedis()
      const client = valkeyClient(server)
      return {
        client,
        keys: (pattern) => client.keys(pattern),
        stop: async () => {
          client.disconnect()
          await server.stop()
        },
      }
    },
  },
  {
    name: 'Redis Sentinel through ioredis',
    async start(): Promise<RedisBackend> {
      const sentinel = await startRedisSentinel()
      const client = sentinel.client()
      const primary = sentinel.node(await sentinel.primaryPort())
      return { client, keys: (pattern) => primary.keys(pattern), stop: () => sentinel.stop() }
    },
  },
  {
    name: 'Redis Sentinel through node-redis',
    async start(): Promise<RedisBackend> {
      const sentinel = await startRedisSentinel()
      // As docs/redis.md recommends: the primary's errors reach the store.
      const client = createSentinel({ name: sentinel.name, sentinelRootNodes: [...sentinel.sentinels], passthroughClientErrorEvents: true })
      client.on('error', () => {})
      await client.connect()
      const primary = sentinel.node(await sentinel.primaryPort())
      return {
        client,
        keys: (pattern) => primary.keys(pattern),
        stop: async () => {
          await client.destroy()
          await sentinel.stop()
        },
      }
    },
  },
  {
    name: 'a Redis Cluster through iovalkey',
    contractOnly: true,
    async start(): Promise<RedisBackend> {
      const cluster = await startRedisCluster({ masters: 3 })
      const client = valkeyCluster(cluster)
      const nodes = cluster.ports.map((port) => cluster.node(port))
      return {
        client,
        keys: async (pattern) => (await Promise.all(nodes.map((node) => node.keys(pattern)))).flat(),
        stop: async () => {
          client.disconnect()
          await cluster.stop()
        },
      }
    },
  },
  {
    name: 'Redis Sentinel through iovalkey',
    contractOnly: true,
    async start(): Promise<RedisBackend> {
      const sentinel = await startRedisSentinel()
      const client = valkeySentinel(sentinel)
      const primary = sentinel.node(await sentinel.primaryPort())
      return {
        client,
        keys: (pattern) => primary.keys(pattern),
        stop: async () => {
          client.disconnect()
          await sentinel.stop()
        },
      }
    },
  },
]

/** The backends every suite runs on, through both adapters. */
export const fullRedisBackends: readonly RedisBackendSpec[] = redisBackends.filter((backend) => backend.contractOnly !== true)
