import { KEY_HEADER, type LimiterCounters, type TargetOptions, type TargetServer, TargetUnavailableError } from './catalog.js'
import { expressTarget } from './express-app.js'
import type { RequestHandler } from './express-module.js'
import { redisClient } from './redis-client.js'

/** The part of @sluice/express this target uses. */
interface SluiceExpress {
  rateLimit(options: {
    redis: unknown
    capacity: number
    refillPerSecond: number
    key: { header: string }
  }): RequestHandler & { stats?: () => LimiterCounters }
}

// A specifier in a variable is not resolved by the type checker, so the benchmark still
// compiles and runs its other scenarios on a checkout where @sluice/express is not written yet.
const SPECIFIER: string = '@sluice/express'

async function load(): Promise<SluiceExpress> {
  let loaded: Partial<SluiceExpress>
  try {
    loaded = (await import(SPECIFIER)) as Partial<SluiceExpress>
  } catch (error) {
    throw new TargetUnavailableError(`@sluice/express could not be loaded (${(error as Error).message.split('\n')[0]})`, { cause: error })
  }
  if (typeof loaded.rateLimit !== 'function') throw new TargetUnavailableError('@sluice/express does not export rateLimit() yet')
  return loaded as SluiceExpress
}

/** Express 5 with @sluice/express on Redis: `app.use(rateLimit({ redis, capacity, refillPerSecond }))`. */
export async function build(options: TargetOptions): Promise<TargetServer> {
  const { rateLimit } = await load()
  const redis = redisClient(options.redisPort)
  const { capacity, refillPerSecond } = options.limits
  const middleware = rateLimit({ redis, capacity, refillPerSecond, key: { header: KEY_HEADER } })
  return expressTarget(
    (app) => {
      app.use(middleware)
    },
    redis,
    () => {
      if (typeof middleware.stats !== 'function') return undefined
      const { storeAnswers, degradedAnswers, storeErrors } = middleware.stats()
      return { storeAnswers, degradedAnswers, storeErrors }
    },
  )
}
