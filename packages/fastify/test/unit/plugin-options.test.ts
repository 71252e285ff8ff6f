import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import rateLimit from '../../src/index.js'

function capturingLogger(): { stream: Writable; lines: Array<{ level: number; msg: string; code?: string }> } {
  const lines: Array<{ level: number; msg: string; code?: string }> = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
      callback()
    },
  })
  return { stream, lines }
}

describe('@sluice/fastify without Redis', () => {
  it('limits in process memory when no client is given', async () => {
    const app = Fastify()
    await app.register(rateLimit, { capacity: 2, refillPerSecond: 0.01 })
    app.get('/', async () => 'ok')
    const codes = []
    for (let i = 0; i < 3; i++) codes.push((await app.inject('/')).statusCode)
    expect(codes).toEqual([200, 200, 429])
    await app.close()
  })

  it('can run in another hook, after the body is parsed', async () => {
    const app = Fastify()
    await app.register(rateLimit, { capacity: 1, refillPerSecond: 0.01, hook: 'preHandler', cost: (req) => (req.body as { n: number }).n })
    app.post('/', async () => 'ok')
    expect((await app.inject({ method: 'POST', url: '/', payload: { n: 2 } })).statusCode).toBe(403)
    expect((await app.inject({ method: 'POST', url: '/', payload: { n: 1 } })).statusCode).toBe(200)
    await app.close()
  })

  it('warns at start-up when trustProxy lets any client choose its IP', async () => {
    const { stream, lines } = capturingLogger()
    const app = Fastify({ trustProxy: true, logger: { stream, level: 'warn' } })
    await app.register(rateLimit, { capacity: 1, refillPerSecond: 1 })
    app.get('/', async () => 'ok')
    await app.ready()
    expect(lines.some((l) => l.level === 40 && l.code === 'SLUICE_PERMISSIVE_TRUST_PROXY' && l.msg.includes('trusts every proxy'))).toBe(
      true,
    )
    await app.close()
  })

  it('does not warn when only the gateway is trusted', async () => {
    const { stream, lines } = capturingLogger()
    const app = Fastify({ trustProxy: '10.0.0.2', logger: { stream, level: 'warn' } })
    await app.register(rateLimit, { capacity: 1, refillPerSecond: 1 })
    app.get('/', async () => 'ok')
    await app.ready()
    expect(lines).toEqual([])
    await app.close()
  })

  it.each([
    [{ capacity: 0, refillPerSecond: 1 }, 'ERR_SLUICE_INVALID_OPTION', 'capacity'],
    [{ capacity: 1, refillPerSecond: Number.NaN }, 'ERR_SLUICE_INVALID_OPTION', 'refillPerSecond'],
    [{ capacity: 1, refillPerSecond: 1, cost: -1 }, 'ERR_SLUICE_INVALID_OPTION', 'cost'],
    [{ capacity: 1, refillPerSecond: 1, hook: 'onSend' }, 'ERR_SLUICE_INVALID_OPTION', 'hook'],
    [{ capacity: 1, refillPerSecond: 1, limit: 5 }, 'ERR_SLUICE_UNKNOWN_OPTION', 'limit'],
  ])('fails registration on %j with %s', async (options, code, option) => {
    const app = Fastify()
    await expect(app.register(rateLimit, options as never).ready()).rejects.toMatchObject({
      code,
      message: expect.stringContaining(`\`${option}\``),
    })
    await app.close()
  })

  it('treats HEAD like GET for a route policy: one bucket', async () => {
    const app = Fastify()
    await app.register(rateLimit, { capacity: 10, refillPerSecond: 0.01 })
    app.get('/r', { config: { rateLimit: { capacity: 2, name: 'r' } } }, async () => 'ok')
    expect((await app.inject({ method: 'HEAD', url: '/r' })).headers['x-ratelimit-remaining']).toBe('1')
    expect((await app.inject({ method: 'GET', url: '/r' })).headers['x-ratelimit-remaining']).toBe('0')
    await app.close()
  })
})

describe('@sluice/fastify registered twice', () => {
  it('refuses a second registration in one scope, naming the fix, and allows one per sibling scope', async () => {
    const app = Fastify()
    await app.register(rateLimit, { capacity: 5, refillPerSecond: 1 })
    await expect(app.register(rateLimit, { capacity: 50, refillPerSecond: 1, name: 'b' }).ready()).rejects.toMatchObject({
      code: 'ERR_SLUICE_ALREADY_REGISTERED',
    })
    await app.close()
    const scoped = Fastify()
    await scoped.register(async (child) => child.register(rateLimit, { capacity: 5, refillPerSecond: 1 }))
    await scoped.register(async (child) => child.register(rateLimit, { capacity: 5, refillPerSecond: 1, name: 'other' }))
    await expect(scoped.ready()).resolves.toBeDefined()
    await scoped.close()
  })
})
