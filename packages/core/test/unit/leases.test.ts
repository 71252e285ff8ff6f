import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import type { Failover } from '../../src/failover.js'
import { LeaseKeeper, nextLeaseId } from '../../src/leases.js'
import type { CheckReply, LeaseOp, SlotClaim } from '../../src/types.js'

/** A failover that records lease calls and answers as told. */
function fakeFailover(answer: (ops: readonly LeaseOp[], local: boolean) => Promise<boolean[]>) {
  const calls: { ops: readonly LeaseOp[]; local: boolean }[] = []
  const failover = {
    leases(ops: readonly LeaseOp[], local: boolean) {
      calls.push({ ops, local })
      return answer(ops, local)
    },
  } as unknown as Failover
  return { failover, calls }
}

const taken = (n: number): CheckReply => ({
  admitted: true,
  buckets: [],
  slots: Array.from({ length: n }, () => ({ status: 'allowed', taken: true, free: 0 })),
})
const claim = (leaseMs: number, key = 'c'): SlotClaim => ({ key, limit: 5, leaseMs, leaseId: nextLeaseId() })

describe('the lease keeper', () => {
  let now = 0
  const clock = () => now
  beforeEach(() => {
    vi.useFakeTimers()
    now = 0
  })
  afterEach(() => {
    vi.useRealTimers()
  })
  const advance = async (ms: number) => {
    now += ms
    await vi.advanceTimersByTimeAsync(ms)
  }

  it('makes lease ids unique in the process, as decimal strings below 2^53', () => {
    const ids = new Set(Array.from({ length: 1_000 }, () => nextLeaseId()))
    expect(ids.size).toBe(1_000)
    for (const id of ids) expect(Number.isSafeInteger(Number(id)) && String(Number(id)) === id).toBe(true)
  })

  it('renews the open leases of each length together, every leaseMs / 3, with one timer per length', async () => {
    const { failover, calls } = fakeFailover((ops) => Promise.resolve(ops.map(() => true)))
    const keeper = new LeaseKeeper(failover, recordingLogger(), clock)
    const a = keeper.opened(taken(1), [claim(3_000)], false, 0)!
    const b = keeper.opened(taken(1), [claim(3_000)], false, 0)!
    const c = keeper.opened(taken(1), [claim(6_000)], false, 0)!
    expect(vi.getTimerCount()).toBe(2)
    await advance(1_000)
    expect(calls).toHaveLength(1)
    expect(calls[0]!.ops.map((op) => op.op)).toEqual(['renew', 'renew'])
    await advance(1_000)
    // 2 s: the 3 s leases again, and the 6 s one for the first time.
    expect(calls.map((call) => call.ops.length)).toEqual([2, 2, 1])
    expect(a.renewedAt).toBe(2_000)
    await Promise.all([a.release(), b.release()])
    expect(vi.getTimerCount()).toBe(1)
    await c.release()
    expect(vi.getTimerCount()).toBe(0)
    expect(keeper.stats).toEqual({ leasesOpen: 0, leasesReleased: 3, leasesLost: 0 })
  })

  it('stops renewing a lease the store reports gone, and says so (SLUICE_LEASE_LOST)', async () => {
    const { failover, calls } = fakeFailover((ops) => Promise.resolve(ops.map(() => false)))
    const logger = recordingLogger()
    const keeper = new LeaseKeeper(failover, logger, clock)
    keeper.opened(taken(1), [claim(3_000)], false, 0)
    await advance(1_000)
    expect(logger.codes).toEqual(['SLUICE_LEASE_LOST'])
    expect(keeper.stats).toMatchObject({ leasesOpen: 0, leasesLost: 1 })
    await advance(3_000)
    expect(calls).toHaveLength(1)
  })

  it('retries a release that cannot reach the store, with backoff, until the lease has expired by itself', async () => {
    let failing = true
    const { failover, calls } = fakeFailover((ops) => (failing ? Promise.reject(new Error('down')) : Promise.resolve(ops.map(() => true))))
    const keeper = new LeaseKeeper(failover, recordingLogger(), clock)
    const lease = keeper.opened(taken(1), [claim(3_000)], false, 0)!
    let done = false
    void lease.release().then(() => (done = true))
    await advance(0)
    expect(calls.map((call) => call.ops[0]!.op)).toEqual(['release'])
    await advance(50 + 100)
    expect(calls).toHaveLength(3)
    failing = false
    await advance(200)
    expect(calls).toHaveLength(4)
    expect(done).toBe(true)
    // Idempotent: a second release sends nothing.
    await lease.release()
    expect(calls).toHaveLength(4)

    // A store that never comes back: given up at renewedAt + leaseMs, resolved, never rejected.
    failing = true
    const other = keeper.opened(taken(1), [claim(3_000)], false, now)!
    const started = now
    let gaveUp = false
    void other.release().then(() => (gaveUp = true))
    await advance(2_999)
    expect(gaveUp).toBe(false)
    await advance(1_000)
    expect(gaveUp).toBe(true)
    expect(now - started).toBeLessThan(3_000 + 2_000)
  })

  it("releases and renews a failure-mode lease in this replica's memory", async () => {
    const { failover, calls } = fakeFailover((ops) => Promise.resolve(ops.map(() => true)))
    const keeper = new LeaseKeeper(failover, recordingLogger(), clock)
    const lease = keeper.opened(taken(1), [claim(3_000)], true, 0)!
    await advance(1_000)
    await lease.release()
    expect(calls.map((call) => [call.ops[0]!.op, call.local])).toEqual([
      ['renew', true],
      ['release', true],
    ])
  })

  it('opens no lease for a refused check', () => {
    const { failover } = fakeFailover(() => Promise.resolve([]))
    const keeper = new LeaseKeeper(failover, recordingLogger(), clock)
    expect(
      keeper.opened({ admitted: false, buckets: [], slots: [{ status: 'denied', taken: false, free: 0 }] }, [claim(3_000)], false, 0),
    ).toBe(undefined)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('local slots while the store fails', () => {
  const dead = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 })
  afterAll(() => dead.disconnect())

  it("hold this replica's share, ceil(n ÷ replicas), released locally", async () => {
    const limiter = createLimiter<object>({
      redis: dead,
      name: 'exports',
      concurrency: 5,
      replicas: 3,
      timeoutMs: 20,
      logger: recordingLogger(),
    })
    const policy = undefined
    const held = [await limiter.controls.acquire({}, { key: 'u', policy }), await limiter.controls.acquire({}, { key: 'u', policy })]
    expect(held.map((h) => [h.allowed, h.result.degraded])).toEqual([
      [true, true],
      [true, true],
    ])
    expect(held[1]!.result).toMatchObject({ limit: 2, remaining: 0 })
    const third = await limiter.controls.acquire({}, { key: 'u' })
    expect(third.allowed).toBe(false)
    expect(third.result.violated).toEqual(['exports'])
    await held[0]!.release()
    expect((await limiter.controls.acquire({}, { key: 'u' })).allowed).toBe(true)
    limiter.close()
  })
})
