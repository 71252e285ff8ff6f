import type { RedisClient } from '@sluice/core'
import { startRedis } from '@sluice/harness'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fullRedisBackends } from '../support/backends.js'
import {
  type ConformanceOptions,
  drivers,
  type Envelope,
  type PortableRequest,
  type RouteSpec,
  type RunningApp,
  type Settings,
} from '../support/drivers.js'
import { get, limitHeaders } from '../support/http.js'

/**
 * The controls users of @fastify/rate-limit and express-rate-limit look for: skip, a custom deny
 * body, header families, tiers, reset and peek, and checks from a handler. Each runs on both
 * adapters, on one Redis, on a Redis Cluster and in process memory, on both through node-redis,
 * and on one Redis through iovalkey.
 */
interface Backend {
  readonly redis: RedisClient | undefined
  stop(): Promise<void>
}

const backends = [
  // The Redis backends the conformance suite runs on, and process memory.
  ...fullRedisBackends.map(({ name, start }) => ({
    name,
    async start(): Promise<Backend> {
      const { client, stop } = await start()
      return { redis: client, stop }
    },
  })),
  {
    name: 'process memory',
    async start(): Promise<Backend> {
      return { redis: undefined, stop: async () => {} }
    },
  },
]

const PROBLEM_JSON = 'application/problem+json; charset=utf-8'
let backend: Backend
let n = 0
const running: RunningApp[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

const header = (name: string) => (req: PortableRequest) => String(req.headers[name] ?? '')

describe.each(backends)('on $name', (store) => {
  beforeAll(async () => {
    backend = await store.start()
  }, 60_000)
  afterAll(() => backend.stop())

  describe.each(drivers)('$name adapter', (driver) => {
    async function start(options: Partial<ConformanceOptions>, routes: RouteSpec[] = [], settings?: Settings): Promise<RunningApp> {
      const full = { capacity: 3, refillPerSecond: 0.001, prefix: `pp${++n}:`, timeoutMs: 5_000, ...options } as ConformanceOptions
      const app = await driver.start(
        backend.redis === undefined ? full : ({ redis: backend.redis, ...full } as ConformanceOptions),
        [{ path: '/' }, ...routes],
        settings,
      )
      running.push(app)
      return app
    }

    describe('requests no route matches, and opt-in limiting (`global: false`)', () => {
      it('limits a 404 like any request: URL guessing spends the same bucket', async () => {
        const app = await start({ capacity: 2 })
        const first = await get(`${app.url}/guess-1`)
        expect(first.status).toBe(404)
        expect(first.headers.get('x-ratelimit-remaining')).toBe('1')
        expect((await get(`${app.url}/guess-2`)).status).toBe(404)
        const refused = await get(`${app.url}/guess-3`)
        expect(refused.status).toBe(429)
        expect(refused.headers.get('retry-after')).not.toBeNull()
        expect((await get(app.url)).status).toBe(429)
      })

      it('with global: false, limits only the routes that ask: no check, no headers elsewhere, 404s included', async () => {
        const app = await start({ capacity: 1, global: false }, [
          { path: '/own', rateLimit: {} },
          { path: '/search', rateLimit: { name: 'search', capacity: 2, refillPerSecond: 0.001 } },
        ])
        for (let i = 0; i < 3; i++) {
          const free = await get(app.url)
          expect(free.status).toBe(200)
          expect(free.body).toEqual({ remaining: null })
          expect(Object.values(limitHeaders(free)).every((v) => v === null)).toBe(true)
          expect((await get(`${app.url}/nowhere`)).status).toBe(404)
        }
        expect((await get(`${app.url}/own`)).status).toBe(200)
        expect((await get(`${app.url}/own`)).status).toBe(429)
        expect((await get(`${app.url}/search`)).headers.get('x-ratelimit-remaining')).toBe('1')
        expect((await get(`${app.url}/search`)).status).toBe(200)
        expect((await get(`${app.url}/search`)).status).toBe(429)
      })
    })

    describe('a key function that falls back to the address', () => {
      const apiKeyOrIp = (req: PortableRequest) => {
        const apiKey = req.headers['x-api-key']
        return typeof apiKey === 'string' ? { apiKey } : { ip: req.ip }
      }

      it('keys { ip } exactly as key: ip (one IPv6 /64, one bucket), and { apiKey } as the header key', async () => {
        const app = await start({ capacity: 1, key: apiKeyOrIp }, [], { trustProxy: '127.0.0.1' })
        expect((await get(app.url, { 'x-forwarded-for': '2001:db8:1:2::1' })).status).toBe(200)
        // Another address in the same /64: the same bucket, as with key: 'ip'.
        expect((await get(app.url, { 'x-forwarded-for': '2001:db8:1:2::99' })).status).toBe(429)
        expect((await app.peek({ ip: '2001:db8:1:2::5' })).remaining).toBe(0)
        expect((await get(app.url, { 'x-forwarded-for': '2001:db8:1:3::1' })).status).toBe(200)
        expect((await get(app.url, { 'x-api-key': 'sk_1' })).status).toBe(200)
        expect((await app.peek({ apiKey: 'sk_1' })).remaining).toBe(0)
      })

      it("a string a client chose never reaches an address's bucket", async () => {
        const app = await start({ capacity: 1, key: (req) => String(req.headers['x-user'] ?? 'anonymous') })
        for (const forged of ['127.0.0.1', '::ffff:127.0.0.1', '{127.0.0.1}']) {
          expect((await get(app.url, { 'x-user': forged })).status).toBe(200)
        }
        expect((await app.peek({ ip: '127.0.0.1' })).remaining).toBe(1)
      })
    })

    describe("onDeny: 'error', the app's error handler formats refusals", () => {
      it('hands a 429 to the error handler with its status and result, the quota headers already set', async () => {
        const app = await start({ capacity: 1, onDeny: 'error' }, [], { errorEnvelope: 'acme' })
        expect((await get(app.url)).status).toBe(200)
        const refused = await get(app.url)
        expect(refused.status).toBe(429)
        expect(refused.body).toMatchObject({ envelope: 'acme', code: 'ERR_SLUICE_DENIED' })
        expect((refused.body as Envelope).retryAfterMs).toBeGreaterThan(0)
        expect(refused.headers.get('retry-after')).not.toBeNull()
        expect(refused.headers.get('x-ratelimit-remaining')).toBe('0')
        expect(refused.headers.get('ratelimit-policy')).toMatch(/^"default";q=1;w=/)
      })

      it('hands a missing API key (401) to it too, with no result', async () => {
        const app = await start({ onDeny: 'error', key: { header: 'x-api-key', missing: 'reject', verify: () => true } }, [], {
          errorEnvelope: 'acme',
        })
        const refused = await get(app.url)
        expect(refused.status).toBe(401)
        expect(refused.body).toEqual({ envelope: 'acme', code: 'ERR_SLUICE_DENIED' })
      })

      it("without it, Sluice answers as before: the app's error handler never sees a refusal", async () => {
        const app = await start({ capacity: 1 }, [], { errorEnvelope: 'acme' })
        await get(app.url)
        const refused = await get(app.url)
        expect(refused.status).toBe(429)
        expect(refused.body).toMatchObject({ 'violated-policies': ['default'] })
      })
    })

    describe('skip', () => {
      it('exempts the requests it picks: no check, no quota headers, no rateLimit on the request', async () => {
        const app = await start({ capacity: 1, skip: (req) => req.headers['x-internal'] === 'yes' })
        for (let i = 0; i < 3; i++) {
          const skipped = await get(app.url, { 'x-internal': 'yes' })
          expect(skipped.status).toBe(200)
          expect(skipped.body).toEqual({ remaining: null })
          expect(Object.values(limitHeaders(skipped)).every((v) => v === null)).toBe(true)
        }
        expect((await get(app.url)).status).toBe(200)
        expect((await get(app.url)).status).toBe(429)
      })

      it('takes an async skip, and a route override replaces the limiter’s', async () => {
        const app = await start({ capacity: 1, skip: async () => true }, [{ path: '/strict', rateLimit: { skip: () => false } }])
        expect((await get(app.url)).headers.get('x-ratelimit-limit')).toBeNull()
        expect((await get(`${app.url}/strict`)).status).toBe(200)
        expect((await get(`${app.url}/strict`)).status).toBe(429)
      })

      it('answers 500 when skip throws: never a free pass', async () => {
        const app = await start({
          skip: () => {
            throw new Error('allow-list unavailable')
          },
        })
        expect((await get(app.url)).status).toBe(500)
      })
    })

    describe('allowList', () => {
      const exempt = (answer: Awaited<ReturnType<typeof get>>): boolean =>
        answer.status === 200 &&
        (answer.body as { remaining: unknown }).remaining === null &&
        Object.values(limitHeaders(answer)).every((v) => v === null)

      it('exempts the addresses and ranges it lists, normalized as keys are, and limits everyone else', async () => {
        const app = await start({ capacity: 1, allowList: ['198.51.100.0/24', '2001:db8::/32', '192.0.2.7'] }, [], {
          trustProxy: '127.0.0.1',
        })
        const from = (client: string) => get(app.url, { 'x-forwarded-for': client })
        for (const client of ['198.51.100.7', '198.51.100.7', '::ffff:198.51.100.200', '2001:db8:1::5', '192.0.2.7', '192.0.2.7']) {
          expect(exempt(await from(client)), client).toBe(true)
        }
        expect((await from('192.0.2.8')).status).toBe(200)
        expect((await from('192.0.2.8')).status).toBe(429)
        expect((await from('2001:db9::1')).status).toBe(200)
        expect((await from('2001:db9::1')).status).toBe(429)
      })

      it("matches the direct peer when no proxy is trusted (Express's ::ffff:127.0.0.1 included)", async () => {
        const app = await start({ capacity: 1, allowList: ['127.0.0.1'] })
        for (let i = 0; i < 3; i++) expect(exempt(await get(app.url))).toBe(true)
      })

      it("never matches a trusted proxy's own address: a request that names no client is limited", async () => {
        const app = await start({ capacity: 1, allowList: ['127.0.0.0/8'] }, [], { trustProxy: '127.0.0.1' })
        expect((await get(app.url)).status).toBe(200)
        expect((await get(app.url)).status).toBe(429)
        // A client behind the gateway that the list names is exempt.
        expect(exempt(await get(app.url, { 'x-forwarded-for': '127.0.0.9' }))).toBe(true)
      })

      it('runs before skip, and takes a function of the request that works as a skip', async () => {
        const app = await start({
          capacity: 1,
          allowList: async (req) => req.headers['x-partner'] === 'acme',
          skip: (req) => {
            if (req.headers['x-partner'] === 'acme') throw new Error('skip must not run for an allow-listed request')
            return false
          },
        })
        for (let i = 0; i < 3; i++) expect(exempt(await get(app.url, { 'x-partner': 'acme' }))).toBe(true)
        expect((await get(app.url)).status).toBe(200)
        expect((await get(app.url)).status).toBe(429)
      })

      it('answers 500 when the function throws or answers what is not a boolean: never a free pass', async () => {
        const app = await start({
          allowList: (req) => {
            if (req.headers['x-mode'] === 'throw') throw new Error('partner list unavailable')
            return 'yes' as unknown as boolean
          },
        })
        expect((await get(app.url, { 'x-mode': 'throw' })).status).toBe(500)
        expect((await get(app.url)).status).toBe(500)
      })

      it.each([
        [['10.0.0.0/33'], 'allowList[0]'],
        [['127.0.0.1', 'localhost'], 'allowList[1]'],
        [['127.0.0.1', '10.0.0.1', '010.0.0.1'], 'allowList[2]'],
        [[42], 'allowList[0]'],
        ['127.0.0.1', 'allowList'],
      ])('refuses %j at start-up with a coded error naming %s', async (allowList, option) => {
        await expect(start({ allowList: allowList as never })).rejects.toMatchObject({ code: 'ERR_SLUICE_INVALID_OPTION', option })
      })
    })

    describe('denyBody', () => {
      it('sends an object as JSON, with the status and every quota header unchanged', async () => {
        const app = await start({ capacity: 1, denyBody: (result) => ({ error: 'slow down', retryInMs: result.retryAfterMs }) })
        await get(app.url)
        const denied = await get(app.url)
        expect(denied.status).toBe(429)
        expect(denied.headers.get('content-type')).toBe('application/json; charset=utf-8')
        expect(denied.body).toMatchObject({ error: 'slow down' })
        expect(limitHeaders(denied)).toMatchObject({ 'x-ratelimit-remaining': '0', 'retry-after': '1000' })
      })

      it('sends a string as text, for 403 too', async () => {
        const app = await start({ denyBody: (result) => `no: ${result.status}`, cost: (req) => Number(req.headers['x-cost'] ?? 1) })
        const tooBig = await get(app.url, { 'x-cost': '9' })
        expect(tooBig.status).toBe(403)
        expect(tooBig.headers.get('content-type')).toBe('text/plain; charset=utf-8')
        expect(tooBig.body).toBe('no: cost-exceeds-capacity')
      })

      it('sends the default body, and warns, when denyBody throws', async () => {
        const codes: string[] = []
        const logger = { warn: (details: object) => void codes.push(String((details as { code?: string }).code)) }
        const app = await start({
          capacity: 1,
          logger,
          denyBody: () => {
            throw new Error('template missing')
          },
        })
        await get(app.url)
        const denied = await get(app.url)
        expect(denied.status).toBe(429)
        expect(denied.headers.get('content-type')).toBe(PROBLEM_JSON)
        expect(denied.body).toMatchObject({ title: 'Too Many Requests', 'violated-policies': ['default'] })
        expect(codes).toContain('SLUICE_DENY_BODY_FAILED')
      })

      it('leaves 401 alone', async () => {
        const app = await start({ key: { header: 'x-api-key', missing: 'reject', verify: () => true }, denyBody: () => 'custom' })
        const r = await get(app.url)
        expect(r.status).toBe(401)
        expect(r.headers.get('content-type')).toBe(PROBLEM_JSON)
      })
    })

    describe('headers', () => {
      it.each([
        ['ietf', ['ratelimit-policy', 'ratelimit']],
        ['legacy', ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']],
        ['none', []],
        ['all', ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit-policy', 'ratelimit']],
      ] as const)("'%s' sends its family, and Retry-After goes with every 429", async (headers, names) => {
        const app = await start({ capacity: 1, headers })
        const sent = (a: Awaited<ReturnType<typeof get>>) =>
          Object.entries(limitHeaders(a))
            .filter(([, v]) => v !== null)
            .map(([k]) => k)
            .sort()
        expect(sent(await get(app.url))).toEqual([...names].sort())
        const denied = await get(app.url)
        expect(denied.status).toBe(429)
        expect(sent(denied)).toEqual([...names, 'retry-after'].sort())
      })
    })

    describe('tiers', () => {
      const tiers = {
        free: { capacity: 2, refillPerSecond: 0.001 },
        pro: [
          { name: 'burst', capacity: 4, refillPerSecond: 0.001 },
          { name: 'hourly', capacity: 100, refillPerSecond: 100 / 3600 },
        ],
      }
      const tiered = {
        tiers,
        tier: header('x-plan'),
        capacity: undefined,
        refillPerSecond: undefined,
      } as unknown as Partial<ConformanceOptions>

      it("checks each request against its tier's policies, and describes that tier", async () => {
        const app = await start(tiered)
        const free = await get(app.url, { 'x-plan': 'free' })
        expect(limitHeaders(free)).toMatchObject({ 'x-ratelimit-limit': '2', 'ratelimit-policy': '"free";q=2;w=2000' })
        const pro = await get(app.url, { 'x-plan': 'pro' })
        expect(pro.headers.get('ratelimit-policy')).toBe('"burst";q=4;w=4000, "hourly";q=100;w=3600')
        expect(pro.headers.get('x-ratelimit-remaining')).toBe('3')
      })

      it('gives a client fresh buckets when it changes tier', async () => {
        const app = await start(tiered)
        expect((await get(app.url, { 'x-plan': 'free' })).status).toBe(200)
        expect((await get(app.url, { 'x-plan': 'free' })).status).toBe(200)
        expect((await get(app.url, { 'x-plan': 'free' })).status).toBe(429)
        expect((await get(app.url, { 'x-plan': 'pro' })).headers.get('x-ratelimit-remaining')).toBe('3')
      })

      it('answers 500 for a tier name it does not know', async () => {
        const app = await start(tiered)
        expect((await get(app.url, { 'x-plan': 'enterprise' })).status).toBe(500)
      })

      it("replaces the tiers on a route with policies of its own; a cost-only override draws from the tier's buckets", async () => {
        const app = await start(tiered, [
          { path: '/search', rateLimit: { capacity: 1, refillPerSecond: 0.001, name: 'search' } },
          { path: '/heavy', rateLimit: { cost: 2 } },
        ])
        expect((await get(`${app.url}/search`, { 'x-plan': 'pro' })).headers.get('ratelimit-policy')).toBe('"search";q=1;w=1000')
        expect((await get(`${app.url}/search`, { 'x-plan': 'pro' })).status).toBe(429)
        expect((await get(`${app.url}/heavy`, { 'x-plan': 'free' })).headers.get('x-ratelimit-remaining')).toBe('0')
        expect((await get(app.url, { 'x-plan': 'free' })).status).toBe(429)
      })

      it('refuses a static cost that does not fit every tier', async () => {
        await expect(start({ ...tiered, cost: 3 })).rejects.toMatchObject({ code: 'ERR_SLUICE_INVALID_OPTION', option: 'cost' })
      })
    })

    describe('reset and peek', () => {
      it('peeks without taking, and resets every bucket of a client, route buckets included', async () => {
        const app = await start({ capacity: 3 }, [{ path: '/search', rateLimit: { capacity: 1, refillPerSecond: 0.001, name: 'search' } }])
        await get(app.url)
        await get(app.url)
        await get(`${app.url}/search`)
        const client = { ip: '127.0.0.1' }
        expect((await app.peek(client)).remaining).toBe(1)
        expect((await app.peek(client)).remaining).toBe(1)
        expect((await get(`${app.url}/search`)).status).toBe(429)
        await app.reset(client)
        expect((await app.peek(client)).remaining).toBe(3)
        expect((await get(`${app.url}/search`)).status).toBe(200)
        // Another client's buckets are untouched, and a bad client name is an error.
        await expect(app.peek({ ip: 'not-an-address' })).rejects.toMatchObject({ code: 'ERR_SLUICE_INVALID_ARGUMENT' })
      })

      it('admits at once after a reset, although its deny cache had the client refused', async () => {
        const app = await start({ capacity: 1 })
        await get(app.url)
        expect((await get(app.url)).status).toBe(429)
        await app.reset({ ip: '127.0.0.1' })
        expect((await get(app.url)).status).toBe(200)
      })

      it('resets a client by API key, within its tier', async () => {
        const tiered = {
          tiers: { free: { capacity: 2, refillPerSecond: 0.001 } },
          tier: () => 'free',
          key: { header: 'x-api-key', verify: () => true },
        } as unknown as Partial<ConformanceOptions>
        const app = await start({ ...tiered, capacity: undefined, refillPerSecond: undefined } as Partial<ConformanceOptions>)
        await get(app.url, { 'x-api-key': 'sk_1' })
        expect((await app.peek({ apiKey: 'sk_1', tier: 'free' })).remaining).toBe(1)
        await app.reset({ apiKey: 'sk_1' })
        expect((await app.peek({ apiKey: 'sk_1', tier: 'free' })).remaining).toBe(2)
      })
    })

    describe('check from a handler', () => {
      it('limits by a key only the handler knows, in a namespace of its own', async () => {
        const app = await start({ capacity: 5, key: header('x-user') }, [
          { path: '/login', rateLimit: false, manual: { policy: { name: 'login', capacity: 2, refillPerSecond: 0.001 } } },
        ])
        const login = async (user: string) => (await get(`${app.url}/login`, { 'x-user': user })).status
        expect([await login('alice'), await login('alice'), await login('alice'), await login('bob')]).toEqual([200, 200, 429, 200])
        // The key function's bucket for the same string is another bucket.
        expect((await get(app.url, { 'x-user': 'alice' })).headers.get('x-ratelimit-remaining')).toBe('4')
      })

      it("uses the limiter's own policies when none is given", async () => {
        const app = await start({ capacity: 2 }, [{ path: '/manual', rateLimit: false, manual: {} }])
        const answers = [await get(`${app.url}/manual`, { 'x-user': 'u' }), await get(`${app.url}/manual`, { 'x-user': 'u' })]
        expect(answers.map((a) => a.body)).toEqual([
          { allowed: true, remaining: 1 },
          { allowed: true, remaining: 0 },
        ])
        expect((await get(`${app.url}/manual`, { 'x-user': 'u' })).status).toBe(429)
      })
    })
  })
})

describe.each(drivers)('$name adapter, while Redis is unreachable', (driver) => {
  it('rejects reset and peek with ERR_SLUICE_STORE_UNAVAILABLE, and checks from a handler use the failure mode', async () => {
    const server = await startRedis()
    const dead = server.client({ port: 1, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    dead.on('error', () => {}) // refused connections are this test's premise
    try {
      const options = { redis: dead, capacity: 3, refillPerSecond: 0.001, timeoutMs: 100 } as ConformanceOptions
      const app = await driver.start(options, [{ path: '/manual', rateLimit: false, manual: {} }])
      running.push(app)
      await expect(app.reset({ ip: '127.0.0.1' })).rejects.toMatchObject({ code: 'ERR_SLUICE_STORE_UNAVAILABLE' })
      await expect(app.peek({ ip: '127.0.0.1' })).rejects.toMatchObject({ code: 'ERR_SLUICE_STORE_UNAVAILABLE' })
      // The local failure mode answers a check from a handler, as it answers the middleware.
      expect((await get(`${app.url}/manual`, { 'x-user': 'u' })).body).toEqual({ allowed: true, remaining: 2 })
    } finally {
      await server.stop()
    }
  })
})
