import { randomInt } from 'node:crypto'
import { runLoadTest } from '@sluice/loadtest'
import { INFLIGHT_LOG_PATH } from '@sluice/loadtest/policy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Answer, get } from '../../../../test/support/http.js'
import { type Cluster, startCluster } from '../../src/cluster.js'
import { BURST_IN_FLIGHT, expectGlobalLimit, SHARED_BUDGET_MS } from '../support/global-limit.js'
import { expectInflightLimit } from '../support/inflight-limit.js'

/**
 * The whole demo on this machine: real Redis, three replicas as child processes, real nginx in
 * front. Bounds are the token bucket's own (at most capacity + refill × elapsed per client, and
 * at least the full bucket and what refilled between its first and last denial when saturated),
 * both measured around the run's own requests, so a slow two-core machine only stretches
 * latencies, which they allow for.
 */

const POLICY = { capacity: 100, refillPerSecond: 50 }
const SHARED = { mode: 'shared', timeoutMs: SHARED_BUDGET_MS } as const
const SECONDS = 3

describe('three replicas behind nginx, sharing one Redis, keyed by IP', () => {
  let cluster: Cluster

  beforeAll(async () => {
    cluster = await startCluster({ ...POLICY, ...SHARED, keyMode: 'ip' })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it('holds one bursting client to one bucket, although every replica answers it', async () => {
    const report = await runLoadTest({ gatewayUrl: cluster.gatewayUrl, scenario: 'burst', ...POLICY, durationSeconds: SECONDS })
    expect(report.replicas.map((r) => r.id)).toEqual(['replica-1', 'replica-2', 'replica-3'])
    // The first answers come from a full bucket, handed round robin to every replica.
    for (const replica of report.replicas) expect(replica.admitted).toBeGreaterThan(0)
    // 429s wherever more was offered than the bound allows (expectGlobalLimit), however much a busy machine offered.
    expectGlobalLimit(report)
    expect(report.verdict.pass).toBe(true)
  }, 20_000)

  it('gives each of many clients, by source address, its own global bucket', async () => {
    const report = await runLoadTest({
      gatewayUrl: cluster.gatewayUrl,
      scenario: 'many-clients',
      ...POLICY,
      durationSeconds: SECONDS,
      clients: 4,
    })
    expect(report.clients).toHaveLength(4)
    expect(new Set(report.clients.map((c) => c.label)).size).toBe(4)
    expectGlobalLimit(report)
    expect(report.verdict.pass).toBe(true)
  }, 20_000)

  it('holds a client streaming answers of random length, each settled after it ends, to its bucket in tokens', async () => {
    const report = await runLoadTest({ gatewayUrl: cluster.gatewayUrl, scenario: 'settle', ...POLICY, durationSeconds: SECONDS })
    const [client] = report.clients
    // Refused as soon as its settled tokens overdrew the bucket: the limit is in tokens, not answers.
    expect(client!.limited).toBeGreaterThan(0)
    // More than one bucket's worth: the refill kept coming, and was spent in tokens.
    expect(client!.admitted).toBeGreaterThan(POLICY.capacity)
    // capacity + refill × t + one answer's overshoot per connection (and any degraded tokens).
    expect(client!.admitted).toBeLessThanOrEqual(client!.bound)
    expect(report.verdict.pass).toBe(true)
    expect(report.summary).toMatch(/^PASS: a client received \d[\d,]* tokens of streamed answers/)
  }, 20_000)

  it('holds each client to its in-flight limit across the replicas, merged from their logs', async () => {
    const replicaUrls = cluster.replicas.map((r) => `http://127.0.0.1:${r.port}`)
    const report = await runLoadTest({
      gatewayUrl: cluster.gatewayUrl,
      scenario: 'inflight',
      ...POLICY,
      durationSeconds: SECONDS,
      replicaUrls,
    })
    expectInflightLimit(report)
    // Slow answers handed round robin: every replica held some.
    for (const replica of report.replicas) expect(replica.admitted).toBeGreaterThan(0)
    expect(report.summary).toMatch(/^PASS: at most [0-3] of a client's requests were in progress at once/)
    // The log is read on the replicas only: the gateway refuses its path.
    expect((await get(`${cluster.gatewayUrl}${INFLIGHT_LOG_PATH}`)).status).toBe(404)
  }, 20_000)

  it('keeps a client in its own bucket when it forges X-Forwarded-For', async () => {
    const network = `127.${randomInt(100, 255)}.${randomInt(0, 256)}`
    const client = `${network}.7`
    const forged = { 'x-forwarded-for': '198.51.100.23' }
    // Empty the client's bucket: more requests than capacity at once, and more until one is
    // denied (a slow machine sends them slowly enough for some to refill); bounded in rounds.
    const drain: { sentAt: number; status: number }[] = []
    for (let round = 0; round < 20 && !drain.some((d) => d.status === 429); round++) {
      const batch = round === 0 ? POLICY.capacity + 50 : 50
      drain.push(
        ...(await Promise.all(
          Array.from({ length: batch }, async () => {
            const sentAt = performance.now()
            return { sentAt, status: (await get(cluster.gatewayUrl, {}, { localAddress: client })).status }
          }),
        )),
      )
    }
    const denied = drain.filter((d) => d.status === 429)
    expect(denied.length).toBeGreaterThan(0)
    // The bucket was empty when the last denied request arrived, no earlier than it was sent.
    const emptySince = Math.max(...denied.map((d) => d.sentAt))

    // Had the header been believed, this would be a fresh bucket with capacity − 1 left; it is the
    // client's own, holding only what refilled since it was found empty.
    const spoofed = await get(cluster.gatewayUrl, forged, { localAddress: client })
    const sinceEmpty = Math.floor(((performance.now() - emptySince) / 1000) * POLICY.refillPerSecond)
    expect(Number(spoofed.headers.get('x-ratelimit-remaining'))).toBeLessThanOrEqual(Math.min(sinceEmpty, POLICY.capacity - 2))

    // Another client forging the same address still gets its own, full bucket: the forged address has none.
    const other = (): Promise<Answer> => get(cluster.gatewayUrl, forged, { localAddress: `${network}.8` })
    const started = performance.now()
    const first = await other()
    const second = await other()
    // The second takes from the same bucket, which may have refilled since by what the time allows.
    const refilled = Math.floor(((performance.now() - started) / 1000) * POLICY.refillPerSecond)
    expect([first.status, second.status]).toEqual([200, 200])
    expect(Number(first.headers.get('x-ratelimit-remaining'))).toBe(POLICY.capacity - 1)
    const remaining = Number(second.headers.get('x-ratelimit-remaining'))
    expect(remaining).toBeGreaterThanOrEqual(POLICY.capacity - 2)
    expect(remaining).toBeLessThanOrEqual(Math.min(POLICY.capacity - 1, POLICY.capacity - 2 + refilled))
  }, 20_000)

  it('never limits /health on any replica', async () => {
    for (const replica of cluster.replicas) {
      const r = await get(`http://127.0.0.1:${replica.port}/health`)
      expect(r.status).toBe(200)
      expect(r.headers.get('x-instance-id')).toBe(replica.id)
      expect(r.headers.get('x-ratelimit-limit')).toBeNull()
    }
  })
})

describe('the same cluster keyed by API key', () => {
  it('gives each key its own global bucket', async () => {
    const cluster = await startCluster({ ...POLICY, ...SHARED, keyMode: 'api-key' })
    try {
      const report = await runLoadTest({
        gatewayUrl: cluster.gatewayUrl,
        scenario: 'many-clients',
        ...POLICY,
        durationSeconds: 2,
        keyMode: 'api-key',
        clients: 3,
      })
      expect(report.replicas).toHaveLength(3)
      expectGlobalLimit(report)
      expect(report.verdict.pass).toBe(true)
    } finally {
      await cluster.stop()
    }
  }, 25_000)
})

describe('a cluster that cannot start', () => {
  it('stops what it had started, Redis included, and says why', async () => {
    const lines: string[] = []
    await expect(
      startCluster({ capacity: 1.5, refillPerSecond: 1, keyMode: 'ip', mode: 'shared', onProgress: (l) => lines.push(l) }),
    ).rejects.toThrow(/RATE_CAPACITY="1\.5"/)
    const redisUrl = /redis-server ready on (\S+)/.exec(lines.join('\n'))?.[1]
    expect(redisUrl).toBeDefined()
    const { port } = new URL(redisUrl!)
    await expect(get(`http://127.0.0.1:${port}/`)).rejects.toThrow(/ECONNREFUSED/)
  })
})

describe('compare mode: each replica with buckets of its own', () => {
  it('over-admits: each replica fills what it was offered from a bucket of its own', async () => {
    const cluster = await startCluster({ ...POLICY, keyMode: 'ip', mode: 'local' })
    try {
      expect(cluster.redisUrl).toBeUndefined()
      const report = await runLoadTest({
        gatewayUrl: cluster.gatewayUrl,
        scenario: 'burst',
        ...POLICY,
        durationSeconds: SECONDS,
        mode: 'local',
      })
      const [client] = report.clients
      // Each replica's own bucket starts full: it admits what it was offered up to its capacity
      // (less the requests in flight at the end and the bucket-full probe), whatever a busy
      // machine managed to offer. Together that is more than one bucket allows once offered.
      const own = report.replicas.reduce((n, r) => n + Math.min(r.admitted + r.limited, POLICY.capacity), 0)
      expect(client!.admitted).toBeGreaterThanOrEqual(own - BURST_IN_FLIGHT - 1)
      if (own - BURST_IN_FLIGHT - 1 > report.bound) expect(client!.admitted).toBeGreaterThan(report.bound)
      // Still bounded: three buckets, never more.
      expect(client!.admitted).toBeLessThanOrEqual(3 * report.bound)
      expect(report.summary).toMatch(/^WITHOUT A SHARED REDIS/)
    } finally {
      await cluster.stop()
    }
  }, 25_000)
})
