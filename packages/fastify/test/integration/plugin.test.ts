import { type RedisServer, startRedis } from '@sluice/harness'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { type Item, parseList } from 'structured-headers'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import rateLimit, { type SluiceFastifyOptions } from '../../src/index.js'

let server: RedisServer
let redis: Redis
let n = 0
const apps: FastifyInstance[] = []
const uniquePrefix = (): string => `t${++n}:`

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
})
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})
afterAll(async () => {
  await server.stop()
})

async function build(
  options: Partial<SluiceFastifyOptions>,
  trustProxy?: string,
  routes: (app: FastifyInstance) => void = () => {},
): Promise<FastifyInstance> {
  const app = Fastify(trustProxy === undefined ? {} : { trustProxy })
  apps.push(app)
  // A generous time budget: on a loaded machine the default 100 ms could hand a check to the local
  // failure bucket, and these tests are about what the shared bucket answers.
  await app.register(rateLimit, {
    redis,
    capacity: 5,
    refillPerSecond: 0.001,
    timeoutMs: 5_000,
    logger: recordingLogger(),
    ...options,
  } as SluiceFastifyOptions)
  app.get('/', async (request) => ({ remaining: request.rateLimit?.remaining }))
  routes(app)
  app.get('/health', { config: { rateLimit: false } }, async (request) => ({ limited: request.rateLimit !== undefined }))
  await app.ready()
  return app
}

const inject = (app: FastifyInstance, url = '/', headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers, remoteAddress: headers['x-test-ip'] ?? '203.0.113.9' })

