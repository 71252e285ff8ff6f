// Type-level checks of the public surface, compiled under both resolutions: each
// `@ts-expect-error` fails the build if the line it guards stops being an error.
import type { LimiterOptions, RateLimitResult, SluiceStats, Store } from '@sluice/core'
import * as core from '@sluice/core'
import type { LimiterControls, RouteLimiter } from '@sluice/core/adapter'
import type { SluiceExpressOptions, SluiceMiddleware } from '@sluice/express'
import type { SluiceFastifyLimiter, SluiceFastifyOptions, SluiceRouteConfig } from '@sluice/fastify'

// Adapter glue and internals are not on the main entry.
export const notOnTheMainEntry = [
  // @ts-expect-error createLimiter is on @sluice/core/adapter
  core.createLimiter,
  // @ts-expect-error the circuit breaker is internal
  core.CircuitBreaker,
]
// @ts-expect-error the workspace-only entry is not published
export type * from '@sluice/core/internal'

export const fastifyOptions: SluiceFastifyOptions = { capacity: 10, refillPerSecond: 1, key: { header: 'x-api-key' }, hook: 'preHandler' }
export const expressOptions: SluiceExpressOptions = { policies: [{ name: 'burst', capacity: 5, refillPerSecond: 5 }] }
export const exempt: SluiceRouteConfig = false
// @ts-expect-error an unknown failure mode
export const wrongMode: LimiterOptions<unknown> = { capacity: 1, refillPerSecond: 1, failureMode: 'open' }
// @ts-expect-error one inline policy or several, not both
export const both: LimiterOptions<unknown> = { capacity: 1, refillPerSecond: 1, policies: [] }

/** A custom store, as an app might write one: another store, timed. */
export function timed(inner: Store, record: (ms: number) => void): Store {
  return {
    kind: `timed-${inner.kind}`,
    async check(request) {
      const started = performance.now()
      try {
        return await inner.check(request)
      } finally {
        record(performance.now() - started)
      }
    },
  }
}

export function remaining(result: RateLimitResult, stats: SluiceStats, route: RouteLimiter<unknown>): number {
  return result.remaining + stats.storeErrors + route.policies.length
}

/** Both adapters hand out the controls declared once, on `@sluice/core/adapter`. */
export function controlsOf(fastify: SluiceFastifyLimiter, express: SluiceMiddleware): LimiterControls<never>[] {
  return [fastify, express]
}
