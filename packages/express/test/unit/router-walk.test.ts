import express, { type RequestHandler } from 'express'
import { describe, expect, it } from 'vitest'
import { firstRoute, type RouterLike, taggedRoutes } from '../../src/router-walk.js'

const h: RequestHandler = (_req, res) => {
  res.end()
}
const tagged: RequestHandler = (_req, _res, next) => next()

function names(router: RouterLike, method: string, path: string): string {
  const found = firstRoute(router, method, path)
  if (typeof found === 'string') return found
  return `${found.prefix}${String(found.route.path)} ${found.handlers.map((x) => (x === tagged ? 'T' : 'h')).join('')}`
}

describe('firstRoute (the route Express dispatches a request to)', () => {
  const app = express.Router()
  const api = express.Router()
  app.use((_req, _res, next) => next())
  app.get('/users/me', h)
  app.get('/users/:id', tagged, h)
  app.route('/orders/:id').get(h).post(tagged, h)
  api.post('/only-post', h)
  api.get('/search', tagged, h)
  app.use('/api', api)
  app.get('/*splat', tagged, h)

  it('takes routes in declaration order, not by specificity', () => {
    expect(names(app, 'GET', '/users/me')).toBe('/users/me h')
    expect(names(app, 'GET', '/users/7')).toBe('/users/:id Th')
  })

  it('answers HEAD with the GET route, and skips routes of other methods', () => {
    expect(names(app, 'HEAD', '/users/me')).toBe('/users/me h')
    expect(names(app, 'GET', '/orders/1')).toBe('/orders/:id h')
    expect(names(app, 'POST', '/orders/1')).toBe('/orders/:id Th')
    expect(names(app, 'HEAD', '/api/only-post')).toBe('/*splat Th')
    expect(names(app, 'DELETE', '/users/7')).toBe('none')
  })

  it('enters mounted routers with their prefix removed, and only on a segment boundary', () => {
    expect(names(app, 'GET', '/api/search')).toBe('/api/search Th')
    expect(names(app, 'GET', '/apisearch')).toBe('/*splat Th')
  })

  it('says "unknown" where the router would fail before any route (a malformed escape)', () => {
    expect(names(app, 'GET', '/users/%E0')).toBe('unknown')
  })

  it("reads a layer's match the way routers before 2.3 report it (true, and the path on the layer)", () => {
    const inner = express.Router()
    inner.get('/x', tagged)
    const old = {
      stack: [
        {
          handle: inner,
          path: '/old',
          match: (path: string) => path === '/old' || path.startsWith('/old/'),
        },
      ],
    }
    expect(names(old, 'GET', '/old/x')).toBe('/old/x T')
  })

  it('lists every tagged handler, mounted routers included', () => {
    const found = taggedRoutes(app, (x) => x === tagged).map((r) => r.path)
    expect(found).toEqual(['/users/:id', '/orders/:id', '/search', '/*splat'])
  })
})