describe('@sluice/fastify on Redis', () => {
  it('admits exactly 50 of 200 concurrent requests and gets every header right', async () => {
    const app = await build({ capacity: 50, refillPerSecond: 0.001, prefix: uniquePrefix() })
    const responses = await Promise.all(Array.from({ length: 200 }, () => inject(app)))
    const ok = responses.filter((r) => r.statusCode === 200)
    const limited = responses.filter((r) => r.statusCode === 429)
    expect(ok).toHaveLength(50)
    expect(limited).toHaveLength(150)
    expect(ok.map((r) => Number(r.headers['x-ratelimit-remaining'])).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    for (const r of responses) {
      expect(r.headers['x-ratelimit-limit']).toBe('50')
      expect(r.headers['ratelimit-policy']).toBe('"default";q=50;w=50000')
      const remaining = Number(r.headers['x-ratelimit-remaining'])
      const [item] = parseList(String(r.headers.ratelimit)) as Item[]
      expect(item![0]).toBe('default')
      expect(item![1].get('r')).toBe(remaining)
      // Reset: until full, 1000 s per token used at this rate.
      expect(Number(r.headers['x-ratelimit-reset'])).toBe((50 - remaining) * 1000)
    }
    for (const r of ok.filter((x) => x.headers['x-ratelimit-remaining'] !== '0')) {
      expect(r.headers['retry-after']).toBeUndefined()
      // Not full, so more quota comes with the next whole token: 1000 s at this rate.
      expect(parseList(String(r.headers.ratelimit))[0]![1].get('t')).toBe(1000)
    }
    for (const r of limited) {
      expect(r.headers['x-ratelimit-remaining']).toBe('0')
      expect(r.headers['retry-after']).toBe('1000')
      expect(r.headers.ratelimit).toBe('"default";r=0;t=1000')
      expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8')
      expect(r.json()).toEqual({
        type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
        title: 'Too Many Requests',
        status: 429,
        detail: 'Rate limit "default" exceeded: this request costs 1 token; retry in 1000 s.',
        'violated-policies': ['default'],
        cost: 1,
      })
    }
  })

  it('exposes the result to handlers', async () => {
    const app = await build({ prefix: uniquePrefix() })
    expect((await inject(app)).json()).toEqual({ remaining: 4 })
  })

  it('gives a route policy its own bucket, with its cost', async () => {
    const app = await build({ prefix: uniquePrefix() }, undefined, (app) =>
      app.get('/search', { config: { rateLimit: { capacity: 3, refillPerSecond: 1, cost: 2, name: 'search' } } }, async () => 'ok'),
    )
    const first = await inject(app, '/search')
    expect(first.statusCode).toBe(200)
    expect(first.headers['x-ratelimit-limit']).toBe('3')
    expect(first.headers['x-ratelimit-remaining']).toBe('1')
    expect(first.headers['ratelimit-policy']).toBe('"search";q=3;w=3')
    const second = await inject(app, '/search')
    expect(second.statusCode).toBe(429)
    expect(second.headers['retry-after']).toBe('1')
    expect(second.json()['violated-policies']).toEqual(['search'])
    // The plugin-wide bucket was not touched.
    expect((await inject(app)).headers['x-ratelimit-remaining']).toBe('4')
  })

  it('charges a cost-only override to the shared bucket', async () => {
    const app = await build({ prefix: uniquePrefix() }, undefined, (app) =>
      app.get('/light', { config: { rateLimit: { cost: 2 } } }, async () => 'ok'),
    )
    expect((await inject(app, '/light')).headers['x-ratelimit-remaining']).toBe('3')
    expect((await inject(app)).headers['x-ratelimit-remaining']).toBe('2')
  })

  it('leaves exempt routes alone', async () => {
    const app = await build({ capacity: 1, prefix: uniquePrefix() })
    await inject(app)
    for (let i = 0; i < 3; i++) {
      const r = await inject(app, '/health')
      expect(r.statusCode).toBe(200)
      expect(r.json()).toEqual({ limited: false })
      expect(r.headers['x-ratelimit-limit']).toBeUndefined()
    }
  })

  it('answers cost > capacity with 403, not a retryable 429', async () => {
    const app = Fastify()
    apps.push(app)
    await app.register(rateLimit, {
      redis,
      capacity: 5,
      refillPerSecond: 1,
      timeoutMs: 5_000,
      prefix: uniquePrefix(),
      cost: (req) => Number(req.headers['x-cost']),
    })
    app.get('/', async () => 'ok')
    const r = await app.inject({ url: '/', headers: { 'x-cost': '9' } })
    expect(r.statusCode).toBe(403)
    expect(r.headers['retry-after']).toBeUndefined()
    expect(r.headers['x-ratelimit-remaining']).toBe('5')
    expect(r.json()).toMatchObject({ status: 403, 'violated-policies': ['default'] })
    expect((await app.inject({ url: '/', headers: { 'x-cost': '5' } })).statusCode).toBe(200)
  })

  it('shares one bucket between two instances on one Redis', async () => {
    const prefix = uniquePrefix()
    const a = await build({ prefix })
    const b = await build({ prefix })
    const codes: number[] = []
    for (let i = 0; i < 8; i++) codes.push((await inject(i % 2 === 0 ? a : b)).statusCode)
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
  })

  it('never shares buckets between two prefixes', async () => {
    const a = await build({ capacity: 1, prefix: uniquePrefix() })
    const b = await build({ capacity: 1, prefix: uniquePrefix() })
    expect((await inject(a)).statusCode).toBe(200)
    expect((await inject(b)).statusCode).toBe(200)
    expect((await inject(a)).statusCode).toBe(429)
  })

  it('keys distinct clients apart and groups an IPv6 /64', async () => {
    const app = await build({ capacity: 1, prefix: uniquePrefix() })
    expect((await inject(app, '/', { 'x-test-ip': '198.51.100.1' })).statusCode).toBe(200)
    expect((await inject(app, '/', { 'x-test-ip': '198.51.100.2' })).statusCode).toBe(200)
    expect((await inject(app, '/', { 'x-test-ip': '::ffff:198.51.100.1' })).statusCode).toBe(429)
    expect((await inject(app, '/', { 'x-test-ip': '2001:db8:0:1::1' })).statusCode).toBe(200)
    expect((await inject(app, '/', { 'x-test-ip': '2001:db8:0:1:ffff::2' })).statusCode).toBe(429)
  })

  it('trusts X-Forwarded-For only from the configured gateway', async () => {
    const app = await build({ capacity: 1, prefix: uniquePrefix() }, '10.0.0.2')
    const viaGateway = (client: string) => inject(app, '/', { 'x-test-ip': '10.0.0.2', 'x-forwarded-for': client })
    expect((await viaGateway('198.51.100.7')).statusCode).toBe(200)
    expect((await viaGateway('198.51.100.8')).statusCode).toBe(200)
    expect((await viaGateway('198.51.100.7')).statusCode).toBe(429)
    // A client talking directly cannot pick a bucket by forging the header.
    const direct = (forged: string) => inject(app, '/', { 'x-test-ip': '192.0.2.50', 'x-forwarded-for': forged })
    expect((await direct('1.1.1.1')).statusCode).toBe(200)
    expect((await direct('2.2.2.2')).statusCode).toBe(429)
  })

  it('keys by a hashed API key and never stores the key itself', async () => {
    const prefix = uniquePrefix()
    const app = await build({ capacity: 1, prefix, key: { header: 'x-api-key' } })
    expect((await inject(app, '/', { 'x-api-key': 'sk_live_abc' })).statusCode).toBe(200)
    expect((await inject(app, '/', { 'x-api-key': 'sk_live_abc' })).statusCode).toBe(429)
    expect((await inject(app, '/', { 'x-api-key': 'sk_live_xyz' })).statusCode).toBe(200)
    const keys = await redis.keys(`${prefix}*`)
    expect(keys).toHaveLength(2)
    for (const key of keys) {
      expect(key).not.toContain('sk_live')
      expect(key).toMatch(/^t\d+:\{key:[A-Za-z0-9_-]{22}\}:default$/)
    }
  })

  it('rejects a missing API key when told to, without touching any bucket', async () => {
    const prefix = uniquePrefix()
    const app = await build({ prefix, key: { header: 'x-api-key', missing: 'reject' } })
    const r = await inject(app)
    expect(r.statusCode).toBe(401)
    expect(r.headers['x-ratelimit-limit']).toBeUndefined()
    expect(await redis.keys(`${prefix}*`)).toEqual([])
  })

  it('rejects a route whose static cost exceeds its capacity at registration', async () => {
    const app = Fastify()
    apps.push(app)
    await app.register(rateLimit, { redis, capacity: 1, refillPerSecond: 1, timeoutMs: 5_000 })
    expect(() => app.get('/x', { config: { rateLimit: { cost: 2 } } }, async () => 'ok')).toThrow(
      expect.objectContaining({ code: 'ERR_SLUICE_INVALID_OPTION', option: 'config.rateLimit.cost' }),
    )
  })

  it('survives SCRIPT FLUSH between requests', async () => {
    const app = await build({ prefix: uniquePrefix() })
    expect((await inject(app)).statusCode).toBe(200)
    await redis.script('FLUSH')
    const r = await inject(app)
    expect(r.statusCode).toBe(200)
    expect(r.headers['x-ratelimit-remaining']).toBe('3')
  })
})
