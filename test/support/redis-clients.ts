import type { RedisClusterServer, RedisSentinelServer, RedisServer } from '@sluice/harness'
import { Redis as Valkey, Cluster as ValkeyCluster } from 'iovalkey'
import { createClient, createCluster } from 'redis'

/**
 * The other client families an app may already hold, each connected to a harness-started
 * redis-server, for suites that run on every family (ioredis is the harness's own `client()`).
 * Each closes with the returned `close`.
 */

export type NodeRedis = ReturnType<typeof createClient>

/** A node-redis (`redis` v5) client, connected and ready, its errors kept off the process. */
export async function nodeRedisClient(server: Pick<RedisServer, 'url'>): Promise<NodeRedis> {
  const client = createClient({ url: server.url })
  // node-redis throws an 'error' nobody listens to; a test that stops the server expects them.
  client.on('error', () => {})
  await client.connect()
  return client
}

export type NodeRedisCluster = ReturnType<typeof createCluster>

/** A node-redis cluster client on every node of `cluster`, connected, its errors kept off the process. */
export async function nodeRedisCluster(cluster: Pick<RedisClusterServer, 'ports'>): Promise<NodeRedisCluster> {
  const client = createCluster({ rootNodes: cluster.ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })) })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** An iovalkey client (the Valkey fork of ioredis), as an app makes it. */
export function valkeyClient(server: Pick<RedisServer, 'port'>): Valkey {
  const client = new Valkey({ host: '127.0.0.1', port: server.port })
  client.on('error', () => {})
  return client
}

/** Close a node-redis client or cluster if it is still open. */
export async function closeNodeRedis(client: NodeRedis | NodeRedisCluster): Promise<void> {
  if (client.isOpen) await client.close()
}

/** An iovalkey Cluster on every node of `cluster`, as an app makes it. */
export function valkeyCluster(cluster: Pick<RedisClusterServer, 'ports'>): ValkeyCluster {
  const client = new ValkeyCluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })))
  client.on('error', () => {})
  return client
}

/** An iovalkey client that finds the primary through `sentinel`'s Sentinels, as an app makes it. */
export function valkeySentinel(sentinel: Pick<RedisSentinelServer, 'name' | 'sentinels'>): Valkey {
  const client = new Valkey({ sentinels: [...sentinel.sentinels], name: sentinel.name })
  client.on('error', () => {})
  return client
}
