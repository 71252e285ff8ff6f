import { type RedisServer, startRedis } from '@sluice/harness'
import { judge, type Report, runLoadTest } from '@sluice/loadtest'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cluster, startCluster } from '../../src/cluster.js'
import { scrapeReplicas } from '../../src/metrics-scrape.js'

/**
 * Redis stops answering in the middle of a burst (CLIENT PAUSE on the test's own Redis): the
 * replicas answer from their local fallback buckets, which took nothing from Redis. The verdict
 * counts each such admission into its client's bound (C + R·t + degraded admissions), from the
 * responses, and that count agrees with what the replicas themselves say they answered locally.
 * Before, those admissions pushed the client over C + R·t and a healthy cluster failed.
 */

const POLICY = { capacity: 100, refillPerSecond: 50 }
const SECONDS = 4
/** Long enough to trip every replica's breaker, well inside the run. */
const PAUSE_MS = 1_500
/** A budget a busy machine keeps for most calls, far under the pause: the paused calls answer locally. */
const BUDGET_MS = 250
/** Requests the burst keeps in flight: answered by a replica but possibly not counted when the run stops. */
const CONNECTIONS = 8

let redis: RedisServer
let admin: Redis
let cluster: Cluster

beforeAll(async () => {
  redis = await startRedis()
  admin = redis.client()
  // Both frameworks, so both replicas' way of saying "degraded" is what gets counted.
  cluster = await startCluster({
    ...POLICY,
    keyMode: 'api-key',
    mode: 'shared',
    redisUrl: redis.url,
    timeoutMs: BUDGET_MS,
    frameworks: ['fastify', 'express'],
  })
}, 30_000)
afterAll(async () => {
  await cluster?.stop()
  await redis?.stop()
})

describe('Redis paused during a burst through the gateway', () => {
  let report: Report

  beforeAll(async () => {
    let paused = false
    report = await runLoadTest({
      gatewayUrl: cluster.gatewayUrl,
      scenario: 'burst',
      ...POLICY,
      durationSeconds: SECONDS,
      keyMode: 'api-key',
      // The first progress report comes about a second in, while the load runs; the pause ends
      // by itself, so nothing has to remember to undo it.
      onProgress: () => {
        if (paused) return
        paused = true
        void admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL')
      },
    })
    expect(paused).toBe(true)
  }, 30_000)

  it('answers every request, some of them from the local fallback buckets', () => {
    expect(report.totals.errors).toBe(0)
    expect(report.totals.other).toBe(0)
    // Every request sent during the pause waited out its budget and was answered locally.
    expect(report.totals.degraded).toBeGreaterThan(0)
  })

  it('counts degraded answers as the replicas do', async () => {
    const scraped = await scrapeReplicas(cluster.replicas.map((r) => r.port))
    const local = scraped.bySource.local ?? 0
    // The replicas answered every counted response and at most the burst's in-flight requests more.
    expect(local).toBeGreaterThanOrEqual(report.totals.degraded)
    expect(local).toBeLessThanOrEqual(report.totals.degraded + CONNECTIONS)
  })

  it('passes with the degraded admissions counted into the bound, and says so', () => {
    const [client] = report.clients
    expect(client!.bound).toBeCloseTo(report.bound + client!.degradedAdmitted)
    // What Redis admitted holds the bucket's own bound, C + R·t, by itself.
    expect(client!.admitted - client!.degradedAdmitted).toBeLessThanOrEqual(report.bound)
    expect(client!.admitted).toBeLessThanOrEqual(client!.bound)
    expect(report.verdict).toMatchObject({ pass: true, withinBound: true })
    if (client!.degradedAdmitted > 0) expect(report.summary).toMatch(/\+ [\d,]+ degraded admissions?\)/)
  })

  it('would fail the same client one admission over bound + degraded', () => {
    const [client] = report.clients
    const over = { ...client!, admitted: Math.floor(client!.bound) + 1 }
    expect(judge([over], true)).toMatchObject({ pass: false, withinBound: false })
  })
})
