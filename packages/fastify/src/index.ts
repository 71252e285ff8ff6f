import {
  ErrorCodes,
  type KeyOption,
  type LimiterOptions,
  type RateLimitResult,
  type RouteLimitOptions,
  SluiceError,
  type SluiceStats,
} from '@sluice/core'
import { createLimiter, PROBLEM_CONTENT_TYPE, permissiveTrustProxyWarning, requestView } from '@sluice/core/adapter'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'

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
    /** Sluice's counters: answers by source, store errors, circuit state (for metrics). */
    sluice: { stats(): SluiceStats }
  }
  interface FastifyRequest {
    /** The rate-limit check of this request; undefined on exempt routes. */
    rateLimit: RateLimitResult | undefined
  }
}

export type { FailureMode, PolicyResult, RateLimitResult, SluiceStats } from '@sluice/core'

/**
 * Fastify does not expose its trust-proxy setting, so read the options it keeps under its own
 * symbol. If a future Fastify hides them, this returns undefined and only the warning is lost.
 */
function trustProxySetting(fastify: FastifyInstance): unknown {
  for (let o: object | null = fastify; o !== null; o = Object.getPrototypeOf(o)) {
    const symbol = Object.getOwnPropertySymbols(o).find((s) => s.description === 'fastify.options')
    if (symbol !== undefined) return (o as Record<symbol, { trustProxy?: unknown } | undefined>)[symbol]?.trustProxy
  }
  return undefined
}

function toArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

const sluice: FastifyPluginAsync<SluiceFastifyOptions> = async (fastify, options) => {
  const limiter = createLimiter<FastifyRequest>({ logger: fastify.log, ...options }, ['hook'])
  const hook = options.hook ?? 'onRequest'
  if (!HOOKS.includes(hook)) {
    throw new SluiceError(
      ErrorCodes.INVALID_OPTION,
      `@sluice: invalid option \`hook\`: expected one of ${HOOKS.join(', ')}, got ${JSON.stringify(hook)}`,
    )
  }
  const warning = permissiveTrustProxyWarning(trustProxySetting(fastify), limiter.options.key as KeyOption<never>, "Fastify's trustProxy")
  if (warning !== undefined) fastify.log.warn(warning)

  fastify.decorateRequest('rateLimit', undefined)
  if (!fastify.hasDecorator('sluice')) fastify.decorate('sluice', { stats: () => limiter.stats() })

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const methods = toArray(route.method).map((m) => (m === 'HEAD' ? 'GET' : m))
    const limit = limiter.forRoute(route.config?.rateLimit, [...new Set(methods)].sort().join(','), route.url)
    if (limit === null) return
    async function sluiceRateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const decision = await limit!.check(request, requestView(request))
      request.rateLimit = decision.result
      reply.headers(decision.headers)
      if (decision.deny !== undefined) {
        await reply.code(decision.deny.status).type(PROBLEM_CONTENT_TYPE).send(decision.deny)
      }
    }
    const existing = toArray(route[hook] as unknown as typeof sluiceRateLimit | (typeof sluiceRateLimit)[] | undefined)
    ;(route as unknown as Record<string, unknown>)[hook] = [sluiceRateLimit, ...existing]
  })
}

/** The Sluice rate limiter as a Fastify 5 plugin. Register it before the routes it limits. */
export const rateLimit = fp(sluice, { fastify: '5.x', name: '@sluice/fastify' })
export default rateLimit
