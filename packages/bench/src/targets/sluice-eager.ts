import { RedisStore } from '@sluice/core'
import rateLimit from '@sluice/fastify'
import { KEY_HEADER, type TargetOptions, type TargetServer } from './catalog.js'
import { fastifyTarget } from './fastify-app.js'
import { redisClient } from './redis-client.js'

/**
 * Fastify with @sluice/fastify on a RedisStore that sends each batch as soon as the last one is
 * answered (`batchIntervalMs: 0`): the lowest latency, for its price in CPU beside the default.
 */
export function build(options: TargetOptions): Promise<TargetServer> {
  const redis = redisClient(options.redisPort)
  const { capacity, refillPerSecond } = options.limits
  const store = new RedisStore(redis, { batchIntervalMs: 0 })
  return fastifyTarget(
    async (app) => {
      await app.register(rateLimit, { store, capacity, refillPerSecond, key: { header: KEY_HEADER } })
    },
    {
      redis,
      counters: (app) => {
        const { storeAnswers, degradedAnswers, storeErrors } = app.sluice.stats()
        return { storeAnswers, degradedAnswers, storeErrors }
      },
    },
  )
}
