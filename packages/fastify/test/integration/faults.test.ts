import { Writable } from 'node:stream'
import { pollUntil, type RedisServer, startRedis } from '@sluice/harness'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import rateLimit, { type SluiceFastifyOptions } from '../../src/index.js'

// Fault tests: a real redis-server is killed, frozen (SIGSTOP), flushed and restarted under load.
// No bound below is a guess at how fast this machine is: each follows from these settings.
// The budget of the tests that only watch what happens while Redis is gone or frozen.
const BUDGET_MS = 100
// The budget of those that also assert Redis itself answered while it was up (degraded: false),
// which a busy machine cannot promise within 100 ms.
const HEALTHY_BUDGET_MS = 5_000
const BREAKER = { failureThreshold: 3, cooldownMs: 250, maxCooldownMs: 4_000 }
// CLIENT PAUSE ends by itself, after fifteen budgets: far longer than the few budgets the
// requests fired meanwhile may take (the breaker opens after three), so an answer that came only
// after it ended had waited for Redis.
const PAUSE_MS = 15 * BUDGET_MS

let server: RedisServer
let redis: Redis
let app: FastifyInstance
let budgetMs: number
let warnings: string[]
let unhandled: unknown[]
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason)
}

interface Shot {
  status: number
  degraded: boolean | undefined
  headers: Record<string, unknown>
}

beforeEach(async () => {
  server = await startRedis()
  // The client the README recommends: quick reconnects, and no replay of commands that were in
  // flight when the connection dropped (their requests were already answered locally).
  redis = server.client({ retryStrategy: () => 50, autoResendUnfulfilledCommands: false })
  // Applications should listen for client errors; the limiter itself never depends on it.
  redis.on('error', () => {})
  warnings = []
  unhandled = []
  process.on('unhandledRejection', onUnhandled)
})
afterEach(async () => {
  process.off('unhandledRejection', onUnhandled)
  await app?.close()
  await server.stop()
  expect(unhandled).toEqual([])
})

async function build(options: Partial<SluiceFastifyOptions> = {}): Promise<FastifyInstance> {
  const stream = new Writable({
    write(chunk, _e, cb) {
      for (const line of String(chunk).split('\n')) if (line) warnings.push(JSON.parse(line).msg)
      cb()
    },
  })
  app = Fastify({ logger: { stream, level: 'warn' } })
  budgetMs = options.timeoutMs ?? HEALTHY_BUDGET_MS
  await app.register(rateLimit, {
    redis,
    capacity: 900,
    refillPerSecond: 1,
    replicas: 3,
    timeoutMs: budgetMs,
    circuitBreaker: BREAKER,
    ...options,
  } as SluiceFastifyOptions)
  app.get('/', async (request) => ({ degraded: request.rateLimit?.degraded }))
  await app.ready()
  return app
}

/** `total` requests, `concurrency` at a time; bounded in count. */
async function fire(total: number, concurrency = 10, ip = '198.51.100.1'): Promise<Shot[]> {
  const shots: Shot[] = []
  for (let sent = 0; sent < total; sent += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, total - sent) }, async () => {
      const r = await app.inject({ url: '/', remoteAddress: ip })
      const body = r.statusCode === 200 ? (r.json() as { degraded?: boolean }) : {}
      return { status: r.statusCode, degraded: body.degraded, headers: r.headers }
    })
    shots.push(...(await Promise.all(batch)))
  }
  return shots
}

/**
 * Fire single requests until one is answered by Redis again. Once Redis is back, the breaker's
 * next probe is at most one longest cooldown away and answers within one budget: twice that
 * leaves room for a busy machine.
 */
async function untilShared(): Promise<void> {
  const recoveryMs = 2 * (BREAKER.maxCooldownMs + budgetMs)
  const shared = async (): Promise<boolean> => (await fire(1))[0]!.degraded === false
  await pollUntil(shared, 20, AbortSignal.timeout(recoveryMs)).catch(() => {
    throw new Error(`still answering locally ${recoveryMs} ms after Redis came back`)
  })
  expect(app.sluice.stats().circuit).toBe('closed')
}

