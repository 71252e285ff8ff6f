import type { Acquired, ManualAcquireOptions } from '@sluice/core'
import Fastify, { type FastifyContextConfig, type FastifyPluginAsync, type FastifyRequest, type RouteShorthandOptions } from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import rateLimit, { type RateLimitResult, type SluiceFastifyOptions, type SluiceRouteConfig, type SluiceStats } from '../../src/index.js'

const app = Fastify()

describe('@sluice/fastify types', () => {
  it('types the plugin options', () => {
    expectTypeOf(rateLimit).toExtend<FastifyPluginAsync<SluiceFastifyOptions>>()
    app.register(rateLimit, { capacity: 10, refillPerSecond: 1, hook: 'preHandler', cost: (request) => Number(request.headers['x-cost']) })
    // @ts-expect-error: not a lifecycle hook the check can run in
    app.register(rateLimit, { capacity: 10, refillPerSecond: 1, hook: 'onSend' })
    // @ts-expect-error: capacity is a number
    app.register(rateLimit, { capacity: '10', refillPerSecond: 1 })
    expectTypeOf<SluiceFastifyOptions['key']>().extract<(request: FastifyRequest) => unknown>().not.toBeNever()
  })

  it('types settle with the request and the reply, on the plugin and a route, and app.sluice.settle', () => {
    app.register(rateLimit, {
      capacity: 10,
      refillPerSecond: 1,
      settle: (request, reply) => {
        expectTypeOf(request).toEqualTypeOf<FastifyRequest>()
        expectTypeOf(reply.statusCode).toEqualTypeOf<number>()
        return undefined
      },
    })
    app.get(
      '/stream',
      { config: { rateLimit: { settle: async (_request, reply) => (reply.statusCode === 200 ? 3 : 0) } } },
      async () => 'ok',
    )
    // @ts-expect-error: settle returns a number of tokens or undefined
    app.register(rateLimit, { capacity: 10, refillPerSecond: 1, settle: () => 'ten' })
    expectTypeOf(app.sluice.settle).parameters.toEqualTypeOf<[RateLimitResult, number]>()
    expectTypeOf(app.sluice.settle).returns.toEqualTypeOf<Promise<void>>()
  })

  it('types in-flight limits on the plugin and a route, and app.sluice.acquire', () => {
    app.register(rateLimit, { name: 'exports', concurrency: 3, leaseMs: 60_000 })
    app.register(rateLimit, {
      policies: [
        { name: 'burst', capacity: 10, refillPerSecond: 1 },
        { name: 'open', concurrency: 5 },
      ],
    })
    app.post('/upload', { config: { rateLimit: { name: 'uploads', concurrency: 1 } } }, async () => 'ok')
    // @ts-expect-error: an in-flight limit has no capacity
    app.register(rateLimit, { name: 'x', concurrency: 3, capacity: 10 })
    expectTypeOf(app.sluice.acquire).parameters.toEqualTypeOf<[FastifyRequest, ManualAcquireOptions]>()
    expectTypeOf(app.sluice.acquire).returns.resolves.toEqualTypeOf<Acquired>()
    expectTypeOf<SluiceStats['leasesOpen']>().toEqualTypeOf<number>()
  })

  it('takes a route override or false in config.rateLimit, and rejects true', () => {
    expectTypeOf<FastifyContextConfig['rateLimit']>().toEqualTypeOf<SluiceRouteConfig | undefined>()
    app.get('/search', { config: { rateLimit: { capacity: 3, refillPerSecond: 1, name: 'search' } } }, async () => 'ok')
    app.get('/heavy', { config: { rateLimit: { cost: 5 } } }, async () => 'ok')
    app.get('/health', { config: { rateLimit: false } }, async () => 'ok')
    expectTypeOf<{ rateLimit: true }>().not.toExtend<FastifyContextConfig>()
    expectTypeOf<{ rateLimit: { prefix: 'other:' } }>().not.toExtend<FastifyContextConfig>()
    // Fastify infers a route's ContextConfig from the literal and intersects it with the merged
    // interface, so an inline `{ config: { rateLimit: true } }` is not caught by the compiler (the
    // plugin rejects it at registration); a typed options object is.
    // @ts-expect-error: `true` is not a setting; omit it for the plugin-wide limit
    const exempt: RouteShorthandOptions = { config: { rateLimit: true } }
    // @ts-expect-error: a route override has no `prefix`
    const other: RouteShorthandOptions = { config: { rateLimit: { prefix: 'other:' } } }
    app.get('/x', exempt, async () => 'ok')
    app.get('/y', other, async () => 'ok')
  })

  it('types request.rateLimit and the stats decorator', () => {
    expectTypeOf<FastifyRequest['rateLimit']>().toEqualTypeOf<RateLimitResult | undefined>()
    app.get('/', async (request) => {
      expectTypeOf(request.rateLimit).toEqualTypeOf<RateLimitResult | undefined>()
      return request.rateLimit?.remaining
    })
    expectTypeOf(app.sluice.stats()).toEqualTypeOf<SluiceStats>()
    // The controls are declared once, in core.
    expectTypeOf(app.sluice).toEqualTypeOf<import('../../src/index.js').SluiceFastifyLimiter>()
    expectTypeOf(app.sluice).toExtend<import('@sluice/core/adapter').LimiterControls<FastifyRequest>>()
    expectTypeOf<import('@sluice/core/adapter').LimiterControls<FastifyRequest>>().toExtend<typeof app.sluice>()
  })

  it('types the peer-parity options and calls', () => {
    app.register(rateLimit, {
      tiers: { free: { capacity: 10, refillPerSecond: 1 }, pro: [{ name: 'burst', capacity: 100, refillPerSecond: 10 }] },
      tier: (request) => (request.headers['x-plan'] === 'pro' ? 'pro' : 'free'),
      skip: async (request) => request.ip === '10.0.0.9',
      headers: 'ietf',
      denyBody: (result, request) => ({ error: 'slow down', retryInMs: result.retryAfterMs, path: request.url }),
      key: { header: 'x-api-key', verify: async (apiKey, request) => apiKey.startsWith('sk_') && request.url !== '/' },
    })
    // @ts-expect-error: tiers replace the inline policy, they do not add to it
    app.register(rateLimit, { capacity: 10, refillPerSecond: 1, tiers: { free: { capacity: 1, refillPerSecond: 1 } }, tier: () => 'free' })
    // @ts-expect-error: not a header family
    app.register(rateLimit, { capacity: 10, refillPerSecond: 1, headers: 'draft' })
    app.get('/login', async (request) => {
      const result = await app.sluice.check(request, { key: 'alice', policy: { name: 'login', capacity: 5, refillPerSecond: 0.01 } })
      expectTypeOf(result).toEqualTypeOf<RateLimitResult>()
      return result.allowed
    })
    expectTypeOf(app.sluice.reset({ ip: '203.0.113.7' })).toEqualTypeOf<Promise<void>>()
    expectTypeOf(app.sluice.peek({ apiKey: 'sk_1', tier: 'pro' })).toEqualTypeOf<Promise<RateLimitResult>>()
    // @ts-expect-error: a client is named by ip, apiKey or id
    app.sluice.reset({ user: 'alice' })
    app.get('/health', { config: { rateLimit: { skip: () => true } } }, async () => 'ok')
  })

  it('types refill and allowList', () => {
    app.register(rateLimit, { capacity: 100, refill: '100/min', allowList: ['10.0.0.0/8', '2001:db8::/32'] })
    app.register(rateLimit, { capacity: 100, refill: '5/15min', allowList: async (request) => request.headers['x-partner'] === 'acme' })
    // @ts-expect-error: one rate, not two
    app.register(rateLimit, { capacity: 100, refill: '100/min', refillPerSecond: 1 })
    // @ts-expect-error: units are s, min, h, day
    app.register(rateLimit, { capacity: 100, refill: '100/m' })
    app.get('/search', { config: { rateLimit: { capacity: 5, refill: '5/min', name: 'search' } } }, async () => 'ok')
  })
})
