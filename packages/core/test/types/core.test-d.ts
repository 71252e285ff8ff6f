import type { Cluster, Redis } from 'ioredis'
import type { Redis as Valkey, Cluster as ValkeyCluster } from 'iovalkey'
import type { createClient, createCluster, createSentinel, RedisClientType, RedisDefaultModules, RedisFunctions, RedisScripts } from 'redis'
import { describe, expectTypeOf, it } from 'vitest'
import { createLimiter } from '../../src/adapter.js'
import type { SluiceDeniedError } from '../../src/errors.js'
import type {
  AllowListOption,
  Deadline,
  Decision,
  IoRedisClient,
  KeyFunctionAnswer,
  LimiterOptions,
  ManualCheckOptions,
  NodeRedisClient,
  NodeRedisCluster,
  NodeRedisSentinel,
  ProblemDetails,
  RateLimitResult,
  RedisClient,
  RedisStoreOptions,
  RefillRate,
  RouteLimitOptions,
  SettleEvent,
  SettleOption,
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
    expectTypeOf<LimiterOptions<Req>['onDeny']>().toEqualTypeOf<'send' | 'error' | undefined>()
    expectTypeOf<SluiceDeniedError['statusCode']>().toEqualTypeOf<number>()
    expectTypeOf<SluiceDeniedError['result']>().toEqualTypeOf<RateLimitResult | undefined>()
    // Several policies each need a name.
    expectTypeOf<{ policies: [{ capacity: 1; refillPerSecond: 1 }] }>().not.toExtend<LimiterOptions<Req>>()
  })

  it('takes a readable refill instead of refillPerSecond, never both', () => {
    expectTypeOf<{ capacity: 100; refill: '100/min' }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 5; refill: '5/15min' }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 5; refill: '5/day' }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<'100/min'>().toExtend<RefillRate>()
    expectTypeOf<'100/m'>().not.toExtend<RefillRate>()
    expectTypeOf<'100 per minute'>().not.toExtend<RefillRate>()
    expectTypeOf<{ capacity: 100; refill: '100/min'; refillPerSecond: 1 }>().not.toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 100 }>().not.toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ policies: [{ name: 'a'; capacity: 1; refill: '1/s' }] }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ tiers: { free: { capacity: 1; refill: '1/h' } }; tier: (r: Req) => 'free' }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ refill: '1/h' }>().toExtend<RouteLimitOptions<Req>>()
    expectTypeOf<{ refill: '1/h'; refillPerSecond: 1 }>().not.toExtend<RouteLimitOptions<Req>>()
    expectTypeOf<{ key: 'k'; policy: { name: 'login'; capacity: 5; refill: '5/15min' } }>().toExtend<ManualCheckOptions>()
  })

  it('takes an allowList of addresses or a function of the request', () => {
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; allowList: ['10.0.0.0/8'] }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; allowList: (r: Req) => Promise<boolean> }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; allowList: '10.0.0.1' }>().not.toExtend<LimiterOptions<Req>>()
    expectTypeOf<AllowListOption<Req>>().toEqualTypeOf<readonly string[] | ((request: Req) => boolean | Promise<boolean>)>()
    // A route has no allowList of its own: the limiter's applies to every route.
    expectTypeOf<{ allowList: ['10.0.0.1'] }>().not.toExtend<RouteLimitOptions<Req>>()
  })

  it('types key and cost functions by the request type', () => {
    expectTypeOf<LimiterOptions<Req>['key']>().toEqualTypeOf<
      | 'ip'
      | {
          readonly header: string
          readonly missing?: 'ip' | 'reject'
          readonly verify?: (apiKey: string, request: Req) => boolean | Promise<boolean>
        }
      | ((request: Req) => KeyFunctionAnswer | Promise<KeyFunctionAnswer>)
      | undefined
    >()
    expectTypeOf<(r: Req) => { ip: string | undefined }>().toExtend<LimiterOptions<Req>['key']>()
    expectTypeOf<(r: Req) => { apiKey: string }>().toExtend<LimiterOptions<Req>['key']>()
    expectTypeOf<(r: Req) => { host: string }>().not.toExtend<LimiterOptions<Req>['key']>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; cost: (r: Req) => number }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; cost: '1' }>().not.toExtend<LimiterOptions<Req>>()
  })

  it('accepts an ioredis client or a store', () => {
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; redis: Redis }>().toExtend<LimiterOptions<Req>>()
    // What the store calls is what both ioredis clients have.
    expectTypeOf<Redis>().toExtend<RedisClient>()
    expectTypeOf<Cluster>().toExtend<RedisClient>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; store: Store }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; redis: 'redis://localhost' }>().not.toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; failureMode: 'open' }>().not.toExtend<LimiterOptions<Req>>()
  })

  it('accepts an iovalkey client and a node-redis client or cluster as well', () => {
    type NodeRedis = ReturnType<typeof createClient>
    type NodeRedisResp3 = RedisClientType<RedisDefaultModules, RedisFunctions, RedisScripts, 3>
    expectTypeOf<Valkey>().toExtend<IoRedisClient>()
    expectTypeOf<ValkeyCluster>().toExtend<IoRedisClient>()
    expectTypeOf<NodeRedis>().toExtend<NodeRedisClient>()
    expectTypeOf<RedisClientType>().toExtend<NodeRedisClient>()
    expectTypeOf<NodeRedisResp3>().toExtend<RedisClient>()
    expectTypeOf<Valkey>().toExtend<NonNullable<LimiterOptions<Req>['redis']>>()
    expectTypeOf<ValkeyCluster>().toExtend<NonNullable<LimiterOptions<Req>['redis']>>()
    expectTypeOf<NodeRedis>().toExtend<NonNullable<LimiterOptions<Req>['redis']>>()
    expectTypeOf<ReturnType<typeof createCluster>>().toExtend<NodeRedisCluster>()
    expectTypeOf<ReturnType<typeof createCluster>>().toExtend<NonNullable<LimiterOptions<Req>['redis']>>()
    expectTypeOf<Redis>().toExtend<NonNullable<LimiterOptions<Req>['redis']>>()
    expectTypeOf<Cluster>().toExtend<NonNullable<LimiterOptions<Req>['redis']>>()
    expectTypeOf<ReturnType<typeof createSentinel>>().toExtend<NodeRedisSentinel>()
    expectTypeOf<ReturnType<typeof createSentinel>>().toExtend<NonNullable<LimiterOptions<Req>['redis']>>()
    expectTypeOf<RedisClient>().toEqualTypeOf<IoRedisClient | NodeRedisClient | NodeRedisCluster | NodeRedisSentinel>()
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

  it('types settle: the option, its route override, the manual call, its event and counters', () => {
    expectTypeOf<SettleOption<Req, { sent: number }>>().toEqualTypeOf<
      (request: Req, reply: { sent: number }) => number | undefined | Promise<number | undefined>
    >()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; settle: (r: Req) => number }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 1; refillPerSecond: 1; settle: (r: Req) => string }>().not.toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ settle: (r: Req, reply: { sent: number }) => Promise<undefined> }>().toExtend<RouteLimitOptions<Req, { sent: number }>>()
    const limiter = createLimiter<Req>({ capacity: 1, refillPerSecond: 1 })
    expectTypeOf(limiter.controls.settle).toEqualTypeOf<(result: RateLimitResult, actualCost: number) => Promise<void>>()
    expectTypeOf<SettleEvent>().toEqualTypeOf<{
      readonly route: string
      readonly outcome: 'applied' | 'dropped'
      readonly refundedTokens: number
      readonly extraTokens: number
    }>()
    expectTypeOf<SluiceObserver['settle']>().toEqualTypeOf<((event: SettleEvent) => void) | undefined>()
    expectTypeOf<
      Pick<SluiceStats, 'settlesApplied' | 'settlesDropped' | 'settlesFailed' | 'settleRefundedTokens' | 'settleExtraTokens'>
    >().toEqualTypeOf<{
      readonly settlesApplied: number
      readonly settlesDropped: number
      readonly settlesFailed: number
      readonly settleRefundedTokens: number
      readonly settleExtraTokens: number
    }>()
    expectTypeOf<Decision<Req, { sent: number }>['onEnd']>().toEqualTypeOf<((request: Req, reply: { sent: number }) => void) | undefined>()
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
    expectTypeOf(route!.check).returns.resolves.toEqualTypeOf<Decision<Req, unknown> | undefined>()
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
