import { Writable } from 'node:stream'
import { type RedisServer, startRedis } from '@sluice/harness'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import rateLimit, { type SluiceFastifyOptions } from '../../src/index.js'

let server: RedisServer
let redis: Redis
let app: FastifyInstance
let warnings: string[]
let n = 0

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
})
afterEach(async () => {
  await app?.close()
})
afterAll(async () => {
  await server.stop()
})

async function build(options: Partial<SluiceFastifyOptions>): Promise<FastifyInstance> {
  warnings = []
  const stream = new Writable({
    write(chunk, _e, cb) {
      for (const line of String(chunk).split('\n')) if (line) warnings.push(JSON.parse(line).msg)
      cb()
    },
  })
  app = Fastify({ logger: { stream, level: 'warn' } })
  await app.register(rateLimit, { redis, prefix: `p${++n}:`, timeoutMs: 5_000, ...options } as SluiceFastifyOptions)
  app.get('/', async (request) => request.rateLimit?.policies.map((p) => [p.policy.name, p.taken, p.remaining]))
  await app.ready()
  return app
}

const get = () => app.inject({ url: '/', remoteAddress: '198.51.100.20' })

describe('several policies per route', () => {
  it('lists every policy in the headers and names the one that denied', async () => {
    await build({
      policies: [
        { name: 'burst', capacity: 2, refillPerSecond: 0.001 },
        { name: 'hourly', capacity: 1000, refillPerSecond: 1000 / 3600 },
      ],
    })
    const first = await get()
    expect(first.statusCode).toBe(200)
    expect(first.headers['ratelimit-policy']).toBe('"burst";q=2;w=2000, "hourly";q=1000;w=3600')
    // t: until each policy's next whole token, computed from the state the script returned.
    expect(first.headers.ratelimit).toBe('"burst";r=1;t=1000, "hourly";r=999;t=4')
    // X-RateLimit-* describe the binding policy: the one with the fewest tokens left.
    expect(first.headers['x-ratelimit-limit']).toBe('2')
    await get()
    const denied = await get()
    expect(denied.statusCode).toBe(429)
    expect(denied.json()['violated-policies']).toEqual(['burst'])
    expect(denied.headers['retry-after']).toBe('1000')
  })

  it('takes nothing from the others when one policy denies', async () => {
    await build({
      policies: [
        { name: 'burst', capacity: 5, refillPerSecond: 0.001 },
        { name: 'daily', capacity: 2, refillPerSecond: 2 / 86_400 },
      ],
    })
    await get()
    await get()
    const denied = await get()
    expect(denied.statusCode).toBe(429)
    expect(denied.json()['violated-policies']).toEqual(['daily'])
    expect(denied.headers.ratelimit).toMatch(/^"burst";r=3;t=(999|1000), "daily";r=0;t=\d+$/)
    // Retry-After is the longest wait among the violated policies: a day's token, in seconds.
    expect(Number(denied.headers['retry-after'])).toBeGreaterThan(40_000)
  })

  it('gives a route several policies of its own', async () => {
    app = Fastify()
    await app.register(rateLimit, { redis, prefix: `p${++n}:`, capacity: 100, refillPerSecond: 1, timeoutMs: 5_000 })
    app.get('/', async () => 'ok')
    app.get(
      '/export',
      {
        config: {
          rateLimit: {
            policies: [
              { name: 'a', capacity: 1, refillPerSecond: 0.001 },
              { name: 'b', capacity: 9, refillPerSecond: 1 },
            ],
          },
        },
      },
      async () => 'ok',
    )
    const first = await app.inject('/export')
    expect(first.headers['ratelimit-policy']).toBe('"a";q=1;w=1000, "b";q=9;w=9')
    expect((await app.inject('/export')).statusCode).toBe(429)
    expect((await app.inject('/')).headers['x-ratelimit-remaining']).toBe('99')
  })
})

describe('shadow policies', () => {
  it('measure and report but never deny', async () => {
    await build({
      policies: [
        { name: 'current', capacity: 10, refillPerSecond: 0.001 },
        { name: 'proposed', capacity: 1, refillPerSecond: 0.001, shadow: true },
      ],
    })
    const codes = []
    for (let i = 0; i < 4; i++) codes.push((await get()).statusCode)
    expect(codes).toEqual([200, 200, 200, 200])
    const last = await get()
    expect(last.json()).toEqual([
      ['current', true, 5],
      ['proposed', false, 0],
    ])
    expect(last.headers.ratelimit).toMatch(/"proposed";r=0;t=\d+/)
    // The enforced policy alone decides the X-RateLimit-* numbers.
    expect(last.headers['x-ratelimit-remaining']).toBe('5')
    expect(app.sluice.stats().shadowDenials).toBe(4)
    expect(warnings.some((w) => w.includes('shadow policy "proposed" would have denied'))).toBe(true)
  })
})
