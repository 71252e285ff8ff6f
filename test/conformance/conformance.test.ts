import type { RedisClient } from '@sluice/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RedisBackend, redisBackends } from '../support/backends.js'
import {
  type ConformanceOptions,
  drivers,
  expressDriver,
  fastifyDriver,
  type RouteSpec,
  type RunningApp,
  type Settings,
} from '../support/drivers.js'
import { get, limitHeaders } from '../support/http.js'

const PROBLEM_JSON = 'application/problem+json; charset=utf-8'
let backend: RedisBackend
let redis: RedisClient
let n = 0
const running: RunningApp[] = []
const uniquePrefix = (): string => `conf${++n}:`

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

/** Every limited route's options: a fresh prefix, and the rest from the test. */
function base(options: Partial<ConformanceOptions>): ConformanceOptions {
  // A generous time budget: on a loaded machine the default 100 ms could hand a check to the
  // local failure bucket, and this suite is about what the shared bucket answers.
  return { redis, capacity: 5, refillPerSecond: 0.001, prefix: uniquePrefix(), timeoutMs: 5_000, ...options } as ConformanceOptions
}

describe.each(redisBackends)('on $name', (store) => {
  beforeAll(async () => {
    backend = await store.start()
    redis = backend.client
  }, 60_000)
  afterAll(async () => {
    await backend.stop()
  })

  // A contract-only topology runs through the first adapter alone (see backends.ts).
  describe.each(store.contractOnly ? drivers.slice(0, 1) : drivers)('$name adapter', (driver) => {
    async function start(options: ConformanceOptions, routes: RouteSpec[] = [], settings?: Settings): Promise<string> {
      const app = await driver.start(options, [{ path: '/' }, ...routes], settings)
      running.push(app)
      return app.url
    }

    it('admits exactly 50 of 200 concurrent requests, with every header on every response', async () => {
      const url = await start(base({ capacity: 50, refillPerSecond: 0.001 }))
      const started = performance.now()
      const answers = await Promise.all(Array.from({ length: 200 }, () => get(url)))
      // Times are whole seconds counted from the first token taken: a check that ran s seconds
      // later reads up to s seconds less (only a starved machine spreads 200 checks that far).
      const slack = Math.ceil((performance.now() - started) / 1000)
      const seconds = (value: string | null, exact: number): void => {
        expect(Number(value)).toBeLessThanOrEqual(exact)
        expect(Number(value)).toBeGreaterThanOrEqual(exact - slack)
      }
      const ok = answers.filter((a) => a.status === 200)
      const limited = answers.filter((a) => a.status === 429)
      expect(ok).toHaveLength(50)
      expect(limited).toHaveLength(150)
      expect(ok.map((a) => Number(a.headers.get('x-ratelimit-remaining'))).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i),
      )
      for (const a of ok) {
        const remaining = Number(a.headers.get('x-ratelimit-remaining'))
        expect(a.body).toEqual({ remaining })
        expect(limitHeaders(a)).toMatchObject({
          'x-ratelimit-limit': '50',
          'x-ratelimit-remaining': String(remaining),
          'retry-after': null,
          'ratelimit-policy': '"default";q=50;w=50000',
        })
        // 1000 s per token at this rate, until full.
        seconds(a.headers.get('x-ratelimit-reset'), (50 - remaining) * 1000)
        // The bucket is never full again here: the next whole token is 1000 s away.
        expect(a.headers.get('ratelimit')).toMatch(new RegExp(`^"default";r=${remaining};t=\\d+$`))
        seconds(a.headers.get('ratelimit')!.split('t=')[1]!, 1000)
      }
      for (const a of limited) {
        expect(limitHeaders(a)).toMatchObject({
          'x-ratelimit-limit': '50',
          'x-ratelimit-remaining': '0',
          'ratelimit-policy': '"default";q=50;w=50000',
        })
        seconds(a.headers.get('x-ratelimit-reset'), 50_000)
        seconds(a.headers.get('retry-after'), 1000)
        expect(a.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/)
        seconds(a.headers.get('ratelimit')!.split('t=')[1]!, 1000)
      }
    })

    it('answers 429 with an RFC 9457 problem naming the violated policy', async () => {
      const url = await start(base({ capacity: 2, refillPerSecond: 0.5 }))
      const started = performance.now()
      await get(url)
      await get(url)
      const denied = await get(url)
      expect(denied.status).toBe(429)
      expect(denied.headers.get('content-type')).toBe(PROBLEM_JSON)
      // Two seconds for the next token, counted from the first take: less on a machine slow enough
      // to spend whole seconds on three requests.
      const retryAfter = Number(denied.headers.get('retry-after'))
      expect(retryAfter).toBeLessThanOrEqual(2)
      expect(retryAfter).toBeGreaterThanOrEqual(Math.max(1, 2 - Math.floor((performance.now() - started) / 1000)))
      expect(denied.headers.get('ratelimit-policy')).toBe('"default";q=2;w=4')
      expect(denied.body).toEqual({
        type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
        title: 'Too Many Requests',
        status: 429,
        detail: `Rate limit "default" exceeded: this request costs 1 token; retry in ${retryAfter} s.`,
        'violated-policies': ['default'],
        cost: 1,
      })
    })

    it('charges a weighted route to the shared bucket, and takes nothing when it denies', async () => {
      const url = await start(base({}), [{ path: '/heavy', rateLimit: { cost: 2 } }])
      expect((await get(`${url}/heavy`)).headers.get('x-ratelimit-remaining')).toBe('3')
      expect((await get(url)).headers.get('x-ratelimit-remaining')).toBe('2')
      expect((await get(`${url}/heavy`)).headers.get('x-ratelimit-remaining')).toBe('0')
      const heavy = await get(`${url}/heavy`)
      expect(heavy.status).toBe(429)
      // Two tokens short at 1000 s a token.
      expect(heavy.headers.get('retry-after')).toBe('2000')
      const light = await get(url)
      expect(light.status).toBe(429)
      expect(light.headers.get('retry-after')).toBe('1000')
    })

    it('gives a route policy its own bucket, with its own cost', async () => {
      const url = await start(base({}), [{ path: '/search', rateLimit: { capacity: 3, refillPerSecond: 1, cost: 2, name: 'search' } }])
      const first = await get(`${url}/search`)
      expect(first.status).toBe(200)
      expect(first.body).toEqual({ remaining: 1 })
      expect(limitHeaders(first)).toMatchObject({
        'x-ratelimit-limit': '3',
        'x-ratelimit-remaining': '1',
        'ratelimit-policy': '"search";q=3;w=3',
      })
      const second = await get(`${url}/search`)
      expect(second.status).toBe(429)
      expect(second.headers.get('retry-after')).toBe('1')
      // One token is left, and the headers say so: the body names the cost that one cannot cover.
      expect(second.headers.get('x-ratelimit-remaining')).toBe('1')
      expect(second.body).toMatchObject({
        'violated-policies': ['search'],
        cost: 2,
        detail: 'Rate limit "search" exceeded: this request costs 2 tokens; retry in 1 s.',
      })
      expect((await get(url)).headers.get('x-ratelimit-remaining')).toBe('4')
    })

    it('lists every policy of a route with several, and names the one that denied', async () => {
      const policies = [
        { name: 'burst', capacity: 2, refillPerSecond: 0.001 },
        { name: 'hourly', capacity: 1000, refillPerSecond: 1000 / 3600 },
      ]
      const url = await start(base({}), [{ path: '/multi', rateLimit: { policies } }])
      const first = await get(`${url}/multi`)
      expect(limitHeaders(first)).toMatchObject({
        // X-RateLimit-* describe the binding policy: the one with the fewest tokens left.
        'x-ratelimit-limit': '2',
        'ratelimit-policy': '"burst";q=2;w=2000, "hourly";q=1000;w=3600',
        ratelimit: '"burst";r=1;t=1000, "hourly";r=999;t=4',
      })
      await get(`${url}/multi`)
      const denied = await get(`${url}/multi`)
      expect(denied.status).toBe(429)
      expect(denied.body).toMatchObject({ 'violated-policies': ['burst'] })
      // The hourly policy's next token is 3.6 s after the last one taken, less the time since.
      expect(denied.headers.get('ratelimit')).toMatch(/^"burst";r=0;t=(999|1000), "hourly";r=998;t=[1-4]$/)
    })

    it('leaves an exempt route alone', async () => {
      const url = await start(base({ capacity: 1 }), [{ path: '/health', rateLimit: false }])
      await get(url)
      expect((await get(url)).status).toBe(429)
      for (let i = 0; i < 3; i++) {
        const health = await get(`${url}/health`)
        expect(health.status).toBe(200)
        expect(health.body).toEqual({ remaining: null })
        expect(Object.values(limitHeaders(health))).toEqual([null, null, null, null, null, null])
      }
    })

    it('limits a route declared before an overlapping route with an override (or exempt) by the app-wide policy', async () => {
      // Express dispatches in declaration order, Fastify by specificity: here both give
      // `/users/me` and `/items/new` to the routes without an override, and so to the app-wide limit.
      const url = await start(base({ capacity: 3 }), [
        { path: '/users/me' },
        { path: '/users/:id', rateLimit: { capacity: 10, refillPerSecond: 0.001, name: 'user' } },
        { path: '/items/new' },
        { path: '/items/:id', rateLimit: false },
      ])
      const me = [await get(`${url}/users/me`), await get(`${url}/items/new`), await get(`${url}/users/me`), await get(`${url}/items/new`)]
      expect(me.map((a) => [a.status, a.headers.get('x-ratelimit-limit')])).toEqual([
        [200, '3'],
        [200, '3'],
        [200, '3'],
        [429, '3'],
      ])
      expect((await get(`${url}/users/7`)).headers.get('x-ratelimit-limit')).toBe('10')
      expect(limitHeaders(await get(`${url}/items/7`))['x-ratelimit-limit']).toBeNull()
    })

    it('keys by a hashed API key and never stores the key itself', async () => {
      const prefix = uniquePrefix()
      const url = await start(base({ capacity: 1, prefix, key: { header: 'x-api-key' } }))
      expect((await get(url, { 'x-api-key': 'sk_live_abc' })).status).toBe(200)
      expect((await get(url, { 'x-api-key': 'sk_live_abc' })).status).toBe(429)
      expect((await get(url, { 'x-api-key': 'sk_live_xyz' })).status).toBe(200)
      const keys = await backend.keys(`${prefix}*`)
      expect(keys).toHaveLength(2)
      for (const key of keys) {
        expect(key).not.toContain('sk_live')
        expect(key).toMatch(new RegExp(`^${prefix}\\{key:[A-Za-z0-9_-]{22}\\}:default$`))
      }
    })

    it('answers a missing API key with 401 when told to, touching no bucket', async () => {
      const prefix = uniquePrefix()
      const url = await start(base({ prefix, key: { header: 'x-api-key', missing: 'reject' } }))
      const r = await get(url)
      expect(r.status).toBe(401)
      expect(r.headers.get('content-type')).toBe(PROBLEM_JSON)
      expect(Object.values(limitHeaders(r))).toEqual([null, null, null, null, null, null])
      expect(r.body).toEqual({
        type: 'about:blank',
        title: 'Unauthorized',
        status: 401,
        detail: 'This endpoint requires an API key in the "x-api-key" header.',
      })
      expect(await backend.keys(`${prefix}*`)).toEqual([])
    })

    it('tells a client whose API key verify refused that the key is not valid, not that it is missing', async () => {
      const prefix = uniquePrefix()
      const url = await start(base({ prefix, key: { header: 'x-api-key', missing: 'reject', verify: (k) => k === 'issued' } }))
      const refused = await get(url, { 'x-api-key': 'made-up' })
      expect(refused.status).toBe(401)
      expect(refused.body).toMatchObject({ detail: 'The API key in the "x-api-key" header is not a valid API key.' })
      expect((await get(url, { 'x-api-key': ' , ' })).body).toMatchObject({
        detail: 'This endpoint requires an API key in the "x-api-key" header.',
      })
      expect((await get(url, { 'x-api-key': 'issued' })).status).toBe(200)
      expect(await backend.keys(`${prefix}*`)).toHaveLength(1)
    })

    it('answers cost > capacity with 403 and no Retry-After', async () => {
      const url = await start(base({ refillPerSecond: 1, cost: (req) => Number(req.headers['x-cost']) }))
      const r = await get(url, { 'x-cost': '9' })
      expect(r.status).toBe(403)
      expect(r.headers.get('content-type')).toBe(PROBLEM_JSON)
      expect(r.headers.get('retry-after')).toBeNull()
      expect(r.headers.get('x-ratelimit-remaining')).toBe('5')
      expect(r.body).toEqual({
        type: 'about:blank',
        title: 'Forbidden',
        status: 403,
        detail: 'This request costs 9 tokens but policy "default" holds at most 5: it can never be admitted.',
        cost: 9,
        'violated-policies': ['default'],
      })
      expect((await get(url, { 'x-cost': '5' })).status).toBe(200)
    })

    it('ignores X-Forwarded-For unless the sender is trusted', async () => {
      const url = await start(base({ capacity: 1 }))
      expect((await get(url, { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200)
      expect((await get(url, { 'x-forwarded-for': '198.51.100.2' })).status).toBe(429)
    })

    it('keys clients behind a trusted gateway apart, and groups an IPv6 /64', async () => {
      const url = await start(base({ capacity: 1 }), [], { trustProxy: '127.0.0.1' })
      const from = async (client: string) => (await get(url, { 'x-forwarded-for': client })).status
      expect(await from('198.51.100.7')).toBe(200)
      expect(await from('198.51.100.8')).toBe(200)
      expect(await from('198.51.100.7')).toBe(429)
      expect(await from('::ffff:198.51.100.8')).toBe(429)
      expect(await from('2001:db8:0:1::1')).toBe(200)
      expect(await from('2001:db8:0:1:ffff::2')).toBe(429)
    })

    it.each([
      [{ capacity: 0 }, 'ERR_SLUICE_INVALID_OPTION', 'capacity'],
      [{ refillPerSecond: Number.NaN }, 'ERR_SLUICE_INVALID_OPTION', 'refillPerSecond'],
      [{ cost: -1 }, 'ERR_SLUICE_INVALID_OPTION', 'cost'],
      [{ cost: 6 }, 'ERR_SLUICE_INVALID_OPTION', 'cost'],
      [{ prefix: 'a{b}' }, 'ERR_SLUICE_INVALID_OPTION', 'prefix'],
      [{ key: { header: 'x api key' } }, 'ERR_SLUICE_INVALID_OPTION', 'key.header'],
      [{ failureMode: 'open' }, 'ERR_SLUICE_INVALID_OPTION', 'failureMode'],
      [{ limit: 5 }, 'ERR_SLUICE_UNKNOWN_OPTION', 'limit'],
      [{ refill: '5/m' }, 'ERR_SLUICE_INVALID_OPTION', 'refill'],
      [{ refill: '5/min' }, 'ERR_SLUICE_INVALID_OPTION', 'refill'],
    ])('rejects %o at start-up with %s on `%s`', async (bad, code, option) => {
      await expect(start(base(bad as Partial<ConformanceOptions>))).rejects.toMatchObject({ name: 'SluiceOptionError', code, option })
    })

    it("answers a peer's options with the Sluice policy they stand for, and a near miss with the name it meant", async () => {
      const { refillPerSecond: _, ...rest } = base({})
      await expect(start({ ...rest, max: 100, timeWindow: '1 minute' } as unknown as ConformanceOptions)).rejects.toMatchObject({
        code: 'ERR_SLUICE_UNKNOWN_OPTION',
        option: 'max',
        message: expect.stringContaining("use `capacity: 100, refill: '100/min'`"),
      })
      await expect(start({ ...rest, windowMs: 15 * 60 * 1000, limit: 100 } as unknown as ConformanceOptions)).rejects.toMatchObject({
        option: 'windowMs',
        message: expect.stringContaining("use `capacity: 100, refill: '100/15min'`"),
      })
      await expect(start({ ...rest, refilPerSecond: 1 } as unknown as ConformanceOptions)).rejects.toMatchObject({
        code: 'ERR_SLUICE_UNKNOWN_OPTION',
        option: 'refilPerSecond',
        message: expect.stringContaining('did you mean `refillPerSecond`?'),
      })
    })

    it("takes a readable refill, the limiter's and a route's, and tells the client its window", async () => {
      const { refillPerSecond: _, ...rest } = base({})
      const url = await start({ ...rest, capacity: 2, refill: '2/min' } as ConformanceOptions, [
        { path: '/slow', rateLimit: { capacity: 1, refill: '1/h', name: 'slow' } },
      ])
      const first = await get(url)
      expect(first.headers.get('ratelimit-policy')).toBe('"default";q=2;w=60')
      expect((await get(url)).status).toBe(200)
      const denied = await get(url)
      expect(denied.status).toBe(429)
      // One token every 30 s: the wait is about that long, never more.
      const wait = Number(denied.headers.get('retry-after'))
      expect(wait).toBeGreaterThan(0)
      expect(wait).toBeLessThanOrEqual(30)
      const slow = await get(`${url}/slow`)
      expect(slow.headers.get('ratelimit-policy')).toBe('"slow";q=1;w=3600')
      expect((await get(`${url}/slow`)).status).toBe(429)
    })
  })

  describe('Fastify and Express together', () => {
    it('share one bucket through the same prefix on the same Redis', async () => {
      const options = base({})
      const apps = await Promise.all([fastifyDriver, expressDriver].map((d) => d.start(options, [{ path: '/' }])))
      running.push(...apps)
      const answers = []
      for (let i = 0; i < 8; i++) answers.push(await get(apps[i % 2]!.url))
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
      expect(answers.slice(0, 5).map((a) => a.headers.get('x-ratelimit-remaining'))).toEqual(['4', '3', '2', '1', '0'])
    })

    it("share a route's own bucket when the route is the same", async () => {
      const options = base({ capacity: 100 })
      const search: RouteSpec = { path: '/search', rateLimit: { capacity: 3, name: 'search' } }
      const apps = await Promise.all([fastifyDriver, expressDriver].map((d) => d.start(options, [search])))
      running.push(...apps)
      const answers = []
      for (let i = 0; i < 4; i++) answers.push(await get(`${apps[i % 2]!.url}/search`))
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429])
      expect(answers[2]!.headers.get('ratelimit-policy')).toBe('"search";q=3;w=3000')
    })
  })
})
