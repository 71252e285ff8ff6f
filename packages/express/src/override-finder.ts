import type { Application, Request } from 'express'
import { LRUCache } from 'lru-cache'
import type { RouteId } from './route-id.js'
import { firstRoute, type RouterLike, taggedRoutes } from './router-walk.js'

/** What the app-wide middleware does with a request. */
export type Owner<T> =
  /**
   * Check it itself: no override of this limiter on the route Express dispatches it to. `route`
   * names that route by its pattern (`GET /users/:id`) for the observer, or is `*` (no route, or
   * one that cannot be named without the client's text).
   */
  | { readonly kind: 'app'; readonly route: string }
  /** Leave it to this override, the first of this limiter's on the route Express dispatches it to. */
  | { readonly kind: 'override'; readonly tag: T; readonly route: object }

/** Why an override is not applied to a route it is on. */
export interface Mismatch<T> {
  readonly tag: T
  /** The request that showed it, or the route's own path at start-up. */
  readonly actual: string
}

const APP: Owner<never> = { kind: 'app', route: '*' }
// Paths are the client's to choose: the answers are cached per app, per method and path, bounded.
const CACHED_PATHS = 2_000

/**
 * Finds, for a request at the app-wide middleware, the route Express will dispatch it to, and
 * whether that route carries one of this limiter's `limit.route()` handlers (tagged here when
 * created) under an id that names it. The router walk is cached per method and path.
 */
export class OverrideFinder<T extends { readonly id: RouteId }> {
  readonly #tags = new WeakMap<object, T>()
  readonly #cache = new WeakMap<Application, LRUCache<string, Owner<T>>>()
  readonly #onMismatch: (mismatch: Mismatch<T>) => void

  constructor(onMismatch: (mismatch: Mismatch<T>) => void) {
    this.#onMismatch = onMismatch
  }

  /** Mark a `limit.route()` handler as this limiter's. */
  tag(handler: object, tag: T): void {
    this.#tags.set(handler, tag)
  }

  tagOf(handler: object): T | undefined {
    return this.#tags.get(handler)
  }

  /** Who checks this request: the app-wide middleware, or an override further down. */
  owner(req: Request): Owner<T> {
    const app = req.app
    const router = (app as unknown as { readonly router?: RouterLike }).router
    const pathname = appPathname(req)
    if (router === undefined || pathname === undefined) return APP
    let cache = this.#cache.get(app)
    if (cache === undefined) {
      cache = new LRUCache({ max: CACHED_PATHS })
      this.#cache.set(app, cache)
      this.#audit(router)
    }
    const key = `${req.method} ${pathname}`
    let owner = cache.get(key)
    if (owner === undefined) {
      owner = this.#find(router, req, pathname)
      cache.set(key, owner)
    }
    return owner
  }

  #find(router: RouterLike, req: Request, pathname: string): Owner<T> {
    const found = firstRoute(router, req.method, pathname)
    if (typeof found === 'string') return APP
    const handler = found.handlers.find((h) => typeof h === 'function' && this.#tags.has(h)) as object | undefined
    if (handler === undefined) {
      return found.pattern === undefined ? APP : { kind: 'app', route: `${req.method} ${mountOf(req.app)}${found.pattern}` }
    }
    const tag = this.#tags.get(handler)!
    const sensitive = req.app.enabled('case sensitive routing')
    const strict = req.app.enabled('strict routing')
    if (!tag.id.covers(req.method, pathname, sensitive, strict)) {
      this.#onMismatch({ tag, actual: `${req.method} ${pathname}` })
      return APP
    }
    return { kind: 'override', tag, route: found.route }
  }

  /**
   * On an app's first request, the earliest the app shows its routes: every override of this
   * limiter that a request for its own id would not reach is said, each once.
   */
  #audit(router: RouterLike): void {
    for (const { handler, path } of taggedRoutes(router, (h) => this.#tags.has(h))) {
      const tag = this.#tags.get(handler)!
      const method = [...tag.id.methods][0]!
      // The id's path, as a request: each `:param` and `*splat` a segment of its own name.
      const found = firstRoute(router, method, tag.id.path.replace(/\{[^}]*\}/g, ''))
      if (typeof found === 'string' || !found.handlers.includes(handler)) {
        this.#onMismatch({ tag, actual: `a route declared as '${String(path)}'` })
      }
    }
  }
}

/** A sub-app's mount path as declared ('' for the app itself, or one mounted at `/`). */
function mountOf(app: Application): string {
  if ((app as Application & { readonly parent?: unknown }).parent === undefined) return ''
  const mount = app.path()
  return mount === '/' ? '' : mount
}

/** The path the app's router sees; undefined for a sub-app whose mount path is not a plain prefix. */
function appPathname(req: Request): string | undefined {
  const pathname = pathnameOf(req.originalUrl ?? req.url)
  const app = req.app as Application & { readonly parent?: unknown }
  if (app.parent === undefined) return pathname
  const mount = app.path()
  if (mount === '' || mount === '/') return pathname
  if (!pathname.startsWith(mount) || (pathname.length > mount.length && pathname[mount.length] !== '/')) return undefined
  return pathname.slice(mount.length) || '/'
}

/** The raw pathname of a request target, as the router reads it (origin or absolute form). */
function pathnameOf(url: string): string {
  const end = url.search(/[?#]/)
  let path = end === -1 ? url : url.slice(0, end)
  if (!path.startsWith('/')) {
    const scheme = path.indexOf('://')
    if (scheme !== -1) {
      const slash = path.indexOf('/', scheme + 3)
      path = slash === -1 ? '/' : path.slice(slash)
    }
  }
  return path
}
