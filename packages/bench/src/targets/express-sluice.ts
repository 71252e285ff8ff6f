import { rateLimit } from '@sluice/express'
import { KEY_HEADER, type TargetOptions, type TargetServer } from './catalog.js'
import { expressTarget } from './express-app.js'
import { redisClient } from './redis-client.js'

/** Express 5 with @sluice/express on Redis: `app.use(rateLimit({ redis, capacity, refillPerSecond }))`. */
export function build(options: TargetOptions): Promise<TargetServer> {
  const redis = redisClient(options.redisPort)
  const { capacity, refillPerSecond } = options.limits
  const middleware = rateLimit({ redis, capacity, refillPerSecond, key: { header: KEY_HEADER } })
  return expressTarget((app) => void app.use(middleware), {
    redis,
    counters: () => {
      const { storeAnswers, degradedAnswers, storeErrors } = middleware.stats()
      return { storeAnswers, degradedAnswers, storeErrors }
    },
  })
}
