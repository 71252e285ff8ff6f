import type { Redis } from 'ioredis'
import { describe, expectTypeOf, it } from 'vitest'
import { createLimiter } from '../../src/adapter.js'
import type {
  BudgetedStore,
  Decision,
  LimiterOptions,
  ProblemDetails,
  RateLimitResult,
  RedisStoreOptions,
  RouteLimitOptions,
  SluiceStats,
  Store,
} from '../../src/types.js'

type Req = { headers: Record<string, string> }

describe('@sluice/core types', () => {
  it('takes one inline policy or several, not both', () => {
    expectTypeOf<{ capacity: 10; refillPerSecond: 1 }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ policies: [{ name: 'a'; capacity: 1; refillPerSecond: 1 }] }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 10; refillPerSecond: 1; policies: [] }>().not.toExtend<LimiterOptions<Req>>()
    expectTypeOf<LimiterOptions<Req>['global']>().toEqualTypeOf<boolean | undefined>()
    // Several policies each need a name.
    expectTypeOf<{ policies: [{ capacity: 1; refillPerSecond: 1 }] }>().not.toExtend<LimiterOptions<Req>>()
  })

  it('types key and cost functions by the request type', () => {
    expectTypeOf<LimiterOptions<Req>['key']>().toEqualTypeOf<
      | 'ip'
      | {
          readonly header: string
          readonly missing?: 'ip' | 'reject'
          readonly verify?: (apiKey: string, request: Req) => boolean | Promise<boolean>
        }
      | ((request: Req) => string | Promise<string>)
      | undefined
    >()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; cost: (r: Req) => number }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; cost: '1' }>().not.toExtend<LimiterOptions<Req>>()
  })

  it('accepts an ioredis client or a store', () => {
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; redis: Redis }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; store: Store }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; failureMode: 'open' }>().not.toExtend<LimiterOptions<Req>>()
  })

  it('gives a RedisStore a time budget of its own, and a budgeted store an optional budgeted reset', () => {
    expectTypeOf<RedisStoreOptions['timeoutMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<{ timeoutMs: '100' }>().not.toExtend<RedisStoreOptions>()
    expectTypeOf<BudgetedStore['resetWithin']>().toEqualTypeOf<((keys: readonly string[], budgetMs: number) => Promise<void>) | undefined>()
  })

  it('types route overrides', () => {
    expectTypeOf<{ cost: 2 }>().toExtend<RouteLimitOptions<Req>>()
    expectTypeOf<{ capacity: 5; name: 'search' }>().toExtend<RouteLimitOptions<Req>>()
    expectTypeOf<{ capacity: 5; policies: [] }>().not.toExtend<RouteLimitOptions<Req>>()
  })

  it('returns typed decisions and stats', () => {
    const limiter = createLimiter<Req>({ capacity: 1, refillPerSecond: 1 })
    const route = limiter.forRoute(undefined, 'GET', '/')
    expectTypeOf(route).toEqualTypeOf<import('../../src/adapter.js').RouteLimiter<Req> | null>()
    // Undefined when `skip` exempted the request.
    expectTypeOf(route!.check).returns.resolves.toEqualTypeOf<Decision | undefined>()
    expectTypeOf<Decision['result']>().toEqualTypeOf<RateLimitResult | undefined>()
    expectTypeOf<RateLimitResult['status']>().toEqualTypeOf<'allowed' | 'denied' | 'cost-exceeds-capacity'>()
    expectTypeOf(limiter.controls.stats()).toEqualTypeOf<SluiceStats>()
    expectTypeOf(limiter.controls).toEqualTypeOf<import('../../src/adapter.js').LimiterControls<Req>>()
    expectTypeOf(limiter.controls.check).parameters.toEqualTypeOf<[Req, import('../../src/types.js').ManualCheckOptions]>()
    expectTypeOf<RateLimitResult['used']>().toEqualTypeOf<number>()
    expectTypeOf<RateLimitResult['resetTime']>().toEqualTypeOf<Date>()
    expectTypeOf<ProblemDetails['cost']>().toEqualTypeOf<number | undefined>()
  })

  it('types the request view and what it found wrong with the address', () => {
    type View = import('../../src/adapter.js').RequestView
    type Note = import('../../src/adapter.js').AddressNote
    expectTypeOf<View['address']>().toEqualTypeOf<Note | undefined>()
    expectTypeOf<Note['kind']>().toEqualTypeOf<'trusted-proxy' | 'untrusted-forwarded-for'>()
    expectTypeOf<{ ip: '10.0.0.2'; headers: Record<string, never> }>().toExtend<import('../../src/adapter.js').ViewableRequest>()
    expectTypeOf<{ headers: Record<string, never> }>().not.toExtend<import('../../src/adapter.js').ViewableRequest>()
  })
})
