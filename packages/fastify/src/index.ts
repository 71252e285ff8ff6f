import {
  ErrorCodes,
  type LimiterOptions,
  type RateLimitResult,
  type RouteLimitOptions,
  SluiceDeniedError,
  SluiceError,
  SluiceOptionError,
  WarningCodes,
} from '@sluice/core'
import {
  createLimiter,
  type LimiterControls,
  onResponseEnd,
  permissiveTrustProxyMessage,
  processWarningLogger,
  type RouteLimiter,
  requestView,
  trustsEveryone,
} from '@sluice/core/adapter'
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { fastifyTrustProxy } from './trust-proxy.js'
import { uncoveredScopes } from './uncovered-scopes.js'

/** Request lifecycle hooks the check can run in. */
export const HOOKS = ['onRequest', 'preParsing', 'preValidation', 'preHandler'] as const
export type SluiceHook = (typeof HOOKS)[number]

/** Options of `@sluice/fastify`: the core's options, plus where in the lifecycle the check runs. */
export type SluiceFastifyOptions = LimiterOptions<FastifyRequest, FastifyReply> & {
  /**
   * The hook the check runs in. `onRequest` rejects before the body is read; pick
   * `preHandler` when the key or the cost needs the parsed body or an authenticated user.
   * @default 'onRequest'
   */
  readonly hook?: SluiceHook
}

/** Per-route setting in `config.rateLimit`: an override, or `false` to exempt the route. */
export type SluiceRouteConfig = RouteLimitOptions<FastifyRequest, FastifyReply> | false

declare module 'fastify' {
  interface FastifyContextConfig {
    rateLimit?: SluiceRouteConfig
  }
  interface FastifyInstance {
    /** The limiter registered in this scope: its counters, and the operator's and handlers' calls. */
    sluice: SluiceFastifyLimiter
  }
  interface FastifyRequest {
    /** The rate-limit check of this request; undefined on exempt routes. */
    rateLimit: RateLimitResult | undefined
  }
}

/** `fastify.sluice`: what an app can do with its limiter besides limiting routes (documented on `LimiterControls`). */
export interface SluiceFastifyLimiter extends LimiterControls<FastifyRequest> {}

export type { ClientRef, FailureMode, ManualCheckOptions, PolicyResult, RateLimitResult, SluiceStats } from '@sluice/core'

function toArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

/** Fastify's default logger writes nothing: warnings then go to process warnings instead of nowhere. */
function isSilent(log: FastifyBaseLogger): boolean {
  return log.level === undefined || log.level === 'silent'
}

/** The label a route's buckets and messages go by: its methods (HEAD answered as GET) and URL. */
function routeLabel(method: unknown, url: unknown): { methods: string; url: string } {
  if (typeof url !== 'string') return { methods: '*', url: '*' }
  const methods = toArray(method as string | string[] | undefined).map((m) => (m === 'HEAD' ? 'GET' : m))
  return { methods: methods.length === 0 ? '*' : [...new Set(methods)].sort().join(','), url }
}

