import type { AddressInfo } from 'node:net'
import fastifyRateLimit from '@sluice/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { get } from '../support/http.js'
import { regressionSuite } from '../support/regression-suite.js'

// A second @sluice/fastify in a nested scope threw ERR_SLUICE_ALREADY_REGISTERED, although that
// error's message recommends exactly this. Pinned: the inner limiter replaces the outer one for
// the routes declared in its scope, and `child.sluice` is the inner one. (Both limits on one
// route is what `policies` is for.) The two limiters get prefixes of their own, since one
// prefix with the same bucket id and other numbers is refused.
const suite = regressionSuite()

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

describe('Fastify', () => {
  it('lets an inner limiter replace the outer one for the routes of its scope', async () => {
    const app = Fastify()
    let child: FastifyInstance | undefined
    try {
      await app.register(fastifyRateLimit, {
        redis: suite.redis(),
        prefix: suite.prefix(),
        capacity: 5,
        refillPerSecond: 0.001,
        timeoutMs: 5_000,
      })
      app.get('/outer', async () => 'outer')
      await app.register(async (scope) => {
        await scope.register(fastifyRateLimit, {
          redis: suite.redis(),
          prefix: suite.prefix(),
          capacity: 2,
          refillPerSecond: 0.001,
          timeoutMs: 5_000,
        })
        scope.get('/inner', async () => 'inner')
        child = scope
      })
      const url = await listen(app)
      const inner = []
      for (let i = 0; i < 3; i++) inner.push(await get(`${url}/inner`))
      // Checked once, by the inner limiter alone: its numbers, one token per request.
      expect(inner.map((a) => a.status)).toEqual([200, 200, 429])
      expect(inner.map((a) => a.headers.get('x-ratelimit-limit'))).toEqual(['2', '2', '2'])
      expect(inner.map((a) => a.headers.get('x-ratelimit-remaining'))).toEqual(['1', '0', '0'])
      expect(child!.sluice).not.toBe(app.sluice)
      expect((await child!.sluice.peek({ ip: '127.0.0.1' })).remaining).toBe(0)
      // The outer limiter took nothing for them, and still limits its own routes.
      expect((await app.sluice.peek({ ip: '127.0.0.1' })).remaining).toBe(5)
      const outer = await get(`${url}/outer`)
      expect(outer.headers.get('x-ratelimit-limit')).toBe('5')
      expect(outer.headers.get('x-ratelimit-remaining')).toBe('4')
    } finally {
      await app.close()
    }
  })

  it('still refuses a second limiter in the very same scope', async () => {
    const app = Fastify()
    try {
      await app.register(fastifyRateLimit, { redis: suite.redis(), prefix: suite.prefix(), capacity: 5, refillPerSecond: 1 })
      await expect(
        app.register(fastifyRateLimit, { redis: suite.redis(), prefix: suite.prefix(), capacity: 2, refillPerSecond: 1 }).ready(),
      ).rejects.toMatchObject({ code: 'ERR_SLUICE_ALREADY_REGISTERED' })
    } finally {
      await app.close()
    }
  })
})
