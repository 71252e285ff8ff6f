import type { Acquired, ManualAcquireOptions } from '@sluice/core'
import express, { type Request, type RequestHandler } from 'express'
import type { Redis } from 'ioredis'
import { describe, expectTypeOf, it } from 'vitest'
import { type RateLimitResult, rateLimit, type SluiceExpressOptions, type SluiceStats } from '../../src/index.js'

describe('@sluice/express types', () => {
  it('checks option types', () => {
    expectTypeOf<{ capacity: 10; refillPerSecond: 1; redis: Redis }>().toExtend<SluiceExpressOptions>()
    expectTypeOf<{ capacity: '10'; refillPerSecond: 1 }>().not.toExtend<SluiceExpressOptions>()
    expectTypeOf<{ capacity: 10; refillPerSecond: 1; cost: '2' }>().not.toExtend<SluiceExpressOptions>()
    expectTypeOf<{ capacity: 10; refillPerSecond: 1; key: { header: 1 } }>().not.toExtend<SluiceExpressOptions>()
    // @ts-expect-error: `missing` is 'ip' or 'reject'
    rateLimit({ capacity: 10, refillPerSecond: 1, key: { header: 'x-api-key', missing: 'deny' } })
  })

  it('types in-flight limits on the limiter and a route, and the middleware’s acquire', () => {
    const limit = rateLimit({ name: 'exports', concurrency: 3 })
    limit.route('POST /upload', { name: 'uploads', concurrency: 1, leaseMs: 10_000 })
    // @ts-expect-error: leaseMs goes with concurrency only
    rateLimit({ capacity: 10, refillPerSecond: 1, leaseMs: 1_000 })
    expectTypeOf(limit.acquire).parameters.toEqualTypeOf<[Request, ManualAcquireOptions]>()
    expectTypeOf(limit.acquire).returns.resolves.toEqualTypeOf<Acquired>()
  })

  it('types settle with req and res, on the limiter and a route, and the middleware’s settle', () => {
    const limit = rateLimit({
      capacity: 10,
      refillPerSecond: 1,
      settle: (req, res) => {
        expectTypeOf(req).toEqualTypeOf<Request>()
        expectTypeOf(res.statusCode).toEqualTypeOf<number>()
        return res.statusCode < 400 ? 1 : 0
      },
    })
    limit.route('GET /stream', { settle: async () => undefined })
    // @ts-expect-error: settle returns a number of tokens or undefined
    rateLimit({ capacity: 10, refillPerSecond: 1, settle: () => 'ten' })
    expectTypeOf(limit.settle).toEqualTypeOf<(result: RateLimitResult, actualCost: number) => Promise<void>>()
  })

  it('types refill and allowList', () => {
    rateLimit({ capacity: 100, refill: '100/min', allowList: ['127.0.0.1', '10.0.0.0/8'] })
    rateLimit({
      capacity: 100,
      refill: '1000/day',
      allowList: (req) => {
        expectTypeOf(req).toEqualTypeOf<Request>()
        return req.get('x-partner') === 'acme'
      },
    })
    // @ts-expect-error: one rate, not two
    rateLimit({ capacity: 100, refill: '100/min', refillPerSecond: 1 })
    rateLimit({ capacity: 1, refill: '1/s' }).route('GET /slow', { capacity: 1, refill: '1/h', name: 'slow' })
  })

  it('types key and cost functions by Express’s Request', () => {
    expectTypeOf<SluiceExpressOptions['cost']>().toEqualTypeOf<number | ((request: Request) => number | Promise<number>) | undefined>()
    rateLimit({
      capacity: 10,
      refillPerSecond: 1,
      key: (req) => {
        expectTypeOf(req).toEqualTypeOf<Request>()
        return req.ip ?? 'unknown'
      },
    })
  })

  it('is an Express RequestHandler with the limiter’s counters', () => {
    const middleware = rateLimit({ capacity: 10, refillPerSecond: 1 })
    expectTypeOf(middleware).toExtend<RequestHandler>()
    expectTypeOf(middleware.stats()).toEqualTypeOf<SluiceStats>()
    // The controls are declared once, in core.
    expectTypeOf(middleware).toExtend<import('@sluice/core/adapter').LimiterControls<Request>>()
    const app = express()
    app.use(middleware)
    app.get('/search', rateLimit({ capacity: 3, refillPerSecond: 1, name: 'search' }), (req, res) => {
      expectTypeOf(req.rateLimit).toEqualTypeOf<RateLimitResult | undefined>()
      res.json({ remaining: req.rateLimit?.remaining })
    })
  })

  it('types req.rateLimit on every Request', () => {
    expectTypeOf<Request['rateLimit']>().toEqualTypeOf<RateLimitResult | undefined>()
    expectTypeOf<RateLimitResult['remaining']>().toEqualTypeOf<number>()
  })

  it('types route overrides and exemptions, the operator calls and checks from a handler', () => {
    const limit = rateLimit({
      tiers: { free: { capacity: 10, refillPerSecond: 1 } },
      tier: (req) => (req.get('x-plan') === 'pro' ? 'pro' : 'free'),
      skip: (req) => req.path === '/health',
      headers: 'legacy',
      denyBody: (result) => `retry in ${result.retryAfterMs} ms`,
    })
    const app = express()
    app.use(limit)
    app.get('/health', limit.route('GET /health', false), (_req, res) => res.send('ok'))
    app.get('/search', limit.route('GET /search', { capacity: 3, refillPerSecond: 1, name: 'search', skip: () => false }), (_req, res) =>
      res.send('ok'),
    )
    app.post('/login', async (req, res) => {
      const result = await limit.check(req, { key: String(req.body?.user), policy: { name: 'login', capacity: 5, refillPerSecond: 0.01 } })
      expectTypeOf(result).toEqualTypeOf<RateLimitResult>()
      res.status(result.allowed ? 200 : 429).end()
    })
    expectTypeOf(limit.reset({ id: 'tenant-7' })).toEqualTypeOf<Promise<void>>()
    expectTypeOf(limit.peek({ ip: '203.0.113.7', tier: 'free' })).toEqualTypeOf<Promise<RateLimitResult>>()
    // @ts-expect-error: `true` is not an override
    limit.route('GET /x', true)
  })
})
