import { type LimiterOptions, type RateLimitResult, type RouteLimitOptions, SluiceDeniedError, WarningCodes } from '@sluice/core'
import {
  createLimiter,
  type LimiterControls,
  onResponseEnd,
  permissiveTrustProxyMessage,
  type RequestView,
  type RouteLimiter,
  requestView,
  trustsEveryone,
  warn,
} from '@sluice/core/adapter'
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express'
import { OverrideFinder } from './override-finder.js'
import { RouteId } from './route-id.js'

/** Options of `@sluice/express`: exactly the core's options, with `Request` as the request type. */
export type SluiceExpressOptions = LimiterOptions<Request, Response>

/** A route override for `limit.route(id, override)`: the same shape as Fastify's `config.rateLimit`. */
export type SluiceExpressRouteOptions = RouteLimitOptions<Request, Response>

/** The middleware, with the limiter's controls (documented on `LimiterControls`) and per-route variants. */
export type SluiceMiddleware = RequestHandler &
  LimiterControls<Request> & {
    /**
     * The same limiter with a route's own override, as Fastify's `config.rateLimit`: an override
     * with `capacity`, `refillPerSecond`, `name` or `policies` gets buckets of its own, named after
     * `id` (use the route, e.g. `'GET /search'`, the same on every replica); a `cost`- or `key`-only
     * override draws from this limiter's buckets.
     */
    route(id: string, override: SluiceExpressRouteOptions | false): RequestHandler
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

export type { ClientRef, FailureMode, ManualCheckOptions, PolicyResult, RateLimitResult, SluiceStats } from '@sluice/core'

/**
 * The Sluice rate limiter as Express 5 middleware: `app.use(limit)` for every route, or
 * `app.get(path, limit, handler)` for one; `limit.route('GET /search', override)` gives a route
 * its own override (or `false` to exempt it), and the app-wide middleware then leaves that route
 * to it, so no request is checked twice. Options are checked here, so a mistake throws at
 * start-up rather than on the first request.
 *
 * Each call is a limiter of its own; two calls with the same `prefix` and policy `name` on one
 * Redis share their buckets, so give a separate limiter its own `name` (or use `.route()`).
 */
export function rateLimit(options: SluiceExpressOptions): SluiceMiddleware {
  const limiter = createLimiter<Request, Response>(options)
  const { onDeny } = limiter.options
  const trustChecked = new WeakSet<Application>()
  // What this limiter did with each request, so that none is checked twice: the app-wide
  // middleware ran (and either checked it or left it to a route), a route's own middleware ran.
  const appWide = new WeakSet<Request>()
  const appWideChecked = new WeakSet<Request>()
  const routeRan = new WeakSet<Request>()

  // Each route's warnings are said once per route, not once per limiter: a second misnamed
  // route is a mistake of its own.
  const warnRoute = (override: Override, kind: string, details: object, message: string): void => {
    if (override.warned.has(kind)) return
    override.warned.add(kind)
    warn(limiter.options.logger, WarningCodes.ROUTE_MISMATCH, { route: override.id.id, reason: kind, ...details }, message)
  }
  const finder = new OverrideFinder<Override>(({ tag, actual }) =>
    warnRoute(
      tag,
      'mismatch',
      { actual },
      `@sluice: limit.route('${tag.id.id}') is on a route that a request for '${tag.id.id}' does not reach (seen: ${actual}), so the app-wide limit checks its requests instead of the override; name the route by its method and full path (with any mount path), and declare it before routes that would answer for it`,
    ),
  )

  const check = async (route: RouteLimiter<Request, Response>, req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (route.keysByIp && !trustChecked.has(req.app)) {
      // Express's trust-proxy setting is only known once a request shows the app.
      trustChecked.add(req.app)
      if (trustsEveryone(req.app.get('trust proxy fn'))) {
        limiter.warnOnce(
          WarningCodes.PERMISSIVE_TRUST_PROXY,
          { setting: 'trust proxy' },
          permissiveTrustProxyMessage("Express's 'trust proxy'"),
        )
      }
    }
    const decision = await route.check(req, requestView(req, req.app.get('trust proxy fn'), "Express's 'trust proxy'"))
    if (decision === undefined) return next()
    req.rateLimit = decision.result
    res.set(decision.headers)
    // An admitted request with end work (a settle): once its response has ended, however it ends.
    const { onEnd } = decision
    if (onEnd !== undefined) onResponseEnd(res, () => onEnd.call(decision, req, res))
    if (decision.deny === undefined) return next()
    if (onDeny === 'error') return next(new SluiceDeniedError(decision.deny, decision.result))
    res.status(decision.deny.status).type(decision.deny.contentType).send(decision.deny.body)
  }

  // Null with `global: false`: only the routes that ask for a limit have one.
  const whole = limiter.forRoute(undefined, '*', '*')
  // The app-wide limit as each dispatched route's pattern names it (`GET /users/:id`), as
  // Fastify labels its routes: one binding of the same buckets per pattern, bounded.
  const byPattern = new Map<string, RouteLimiter<Request, Response>>()
  const labeled = (label: string): RouteLimiter<Request, Response> | null => {
    if (whole === null || label === '*') return whole
    let route = byPattern.get(label)
    if (route === undefined) {
      if (byPattern.size >= MAX_LABELS) return whole
      const space = label.indexOf(' ')
      route = limiter.forRoute(undefined, label.slice(0, space), label.slice(space + 1)) ?? whole
      byPattern.set(label, route)
    }
    return route
  }

  // A request left to an override that never ran (a handler before it answered, or the walk was
  // wrong): it is charged now, to the override when its route was reached, else app-wide.
  const chargeLate = (owner: Override, dispatched: object, req: Request, res: Response, view: RequestView): void => {
    const reached = req.route === dispatched
    const late = reached ? owner.route : whole
    if (late === null) return // its route is exempt
    warnRoute(
      owner,
      'unreached',
      { actual: `${req.method} ${req.originalUrl}` },
      `@sluice: a request for '${owner.id.id}' was answered without reaching that route's limit.route() middleware, so it was charged only after its answer; put limit.route('${owner.id.id}', …) first on the route`,
    )
    late.check(req, view).then(
      (decision) => {
        // Its response has ended: its end work (a settle) runs at once.
        const onEnd = decision?.onEnd
        if (onEnd !== undefined) onResponseEnd(res, () => onEnd.call(decision, req, res))
      },
      () => {
        // The answer is sent: a late charge that fails has no one left to tell but the observer.
      },
    )
  }

  // Express 5 forwards a rejected promise to `next`, so errors reach the app's error handler.
  const middleware: RequestHandler = async (req, res, next) => {
    if (appWide.has(req)) return next()
    appWide.add(req)
    const owner = finder.owner(req)
    if (owner.kind === 'app') {
      const route = labeled(owner.route)
      if (route === null) return next()
      appWideChecked.add(req)
      return check(route, req, res, next)
    }
    // Read now: once the response ends, the socket (and so the client's address) may be gone.
    // Under the trust-proxy setting, as every check reads it: a proxy's own address is no client.
    const view = requestView(req, req.app.get('trust proxy fn'), "Express's 'trust proxy'")
    res.once('close', () => {
      if (!routeRan.has(req)) chargeLate(owner.tag, owner.route, req, res, view)
    })
    next()
  }

  // The controls' own methods: they close over the limiter, not over `this`.
  const { stats, reset, peek, check: manualCheck, settle, acquire } = limiter.controls
  return Object.assign(middleware, {
    stats,
    reset,
    peek,
    check: manualCheck,
    settle,
    acquire,
    route(id: string, override: SluiceExpressRouteOptions | false): RequestHandler {
      const routeId = new RouteId(id)
      const route = limiter.forRoute(override, '', id)
      const tag: Override = { id: routeId, route, warned: new Set() }
      const handler: RequestHandler = async (req, res, next) => {
        if (routeRan.has(req)) return next()
        routeRan.add(req)
        if (appWideChecked.has(req)) {
          // The app-wide middleware did not find this route first, and checked the request itself.
          const actual = `${req.method} ${req.baseUrl}${req.route?.path ?? req.path}`
          warnRoute(
            tag,
            'mismatch',
            { actual },
            `@sluice: limit.route('${id}') guards a route reached as '${actual}', which the app-wide limit had already checked, so the override was not applied; name the route by its method and full path, and declare it before routes that would answer for it`,
          )
          return next()
        }
        if (route === null) return next()
        return check(route, req, res, next)
      }
      finder.tag(handler, tag)
      return handler
    },
  })
}

/** Most route patterns the app-wide limit labels apart; past them, requests are labeled `*`. */
const MAX_LABELS = 1_000

/** One `limit.route(id, override)`: its id, its limiter (null when exempt), what was said about it. */
interface Override {
  readonly id: RouteId
  readonly route: RouteLimiter<Request, Response> | null
  readonly warned: Set<string>
}

export default rateLimit