describe('Redis faults', () => {
  it('answers from local buckets, without waiting for Redis, when it dies, and returns to Redis when it is back', async () => {
    await build()
    const before = await fire(30)
    expect(before.every((s) => s.status === 200 && s.degraded === false)).toBe(true)

    await server.kill()
    // Answered while Redis is dead: a request that waited for it would never be answered.
    const during = await fire(300)
    expect(during.filter((s) => s.status >= 500)).toEqual([])
    expect(during.every((s) => s.status === 200 || s.status === 429)).toBe(true)
    expect(during.filter((s) => s.degraded === true).length).toBeGreaterThan(250)
    // The headers describe the local bucket actually used: a third of the global capacity.
    const degraded = during.find((s) => s.degraded === true)!
    expect(degraded.headers['x-ratelimit-limit']).toBe('300')
    expect(degraded.headers['ratelimit-policy']).toBe('"default";q=300;w=900')
    expect(app.sluice.stats().degradedAnswers).toBeGreaterThan(250)
    // One warning, not one per request.
    expect(warnings.filter((w) => w.includes('unavailable')).length).toBeGreaterThanOrEqual(1)
    expect(warnings.filter((w) => w.includes('unavailable')).length).toBeLessThanOrEqual(2)

    await server.restart()
    await untilShared()
  })

  it('sends nothing while the client reconnects, so no late script takes tokens after recovery', async () => {
    await build()
    await fire(10)
    await server.kill()
    await fire(100) // answered locally; none of these may reach Redis once it is back
    await server.restart()
    await untilShared() // takes one token from the fresh (restarted, empty) Redis
    const [next] = await fire(1)
    expect(next!.degraded).toBe(false)
    expect(next!.headers['x-ratelimit-remaining']).toBe('898')
  })

  it('enforces the local share while degraded', async () => {
    await build({ capacity: 30, refillPerSecond: 0.001, timeoutMs: BUDGET_MS })
    await server.kill()
    const during = await fire(40, 1)
    // 30 / 3 replicas = 10 tokens for this replica on its own.
    expect(during.filter((s) => s.status === 200)).toHaveLength(10)
    expect(during.filter((s) => s.status === 429)).toHaveLength(30)
  })

  it('answers without waiting while Redis is frozen, and recovers when it thaws', async () => {
    await build({ timeoutMs: BUDGET_MS })
    await fire(10)
    server.pause()
    try {
      // Answered while Redis is frozen: a request that waited for it would never be answered.
      const during = await fire(100)
      expect(during.filter((s) => s.status >= 500)).toEqual([])
      expect(during.filter((s) => s.degraded === true).length).toBeGreaterThan(90)
    } finally {
      server.resume()
    }
    await untilShared()
  })

  it('answers through CLIENT PAUSE longer than the budget, before the pause ends', async () => {
    await build({ timeoutMs: BUDGET_MS })
    await fire(10)
    const admin = server.client()
    const watcher = server.client()
    await watcher.ping()
    await admin.client('PAUSE', PAUSE_MS, 'ALL')
    // The watcher's PING is held with everything else, so its answer marks the end of the pause.
    let paused = true
    const unpaused = watcher.ping().then(() => {
      paused = false
    })
    const during = await fire(60)
    expect(paused, 'every request was answered before the pause ended, none waited for it').toBe(true)
    expect(during.filter((s) => s.status >= 500)).toEqual([])
    expect(during.filter((s) => s.degraded === true).length).toBeGreaterThan(50)
    await unpaused
    await untilShared()
  })

  it('sees no error through SCRIPT FLUSH under load', async () => {
    await build()
    const load = fire(200, 10)
    for (let i = 0; i < 5; i++) await redis.script('FLUSH')
    const shots = await load
    expect(shots.every((s) => s.status === 200 && s.degraded === false)).toBe(true)
    expect(app.sluice.stats().storeErrors).toBe(0)
  })

  it('sees no 5xx through a Redis restart under load', async () => {
    await build()
    const load = fire(400, 10)
    await server.kill()
    await server.restart()
    const shots = await load
    expect(shots.filter((s) => s.status !== 200)).toEqual([])
    await untilShared()
  })

  it("'allow' admits without claiming quota it did not measure", async () => {
    await build({ failureMode: 'allow', timeoutMs: BUDGET_MS })
    await server.kill()
    const shots = await fire(20)
    for (const s of shots) {
      expect(s.status).toBe(200)
      expect(s.headers['x-ratelimit-remaining']).toBeUndefined()
      expect(s.headers.ratelimit).toBeUndefined()
    }
  })

  it("'deny' refuses with 503, not 429", async () => {
    await build({ failureMode: 'deny', timeoutMs: BUDGET_MS })
    await server.kill()
    const r = await app.inject({ url: '/' })
    expect(r.statusCode).toBe(503)
    expect(r.headers['x-ratelimit-remaining']).toBeUndefined()
    expect(r.headers['content-type']).toContain('application/problem+json')
    expect(r.json()).toMatchObject({ status: 503, title: 'Service Unavailable' })
  })
})
