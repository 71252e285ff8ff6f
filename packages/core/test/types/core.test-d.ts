import type { Cluster, Redis } from 'ioredis'
import { describe, expectTypeOf, it } from 'vitest'
import { createLimiter } from '../../src/adapter.js'
import type {
  Deadline,
  Decision,
  LimiterOptions,
  ProblemDetails,
  RateLimitResult,
  RedisClient,
  RedisStoreOptions,
  RouteLimitOptions,
  SluiceLogger,
  SluiceObserver,
  SluiceStats,
  Store,
  StoreCallEvent,
  StoreDoor,
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
    // What the store calls is what both ioredis clients have.
    expectTypeOf<Redis>().toExtend<RedisClient>()
    expectTypeOf<Cluster>().toExtend<RedisClient>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; store: Store }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; failureMode: 'open' }>().not.toExtend<LimiterOptions<Req>>()
  })

  it('gives a RedisStore a time budget of its own, and every door a reset by a deadline', () => {
    expectTypeOf<RedisStoreOptions['timeoutMs']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<{ timeoutMs: '100' }>().not.toExtend<RedisStoreOptions>()
    expectTypeOf<StoreDoor['reset']>().toEqualTypeOf<(keys: readonly string[], deadline: Deadline) => Promise<void>>()
    // A deadline is an instant, not a budget: a plain number of ms is not one.
    expectTypeOf<number>().not.toExtend<Deadline>()
    expectTypeOf<Deadline>().toExtend<number>()
    // The public Store stays as small as it was: check and kind, and two optional capabilities.
    expectTypeOf<keyof Store>().toEqualTypeOf<'check' | 'kind' | 'cached' | 'reset'>()
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

  it("types the observer's events and the logger's optional info", () => {
    expectTypeOf<StoreCallEvent['route']>().toEqualTypeOf<string>()
    expectTypeOf<Parameters<NonNullable<SluiceObserver['skipped']>>[0]>().toEqualTypeOf<import('../../src/index.js').SkippedEvent>()
    expectTypeOf<Parameters<NonNullable<SluiceObserver['circuit']>>[0]['state']>().toEqualTypeOf<'closed' | 'open' | 'half-open'>()
    expectTypeOf<SluiceStats['skipped']>().toEqualTypeOf<number>()
    // A warn-only logger is still a logger; pino's and Fastify's add `info`.
    expectTypeOf<{ warn(o: object, m: string): void }>().toExtend<SluiceLogger>()
    expectTypeOf<SluiceLogger['info']>().toEqualTypeOf<((object: object, message: string) => void) | undefined>()
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
