import {
  type LimiterOptions,
  PROBLEM_CONTENT_TYPE,
  type RateLimitResult,
  type RequestView,
  type SluiceLogger,
  type SluiceStats,
  createLimiter,
} from '@sluice/core'
import type { Request, RequestHandler } from 'express'
import { warnIfTrustingEveryProxy } from './trust-proxy.js'

/** Options of `@sluice/express`: exactly the core's options, with `Request` as the request type. */
export type SluiceExpressOptions = LimiterOptions<Request>

/** The middleware, with the limiter's counters for metrics. */
export type SluiceMiddleware = RequestHandler & {
  /** Answers by source, store errors, circuit state, shadow denials. */
  stats(): SluiceStats
}

declare global {
  // Express's own extension point: @types/express merges `Express.Request` into its Request.
  namespace Express {
    interface Request {
      /** The rate-limit check of this request; undefined where no Sluice middleware ran. */
      rateLimit?: RateLimitResult
    }
  }
}

export type { FailureMode, PolicyResult, RateLimitResult, SluiceStats } from '@sluice/core'

// Express has no logger of its own; without one, degraded-mode answers would pass silently.
// The core already throttles these, so the process warning channel is not flooded.
const processWarnings: SluiceLogger = {
  warn: (details, message) => process.emitWarning(message, { code: 'SLUICE_DEGRADED', detail: JSON.stringify(details) }),
}

function viewOf(req: Request): RequestView {
  return { ip: req.ip, header: (name: string) => req.headers[name] }
}

/**
 * The Sluice rate limiter as Express 5 middleware: `app.use(rateLimit({...}))` for every route,
 * or `app.get(path, rateLimit({...}), handler)` for one. Options are checked here, so a mistake
 * throws at start-up rather than on the first request.
 *
 * Each call is a limiter of its own; two calls with the same `prefix` and policy `name` on one
 * Redis share their buckets, so give a route's own policy its own `name`.
 */
export function rateLimit(options: SluiceExpressOptions): SluiceMiddleware {
  const limiter = createLimiter<Request>({ logger: processWarnings, ...options })
  const route = limiter.forRoute(undefined, '*', '*')!
  // The app (and its trust proxy setting) is only known once a request arrives.
  let checkedApp = false

  const middleware: RequestHandler = async (req, res, next) => {
    if (!checkedApp) {
      checkedApp = true
      warnIfTrustingEveryProxy(req.app, limiter.options.key)
    }
    const decision = await route.check(req, viewOf(req))
    req.rateLimit = decision.result
    res.set(decision.headers)
    if (decision.deny === undefined) return next()
    // Express appends `; charset=utf-8` when it sends the string body, as Fastify does.
    res.status(decision.deny.status).type(PROBLEM_CONTENT_TYPE).json(decision.deny)
  }
  return Object.assign(middleware, { stats: () => limiter.stats() })
}

export default rateLimit
