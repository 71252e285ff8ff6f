import { RedisStore, type RedisStoreOptions } from '@sluice/core'
import rateLimit from '@sluice/fastify'
import { KEY_HEADER, type TargetOptions, type TargetServer } from './catalog.js'
import { fastifyTarget } from './fastify-app.js'
import { redisClient } from './redis-client.js'

/**
 * Fastify with @sluice/fastify on Redis, with its defaults apart from the policy and the key (and
 * the store's, when `store` is given).
 */
export function sluiceTarget(options: TargetOptions, store: RedisStoreOptions = {}): Promise<TargetServer> {
  const redis = redisClient(options.redisPort)
  const { capacity, refillPerSecond } = options.limits
  return fastifyTarget(
    async (app) => {
      await app.register(rateLimit, { store: new RedisStore(redis, store), capacity, refillPerSecond, key: { header: KEY_HEADER } })
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

export const build = (options: TargetOptions): Promise<TargetServer> => sluiceTarget(options)