const sluice: FastifyPluginAsync<SluiceFastifyOptions> = async (fastify, options) => {
  const hook = options.hook ?? 'onRequest'
  if (!HOOKS.includes(hook)) {
    throw new SluiceOptionError(ErrorCodes.INVALID_OPTION, 'hook', hook, `expected one of ${HOOKS.join(', ')}`)
  }
  // Only this very scope: a limiter in a nested scope replaces the outer one for its routes.
  if (Object.hasOwn(fastify, 'sluice')) {
    throw new SluiceError(
      ErrorCodes.ALREADY_REGISTERED,
      '@sluice: @sluice/fastify is already registered in this scope; register one per scope (a second limiter goes in a scope of its own, e.g. app.register(async (child) => { await child.register(rateLimit, …) }), and replaces this one for the routes declared there)',
    )
  }
  const limiter = createLimiter<FastifyRequest, FastifyReply>(options, ['hook'], isSilent(fastify.log) ? processWarningLogger : fastify.log)
  const { onDeny } = limiter.options
  const trust = fastifyTrustProxy(fastify)
  const everyoneTrusted = trustsEveryone(trust)

  if (!fastify.hasRequestDecorator('rateLimit')) fastify.decorateRequest('rateLimit', undefined)
  const api: SluiceFastifyLimiter = limiter.controls
  fastify.decorate('sluice', api)
  // A closed app's limiter gives its buckets' ids back, so a new app on the same client may use them with other numbers.
  fastify.addHook('onClose', async () => limiter.close())

  // Each route's limit, bound once: keyed by the route's config object (Fastify's own, one per
  // route, and what `request.routeOptions.config` returns), `null` for an exempt route.
  const bindings = new WeakMap<object, RouteLimiter<FastifyRequest, FastifyReply> | null>()
  const bindRoute = (config: { readonly rateLimit?: unknown; readonly method?: unknown; readonly url?: unknown }) => {
    const label = routeLabel(config.method, config.url)
    const limit = limiter.forRoute(config.rateLimit as SluiceRouteConfig | undefined, label.methods, label.url)
    if (limit !== null && everyoneTrusted && limit.keysByIp) {
      limiter.warnOnce(WarningCodes.PERMISSIVE_TRUST_PROXY, { setting: 'trustProxy' }, permissiveTrustProxyMessage("Fastify's trustProxy"))
    }
    return limit
  }

  // Routes declared after this point are bound now, so an invalid `config.rateLimit` throws at
  // start-up; the symbol rides along into the config Fastify builds for the route.
  const bound = Symbol('@sluice/fastify binding')
  fastify.addHook('onRoute', function (this: FastifyInstance, route: RouteOptions) {
    if (this.sluice !== api) return
    const config = route.config ?? {}
    const limit = bindRoute({ rateLimit: config.rateLimit, method: route.method, url: route.url })
    route.config = { ...config, [bound]: limit } as typeof route.config
  })

  const limitOf = (request: FastifyRequest): RouteLimiter<FastifyRequest, FastifyReply> | null => {
    const config = request.routeOptions.config as
      | {
          readonly [bound]?: RouteLimiter<FastifyRequest, FastifyReply> | null
          readonly rateLimit?: unknown
          readonly method?: unknown
          readonly url?: unknown
        }
      | undefined
    if (config === undefined) return bindRoute({})
    if (config[bound] !== undefined) return config[bound]
    // A route declared before the limiter was registered, or the not-found handler.
    let limit = bindings.get(config)
    if (limit === undefined) {
      limit = bindRoute(config)
      bindings.set(config, limit)
    }
    return limit
  }

  // One hook for the whole scope, whatever the order of registration: Fastify gives it to every
  // route of this scope and its children, the not-found handler included. A route whose scope
  // holds a nested limiter is that limiter's (`request.server` is the route's own scope).
  async function sluiceRateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.server.sluice !== api) return
    const limit = limitOf(request)
    if (limit === null) return
    const decision = await limit.check(request, requestView(request, trust, "Fastify's trustProxy"))
    if (decision === undefined) return
    request.rateLimit = decision.result
    reply.headers(decision.headers)
    // An admitted request with end work (a settle): once its response has ended, however it ends.
    const { onEnd } = decision
    if (onEnd !== undefined) onResponseEnd(reply.raw, () => onEnd.call(decision, request, reply))
    if (decision.deny !== undefined) {
      if (onDeny === 'error') throw new SluiceDeniedError(decision.deny, decision.result)
      await reply.code(decision.deny.status).type(decision.deny.contentType).send(decision.deny.body)
    }
  }
  fastify.addHook(hook, sluiceRateLimit)
  fastify.addHook('onReady', async () => {
    const missed = uncoveredScopes(fastify, hook, sluiceRateLimit, api)
    if (missed.length === 0) return
    limiter.warnOnce(
      WarningCodes.UNCOVERED_ROUTES,
      { scopes: missed },
      `@sluice: the routes of ${missed.map((p) => `'${p || '/'}'`).join(', ')} do not run this limiter's ${hook} hook, so no limit applies to them; register @sluice/fastify before the routes it limits, and await it`,
    )
  })
}

/** The rate limiter as a Fastify 5 plugin. `await app.register(rateLimit, …)` before the routes. */
export const rateLimit = fp(sluice, { fastify: '5.x', name: '@sluice/fastify' })
export default rateLimit
