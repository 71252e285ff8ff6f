import type { AddressInfo } from 'node:net'
import fastifyRateLimit from '@sluice/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { uncoveredScopes } from '../../packages/fastify/src/uncovered-scopes.js'
import { get } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// `app.register(rateLimit, …)` without `await`, or after the routes, left every route
// unlimited, silently: the limit was attached to each route as it was declared, so routes
// declared before the plugin ran (and the not-found handler) had none. The limit is now one
// hook for the whole scope, resolved per request from the route's `config.rateLimit`.
const suite = regressionSuite()
const options = () => ({ redis: suite.redis(), prefix: suite.prefix(), capacity: 2, refillPerSecond: 0.001, timeoutMs: 5_000 })

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

async function statuses(url: string, n: number): Promise<number[]> {
  const seen = []
  for (let i = 0; i < n; i++) seen.push((await get(url)).status)
  return seen
}

const orders: Array<[string, (app: FastifyInstance, logger: ReturnType<typeof recordingLogger>) => void]> = [
  [
    'registered without await, before the routes',
    (app, logger) => {
      void app.register(fastifyRateLimit, { ...options(), logger })
      app.get('/a', async () => 'a')
      app.get('/own', { config: { rateLimit: { capacity: 1, refillPerSecond: 0.001 } } }, async () => 'own')
    },
  ],
  [
    'registered after the routes',
    (app, logger) => {
      app.get('/a', async () => 'a')
      app.get('/own', { config: { rateLimit: { capacity: 1, refillPerSecond: 0.001 } } }, async () => 'own')
      void app.register(fastifyRateLimit, { ...options(), logger })
    },
  ],
  [
    'registered after a plugin that declares the routes',
    (app, logger) => {
      void app.register(async (scope) => {
        scope.get('/a', async () => 'a')
        scope.get('/own', { config: { rateLimit: { capacity: 1, refillPerSecond: 0.001 } } }, async () => 'own')
      })
      void app.register(fastifyRateLimit, { ...options(), logger })
    },
  ],
]

describe('Fastify', () => {
  it.each(orders)('limits every route when %s', async (_order, declare) => {
    const app = Fastify()
    const logger = recordingLogger()
    try {
      declare(app, logger)
      const url = await listen(app)
      expect(await statuses(`${url}/a`, 3)).toEqual([200, 200, 429])
      // The route's own override, read from its config whenever the route was declared.
      expect(await statuses(`${url}/own`, 2)).toEqual([200, 429])
      expect(logger.codes).not.toContain('SLUICE_UNCOVERED_ROUTES')
    } finally {
      await app.close()
    }
  })

  it('limits requests that no route answers (the not-found handler)', async () => {
    const app = Fastify()
    try {
      await app.register(fastifyRateLimit, options())
      const url = await listen(app)
      expect(await statuses(`${url}/nowhere`, 3)).toEqual([404, 404, 429])
    } finally {
      await app.close()
    }
  })

  it('still exempts a route declared before the limiter with config.rateLimit: false', async () => {
    const app = Fastify()
    try {
      app.get('/free', { config: { rateLimit: false } }, async () => 'free')
      void app.register(fastifyRateLimit, options())
      const url = await listen(app)
      expect(await statuses(`${url}/free`, 3)).toEqual([200, 200, 200])
    } finally {
      await app.close()
    }
  })

  it('finds the scopes whose routes a hook does not reach (the onReady warning reads these)', async () => {
    const app = Fastify()
    try {
      await app.register(fastifyRateLimit, options())
      await app.register(async (scope) => void scope.get('/x', async () => 'x'), { prefix: '/api' })
      await app.ready()
      // The limiter's own hook reaches every scope; a hook that was never added reaches none.
      expect(uncoveredScopes(app, 'onRequest', () => undefined, app.sluice)).toEqual(['', '/api'])
    } finally {
      await app.close()
    }
  })
})
