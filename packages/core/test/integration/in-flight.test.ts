import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { pollUntil, type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisBackend, redisBackends } from '../../../../test/support/backends.js'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import type { LimiterOptions, RequestView } from '../../src/types.js'

// In-flight limits on every Redis backend the conformance suites use (one Redis and a Cluster,
// through each client family): slots are taken all or nothing with buckets in one script call,
// released once, kept by renewals past leaseMs, and bounded by TTLs.
const view: RequestView = { ip: '203.0.113.9', header: () => undefined }
let n = 0

function limiterOn(backend: RedisBackend, options: Record<string, unknown>) {
  return createLimiter<object>({
    redis: backend.client,
    prefix: `inf${++n}:`,
    timeoutMs: 5_000,
    logger: recordingLogger(),
    ...options,
  } as unknown as LimiterOptions<object>)
}

describe.each(redisBackends)('in-flight limits on $name', (store) => {
  let backend: RedisBackend
  beforeAll(async () => {
    backend = await store.start()
  }, 60_000)
  afterAll(async () => {
    await backend.stop()
  })

  it('admits n requests in flight, refuses the next, and frees each slot exactly once', async () => {
    const limiter = limiterOn(backend, { name: 'exports', concurrency: 3 })
    const route = limiter.forRoute(undefined, 'GET', '/export')!
    const decisions = await Promise.all(Array.from({ length: 10 }, () => route.check({}, view)))
    const admitted = decisions.filter((d) => d!.outcome === 'allowed')
    expect(admitted).toHaveLength(3)
    expect(decisions.every((d) => d!.source === 'store')).toBe(true)
    const refused = decisions.find((d) => d!.outcome === 'denied')!
    expect(refused.headers).toMatchObject({ 'retry-after': '1', ratelimit: '"exports";r=0' })
    // The slot set is one key with a TTL, named after the client and the policy.
    const keys = await backend.keys(`${limiter.options.prefix}*`)
    expect(keys).toEqual([expect.stringMatching(/^inf\d+:\{[^}]+\}:c:exports$/)])
    // Released twice, freed once: one more request gets in, and no second.
    await admitted[0]!.release!()
    await admitted[0]!.release!()
    const next = await Promise.all([route.check({}, view), route.check({}, view)])
    expect(next.map((d) => d!.outcome).sort()).toEqual(['allowed', 'denied'])
    await Promise.all([...admitted.slice(1), ...next].map((d) => d!.release?.()))
    // Empty: the set is gone.
    expect(await backend.keys(`${limiter.options.prefix}*`)).toEqual([])
    limiter.close()
  })

  it('goes all or nothing with a token bucket in the same call, both ways', async () => {
    const limiter = limiterOn(backend, {
      policies: [
        { name: 'burst', capacity: 2, refillPerSecond: 0.001 },
        { name: 'exports', concurrency: 1 },
      ],
    })
    const route = limiter.forRoute(undefined, 'GET', '/')!
    const first = await route.check({}, view)
    expect(first!.outcome).toBe('allowed')
    // The slot is taken: refused, and no token was spent.
    const second = await route.check({}, view)
    expect(second!.result!.violated).toEqual(['exports'])
    expect(second!.headers['x-ratelimit-remaining']).toBe('1')
    await first!.release!()
    // The last token, then an empty bucket: refused by the bucket, and no slot taken.
    const third = await route.check({}, view)
    expect(third!.outcome).toBe('allowed')
    await third!.release!()
    const fourth = await route.check({}, view)
    expect(fourth!.result!.violated).toEqual(['burst'])
    const slots = await limiter.controls.acquire({}, { key: 'x', policy: { name: 'other', concurrency: 1 } })
    expect(slots.allowed).toBe(true)
    await slots.release()
    const keys = await backend.keys(`${limiter.options.prefix}*:c:*`)
    expect(keys).toEqual([])
    limiter.close()
  })

  it('keeps the slot of a request that outlives leaseMs, renewed while it is open', async () => {
    const limiter = limiterOn(backend, { name: 'long', concurrency: 1, leaseMs: 1_000 })
    const held = await limiter.controls.acquire({}, { key: 'stream' })
    expect(held.allowed).toBe(true)
    // Two and a half leases later (renewed every 333 ms), the slot is still taken.
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    expect((await limiter.controls.acquire({}, { key: 'stream' })).allowed).toBe(false)
    await held.release()
    expect((await limiter.controls.acquire({}, { key: 'stream' })).allowed).toBe(true)
    limiter.close()
  }, 10_000)
})

describe('a replica killed with SIGKILL while it holds slots', () => {
  let server: RedisServer
  let redis: Redis
  beforeAll(async () => {
    server = await startRedis()
    redis = server.client()
  }, 60_000)
  afterAll(async () => {
    await server.stop()
  })

  const fixture = fileURLToPath(new URL('../fixtures/lease-holder.ts', import.meta.url))
  const redisUs = async (): Promise<number> => {
    const [s, us] = await redis.time()
    return Number(s) * 1e6 + Number(us)
  }

  it('frees them within [last renewal + leaseMs, kill + leaseMs + period + 1 s] on the Redis clock', async () => {
    const leaseMs = 1_000
    const prefix = `kill${++n}:`
    const child = spawn(
      process.execPath,
      ['--conditions=sluice:source', '--import', 'tsx', fixture, String(server.port), prefix, '2', String(leaseMs)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))
      child.once('exit', (code) => reject(new Error(`the lease holder exited (${code})`)))
    })
    expect(JSON.parse(line)).toEqual({ held: 2 })
    // Let it renew a few times, then kill it.
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    const [key] = await redis.keys(`${prefix}*`)
    const killedAt = await redisUs()
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    // Each member's score is its expiry, last renewal + leaseMs, on the Redis clock.
    const scores = (await redis.zrange(key!, 0, -1, 'WITHSCORES')).filter((_, i) => i % 2 === 1).map(Number)
    expect(scores).toHaveLength(2)
    const lastExpiry = Math.max(...scores)
    // A limiter here sees the slots taken until they expire, then free.
    const limiter = createLimiter<object>({
      redis,
      prefix,
      name: 'held',
      concurrency: 2,
      leaseMs,
      timeoutMs: 5_000,
      logger: recordingLogger(),
    })
    let refusedAt = 0
    let freedAt = 0
    await pollUntil(
      async () => {
        const before = await redisUs()
        const got = await limiter.controls.acquire({}, { key: 'holder' })
        if (!got.allowed) {
          refusedAt = before
          return false
        }
        freedAt = await redisUs()
        await got.release()
        return true
      },
      25,
      AbortSignal.timeout(5_000),
    )
    // No sooner than the lease allows: refused until at least the last expiry…
    expect(freedAt).toBeGreaterThanOrEqual(lastExpiry)
    expect(refusedAt).toBeLessThan(lastExpiry)
    // …and no later than the kill plus a lease, a renewal period and a second.
    expect(freedAt).toBeLessThanOrEqual(killedAt + (leaseMs + leaseMs / 3 + 1_000) * 1_000)
    limiter.close()
  }, 20_000)
})
