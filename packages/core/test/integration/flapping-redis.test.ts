import { pollUntil, type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { closeNodeRedis, type NodeRedis, nodeRedisClient } from '../../../../test/support/redis-clients.js'
import { createLimiter } from '../../src/adapter.js'
import type { RedisClient, RequestView } from '../../src/types.js'
import { bySource, eventLoopLag, steadyLoad } from '../support/steady-load.js'

// Issue 23: a Redis that flaps, frozen in bursts (CLIENT PAUSE, DEBUG SLEEP) under steady load.
// No request waits past its budget; the circuit breaker keeps the app from hammering Redis (the
// script calls Redis counted, INFO commandstats, against what the breaker lets through); normal
// answers resume after the last burst.

const TIMEOUT_MS = 100
const BURSTS = 4
const FROZEN_MS = 400
const THAWED_MS = 600
const BREAKER = { failureThreshold: 3, cooldownMs: 250, maxCooldownMs: 1_000 }
const CONCURRENCY = 2

let server: RedisServer
let admin: Redis
let nodeRedis: NodeRedis | undefined

beforeAll(async () => {
  server = await startRedis({ args: ['--enable-debug-command', 'local'] })
  admin = server.client()
}, 30_000)
afterAll(async () => {
  if (nodeRedis !== undefined) await closeNodeRedis(nodeRedis)
  await server?.stop()
})

const FAMILIES: Record<string, () => Promise<RedisClient>> = {
  ioredis: async () => {
    const client = server.client()
    client.on('error', () => {})
    return client
  },
  'node-redis': async () => {
    nodeRedis = await nodeRedisClient(server)
    return nodeRedis as unknown as RedisClient
  },
}

const scriptCalls = async (): Promise<number> => {
  const info = await admin.info('commandstats')
  return [/cmdstat_evalsha:calls=(\d+)/, /cmdstat_eval:calls=(\d+)/].reduce((sum, re) => sum + Number(re.exec(info)?.[1] ?? 0), 0)
}

const view: RequestView = { ip: '192.0.2.99', header: () => undefined }

/**
 * Freeze Redis for `ms`: CLIENT PAUSE (commands wait, the server runs) or DEBUG SLEEP (the server
 * itself stops). For a pause, the script calls sent while it lasted: the INFO after it runs behind them.
 */
async function freeze(how: 'pause' | 'sleep', ms: number): Promise<number | undefined> {
  if (how === 'sleep') {
    // Answered when the sleep ends, on a connection of its own.
    const sleeper = server.client()
    await sleeper.call('DEBUG', 'SLEEP', String(ms / 1000))
    sleeper.disconnect()
    return undefined
  }
  const before = await scriptCalls()
  await admin.call('CLIENT', 'PAUSE', String(ms), 'ALL')
  await new Promise((resolve) => setTimeout(resolve, ms))
  return (await scriptCalls()) - before
}

describe.each(Object.keys(FAMILIES))('a flapping Redis, through %s', (family) => {
  it('answers every request within budget, sends Redis only what the breaker lets through, and resumes', async () => {
    const client = await FAMILIES[family]!()
    const calls = { ok: 0, failed: 0 }
    let lastOk = 0
    const route = createLimiter({
      redis: client,
      capacity: 1_000_000,
      refillPerSecond: 1,
      prefix: `flap-${family}:`,
      timeoutMs: TIMEOUT_MS,
      circuitBreaker: BREAKER,
      logger: recordingLogger(),
      // Each check that went to Redis, answered or failed (coalesced checks share a script call).
      observer: {
        storeCall({ outcome }) {
          if (outcome === 'ok') {
            calls.ok++
            lastOk = performance.now()
          } else calls.failed++
        },
      },
    }).forRoute(undefined, 'GET', '/')!
    await pollUntil(async () => (await route.check({}, view))?.source === 'store', 20, AbortSignal.timeout(10_000))

    const before = await scriptCalls()
    const okBefore = calls.ok
    calls.failed = 0
    const lag = eventLoopLag()
    const load = steadyLoad(() => route.check({}, view), { concurrency: CONCURRENCY, pauseMs: 5 })
    const sentWhilePaused: number[] = []
    for (let burst = 0; burst < BURSTS; burst++) {
      const sent = await freeze(burst % 2 === 0 ? 'pause' : 'sleep', FROZEN_MS)
      if (sent !== undefined) sentWhilePaused.push(sent)
      await new Promise((resolve) => setTimeout(resolve, THAWED_MS))
    }
    // Normal answers resume: Redis answers again within the longest cooldown, and then keeps answering.
    const thawedAt = performance.now()
    await pollUntil(async () => lastOk > thawedAt, 20, AbortSignal.timeout(BREAKER.maxCooldownMs + 5_000))
    const resumedAt = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 500))
    const run = await load.stop()
    const lagMs = lag.stop()
    const sent = (await scriptCalls()) - before
    const requestsWhileFrozen = run.decisions.filter((d) => d.source === 'local').length

    // What the breaker lets through while Redis is frozen, per burst: the calls in flight when
    // it froze, the threshold's worth that open the circuit, and a probe per cooldown.
    const perBurst = CONCURRENCY + BREAKER.failureThreshold + Math.ceil(FROZEN_MS / BREAKER.cooldownMs) + 1
    console.log(
      `${family}, flapping: ${run.decisions.length} requests ${JSON.stringify(bySource(run.decisions))}; ${sent} script calls reached Redis ` +
        `(coalesced: ${calls.ok - okBefore} checks answered by Redis, ${calls.failed} failed or timed out; at most ${BURSTS * perBurst} may); ` +
        `script calls sent during each ${FROZEN_MS} ms pause: ${sentWhilePaused.join(', ')} (at most ${perBurst}); ${requestsWhileFrozen} requests answered locally over the run; ` +
        `slowest ${run.slowestMs.toFixed(0)} ms, event-loop lag ${lagMs.toFixed(0)} ms; Redis answered again ${(resumedAt - thawedAt).toFixed(0)} ms after the last burst`,
    )
    expect(run.errors).toEqual([])
    expect(run.slowestMs).toBeLessThanOrEqual(TIMEOUT_MS + lagMs + 20)
    expect(calls.failed).toBeLessThanOrEqual(BURSTS * perBurst)
    // While paused, Redis was sent the calls that opened the circuit and its probes, not the load.
    for (const count of sentWhilePaused) expect(count).toBeLessThanOrEqual(perBurst)
    // The breaker answered requests without a call: more of them than the calls that failed.
    expect(bySource(run.decisions).local ?? 0).toBeGreaterThan(calls.failed)
    expect(run.decisions.filter((d) => d.at > resumedAt + TIMEOUT_MS).every((d) => d.source === 'store')).toBe(true)
  }, 60_000)
})
