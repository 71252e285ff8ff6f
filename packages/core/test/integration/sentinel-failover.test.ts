import { pollUntil, type RedisSentinelServer, startRedisSentinel } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { createSentinel } from 'redis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import { adapterOf } from '../../src/stores/clients/index.js'
import { connectionOf, SINGLE_NODE } from '../../src/stores/redis-connection.js'
import type { RedisClient, RequestView } from '../../src/types.js'
import { bySource, eventLoopLag, type LoadRun, steadyLoad } from '../support/steady-load.js'

// Issue 23: a primary, a replica and three Sentinels; under steady load through the limiter the
// primary is SIGKILLed and the replica promoted. Requests get no 5xx (the failure mode is
// 'local'), none waits past its budget, Redis answers again within down-after + reconnect + 2 s,
// admission stays within C + R·t + what the failure mode admitted + C (replication is
// asynchronous: the last writes may be lost), and the old primary, restarted, rejoins as a
// replica that runs no script. With ioredis and node-redis.

const DOWN_AFTER_MS = 1_000
const TIMEOUT_MS = 250
const CAPACITY = 20
const REFILL = 10
const MAX_COOLDOWN_MS = 1_000
/** The longest a client waits between two reconnect attempts, as configured below. */
const RECONNECT_MS = 500

let sentinel: RedisSentinelServer
let closeClient: (() => Promise<void>) | undefined

beforeEach(async () => {
  sentinel = await startRedisSentinel({ downAfterMs: DOWN_AFTER_MS })
}, 60_000)
afterEach(async () => {
  await closeClient?.().catch(() => {})
  closeClient = undefined
  await sentinel?.stop()
})

const view: RequestView = { ip: '192.0.2.23', header: () => undefined }

interface Family {
  /** The app's client through the Sentinels, connected, and how to hear of it being ready on a (new) primary. */
  connect(): Promise<{ client: RedisClient; onNewPrimary(listener: () => void): void }>
}

const FAMILIES: Record<string, Family> = {
  'ioredis (sentinels, name)': {
    async connect() {
      const client: Redis = sentinel.client({
        // What docs/redis.md recommends: a demoted primary's READONLY reconnects, to the new one.
        reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
        retryStrategy: (times) => Math.min(times * 50, RECONNECT_MS),
        sentinelRetryStrategy: (times) => Math.min(times * 50, RECONNECT_MS),
      })
      client.on('error', () => {})
      await new Promise((resolve) => client.once('ready', resolve))
      closeClient = async () => client.disconnect()
      return { client, onNewPrimary: (listener) => void client.on('ready', listener) }
    },
  },
  'node-redis createSentinel': {
    async connect() {
      const client = createSentinel({
        name: sentinel.name,
        sentinelRootNodes: [...sentinel.sentinels],
        nodeClientOptions: { socket: { reconnectStrategy: (retries) => Math.min(retries * 50, RECONNECT_MS) } },
        // What docs/redis.md recommends: the primary's errors reach the store, which then refuses
        // checks at once instead of each waiting its budget (node-redis-sentinel-status.test.ts).
        passthroughClientErrorEvents: true,
      })
      client.on('error', () => {})
      await client.connect()
      closeClient = () => client.destroy()
      const onNewPrimary = (listener: () => void): void =>
        void client.on('topology-change', (event: { type: string }) => {
          if (event.type === 'MASTER_CHANGE') listener()
        })
      return { client, onNewPrimary }
    },
  },
}

/** A node's INFO field, as a number (0 when absent). */
async function infoNumber(node: Redis, section: string, pattern: RegExp): Promise<number> {
  const match = pattern.exec(await node.info(section))
  return match === null ? 0 : Number(match[1])
}

const scriptCalls = (node: Redis): Promise<number> =>
  Promise.all([
    infoNumber(node, 'commandstats', /cmdstat_evalsha:calls=(\d+)/),
    infoNumber(node, 'commandstats', /cmdstat_eval:calls=(\d+)/),
  ]).then(([a, b]) => a + b)

