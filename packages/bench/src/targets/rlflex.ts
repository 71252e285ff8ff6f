import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { KEY_HEADER, type TargetOptions, type TargetServer, windowSeconds } from './catalog.js'
import { fastifyTarget } from './fastify-app.js'
import { redisClient } from './redis-client.js'

/**
 * Fastify with rate-limiter-flexible's RateLimiterRedis in an `onRequest` hook, the way its
 * README wires it into a framework: consume one point, answer 429 when it rejects.
 */
export function build(options: TargetOptions): Promise<TargetServer> {
  const redis = redisClient(options.redisPort)
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    useRedisPackage: false,
    points: options.limits.capacity,
    duration: windowSeconds(options.limits),
  })
  return fastifyTarget(
    (app) => {
      app.addHook('onRequest', async (request, reply) => {
        const header = request.headers[KEY_HEADER]
        try {
          await limiter.consume(typeof header === 'string' ? header : request.ip)
        } catch (rejection) {
          // It rejects with a RateLimiterRes when over the limit, and with an Error when Redis fails.
          if (!(rejection instanceof RateLimiterRes)) throw rejection
          reply.header('retry-after', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))))
          return reply.code(429).send({ statusCode: 429, error: 'Too Many Requests' })
        }
      })
    },
    { redis },
  )
}
