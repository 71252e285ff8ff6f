import { Cluster, Redis } from 'ioredis'
import type { DemoConfig } from './config.js'

/** The replica's one Redis connection: a plain client, or a Cluster seeded from REDIS_URL. */
export function connectRedis(config: DemoConfig): Redis | Cluster | undefined {
  if (config.redisUrl === undefined) return undefined
  if (!config.redisCluster) return new Redis(config.redisUrl, { connectionName: config.instanceId })
  const seed = new URL(config.redisUrl)
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    redisOptions: { connectionName: config.instanceId, password: seed.password || undefined },
  })
}
