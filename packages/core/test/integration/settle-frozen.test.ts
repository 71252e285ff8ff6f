import { type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import { ErrorCodes } from '../../src/errors.js'
import type { SettleEvent } from '../../src/types.js'

// A settle while Redis is frozen (CLIENT PAUSE) and after it resumes: it uses a check's budget
// and deadline, so it is dropped (counted, warned), never retried, and its script, queued in
// Redis and run after the pause, takes and gives nothing: no double charge, nothing late. A
// request the failure mode answered from the local bucket settles there, never in Redis.
const PAUSE_MS = 3_500
const BUDGET_MS = 1_000
let n = 0

let server: RedisServer
let redis: Redis
let admin: Redis
beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
  admin = server.client()
})
afterAll(() => server.stop())

function limiter() {
  const settles: SettleEvent[] = []
  const logger = recordingLogger()
  const { controls } = createLimiter<object>({
    redis,
    capacity: 10,
    refillPerSecond: 0.001,
    prefix: `frozen${++n}:`,
    timeoutMs: BUDGET_MS,
    logger,
    observer: { settle: (event) => settles.push(event) },
  })
  return { controls, settles, logger }
}

describe('settle while Redis is frozen', () => {
  it('drops a settle past its deadline, never applies it late, and never retries it', async () => {
    const { controls, settles, logger } = limiter()
    const refund = await controls.check({}, { key: 'user', cost: 5 })
    const extra = await controls.check({}, { key: 'user', cost: 1 })
    expect([refund.degraded, extra.degraded]).toEqual([false, false])
    expect(extra.remaining).toBe(4)

    await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL')
    const started = performance.now()
    // Resolves (never rejects) once the budget is spent.
    await expect(controls.settle(refund, 0)).resolves.toBeUndefined()
    await expect(controls.settle(extra, 4)).resolves.toBeUndefined()
    expect(performance.now() - started).toBeLessThan(2 * BUDGET_MS + 500)
    expect(settles.map((e) => e.outcome)).toEqual(['dropped', 'dropped'])
    expect(controls.stats()).toMatchObject({ settlesDropped: 2, settlesApplied: 0 })
    expect(logger.codes).toContain('SLUICE_SETTLE_DROPPED')

    // A command on the store's connection is answered after the scripts queued before it: once
    // it returns, the late settles have reached Redis, and must have done nothing.
    await redis.ping()
    const after = await controls.check({}, { key: 'user', cost: 1 })
    expect(after.degraded).toBe(false)
    // 10 − 5 − 1 − this one: neither the refund nor the extra charge landed.
    expect(after.remaining).toBe(3)
    // And a dropped settle is settled: a second one is refused, not a retry.
    await expect(controls.settle(refund, 0)).rejects.toMatchObject({ code: ErrorCodes.ALREADY_SETTLED })
    // After the pause, settles apply again, exactly.
    await controls.settle(after, 0)
    expect((await controls.check({}, { key: 'user', cost: 1 })).remaining).toBe(3)
  }, 30_000)

  it('settles a request the local bucket answered in the local bucket, and never in Redis', async () => {
    const { controls, settles } = limiter()
    const warm = await controls.check({}, { key: 'local', cost: 1 })
    expect(warm.degraded).toBe(false)
    await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL')
    const local = await controls.check({}, { key: 'local', cost: 4 })
    expect(local.degraded).toBe(true)
    // The local bucket starts full: 10 − 4.
    expect(local.remaining).toBe(6)
    await controls.settle(local, 1)
    expect(settles.map((e) => [e.outcome, e.refundedTokens])).toEqual([['applied', 3]])
    await redis.ping()
    // Redis never saw the local request, nor its settle: 10 − the warm-up − this one.
    const back = await controls.check({}, { key: 'local', cost: 1 })
    expect(back.degraded).toBe(false)
    expect(back.remaining).toBe(8)
  }, 30_000)
})
