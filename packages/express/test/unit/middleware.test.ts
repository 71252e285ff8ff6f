import express, { type Express } from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { get, serve } from '../../../../test/support/http.js'
import { processWarnings } from '../../../../test/support/process-warnings.js'
import { rateLimit } from '../../src/index.js'

const servers: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function listen(app: Express): Promise<string> {
  const server = await serve(app)
  servers.push(server)
  return server.url
}

describe('@sluice/express without Redis', () => {
  it('lets a cost-only route override draw from the app-wide bucket', async () => {
    const app = express()
    const limit = rateLimit({ capacity: 5, refillPerSecond: 0.001 })
    app.get('/heavy', limit.route('GET /heavy', { cost: 3 }), (_req, res) => res.send('ok'))
    app.get('/', limit, (_req, res) => res.send('ok'))
    const url = await listen(app)
    expect((await get(`${url}/heavy`)).headers.get('x-ratelimit-remaining')).toBe('2')
    expect((await get(url)).headers.get('x-ratelimit-remaining')).toBe('1')
  })

  it("gives a route's own policy its own bucket", async () => {
    const app = express()
    const limit = rateLimit({ capacity: 5, refillPerSecond: 0.001 })
    app.get('/search', limit.route('GET /search', { capacity: 1, name: 'search' }), (_req, res) => res.send('ok'))
    app.get('/', limit, (_req, res) => res.send('ok'))
    const url = await listen(app)
    expect((await get(`${url}/search`)).status).toBe(200)
    expect((await get(`${url}/search`)).status).toBe(429)
    expect((await get(url)).headers.get('x-ratelimit-remaining')).toBe('4')
  })

  it("warns once per limiter when 'trust proxy' is true, and not for a gateway address", async () => {
    // No logger passed: this is the default logger's path, process warnings.
    const seen = processWarnings()
    const permissive = express().set('trust proxy', true)
    const limit = rateLimit({ capacity: 5, refillPerSecond: 1 })
    const other = rateLimit({ capacity: 5, refillPerSecond: 1, name: 'other' })
    permissive.get('/', limit, other, (_req, res) => res.send('ok'))
    const strict = express().set('trust proxy', '127.0.0.1')
    strict.get('/', rateLimit({ capacity: 5, refillPerSecond: 1 }), (_req, res) => res.send('ok'))
    const [a, b] = await Promise.all([listen(permissive), listen(strict)])
    await get(a!)
    await get(a!)
    await get(b!)
    await new Promise((r) => setImmediate(r)) // warnings are emitted on the next tick
    // Two limiters keyed by IP on the permissive app: each says it once, however many requests.
    expect(seen.codes.filter((c) => c === 'SLUICE_PERMISSIVE_TRUST_PROXY')).toHaveLength(2)
  })

  it('labels app-wide checks by the dispatched route pattern, as Fastify does, and `*` where none can be named', async () => {
    const app = express()
    const routes: string[] = []
    const limit = rateLimit({ capacity: 100, refillPerSecond: 0.001, observer: { decision: (event) => routes.push(event.route) } })
    app.use(limit)
    app.get('/users/:id', (_req, res) => res.send('ok'))
    const api = express.Router()
    api.post('/items/:item', (_req, res) => res.send('ok'))
    app.use('/api', api)
    // A mount path with a parameter: its raw text is the client's, so it is no label.
    const tenant = express.Router()
    tenant.get('/home', (_req, res) => res.send('ok'))
    app.use('/t/:tenant', tenant)
    const url = await listen(app)
    await get(`${url}/users/1`)
    await get(`${url}/users/2`)
    await fetch(`${url}/API/items/9`, { method: 'POST' })
    await get(`${url}/t/acme/home`)
    await get(`${url}/nowhere`)
    expect(routes).toEqual(['GET /users/:id', 'GET /users/:id', 'POST /api/items/:item', '*', '*'])
    // Every label draws from the one app-wide bucket.
    expect(limit.stats().storeAnswers).toBe(5)
    const last = await get(`${url}/users/3`)
    expect(last.headers.get('x-ratelimit-remaining')).toBe('94')
  })

  it('throws coded option errors at creation', () => {
    expect(() => rateLimit({ capacity: 0, refillPerSecond: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_SLUICE_INVALID_OPTION', option: 'capacity' }),
    )
    expect(() => rateLimit({ capacity: 1, refillPerSecond: 1 }).route('GET /x', { cost: 2 })).toThrow(
      expect.objectContaining({ option: 'config.rateLimit.cost' }),
    )
  })
})
