import rateLimit from '@sluice/fastify'
import { KEY_HEADER, type TargetOptions, type TargetServer } from './catalog.js'
import { fastifyTarget } from './fastify-app.js'
import { redisClient } from './redis-client.js'

/** Fastify with @sluice/fastify on Redis, with its defaults apart from the policy and the key. */
export function build(options: TargetOptions): Promise<TargetServer> {
  const redis = redisClient(options.redisPort)
  const { capacity, refillPerSecond } = options.limits
  return fastifyTarget(
    async (app) => {
      await app.register(rateLimit, { redis, capacity, refillPerSecond, key: { header: KEY_HEADER } })
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
