import type { Decision } from '@sluice/core'
import { pollUntil, type RedisSentinelServer, startRedisSentinel } from '@sluice/harness'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { get } from '../../../../test/support/http.js'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { eventLoopLag, steadyRequests } from '../../../core/test/support/steady-load.js'
import rateLimit from '../../src/index.js'

// Issue 23, with HTTP in the loop: the Sentinel failover of core's sentinel-failover test, but the
// steady load is real HTTP requests to a Fastify app on 127.0.0.1 with @sluice/fastify registered,
// and what is asserted is the status codes the app answered. ioredis only: the store path is the
// one core's test runs on every family.

const DOWN_AFTER_MS = 1_000
const TIMEOUT_MS = 250
const CAPACITY = 20
const REFILL = 10
const MAX_COOLDOWN_MS = 1_000
const RECONNECT_MS = 500
/**
 * What a loopback round trip adds to the check's budget: a new connection per request, Fastify's
 * routing and the reply, in this same process (its event-loop lag is measured apart).
 */
const HTTP_OVERHEAD_MS = 50

let sentinel: RedisSentinelServer
let client: Redis | undefined
let app: FastifyInstance | undefined

beforeEach(async () => {
  sentinel = await startRedisSentinel({ downAfterMs: DOWN_AFTER_MS })
}, 60_000)
afterEach(async () => {
  await app?.close()
  app = undefined
  client?.disconnect()
  client = undefined
  await sentinel?.stop()
})

it('a Sentinel failover under HTTP load: no 5xx, every response within budget, admission within the bound', async () => {
  const redis = sentinel.client({
    // What docs/redis.md recommends: a demoted primary's READONLY reconnects, to the new one.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    retryStrategy: (times) => Math.min(times * 50, RECONNECT_MS),
    sentinelRetryStrategy: (times) => Math.min(times * 50, RECONNECT_MS),
  })
  client = redis
  redis.on('error', () => {})
  await new Promise((resolve) => redis.once('ready', resolve))

  // The limiter's own account of each request (HTTP does not say where an answer came from), and
  // when Redis itself answered a store call.
  const decisions: { at: number; decision: Decision }[] = []
  const redisAnswers: number[] = []
  const server = Fastify({ logger: false })
  app = server
  await server.register(rateLimit, {
    redis,
    capacity: CAPACITY,
    refillPerSecond: REFILL,
    prefix: 'sfh:',
    timeoutMs: TIMEOUT_MS,
    circuitBreaker: { maxCooldownMs: MAX_COOLDOWN_MS },
    logger: recordingLogger(),
    observer: {
      decision: ({ decision }) => void decisions.push({ at: performance.now(), decision }),
      storeCall: ({ outcome }) => void (outcome === 'ok' && redisAnswers.push(performance.now())),
    },
  })
  server.get('/', async () => 'ok')
  const url = await server.listen({ host: '127.0.0.1', port: 0 })
  const oldPrimary = await sentinel.primaryPort()
  // Until Redis answers (the first clock reading may take longer than a budget on a busy machine).
  await pollUntil(
    async () => (await get(url)).status === 200 && decisions.at(-1)?.decision.source === 'store',
    20,
    AbortSignal.timeout(10_000),
  )

  const lag = eventLoopLag()
  const load = steadyRequests(
    async () => {
      const { status } = await get(url)
      return { source: undefined, allowed: status === 200, status }
    },
    { concurrency: 2, pauseMs: 10 },
  )
  await new Promise((resolve) => setTimeout(resolve, 500))
  const startedAt = decisions.length
  await sentinel.kill(oldPrimary)
  const killedAt = performance.now()
  const newPrimary = await sentinel.promotedFrom(oldPrimary, 20_000)
  const promotedMs = performance.now() - killedAt
  await pollUntil(async () => redisAnswers.some((at) => at > killedAt), 20, AbortSignal.timeout(20_000))
  const recoveredMs = redisAnswers.find((at) => at > killedAt)! - killedAt
  // Answers from Redis for a second after the recovery, the new primary serving them.
  const steadyAt = performance.now()
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const run = await load.stop()
  const lagMs = lag.stop()

  const statuses: Record<number, number> = {}
  for (const d of run.decisions) statuses[d.status] = (statuses[d.status] ?? 0) + 1
  const admitted = run.decisions.filter((d) => d.allowed).length
  const localAdmitted = decisions.filter(({ decision }) => decision.source === 'local' && decision.deny === undefined).length
  // Replication is asynchronous: the killed primary may take its last writes with it (+ C).
  const bound = CAPACITY + REFILL * run.seconds + localAdmitted + CAPACITY
  const sources: Record<string, number> = {}
  for (const { decision } of decisions.slice(startedAt)) sources[decision.source] = (sources[decision.source] ?? 0) + 1
  const budgetMs = TIMEOUT_MS + lagMs + 20 + HTTP_OVERHEAD_MS
  console.log(
    `HTTP: promotion ${promotedMs.toFixed(0)} ms after the kill, Redis answers again ${recoveredMs.toFixed(0)} ms after it; ` +
      `${run.decisions.length} responses ${JSON.stringify(statuses)}, sources ${JSON.stringify(sources)}; ` +
      `admitted ${admitted} ≤ bound ${bound.toFixed(0)} (C + R·t + ${localAdmitted} local + C, t = ${run.seconds.toFixed(1)} s); ` +
      `slowest ${run.slowestMs.toFixed(0)} ms ≤ ${budgetMs.toFixed(0)} ms (event-loop lag ${lagMs.toFixed(0)} ms)`,
  )
  expect(run.errors).toEqual([])
  // Only what the limiter answers: a 200 or a 429, never a 5xx.
  expect(statuses[200]).toBeGreaterThan(0)
  expect(run.decisions.filter((d) => d.status !== 200 && d.status !== 429)).toEqual([])
  expect(run.slowestMs).toBeLessThanOrEqual(budgetMs)
  expect(recoveredMs - promotedMs).toBeLessThanOrEqual(DOWN_AFTER_MS + RECONNECT_MS + 2_000 + lagMs)
  expect(admitted).toBeLessThanOrEqual(bound)
  // Once Redis answered again (and the checks then in flight were answered), it answered every
  // check, on the new primary.
  const after = decisions.filter(({ at }) => at > steadyAt + TIMEOUT_MS)
  expect(after.length).toBeGreaterThan(0)
  expect(after.every(({ decision }) => decision.source === 'store')).toBe(true)
  expect(/role:master/.test(await sentinel.node(newPrimary).info('replication'))).toBe(true)
}, 90_000)
