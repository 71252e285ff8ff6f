import type { RedisServer } from '@sluice/harness'
import { Redis as Valkey } from 'iovalkey'
import { createClient } from 'redis'

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

/** An iovalkey client (the Valkey fork of ioredis), as an app makes it. */
export function valkeyClient(server: Pick<RedisServer, 'port'>): Valkey {
  const client = new Valkey({ host: '127.0.0.1', port: server.port })
  client.on('error', () => {})
  return client
}

/** Close a node-redis client if it is still open. */
export async function closeNodeRedis(client: NodeRedis): Promise<void> {
  if (client.isOpen) await client.close()
}
