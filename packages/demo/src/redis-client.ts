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

/**
 * Wait (bounded) until the client is ready, so a replica reports healthy only once its first
 * checks can reach Redis (a cluster client must learn the slot map first). A Redis that is down
 * at start-up does not keep the replica down: past the bound it starts and degrades.
 */
export async function untilReady(redis: Redis | Cluster, timeoutMs = 5_000): Promise<boolean> {
  if (redis.status === 'ready') return true
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs)
    const onReady = (): void => done(true)
    function done(ready: boolean): void {
      clearTimeout(timer)
      redis.off('ready', onReady)
      resolve(ready)
    }
    redis.once('ready', onReady)
  })
}
