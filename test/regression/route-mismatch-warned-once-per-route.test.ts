import { rateLimit } from '@sluice/express'
import express, { type RequestHandler } from 'express'
import { afterEach, expect, it } from 'vitest'
import { get, serve } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// Express: `limit.route('GET /search', …)` on a router mounted at `/api` (so the route is
// `GET /api/search`) was dropped with one SLUICE_ROUTE_MISMATCH per limiter, only once a request
// reached it: a second misnamed route stayed silent. Each misnamed route is now said once, at the
// app's first request, whichever route that request is for.
const suite = regressionSuite()
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

const ok: RequestHandler = (_req, res) => {
  res.send('ok')
}

it('warns once for each misnamed override, at the first request, and checks their requests once, app-wide', async () => {
  const logger = recordingLogger()
  const limit = rateLimit({ redis: suite.redis(), capacity: 5, refillPerSecond: 0.001, prefix: suite.prefix(), timeoutMs: 5_000, logger })
  const app = express()
  const api = express.Router()
  app.use(limit)
  app.get('/', ok)
  api.get('/search', limit.route('GET /search', { capacity: 1, name: 'search' }), ok)
  api.get('/items', limit.route('GET /items', { capacity: 1, name: 'items' }), ok)
  api.get('/named', limit.route('GET /api/named', { capacity: 1, name: 'named' }), ok)
  app.use('/api', api)
  const served = await serve(app)
  closers.push(served.close)

  // A request for neither route is enough to show them.
  expect((await get(`${served.url}/`)).headers.get('x-ratelimit-remaining')).toBe('4')
  const mismatches = () => logger.lines.filter((e) => e.object.code === 'SLUICE_ROUTE_MISMATCH').map((e) => e.object.route)
  expect(mismatches().sort()).toEqual(['GET /items', 'GET /search'])

  // Their requests: the app-wide policy, once each; and no warning said twice.
  for (const path of ['/api/search', '/api/items', '/api/search']) {
    expect((await get(`${served.url}${path}`)).headers.get('x-ratelimit-limit')).toBe('5')
  }
  expect((await get(`${served.url}/`)).headers.get('x-ratelimit-remaining')).toBe('0')
  // The correctly named override is applied, and not warned about.
  expect((await get(`${served.url}/api/named`)).headers.get('x-ratelimit-limit')).toBe('1')
  expect(mismatches().sort()).toEqual(['GET /items', 'GET /search'])
})
