import { rateLimit } from '@sluice/express'
import express, { type RequestHandler, type Router } from 'express'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { serve } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

/**
 * Random Express apps: routes with and without `limit.route()` overrides (own buckets, exempt,
 * cost-only, or passing the request on with `next()`), declared in random order on the app and
 * on routers mounted at random places in the stack (`/api`, and `/v2` inside it), then random
 * GET and HEAD requests. Whatever the order, each request is checked exactly once (or not at all
 * when the first route it enters is exempt), against the policy of the first route Express
 * actually gives it to; none is charged after its answer.
 */
const suite = regressionSuite()
const APP_CAPACITY = 10_000
const MOUNTS = ['', '/api', '/api/v2'] as const
const PATHS = ['/users/me', '/users/:id', '/search', '/*splat', '/items/:id'] as const
const REQUEST_PATHS = ['/users/me', '/users/7', '/search', '/x/y', '/items/3', '/'] as const

type Kind = 'plain' | 'override' | 'exempt' | 'cost' | 'pass' | 'override-pass'
interface Decl {
  readonly mount: 0 | 1 | 2
  readonly path: (typeof PATHS)[number]
  readonly kind: Kind
}
type Item = { readonly decl: Decl; readonly index: number } | { readonly mountRouter: 1 | 2 }

const decl: fc.Arbitrary<Decl> = fc.record({
  mount: fc.constantFrom(0 as const, 1 as const, 2 as const),
  path: fc.constantFrom(...PATHS),
  kind: fc.constantFrom<Kind>('plain', 'override', 'exempt', 'cost', 'pass', 'override-pass'),
})

// The declarations and the two mounts, in one random order of declaration.
const plan: fc.Arbitrary<Item[]> = fc.array(decl, { minLength: 1, maxLength: 8 }).chain((decls) => {
  const items: Item[] = [...decls.map((d, index) => ({ decl: d, index })), { mountRouter: 1 }, { mountRouter: 2 }]
  return fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length })
})

const request = fc.record({
  method: fc.constantFrom('GET', 'HEAD'),
  mount: fc.constantFrom(...MOUNTS),
  path: fc.constantFrom(...REQUEST_PATHS),
})

describe('express', () => {
  it('checks every request once, against the first route it enters, whatever the order of routes and routers', async () => {
    await fc.assert(
      fc.asyncProperty(plan, fc.array(request, { minLength: 4, maxLength: 12 }), async (items, requests) => {
        const logger = recordingLogger()
        let decisions = 0
        const limit = rateLimit({
          redis: suite.redis(),
          capacity: APP_CAPACITY,
          refillPerSecond: 0.01,
          prefix: suite.prefix(),
          timeoutMs: 5_000,
          logger,
          observer: { decision: () => void decisions++ },
        })
        const app = express()
        const routers: [express.Express, Router, Router] = [app, express.Router(), express.Router()]
        app.use(limit)
        const kinds = new Map<number, Kind>()
        for (const item of items) {
          if ('mountRouter' in item) {
            if (item.mountRouter === 1) app.use('/api', routers[1])
            else routers[1].use('/v2', routers[2])
            continue
          }
          const { decl: d, index } = item
          kinds.set(index, d.kind)
          const id = `GET ${MOUNTS[d.mount]}${d.path}`
          const enter: RequestHandler = (_req, res, next) => {
            res.locals.entered = [...(res.locals.entered ?? []), index]
            next()
          }
          const pass: RequestHandler = (_req, _res, next) => next()
          const end: RequestHandler = (_req, res) => {
            res.set('x-entered', res.locals.entered.join(',')).send('ok')
          }
          const own = { capacity: 100 + index, refillPerSecond: 0.01, name: `o${index}` }
          // Built only for the kind declared: a limit.route() handler is made for the route it is on.
          const handlers: Record<Kind, () => [RequestHandler, ...RequestHandler[]]> = {
            plain: () => [enter, end],
            override: () => [limit.route(id, own), enter, end],
            exempt: () => [limit.route(id, false), enter, end],
            cost: () => [limit.route(id, { cost: 2 }), enter, end],
            pass: () => [enter, pass],
            'override-pass': () => [limit.route(id, own), enter, pass],
          }
          ;(routers[d.mount] as Router).get(d.path, ...handlers[d.kind]())
        }
        app.use((_req, res) => {
          res
            .status(404)
            .set('x-entered', (res.locals.entered ?? []).join(','))
            .send('none')
        })
        const served = await serve(app)
        try {
          for (const r of requests) {
            const before = decisions
            const response = await fetch(`${served.url}${r.mount}${r.path}`, { method: r.method })
            await response.arrayBuffer()
            const entered = (response.headers.get('x-entered') ?? '').split(',').filter((s) => s !== '')
            const first = entered.length === 0 ? undefined : Number(entered[0])
            const kind = first === undefined ? 'plain' : kinds.get(first)!
            const expected =
              kind === 'exempt'
                ? { checks: 0, limit: null }
                : kind === 'override' || kind === 'override-pass'
                  ? { checks: 1, limit: String(100 + first!) }
                  : { checks: 1, limit: String(APP_CAPACITY) }
            expect({ request: r, entered, checks: decisions - before, limit: response.headers.get('x-ratelimit-limit') }).toEqual({
              request: r,
              entered,
              ...expected,
            })
          }
        } finally {
          await served.close()
        }
        expect(logger.lines.filter((e) => e.object.reason === 'unreached')).toEqual([])
      }),
      { numRuns: 40 },
    )
  })
})
