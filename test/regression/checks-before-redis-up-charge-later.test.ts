import { once } from 'node:events'
import { createLimiter } from '@sluice/core/adapter'
import { freePort, type RedisServer, startRedis } from '@sluice/harness'
import { Redis, type RedisOptions } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { recordingLogger } from '../support/recording-logger.js'

// A client created while Redis was down (the README's own `new Redis(…)`, or one with
// `lazyConnect`) put the scripts of checks the failure mode had already answered into ioredis's
// offline queue; when Redis started, they ran and took tokens from clients never served. A check
// now waits, within its budget, for the client to be ready and the node's clock to be read, so
// every script carries a deadline; it never writes into the offline queue.
const BUDGET_MS = 50
// Generous: on a loaded machine a timer fires late, but never by anything like a second.
const TOLERANCE_MS = 500
const visitor = { ip: '198.51.100.23', header: () => undefined }

let server: RedisServer | undefined
const clients: Redis[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect()
  await server?.stop()
  server = undefined
})

async function checksBeforeRedisIsUp(clientOptions: RedisOptions): Promise<void> {
  const port = await freePort()
  const redis = new Redis({ host: '127.0.0.1', port, ...clientOptions })
  redis.on('error', () => {}) // refused connections, until the server starts
  clients.push(redis)
  const prefix = `down${process.pid}:`
  const options = { redis, capacity: 5, refillPerSecond: 0.001, prefix, logger: recordingLogger() }
  const route = createLimiter<object>({
    ...options,
    timeoutMs: BUDGET_MS,
    failureMode: 'deny',
    // Every check goes to the store rather than to an open circuit: each is a chance to queue.
    circuitBreaker: { failureThreshold: 1_000 },
  }).forRoute(undefined, '*', '*')!

  const startedAt = performance.now()
  const refused = await Promise.all(Array.from({ length: 4 }, () => route.check({}, visitor)))
  expect(performance.now() - startedAt).toBeLessThanOrEqual(BUDGET_MS + TOLERANCE_MS)
  expect(refused.map((d) => d!.outcome)).toEqual(['unavailable', 'unavailable', 'unavailable', 'unavailable'])
  // One more, alone, in a later turn: a client that keeps failing keeps refusing in time.
  const again = await route.check({}, visitor)
  expect(again!.outcome).toBe('unavailable')

  server = await startRedis({ port })
  if (redis.status !== 'ready') await once(redis, 'ready')
  // Commands on one connection run in order: once this is answered, anything queued ran.
  await redis.ping()
  const admin = server.client()
  expect(await admin.keys(`${prefix}*`)).toEqual([])

  // And the store works once Redis is up: the first token this visitor ever paid.
  const steady = createLimiter<object>({ ...options, timeoutMs: 10_000 }).forRoute(undefined, '*', '*')!
  const served = await steady.check({}, visitor)
  expect(served!.source).toBe('store')
  expect(served!.result!.remaining).toBe(4)
}

describe('checks answered before Redis was ever up', () => {
  it('take nothing when Redis starts (a client created while Redis is down)', async () => {
    await checksBeforeRedisIsUp({})
  }, 30_000)

  it('take nothing when Redis starts (a lazyConnect client, connected by the store)', async () => {
    await checksBeforeRedisIsUp({ lazyConnect: true })
  }, 30_000)

  it('a lazyConnect client to a running Redis is connected, and its first check is served', async () => {
    server = await startRedis()
    const redis = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true })
    clients.push(redis)
    const route = createLimiter<object>({
      redis,
      capacity: 5,
      refillPerSecond: 0.001,
      prefix: `lazy${process.pid}:`,
      timeoutMs: 10_000,
    }).forRoute(undefined, '*', '*')!
    const first = await route.check({}, visitor)
    expect(first!.source).toBe('store')
    expect(first!.result!.remaining).toBe(4)
  }, 30_000)
})
