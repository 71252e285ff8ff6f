import { runLoadTest } from '@sluice/loadtest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get } from '../../../../test/support/http.js'
import { type Cluster, startCluster } from '../../src/cluster.js'
import { scrapeReplicas } from '../../src/metrics-scrape.js'
import { expectGlobalLimit, expectLocalAnswersAgree, SHARED_BUDGET_MS } from '../support/global-limit.js'
import { expectInflightLimit } from '../support/inflight-limit.js'

/**
 * Fastify and Express replicas behind one gateway, on one Redis, and then on a three-master
 * Redis Cluster: both hold every client to one bucket, and the replicas' own /metrics agree.
 */

const POLICY = { capacity: 100, refillPerSecond: 50 }
const SHARED = { mode: 'shared', timeoutMs: SHARED_BUDGET_MS } as const

describe('a mixed cluster: Fastify and Express replicas sharing one Redis', () => {
  let cluster: Cluster

  beforeAll(async () => {
    cluster = await startCluster({ ...POLICY, ...SHARED, keyMode: 'api-key', frameworks: ['fastify', 'express'] })
  }, 30_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  it('limits as one', async () => {
    expect(cluster.replicas.map((r) => r.framework)).toEqual(['fastify', 'express', 'fastify'])
    const report = await runLoadTest({
      gatewayUrl: cluster.gatewayUrl,
      scenario: 'burst',
      keyMode: 'api-key',
      ...POLICY,
      durationSeconds: 3,
    })
    // The first answers come from a full bucket, handed round robin to every replica; 429s
    // wherever more was offered than the bound (expectGlobalLimit).
    for (const replica of report.replicas) expect(replica.admitted).toBeGreaterThan(0)
    expectGlobalLimit(report)

    // The replicas' own counters saw the same run: every 429 the load test got, they gave.
    const scraped = await scrapeReplicas(cluster.replicas.map((r) => r.port))
    expect(scraped.byOutcome.denied).toBeGreaterThanOrEqual(report.totals.limited)
    expectLocalAnswersAgree(scraped.bySource.local, report)
  }, 30_000)

  it('settles streamed answers alike on both frameworks: one bucket, in tokens', async () => {
    const report = await runLoadTest({
      gatewayUrl: cluster.gatewayUrl,
      scenario: 'settle',
      keyMode: 'api-key',
      ...POLICY,
      durationSeconds: 3,
    })
    expect(report.replicas.map((r) => r.id)).toHaveLength(3)
    const [client] = report.clients
    expect(client!.limited).toBeGreaterThan(0)
    expect(client!.admitted).toBeGreaterThan(POLICY.capacity)
    expect(client!.admitted).toBeLessThanOrEqual(client!.bound)
    expect(report.verdict.pass).toBe(true)
  }, 30_000)

  it('holds a client to its in-flight limit alike on both frameworks', async () => {
    const replicaUrls = cluster.replicas.map((r) => `http://127.0.0.1:${r.port}`)
    const report = await runLoadTest({
      gatewayUrl: cluster.gatewayUrl,
      scenario: 'inflight',
      keyMode: 'api-key',
      ...POLICY,
      durationSeconds: 3,
      replicaUrls,
    })
    expect(report.replicas.map((r) => r.id)).toHaveLength(3)
    expectInflightLimit(report)
  }, 30_000)

  it('answers alike from both frameworks', async () => {
    const started = performance.now()
    const answers = await Promise.all(cluster.replicas.map((r) => get(`http://127.0.0.1:${r.port}/`, { 'x-api-key': 'same-client' })))
    const refilled = Math.floor(((performance.now() - started) / 1000) * POLICY.refillPerSecond)
    const policies = new Set(answers.map((a) => a.headers.get('ratelimit-policy')))
    expect(policies).toEqual(new Set(['"default";q=100;w=2']))
    // Concurrent, so in any order: three takes from one bucket, whichever framework answered. The
    // last leaves 97, or more by what refilled meanwhile; three buckets would leave 99 each.
    const left = answers.map((a) => Number(a.headers.get('x-ratelimit-remaining')))
    expect(Math.max(...left)).toBe(99)
    expect(Math.min(...left)).toBeGreaterThanOrEqual(97)
    expect(Math.min(...left)).toBeLessThanOrEqual(97 + refilled)
  })
})

describe('the demo on a Redis Cluster', () => {
  let cluster: Cluster

  beforeAll(async () => {
    cluster = await startCluster({ ...POLICY, ...SHARED, keyMode: 'ip', redisCluster: true })
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  it('holds the global limit', async () => {
    const report = await runLoadTest({
      gatewayUrl: cluster.gatewayUrl,
      scenario: 'many-clients',
      ...POLICY,
      durationSeconds: 3,
      clients: 3,
    })
    expect(report.clients).toHaveLength(3)
    expectGlobalLimit(report)
  }, 30_000)
})
