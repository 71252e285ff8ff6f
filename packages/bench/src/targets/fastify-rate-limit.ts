import fastifyRateLimit from '@fastify/rate-limit'
import { KEY_HEADER, type TargetOptions, type TargetServer, windowSeconds } from './catalog.js'
import { fastifyTarget } from './fastify-app.js'
import { redisClient } from './redis-client.js'

/** Fastify with @fastify/rate-limit and its Redis store (the `redis` option), defaults otherwise. */
export function build(options: TargetOptions): Promise<TargetServer> {
  const redis = redisClient(options.redisPort)
  return fastifyTarget(
    async (app) => {
      await app.register(fastifyRateLimit, {
        redis,
        max: options.limits.capacity,
        timeWindow: windowSeconds(options.limits) * 1000,
        keyGenerator: (request) => String(request.headers[KEY_HEADER] ?? request.ip),
      })
    },
    { redis },
  )
}
