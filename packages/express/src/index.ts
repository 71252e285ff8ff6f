import type { LimiterOptions, RateLimitResult, RouteLimitOptions, SluiceStats } from '@sluice/core'
import { createLimiter, PROBLEM_CONTENT_TYPE, type RouteLimiter, requestView } from '@sluice/core/adapter'
import type { Request, RequestHandler } from 'express'
import { warnIfTrustingEveryProxy } from './trust-proxy.js'

/** Options of `@sluice/express`: exactly the core's options, with `Request` as the request type. */
export type SluiceExpressOptions = LimiterOptions<Request>

/** A route override for `limit.route(id, override)`: the same shape as Fastify's `config.rateLimit`. */
export type SluiceExpressRouteOptions = RouteLimitOptions<Request>

/** The middleware, with the limiter's counters and per-route variants. */
export type SluiceMiddleware = RequestHandler & {
  /** Answers by source, store errors, circuit state, shadow denials. */
  stats(): SluiceStats
  /**
   * The same limiter with a route's own override, as Fastify's `config.rateLimit`: an override
   * with `capacity`, `refillPerSecond`, `name` or `policies` gets buckets of its own, named after
   * `id` (use the route, e.g. `'GET /search'`, the same on every replica); a `cost`- or `key`-only
   * override draws from this limiter's buckets.
   */
  route(id: string, override: SluiceExpressRouteOptions): RequestHandler
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

/**
 * The Sluice rate limiter as Express 5 middleware: `app.use(rateLimit({...}))` for every route,
 * or `app.get(path, rateLimit({...}), handler)` for one. Options are checked here, so a mistake
 * throws at start-up rather than on the first request.
 *
 * Each call is a limiter of its own; two calls with the same `prefix` and policy `name` on one
 * Redis share their buckets, so give a separate limiter its own `name` (or use `.route()`).
 */
export function rateLimit(options: SluiceExpressOptions): SluiceMiddleware {
  const limiter = createLimiter<Request>(options)

  const handlerFor = (route: RouteLimiter<Request>): RequestHandler => {
    // Express 5 forwards a rejected promise to `next`, so errors reach the app's error handler.
    return async (req, res, next) => {
      warnIfTrustingEveryProxy(req.app, limiter.options.key)
      const decision = await route.check(req, requestView(req))
      req.rateLimit = decision.result
      res.set(decision.headers)
      if (decision.deny === undefined) return next()
      // Express appends `; charset=utf-8` to the type, as Fastify does.
      res.status(decision.deny.status).type(PROBLEM_CONTENT_TYPE).json(decision.deny)
    }
  }

  return Object.assign(handlerFor(limiter.forRoute(undefined, '*', '*')!), {
    stats: () => limiter.stats(),
    route(id: string, override: SluiceExpressRouteOptions): RequestHandler {
      const route = limiter.forRoute(override, '', id)
      return route === null ? (_req, _res, next) => next() : handlerFor(route)
    },
  })
}

export default rateLimit
