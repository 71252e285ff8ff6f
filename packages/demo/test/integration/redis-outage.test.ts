import { pollUntil, type RedisServer, startRedis } from '@sluice/harness'
import { DEGRADED_HEADER } from '@sluice/loadtest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Answer, get } from '../../../../test/support/http.js'
import { type Cluster, startCluster } from '../../src/cluster.js'
import { SHARED_BUDGET_MS } from '../support/global-limit.js'

/**
 * Redis dies under load behind the real gateway (Fastify and Express replicas): clients see no
 * 5xx, the replicas answer from their local share of the limit (and say so in the headers), and they return to the shared
 * buckets by themselves once Redis is back.
 */

const POLICY = { capacity: 90, refillPerSecond: 1 }

let redis: RedisServer
let cluster: Cluster

beforeAll(async () => {
  redis = await startRedis()
  // Before the outage every answer must come from Redis, which the default 100 ms budget cannot
  // promise on a busy machine; a dead Redis fails the replicas' checks at once either way.
  cluster = await startCluster({
    ...POLICY,
    keyMode: 'api-key',
    mode: 'shared',
    redisUrl: redis.url,
    timeoutMs: SHARED_BUDGET_MS,
    frameworks: ['fastify', 'express'],
  })
}, 30_000)
afterAll(async () => {
  await cluster?.stop()
  await redis?.stop()
})

/** `count` requests from one API key, `concurrency` at a time; bounded in count. */
async function fire(count: number, key: string, concurrency = 6): Promise<Answer[]> {
  const answers: Answer[] = []
  for (let sent = 0; sent < count; sent += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, count - sent) }, () => get(cluster.gatewayUrl, { 'x-api-key': key }))
    answers.push(...(await Promise.all(batch)))
  }
  return answers
}

describe('Redis dies behind the gateway', () => {
  it('answers from local buckets with no 5xx, then goes back to Redis', async () => {
    const before = await fire(12, 'outage-a')
    expect(before.every((a) => a.status === 200 && a.headers.get('x-ratelimit-limit') === '90')).toBe(true)

    expect(before.some((a) => a.headers.get(DEGRADED_HEADER) !== null)).toBe(false)

    await redis.kill()
    const started = performance.now()
    const during = await fire(120, 'outage-b')
    const seconds = (performance.now() - started) / 1000
    expect(during.filter((a) => a.status >= 500)).toEqual([])
    expect(during.every((a) => a.status === 200 || a.status === 429)).toBe(true)
    // Redis is dead, so every answer is a replica's own: its share, 90 / 3 = 30, in its headers,
    // and said outright, by the Fastify and the Express replicas alike.
    for (const a of during) {
      expect(a.headers.get('x-ratelimit-limit'), String(a.headers.get('x-instance-id'))).toBe('30')
      expect(a.headers.get(DEGRADED_HEADER), String(a.headers.get('x-instance-id'))).toBe('true')
    }
    // Three full local buckets and what they refilled (1/3 s each) while the requests ran: more
    // is over-admission, however slowly a busy machine sent them.
    const admitted = during.filter((a) => a.status === 200).length
    expect(admitted).toBeLessThanOrEqual(3 * 30 + POLICY.refillPerSecond * seconds)

    await redis.restart()
    // Every replica back on the shared buckets, each by its own breaker's probe; bounded in time.
    let round = 0
    const shared = async (): Promise<boolean> =>
      (await fire(6, `outage-c-${++round}`)).every((a) => a.headers.get('x-ratelimit-limit') === '90')
    await pollUntil(shared, 100, AbortSignal.timeout(15_000))
  }, 40_000)
})
