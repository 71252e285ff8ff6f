import {
  type ClientRef,
  ErrorCodes,
  type LimiterOptions,
  type ManualCheckOptions,
  type RateLimitResult,
  type RouteLimitOptions,
  SluiceError,
  SluiceOptionError,
  type SluiceStats,
  WarningCodes,
} from '@sluice/core'
import { createLimiter, permissiveTrustProxyMessage, processWarningLogger, requestView, trustsEveryone } from '@sluice/core/adapter'
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { fastifyTrustProxy } from './trust-proxy.js'

/** Request lifecycle hooks the check can run in. */
export const HOOKS = ['onRequest', 'preParsing', 'preValidation', 'preHandler'] as const
export type SluiceHook = (typeof HOOKS)[number]

/** Options of `@sluice/fastify`: the core's options, plus where in the lifecycle the check runs. */
export type SluiceFastifyOptions = LimiterOptions<FastifyRequest> & {
  /**
   * The hook the check runs in. `onRequest` rejects before the body is read; pick
   * `preHandler` when the key or the cost needs the parsed body or an authenticated user.
   * @default 'onRequest'
   */
  readonly hook?: SluiceHook
}

/** Per-route setting in `config.rateLimit`: an override, or `false` to exempt the route. */
export type SluiceRouteConfig = RouteLimitOptions<FastifyRequest> | false

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

/** `fastify.sluice`: what an app can do with its limiter besides limiting routes. */
export interface SluiceFastifyLimiter {
  /** Answers by source, store errors, circuit state, shadow denials, unknown IPs (for metrics). */
  stats(): SluiceStats
  /** Every bucket of a client under this limiter's prefix starts full again (see the README). */
  reset(client: ClientRef): Promise<void>
  /** Where a client stands in the limiter's own policies (with tiers, name its `tier`), taking nothing. */
  peek(client: ClientRef & { readonly tier?: string }): Promise<RateLimitResult>
  /** A check from a handler, by a key only it knows; sends nothing. */
  check(request: FastifyRequest, options: ManualCheckOptions): Promise<RateLimitResult>
}

export type { ClientRef, FailureMode, ManualCheckOptions, PolicyResult, RateLimitResult, SluiceStats } from '@sluice/core'

function toArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

/** Fastify's default logger writes nothing: warnings then go to process warnings instead of nowhere. */
function isSilent(log: FastifyBaseLogger): boolean {
  return log.level === undefined || log.level === 'silent'
}

const sluice: FastifyPluginAsync<SluiceFastifyOptions> = async (fastify, options) => {
  const hook = options.hook ?? 'onRequest'
  if (!HOOKS.includes(hook)) {
    throw new SluiceOptionError(ErrorCodes.INVALID_OPTION, 'hook', hook, `expected one of ${HOOKS.join(', ')}`)
  }
  if (fastify.hasDecorator('sluice')) {
    throw new SluiceError(
      ErrorCodes.ALREADY_REGISTERED,
      '@sluice: @sluice/fastify is already registered in this scope; register one per scope (a second limiter goes in a scope of its own, e.g. app.register(async (child) => { await child.register(rateLimit, …) }))',
    )
  }
  const limiter = createLimiter<FastifyRequest>(options, ['hook'], isSilent(fastify.log) ? processWarningLogger : fastify.log)
  const trust = fastifyTrustProxy(fastify)
  const everyoneTrusted = trustsEveryone(trust)

  fastify.decorateRequest('rateLimit', undefined)
  const api: SluiceFastifyLimiter = {
    stats: () => limiter.stats(),
    reset: (client) => limiter.reset(client),
    peek: (client) => limiter.peek(client),
    check: (request, checkOptions) => limiter.check(request, checkOptions),
  }
  fastify.decorate('sluice', api)
  // A closed app's limiter gives its buckets' ids back, so a new app on the same client may use them with other numbers.
  fastify.addHook('onClose', async () => limiter.close())

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const methods = toArray(route.method).map((m) => (m === 'HEAD' ? 'GET' : m))
    const limit = limiter.forRoute(route.config?.rateLimit, [...new Set(methods)].sort().join(','), route.url)
    if (limit === null) return
    if (everyoneTrusted && limit.keysByIp) {
      limiter.warnOnce(WarningCodes.PERMISSIVE_TRUST_PROXY, { setting: 'trustProxy' }, permissiveTrustProxyMessage("Fastify's trustProxy"))
    }
    async function sluiceRateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const decision = await limit!.check(request, requestView(request, trust, "Fastify's trustProxy"))
      if (decision === undefined) return
      request.rateLimit = decision.result
      reply.headers(decision.headers)
      if (decision.deny !== undefined) {
        await reply.code(decision.deny.status).type(decision.deny.contentType).send(decision.deny.body)
      }
    }
    const existing = toArray(route[hook] as unknown as typeof sluiceRateLimit | (typeof sluiceRateLimit)[] | undefined)
    ;(route as unknown as Record<string, unknown>)[hook] = [sluiceRateLimit, ...existing]
  })
}

/** The Sluice rate limiter as a Fastify 5 plugin. Register it before the routes it limits. */
export const rateLimit = fp(sluice, { fastify: '5.x', name: '@sluice/fastify' })
export default rateLimit
