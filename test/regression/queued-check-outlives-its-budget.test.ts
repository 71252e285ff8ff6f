import { ErrorCodes, RedisStore, type ResolvedPolicy } from '@sluice/core'
import { createLimiter } from '@sluice/core/adapter'
import { type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { recordingLogger } from '../support/recording-logger.js'

// With `timeoutMs: 50` and Redis frozen, a check queued behind a call in flight waited for that
// call: behind a direct `RedisStore.check()` (no budget at all) or a second limiter with a longer
// `timeoutMs` sharing the store, it was answered after the freeze ended (1,545 ms in a 1,500 ms
// pause). Each group of waiting checks now has one timer, at the earliest deadline among them,
// that refuses them unsent; and a direct `check()` has a finite budget, the store's `timeoutMs`.
const PAUSE_MS = 1_500
const BUDGET_MS = 50
// Generous for a loaded machine, yet far below the pause and the longer budget (1,000 ms).
const TOLERANCE_MS = 400
const visitor = { ip: '198.51.100.41', header: () => undefined }
const policy: ResolvedPolicy = {
  name: 'default',
  capacity: 5,
  refillPerSecond: 0.001,
  intervalNs: 1e12,
  windowSeconds: 5_000,
  shadow: false,
}

let server: RedisServer
let admin: Redis
let n = 0
beforeAll(async () => {
  server = await startRedis()
  admin = server.client()
})
afterAll(() => server.stop())
// Redis answers this once the pause is over: the next test starts on a Redis that runs.
afterEach(async () => {
  await admin.call('CLIENT', 'UNPAUSE')
})

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function shortLimiter(store: RedisStore, prefix: string) {
  return createLimiter<object>({
    store,
    capacity: 5,
    refillPerSecond: 0.001,
    prefix,
    timeoutMs: BUDGET_MS,
    failureMode: 'deny',
    logger: recordingLogger(),
  }).forRoute(undefined, '*', '*')!
}

/** How long the 50 ms limiter takes to answer while Redis is frozen and `inFlight` holds the connection. */
async function answeredWhileFrozen(store: RedisStore, prefix: string, inFlight: () => Promise<unknown>) {
  const route = shortLimiter(store, prefix)
  // Warm, with a generous budget (a busy machine): the store knows the node's clock, so nothing
  // below waits for a first reading.
  await store.checkWithin({ keys: [`${prefix}{warm}:default`], policies: [policy], cost: 1 }, 10_000)
  await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL')
  const aheadStartedAt = performance.now()
  const ahead = inFlight()
  ahead.catch(() => {})
  // Its batch leaves in the next turn; the check below then waits behind it.
  await turn()
  const startedAt = performance.now()
  const decision = await route.check({}, visitor)
  return { elapsedMs: performance.now() - startedAt, decision: decision!, ahead, aheadStartedAt }
}

describe('a check queued behind a call in flight', () => {
  it('is answered by its own deadline behind a direct RedisStore.check(), which has a finite budget of its own', async () => {
    const store = new RedisStore(server.client())
    const prefix = `q${process.pid}x${++n}:`
    const { elapsedMs, decision, ahead, aheadStartedAt } = await answeredWhileFrozen(store, prefix, () =>
      store.check({ keys: [`${prefix}{direct}:default`], policies: [policy], cost: 1 }),
    )
    expect(decision.outcome).toBe('unavailable')
    expect(elapsedMs).toBeLessThanOrEqual(BUDGET_MS + TOLERANCE_MS)
    // The direct call gives up by its default budget (100 ms) rather than waiting out the pause.
    await expect(ahead).rejects.toMatchObject({ code: ErrorCodes.STORE_TIMEOUT })
    expect(performance.now() - aheadStartedAt).toBeLessThanOrEqual(100 + TOLERANCE_MS)
  }, 30_000)

  it('is answered by its own deadline behind a second limiter with a longer timeoutMs on the same store', async () => {
    const store = new RedisStore(server.client())
    const prefix = `q${process.pid}x${++n}:`
    const patient = createLimiter<object>({
      store,
      capacity: 5,
      refillPerSecond: 0.001,
      prefix,
      timeoutMs: 1_000,
      failureMode: 'deny',
      logger: recordingLogger(),
    }).forRoute(undefined, '*', '*')!
    const { elapsedMs, decision } = await answeredWhileFrozen(store, prefix, () => patient.check({}, { ...visitor, ip: '198.51.100.42' }))
    expect(decision.outcome).toBe('unavailable')
    expect(elapsedMs).toBeLessThanOrEqual(BUDGET_MS + TOLERANCE_MS)
  }, 30_000)

  it('a direct reset() has the same finite budget', async () => {
    const store = new RedisStore(server.client())
    // Warm with a generous budget: the store knows the node's clock, and a busy machine is no failure.
    await store.resetWithin([`q${process.pid}x${++n}:{warm}:default`], 10_000)
    await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL')
    const startedAt = performance.now()
    await expect(store.reset([`q${process.pid}x${n}:{frozen}:default`])).rejects.toMatchObject({ code: ErrorCodes.STORE_TIMEOUT })
    expect(performance.now() - startedAt).toBeLessThanOrEqual(100 + TOLERANCE_MS)
  }, 30_000)
})
