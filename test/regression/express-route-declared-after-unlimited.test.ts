import type { DecisionEvent } from '@sluice/core'
import { rateLimit } from '@sluice/express'
import express, { type RequestHandler } from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { get, serve } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// Express: with `app.use(limit)`, a request whose path an override's id matched was left to that
// override, even when Express answered it from another route declared first: `/users/me` before
// `/users/:id` (with an override), or specific routes before an exempt catch-all, went
// unlimited. A request is now the override's only when the route Express dispatches it to
// carries that override.
const suite = regressionSuite()
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

const answer =
  (label: string): RequestHandler =>
  (_req, res) => {
    res.set('x-route', label).send(label)
  }

function limiter(logger = recordingLogger(), observer?: { decision(event: DecisionEvent): void }) {
  return rateLimit({
    redis: suite.redis(),
    capacity: 3,
    refillPerSecond: 0.001,
    prefix: suite.prefix(),
    timeoutMs: 5_000,
    logger,
    observer,
  })
}

async function start(app: express.Express): Promise<string> {
  const served = await serve(app)
  closers.push(served.close)
  return served.url
}

async function statuses(url: string, n: number): Promise<Array<{ status: number; limit: string | null; route: string | null }>> {
  const out = []
  for (let i = 0; i < n; i++) {
    const a = await get(url)
    out.push({ status: a.status, limit: a.headers.get('x-ratelimit-limit'), route: a.headers.get('x-route') })
  }
  return out
}

describe('Express routes declared before a route with an override', () => {
  it('limits /users/me, declared before /users/:id with its own override, by the app-wide policy', async () => {
    const limit = limiter()
    const app = express()
    app.use(limit)
    app.get('/users/me', answer('me'))
    app.get('/users/:id', limit.route('GET /users/:id', { capacity: 5, refillPerSecond: 0.001, name: 'user' }), answer('user'))
    const url = await start(app)

    const me = await statuses(`${url}/users/me`, 4)
    expect(me.map((a) => a.status)).toEqual([200, 200, 200, 429])
    expect(me.map((a) => a.limit)).toEqual(['3', '3', '3', '3'])
    // The override still owns the route it is on.
    const user = await statuses(`${url}/users/42`, 1)
    expect(user).toEqual([{ status: 200, limit: '5', route: 'user' }])
  })

  it('limits specific routes declared before an exempt catch-all, and exempts only what the catch-all answers', async () => {
    const limit = limiter()
    const app = express()
    app.use(limit)
    app.get('/search', answer('search'))
    app.get('/*splat', limit.route('GET /*splat', false), answer('catch-all'))
    const url = await start(app)

    const search = await statuses(`${url}/search`, 4)
    expect(search.map((a) => a.status)).toEqual([200, 200, 200, 429])
    const other = await statuses(`${url}/anything/else`, 4)
    expect(other.every((a) => a.status === 200 && a.limit === null && a.route === 'catch-all')).toBe(true)
  })

  it('does the same inside a mounted router, and for HEAD answered by the GET route', async () => {
    const limit = limiter()
    const app = express()
    const api = express.Router()
    app.use(limit)
    api.get('/users/me', answer('me'))
    api.get('/users/:id', limit.route('GET /api/users/:id', { capacity: 5, refillPerSecond: 0.001, name: 'user' }), answer('user'))
    app.use('/api', api)
    const url = await start(app)

    const head = await fetch(`${url}/api/users/me`, { method: 'HEAD' })
    expect([head.status, head.headers.get('x-ratelimit-limit')]).toEqual([200, '3'])
    const me = await statuses(`${url}/api/users/me`, 3)
    expect(me.map((a) => a.status)).toEqual([200, 200, 429])
    expect(await statuses(`${url}/api/users/7`, 1)).toEqual([{ status: 200, limit: '5', route: 'user' }])
  })

  it('charges a request left to an override that a handler before it answered, after the answer, and says so once for the route', async () => {
    const logger = recordingLogger()
    let decisions = 0
    let counted: () => void = () => {}
    const limit = limiter(logger, {
      decision() {
        decisions++
        counted()
      },
    })
    const app = express()
    app.use(limit)
    const auth: RequestHandler = (req, res, next) => {
      if (req.get('x-ok') === undefined) res.status(401).send('who?')
      else next()
    }
    app.get('/orders/:id', auth, limit.route('GET /orders/:id', { capacity: 2, refillPerSecond: 0.001, name: 'orders' }), answer('orders'))
    const url = await start(app)

    for (let i = 0; i < 2; i++) {
      const charged = new Promise<void>((resolve) => {
        counted = resolve
      })
      expect((await get(`${url}/orders/1`)).status).toBe(401)
      await charged
    }
    expect(decisions).toBe(2)
    // The two late charges emptied the route's bucket of 2.
    const after = await get(`${url}/orders/1`, { 'x-ok': '1' })
    expect([after.status, after.headers.get('x-ratelimit-limit')]).toEqual([429, '2'])
    expect(logger.lines.filter((e) => e.object.reason === 'unreached')).toHaveLength(1)
  })
})