describe.each(Object.keys(FAMILIES))('a Sentinel failover under load, through %s', (family) => {
  it('answers within budget, recovers within seconds, stays within the bound, and writes to the new primary only', async () => {
    // Whether the client's clock of the primary was forgotten when it was ready on the new one.
    const clockKnownOnNewPrimary: boolean[] = []
    const { client, onNewPrimary } = await FAMILIES[family]!.connect()
    // When Redis itself answered (a store call, not the deny cache in front of it).
    const redisAnswers: number[] = []
    const limiter = createLimiter({
      redis: client,
      observer: { storeCall: ({ outcome }) => void (outcome === 'ok' && redisAnswers.push(performance.now())) },
      capacity: CAPACITY,
      refillPerSecond: REFILL,
      prefix: 'sf:',
      timeoutMs: TIMEOUT_MS,
      // The breaker's longest cooldown bounds how long after the promotion its next probe comes.
      circuitBreaker: { maxCooldownMs: MAX_COOLDOWN_MS },
      logger: recordingLogger(),
    })
    const route = limiter.forRoute(undefined, 'GET', '/')!
    // Heard after the store's own listener, which forgets the old primary's clock.
    const connection = connectionOf(adapterOf(client))
    onNewPrimary(() => clockKnownOnNewPrimary.push(connection.clock.knows(SINGLE_NODE)))
    const oldPrimary = await sentinel.primaryPort()
    // Until Redis answers (the first clock reading may take longer than a budget on a busy machine).
    await pollUntil(async () => (await route.check({}, view))?.source === 'store', 20, AbortSignal.timeout(10_000))

    const lag = eventLoopLag()
    const load: LoadRun = steadyLoad(() => route.check({}, view), { concurrency: 2, pauseMs: 10 })
    await new Promise((resolve) => setTimeout(resolve, 500))
    await sentinel.kill(oldPrimary)
    const killedAt = performance.now()
    const newPrimary = await sentinel.promotedFrom(oldPrimary, 20_000)
    const promotedMs = performance.now() - killedAt
    // Redis answers again: the first store answer after the kill. Timed from the promotion too:
    // the rest is the circuit breaker's cooldown, doubled at each failed probe while Redis was away.
    await pollUntil(async () => redisAnswers.some((at) => at > killedAt), 20, AbortSignal.timeout(20_000))
    const recoveredMs = redisAnswers.find((at) => at > killedAt)! - killedAt

    // The old primary comes back: the Sentinels make it a replica of the new one.
    const restartedAt = performance.now()
    await sentinel.restart(oldPrimary)
    const old = sentinel.node(oldPrimary)
    const replicaOf = async (): Promise<boolean> => {
      const info = await old.info('replication')
      return /role:slave/.test(info) && new RegExp(`master_port:${newPrimary}\\b`).test(info)
    }
    await pollUntil(replicaOf, 50, AbortSignal.timeout(30_000))
    const rejoinMs = performance.now() - restartedAt
    const scriptsBefore = await scriptCalls(sentinel.node(newPrimary))
    const rejoinedAt = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const redisAfter = redisAnswers.filter((at) => at > rejoinedAt).length
    const run = await load.stop()
    const lagMs = lag.stop()

    const after = run.decisions.filter((d) => d.at > rejoinedAt)
    const admitted = run.decisions.filter((d) => d.allowed).length
    const localAdmitted = run.decisions.filter((d) => d.allowed && d.source === 'local').length
    const seconds = run.seconds
    const bound = CAPACITY + REFILL * seconds + localAdmitted + CAPACITY
    const sources = bySource(run.decisions)
    console.log(
      `${family}: promotion ${promotedMs.toFixed(0)} ms after the kill, Redis answers again ${recoveredMs.toFixed(0)} ms after it (${(recoveredMs - promotedMs).toFixed(0)} ms after the promotion); ` +
        `${run.decisions.length} requests ${JSON.stringify(sources)}, 0 5xx: ${run.decisions.every((d) => d.status < 500)}; ` +
        `admitted ${admitted} ≤ bound ${bound.toFixed(0)} (C + R·t + ${localAdmitted} local + C, t = ${seconds.toFixed(1)} s); ` +
        `old primary a replica ${rejoinMs.toFixed(0)} ms after its restart; slowest ${run.slowestMs.toFixed(0)} ms, event-loop lag ${lagMs.toFixed(0)} ms`,
    )
    expect(run.errors).toEqual([])
    expect(run.decisions.filter((d) => d.status >= 500)).toEqual([])
    expect(run.slowestMs).toBeLessThanOrEqual(TIMEOUT_MS + lagMs + 20)
    expect(recoveredMs - promotedMs).toBeLessThanOrEqual(DOWN_AFTER_MS + RECONNECT_MS + 2_000 + lagMs)
    expect(admitted).toBeLessThanOrEqual(bound)
    // Nothing sticks: once the old primary is a replica, every answer is Redis's, and every
    // script runs on the new primary; the old one runs none.
    expect(after.length).toBeGreaterThan(0)
    expect(after.every((d) => d.source === 'store')).toBe(true)
    expect(redisAfter).toBeGreaterThan(0)
    expect(await scriptCalls(sentinel.node(newPrimary))).toBeGreaterThan(scriptsBefore)
    expect(await scriptCalls(old)).toBe(0)
    // The first check to the new primary waited for its clock reading: it was forgotten then.
    expect(clockKnownOnNewPrimary.length).toBeGreaterThan(0)
    expect(clockKnownOnNewPrimary[0]).toBe(false)
  }, 90_000)
})
