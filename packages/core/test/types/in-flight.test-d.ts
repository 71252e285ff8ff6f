import { describe, expectTypeOf, it } from 'vitest'
import type { LimiterControls } from '../../src/adapter.js'
import type {
  Acquired,
  AnyResolvedPolicy,
  ConcurrencyPolicyOptions,
  LimiterOptions,
  ManualAcquireOptions,
  RateLimitResult,
  ResolvedConcurrencyPolicy,
  RouteLimitOptions,
  SlotResult,
  SluiceStats,
} from '../../src/index.js'

type Req = { headers: Record<string, string> }

describe('in-flight limit types', () => {
  it('take a concurrency policy alone, beside token buckets, in a tier and on a route, never mixed with bucket fields', () => {
    expectTypeOf<{ name: 'exports'; concurrency: 3 }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ name: 'exports'; concurrency: 3; leaseMs: 60_000 }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{
      policies: [{ name: 'burst'; capacity: 10; refillPerSecond: 1 }, { name: 'exports'; concurrency: 3 }]
    }>().toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ tiers: { free: { concurrency: 1 }; pro: [{ name: 'x'; concurrency: 5 }] }; tier: () => 'free' }>().toExtend<
      LimiterOptions<Req>
    >()
    expectTypeOf<{ name: 'up'; concurrency: 1 }>().toExtend<RouteLimitOptions<Req>>()
    // A concurrency policy has a name, and no capacity, rate or shadow.
    expectTypeOf<{ concurrency: 3 }>().not.toExtend<ConcurrencyPolicyOptions>()
    expectTypeOf<{ name: 'x'; concurrency: 3; capacity: 10; refillPerSecond: 1 }>().not.toExtend<LimiterOptions<Req>>()
    expectTypeOf<{ capacity: 10; refillPerSecond: 1; leaseMs: 1_000 }>().not.toExtend<LimiterOptions<Req>>()
  })

  it('resolve to their own policy type, told apart by `concurrency`', () => {
    expectTypeOf<ResolvedConcurrencyPolicy['concurrency']>().toEqualTypeOf<number>()
    expectTypeOf<ResolvedConcurrencyPolicy['leaseMs']>().toEqualTypeOf<number>()
    expectTypeOf<ResolvedConcurrencyPolicy>().toExtend<AnyResolvedPolicy>()
    expectTypeOf<RateLimitResult['policy']>().toEqualTypeOf<AnyResolvedPolicy>()
    expectTypeOf<RateLimitResult['slots']>().toEqualTypeOf<readonly SlotResult[]>()
    expectTypeOf<SlotResult['free']>().toEqualTypeOf<number>()
  })

  it('give handlers acquire(request, { key, policy? }) → { allowed, result, release(): Promise<void> }', () => {
    expectTypeOf<LimiterControls<Req>['acquire']>().toEqualTypeOf<(request: Req, options: ManualAcquireOptions) => Promise<Acquired>>()
    expectTypeOf<{ key: 'user-1' }>().toExtend<ManualAcquireOptions>()
    expectTypeOf<{ key: 'user-1'; policy: { name: 'exports'; concurrency: 3; leaseMs: 60_000 } }>().toExtend<ManualAcquireOptions>()
    expectTypeOf<{ key: 'user-1'; policy: { name: 'exports'; capacity: 3; refillPerSecond: 1 } }>().not.toExtend<ManualAcquireOptions>()
    expectTypeOf<Acquired['allowed']>().toEqualTypeOf<boolean>()
    expectTypeOf<Acquired['result']>().toEqualTypeOf<RateLimitResult>()
    expectTypeOf<Acquired['release']>().toEqualTypeOf<() => Promise<void>>()
  })

  it('count leases in stats()', () => {
    expectTypeOf<SluiceStats['leasesOpen']>().toEqualTypeOf<number>()
    expectTypeOf<SluiceStats['leasesReleased']>().toEqualTypeOf<number>()
    expectTypeOf<SluiceStats['leasesLost']>().toEqualTypeOf<number>()
  })
})
