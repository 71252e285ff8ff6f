import { createLimiter, type RequestView } from '@sluice/core/adapter'
import { pollUntil, type RedisClusterServer, startRedisCluster } from '@sluice/harness'
import type { Cluster } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { recordingLogger } from '../support/recording-logger.js'
import { closeNodeRedis, type NodeRedisCluster, nodeRedisCluster } from '../support/redis-clients.js'

// Issue 23: one circuit breaker per limiter opened on a dead Cluster master's timeouts and sent
// every key, those on the healthy masters too, to the failure mode (312 of 2,500 answers for
// healthy keys were local). A breaker per master: only the dead master's keys are degraded.
// `cluster-require-full-coverage no`, without which the healthy masters refuse commands themselves.

let cluster: RedisClusterServer
let redis: Cluster
let nodeRedis: NodeRedisCluster | undefined

beforeEach(async () => {
  cluster = await startRedisCluster({ masters: 3, args: ['--cluster-require-full-coverage', 'no'] })
  redis = cluster.client()
  redis.on('error', () => {})
}, 60_000)
afterEach(async () => {
  if (nodeRedis !== undefined) await closeNodeRedis(nodeRedis).catch(() => {})
  nodeRedis = undefined
  await cluster?.stop()
})

/** The app's client of each family, on the cluster. */
const FAMILIES: Record<string, () => Promise<Cluster | NodeRedisCluster>> = {
  'ioredis Cluster': () => Promise.resolve(redis),
  'node-redis createCluster': async () => {
    nodeRedis = await nodeRedisCluster(cluster)
    return nodeRedis
  },
}

const view = (ip: string): RequestView => ({ ip, header: () => undefined })
const TIMEOUT_MS = 1_000

/** How late the event loop runs, measured while `during` runs: the allowance on a busy machine. */
async function withLag<T>(during: () => Promise<T>): Promise<{ result: T; lagMs: number }> {
  let lagMs = 0
  let expected = performance.now() + 10
  const timer = setInterval(() => {
    const now = performance.now()
    lagMs = Math.max(lagMs, now - expected)
    expected = now + 10
  }, 10)
  try {
    return { result: await during(), lagMs }
  } finally {
    clearInterval(timer)
  }
}

describe.each(Object.keys(FAMILIES))('a dead Cluster master, without replicas, through %s', (family) => {
  it("degrades only its own keys: keys on the healthy masters keep Redis's answers", async () => {
    const limiter = createLimiter({
      redis: await FAMILIES[family]!(),
      capacity: 1_000_000,
      refillPerSecond: 1,
      prefix: 'dm:',
      timeoutMs: TIMEOUT_MS,
      logger: recordingLogger(),
    })
    const route = limiter.forRoute(undefined, 'GET', '/')!
    // Clients spread over the masters, each checked until Redis answers it (the first slot map
    // may take longer than a budget on a busy machine).
    const ips = Array.from({ length: 30 }, (_, i) => `198.51.100.${i + 1}`)
    const owner = new Map<string, number>()
    await pollUntil(
      async () => {
        const decisions = await Promise.all(ips.map((ip) => route.check({}, view(ip))))
        if (!decisions.every((d) => d?.source === 'store')) return false
        for (const [i, d] of decisions.entries())
          owner.set(ips[i]!, await cluster.ownerOf(Number(await redis.cluster('KEYSLOT', d!.result!.key))))
        return true
      },
      50,
      AbortSignal.timeout(20_000),
    )
    const dead = owner.get(ips[0]!)!
    const healthy = ips.filter((ip) => owner.get(ip) !== dead)
    const doomed = ips.filter((ip) => owner.get(ip) === dead)
    expect(healthy.length).toBeGreaterThan(0)
    await cluster.kill(dead)

    // Steady load for 3 s (longer than the cluster's node timeout, 2 s, which marks the master failed).
    const sources = { healthy: new Map<string, number>(), doomed: new Map<string, number>() }
    const count = (map: Map<string, number>, source: string): void => void map.set(source, (map.get(source) ?? 0) + 1)
    let slowestMs = 0
    const { lagMs } = await withLag(async () => {
      const until = performance.now() + 3_000
      while (performance.now() < until) {
        await Promise.all(
          ips.map(async (ip) => {
            const started = performance.now()
            const decision = await route.check({}, view(ip))
            slowestMs = Math.max(slowestMs, performance.now() - started)
            count(owner.get(ip) === dead ? sources.doomed : sources.healthy, decision!.source)
          }),
        )
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })
    console.log(
      `${family}, dead master: healthy keys ${JSON.stringify(Object.fromEntries(sources.healthy))}, its own keys ${JSON.stringify(Object.fromEntries(sources.doomed))}; slowest check ${slowestMs.toFixed(0)} ms, event-loop lag ${lagMs.toFixed(0)} ms`,
    )
    expect([...sources.healthy.keys()]).toEqual(['store'])
    if (doomed.length > 0) expect(sources.doomed.get('store') ?? 0).toBe(0)
    expect(slowestMs).toBeLessThanOrEqual(TIMEOUT_MS + lagMs + 20)
    // The dead master's circuit is open; the limiter's state is its worst node's.
    expect(limiter.controls.stats().circuit).toBe('open')
  }, 60_000)
})
