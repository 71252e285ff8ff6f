import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createLimiter } from '@sluice/core/adapter'
import { rateLimit } from '@sluice/express'
import { describe, expect, it } from 'vitest'
import { type ConformanceOptions, drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { regressionSuite } from '../support/regression-suite.js'

// Two limiters on one Redis client with the same prefix and policy name but other numbers
// (`app.use(apiLimiter)` plus a `loginLimiter` on `/login`, the express-rate-limit habit) read
// and wrote the same keys, so two login attempts locked the client out of the whole API, and
// nothing said so. One bucket id now has one shape per client and prefix: a second shape is an
// option error where it is declared; the same shape is still one shared bucket, on purpose.
const suite = regressionSuite()
const sharedBy = (prefix: string, options: Partial<ConformanceOptions> = {}): Partial<ConformanceOptions> => ({ prefix, ...options })

describe.each(drivers)('$name', (driver) => {
  it("refuses a second limiter whose policy has the first one's name and prefix but other numbers", async () => {
    const prefix = suite.prefix()
    await suite.start(driver, sharedBy(prefix, { capacity: 100, refillPerSecond: 10 }))
    await expect(suite.start(driver, sharedBy(prefix, { capacity: 2, refillPerSecond: 0.01 }))).rejects.toMatchObject({
      code: 'ERR_SLUICE_INVALID_OPTION',
      option: 'name',
    })
  })

  it('refuses it across adapters too, and names the policy among several', async () => {
    const prefix = suite.prefix()
    const other = drivers.find((d) => d !== driver)!
    await suite.start(other, sharedBy(prefix, { capacity: 100, refillPerSecond: 10 }))
    const policies = [
      { name: 'burst', capacity: 3, refillPerSecond: 1 },
      { name: 'default', capacity: 2, refillPerSecond: 0.01 },
    ]
    await expect(
      suite.start(driver, sharedBy(prefix, { capacity: undefined, refillPerSecond: undefined, policies })),
    ).rejects.toMatchObject({
      code: 'ERR_SLUICE_INVALID_OPTION',
      option: 'policies[1].name',
    })
  })

  it('keeps allowing the same shape, as one shared bucket', async () => {
    const prefix = suite.prefix()
    const a = await suite.start(driver, sharedBy(prefix, { capacity: 5 }))
    const b = await suite.start(driver, sharedBy(prefix, { capacity: 5 }))
    expect((await get(a.url)).headers.get('x-ratelimit-remaining')).toBe('4')
    expect((await get(b.url)).headers.get('x-ratelimit-remaining')).toBe('3')
  })

  it('allows other numbers under another prefix or another policy name', async () => {
    const prefix = suite.prefix()
    await suite.start(driver, sharedBy(prefix, { capacity: 100, refillPerSecond: 10 }))
    const login = await suite.start(driver, sharedBy(prefix, { capacity: 2, refillPerSecond: 0.01, name: 'login' }))
    const elsewhere = await suite.start(driver, sharedBy(suite.prefix(), { capacity: 2, refillPerSecond: 0.01 }))
    expect((await get(login.url)).headers.get('x-ratelimit-limit')).toBe('2')
    expect((await get(elsewhere.url)).headers.get('x-ratelimit-limit')).toBe('2')
  })

  it("refuses a route override whose route and name another limiter's override checks with other numbers", async () => {
    const prefix = suite.prefix()
    await suite.start(driver, sharedBy(prefix), [{ path: '/search', rateLimit: { capacity: 2, name: 'search' } }])
    await expect(
      suite.start(driver, sharedBy(prefix), [{ path: '/search', rateLimit: { capacity: 3, name: 'search' } }]),
    ).rejects.toMatchObject({ code: 'ERR_SLUICE_INVALID_OPTION', option: 'config.rateLimit.name' })
  })
})

describe('fastify', () => {
  const fastify = drivers.find((d) => d.name === 'fastify')!

  it("gives a closed app's claims back: a new app on the same client and prefix may use other numbers", async () => {
    const prefix = suite.prefix()
    const first = await fastify.start({ redis: suite.redis(), prefix, capacity: 100, refillPerSecond: 10, timeoutMs: 5_000 }, [
      { path: '/' },
    ])
    await first.close()
    const second = await suite.start(fastify, sharedBy(prefix, { capacity: 2, refillPerSecond: 0.01 }))
    expect((await get(second.url)).headers.get('x-ratelimit-limit')).toBe('2')
  })
})

describe('the express-rate-limit habit', () => {
  it("refuses a login limiter that would share the API limiter's bucket", () => {
    const redis = suite.redis()
    const prefix = suite.prefix()
    rateLimit({ redis, prefix, capacity: 100, refillPerSecond: 10 })
    expect(() => rateLimit({ redis, prefix, capacity: 5, refillPerSecond: 5 / 900 })).toThrow(
      expect.objectContaining({ code: 'ERR_SLUICE_INVALID_OPTION', option: 'name' }),
    )
  })
})

describe('manual checks and tiers', () => {
  const limiter = (prefix: string, options: Record<string, unknown> = {}) =>
    createLimiter({ redis: suite.redis(), capacity: 5, refillPerSecond: 0.001, prefix, timeoutMs: 5_000, ...options } as never)

  it("refuses a handler's policy that another limiter checks with other numbers", async () => {
    const prefix = suite.prefix()
    await limiter(prefix).controls.check({}, { key: 'u', policy: { name: 'login', capacity: 5, refillPerSecond: 0.01 } })
    await expect(
      limiter(prefix).controls.check({}, { key: 'u', policy: { name: 'login', capacity: 50, refillPerSecond: 1 } }),
    ).rejects.toMatchObject({
      code: 'ERR_SLUICE_INVALID_OPTION',
      option: 'policy.name',
    })
  })

  it('gives its claims back on close(), its own policies, routes and manual policies alike', async () => {
    const prefix = suite.prefix()
    const first = limiter(prefix)
    first.forRoute({ capacity: 2, name: 'search' }, 'GET', '/search')
    await first.controls.check({}, { key: 'u', policy: { name: 'login', capacity: 5, refillPerSecond: 0.01 } })
    first.close()
    const second = limiter(prefix, { capacity: 50 })
    expect(() => second.forRoute({ capacity: 3, name: 'search' }, 'GET', '/search')).not.toThrow()
    await expect(
      second.controls.check({}, { key: 'v', policy: { name: 'login', capacity: 50, refillPerSecond: 1 } }),
    ).resolves.toMatchObject({
      allowed: true,
    })
  })

  it('gives its claims back when it is collected without being closed (an Express app has no close)', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const prefix = suite.prefix()
    const dropped = () => void limiter(prefix, { capacity: 100, refillPerSecond: 10 })
    dropped()
    const other = () => limiter(prefix, { capacity: 2, refillPerSecond: 0.01 })
    expect(other).toThrow(expect.objectContaining({ option: 'name' }))
    // Finalizers run some turns after a collection: try a bounded number of times.
    let error: unknown
    for (let i = 0; i < 50; i++) {
      gc()
      await new Promise((resolve) => setImmediate(resolve))
      try {
        other()
        error = undefined
        break
      } catch (refused) {
        error = refused
      }
    }
    expect(error).toBeUndefined()
  })

  it('names the tier, and a refused limiter holds none of its buckets', () => {
    const prefix = suite.prefix()
    const tier = () => 'free'
    limiter(prefix, { capacity: undefined, refillPerSecond: undefined, tier, tiers: { gold: { capacity: 50, refillPerSecond: 1 } } })
    expect(() =>
      limiter(prefix, {
        capacity: undefined,
        refillPerSecond: undefined,
        tier,
        tiers: { free: { capacity: 1, refillPerSecond: 1 }, gold: [{ name: 'gold', capacity: 9, refillPerSecond: 1 }] },
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_SLUICE_INVALID_OPTION', option: 'tiers.gold[0].name' }))
    // The refused limiter's `free` tier was given back with it.
    expect(() =>
      limiter(prefix, { capacity: undefined, refillPerSecond: undefined, tier, tiers: { free: { capacity: 2, refillPerSecond: 1 } } }),
    ).not.toThrow()
  })
})
