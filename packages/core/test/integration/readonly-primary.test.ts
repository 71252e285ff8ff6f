import { pollUntil, type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { closeNodeRedis, type NodeRedis, nodeRedisClient } from '../../../../test/support/redis-clients.js'
import { createLimiter } from '../../src/adapter.js'
import type { RedisClient, RequestView } from '../../src/types.js'
import { bySource, eventLoopLag, steadyLoad } from '../support/steady-load.js'

// Issue 23: a primary demoted under its clients (what a failover does to clients still pointed at
// the old primary) answers READONLY to every script. READONLY is a store failure: the failure
// mode answers, within budget, and nothing sticks once the node is a primary again. ioredis with
// `reconnectOnError` for READONLY, as docs/redis.md recommends; node-redis as it comes.

const TIMEOUT_MS = 200
const DEMOTED_MS = 1_500

let primary: RedisServer
let other: RedisServer
let admin: Redis
let nodeRedis: NodeRedis | undefined

beforeAll(async () => {
  ;[primary, other] = await Promise.all([startRedis(), startRedis()])
  admin = primary.client()
}, 30_000)
afterAll(async () => {
  if (nodeRedis !== undefined) await closeNodeRedis(nodeRedis)
  await Promise.all([primary?.stop(), other?.stop()])
})

const FAMILIES: Record<string, () => Promise<RedisClient>> = {
  'ioredis (reconnectOnError for READONLY)': async () => {
    const client = primary.client({ reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false) })
    client.on('error', () => {})
    return client
  },
  'node-redis': async () => {
    nodeRedis = await nodeRedisClient(primary)
    return nodeRedis
  },
}

const readonlyErrors = async (): Promise<number> => Number(/errorstat_READONLY:count=(\d+)/.exec(await admin.info('errorstats'))?.[1] ?? 0)

describe.each(Object.keys(FAMILIES))('a primary demoted under load, through %s', (family) => {
  it('answers READONLY with the failure mode, within budget, and nothing sticks once it is a primary again', async () => {
    const client = await FAMILIES[family]!()
    const redisAnswers: number[] = []
    const route = createLimiter({
      redis: client,
      capacity: 1_000_000,
      refillPerSecond: 1,
      prefix: `ro${family.length}:`,
      timeoutMs: TIMEOUT_MS,
      logger: recordingLogger(),
      observer: { storeCall: ({ outcome }) => void (outcome === 'ok' && redisAnswers.push(performance.now())) },
    }).forRoute(undefined, 'GET', '/')!
    const view: RequestView = { ip: '192.0.2.77', header: () => undefined }
    await pollUntil(async () => (await route.check({}, view))?.source === 'store', 20, AbortSignal.timeout(10_000))

    const before = await readonlyErrors()
    const lag = eventLoopLag()
    const load = steadyLoad(() => route.check({}, view), { concurrency: 2, pauseMs: 10 })
    await admin.call('REPLICAOF', '127.0.0.1', String(other.port))
    await new Promise((resolve) => setTimeout(resolve, DEMOTED_MS))
    const readonly = (await readonlyErrors()) - before
    await admin.call('REPLICAOF', 'NO', 'ONE')
    const promotedAt = performance.now()
    await pollUntil(async () => redisAnswers.some((at) => at > promotedAt), 20, AbortSignal.timeout(10_000))
    const recoveredAt = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 500))
    const run = await load.stop()
    const lagMs = lag.stop()

    console.log(
      `${family}, demoted ${DEMOTED_MS} ms: ${readonly} READONLY answers, ${run.decisions.length} requests ${JSON.stringify(bySource(run.decisions))}; ` +
        `Redis answers again ${(recoveredAt - promotedAt).toFixed(0)} ms after it is a primary again; slowest ${run.slowestMs.toFixed(0)} ms, event-loop lag ${lagMs.toFixed(0)} ms`,
    )
    expect(readonly).toBeGreaterThan(0)
    expect(run.errors).toEqual([])
    expect(run.decisions.filter((d) => d.status >= 500)).toEqual([])
    expect(run.slowestMs).toBeLessThanOrEqual(TIMEOUT_MS + lagMs + 20)
    expect(run.decisions.filter((d) => d.at > recoveredAt + TIMEOUT_MS).every((d) => d.source === 'store')).toBe(true)
  }, 60_000)
})
