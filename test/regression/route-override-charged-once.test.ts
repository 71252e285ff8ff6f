import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { rateLimit } from '@sluice/express'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get, limitHeaders } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// Express charged a route with its own override twice (the app-wide middleware, then the
// route's), and `limit.route(id, false)` exempted nothing. Both adapters now agree: a route with
// an override is checked against that override only, once; `false` means no check at all.
const suite = regressionSuite()

describe.each(drivers)('$name', (driver) => {
  it('checks a route with its own policy against that policy only, leaving the app-wide bucket alone', async () => {
    const app = await suite.start(driver, { capacity: 5 }, [
      { path: '/search', rateLimit: { capacity: 2, refillPerSecond: 0.001, name: 'search' } },
    ])
    const answers = [await get(`${app.url}/search`), await get(`${app.url}/search`), await get(`${app.url}/search`)]
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429])
    expect(answers.map((a) => a.headers.get('x-ratelimit-limit'))).toEqual(['2', '2', '2'])
    // Three requests to /search took nothing from the app-wide bucket.
    expect((await get(app.url)).headers.get('x-ratelimit-remaining')).toBe('4')
  })

  it('charges a cost-only override once, from the app-wide bucket', async () => {
    const app = await suite.start(driver, { capacity: 5 }, [{ path: '/heavy', rateLimit: { cost: 2 } }])
    expect((await get(`${app.url}/heavy`)).headers.get('x-ratelimit-remaining')).toBe('3')
    expect((await get(app.url)).headers.get('x-ratelimit-remaining')).toBe('2')
  })

  it('exempts a route entirely: no check, no quota headers, no token taken', async () => {
    const app = await suite.start(driver, { capacity: 2 }, [{ path: '/health', rateLimit: false }])
    for (let i = 0; i < 4; i++) {
      const health = await get(`${app.url}/health`)
      expect(health.status).toBe(200)
      expect(health.body).toEqual({ remaining: null })
      expect(Object.values(limitHeaders(health)).every((v) => v === null)).toBe(true)
    }
    expect((await get(app.url)).headers.get('x-ratelimit-remaining')).toBe('1')
  })
})

describe('Express route ids', () => {
  it('says so, once, when a route id does not name the route it guards, and still checks the request once', async () => {
    const logger = recordingLogger()
    const limit = rateLimit({ redis: suite.redis(), capacity: 5, refillPerSecond: 0.001, timeoutMs: 5_000, prefix: suite.prefix(), logger })
    const app = express()
    app.use(limit)
    app.get('/find', limit.route('GET /search', { capacity: 1, name: 'search' }), (_req, res) => {
      res.send('ok')
    })
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/find`
      expect((await get(url)).headers.get('x-ratelimit-remaining')).toBe('4')
      expect((await get(url)).headers.get('x-ratelimit-remaining')).toBe('3')
      expect(logger.codes.filter((c) => c === 'SLUICE_ROUTE_MISMATCH')).toHaveLength(1)
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })

  it('refuses a route id that is not a method and a path', () => {
    const limit = rateLimit({ capacity: 5, refillPerSecond: 1 })
    expect(() => limit.route('search', { capacity: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_SLUICE_INVALID_OPTION', option: 'route id' }),
    )
  })
})
