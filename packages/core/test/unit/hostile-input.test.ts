import fc from 'fast-check'
import { type Item, parseList } from 'structured-headers'
import { describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import { rateLimitHeaders } from '../../src/headers.js'
import { resolvePolicy } from '../../src/policies.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import type { RequestView } from '../../src/types.js'

const KEY_SHAPE = /^sluice:\{(ip|key|id):[^{}\s]*\}:default$/

function view(headers: Record<string, string | string[]>, ip: string | undefined = '192.0.2.1'): RequestView {
  return { ip, header: (name) => headers[name] }
}

describe('hostile request input', () => {
  const hostile = ['a\r\nSet-Cookie: x', '{tag}', '}{', 'a:b:c', 'ключ🙂', 'x'.repeat(65_536), '\u0000']

  it.each(hostile.map((v) => [JSON.stringify(v).slice(0, 40), v]))(
    'API key %s is hashed into a safe, bounded key',
    async (_label, value) => {
      const limiter = createLimiter({ logger: recordingLogger(), capacity: 5, refillPerSecond: 1, key: { header: 'x-api-key' } })
      const decision = await limiter.forRoute(undefined, 'GET', '/')!.check({}, view({ 'x-api-key': value }))
      expect(decision!.result!.key).toMatch(/^sluice:\{key:[A-Za-z0-9_-]{22}\}:default$/)
      expect(decision!.result!.allowed).toBe(true)
    },
  )

  it.each([' ', '\t', ',', ' , sk_1'])('counts API key %j as missing: the IP bucket, not a key of its own', async (value) => {
    const limiter = createLimiter({ logger: recordingLogger(), capacity: 5, refillPerSecond: 1, key: { header: 'x-api-key' } })
    const decision = await limiter.forRoute(undefined, 'GET', '/')!.check({}, view({ 'x-api-key': value }))
    expect(decision!.result!.key).toBe('sluice:{ip:192.0.2.1}:default')
  })

  it('never lets two different API keys share a bucket, whatever their bytes', async () => {
    const limiter = createLimiter({ logger: recordingLogger(), capacity: 1, refillPerSecond: 0.001, key: { header: 'x-api-key' } })
    const route = limiter.forRoute(undefined, 'GET', '/')!
    const keys = new Set<string>()
    for (const value of hostile) keys.add((await route.check({}, view({ 'x-api-key': value })))!.result!.key)
    expect(keys.size).toBe(hostile.length)
  })

  it('survives any string as an IP or a custom key, producing a key in its own namespace', async () => {
    const byIp = createLimiter({ logger: recordingLogger(), capacity: 5, refillPerSecond: 1 }).forRoute(undefined, 'GET', '/')!
    const byFn = createLimiter<string>({ logger: recordingLogger(), capacity: 5, refillPerSecond: 1, key: (id) => id }).forRoute(
      undefined,
      'GET',
      '/',
    )!
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (s) => {
        expect((await byIp.check('', view({}, s)))!.result!.key).toMatch(KEY_SHAPE)
        if (s !== '') expect((await byFn.check(s, view({})))!.result!.key).toMatch(KEY_SHAPE)
      }),
      { numRuns: 300 },
    )
  })

  it('takes the first value when a header arrives twice', async () => {
    const limiter = createLimiter({ logger: recordingLogger(), capacity: 5, refillPerSecond: 1, key: { header: 'x-api-key' } })
    const route = limiter.forRoute(undefined, 'GET', '/')!
    const twice = (await route.check({}, view({ 'x-api-key': ['a', 'b'] })))!
    const once = (await route.check({}, view({ 'x-api-key': 'a' })))!
    expect(twice.result!.key).toBe(once.result!.key)
  })

  it('falls back to the IP for a missing key by default', async () => {
    const route = createLimiter({ logger: recordingLogger(), capacity: 5, refillPerSecond: 1, key: { header: 'x-api-key' } }).forRoute(
      undefined,
      'GET',
      '/',
    )!
    expect((await route.check({}, view({ 'x-api-key': '' })))!.result!.key).toBe('sluice:{ip:192.0.2.1}:default')
  })

  it('rejects a cost function that returns nonsense with a coded error, taking nothing', async () => {
    const store = new MemoryStore()
    const route = createLimiter<number>({ logger: recordingLogger(), capacity: 5, refillPerSecond: 1, store, cost: (n) => n }).forRoute(
      undefined,
      'GET',
      '/',
    )!
    for (const bad of [Number.NaN, -1, 0, 1.5, Number.POSITIVE_INFINITY]) {
      await expect(route.check(bad, view({}))).rejects.toMatchObject({ code: 'ERR_SLUICE_INVALID_REQUEST_VALUE' })
    }
    expect(store.size).toBe(0)
  })
})

describe('bounded local state', () => {
  it('holds at most memoryMaxKeys buckets through a flood of a million distinct clients', async () => {
    const limiter = createLimiter({ logger: recordingLogger(), capacity: 5, refillPerSecond: 1, memoryMaxKeys: 10_000 })
    const route = limiter.forRoute(undefined, 'GET', '/')!
    const store = limiter.options.store as MemoryStore
    for (let i = 0; i < 1_000_000; i++) {
      await route.check({}, view({}, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`))
    }
    expect(store.size).toBe(10_000)
  }, 60_000)
})

describe('structured fields', () => {
  it('always serializes valid RateLimit and RateLimit-Policy fields', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
        fc.integer({ min: 1, max: 2 ** 32 }),
        fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
        fc.nat({ max: 2 ** 32 }),
        fc.nat({ max: 2 ** 40 }),
        (name, capacity, rate, remaining, nextTokenMs) => {
          let policy: ReturnType<typeof resolvePolicy>
          try {
            policy = resolvePolicy({ name, capacity, refillPerSecond: rate })
          } catch {
            return // outside the clock range: rejected at registration, never serialized
          }
          const headers = rateLimitHeaders({
            status: 'allowed',
            allowed: true,
            remaining,
            used: capacity - remaining,
            resetTime: new Date(0),
            retryAfterMs: 0,
            resetMs: 0,
            nextTokenMs,
            policy,
            limit: capacity,
            cost: 1,
            key: 'k',
            degraded: false,
            violated: [],
            slots: [],
            policies: [{ status: 'allowed', taken: true, remaining, retryAfterMs: 0, resetMs: 0, nextTokenMs, policy, key: 'k' }],
          })
          const [p] = parseList(headers['ratelimit-policy']!) as Item[]
          expect(p![0]).toBe(name)
          expect(p![1].get('q')).toBe(capacity)
          expect(p![1].get('w')).toBe(policy.windowSeconds)
          const [r] = parseList(headers.ratelimit!) as Item[]
          expect(r![0]).toBe(name)
          expect(r![1].get('r')).toBe(remaining)
          expect(r![1].get('t')).toBe(Math.ceil(nextTokenMs / 1000))
        },
      ),
      { numRuns: 500 },
    )
  })
})
