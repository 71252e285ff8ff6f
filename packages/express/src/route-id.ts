import { ErrorCodes, SluiceOptionError } from '@sluice/core'
import { type MatchFunction, match } from 'path-to-regexp'

// `GET /search`, `GET,POST /orders/:id`: the method(s) and the full path, as Fastify names a route.
const ROUTE_ID = /^([A-Z]+(?:,[A-Z]+)*) (\/\S*)$/
const TRAILING_SLASHES = /\/+$/

/**
 * A `limit.route(id, …)` id: the route's method(s) and full path. It names the route's buckets,
 * so it must name the route it is on: a request is the override's only when the id covers it
 * too, matched by path-to-regexp under the app's routing settings, as Express matches routes.
 */
export class RouteId {
  readonly id: string
  readonly methods: ReadonlySet<string>
  readonly path: string
  /** Matchers compiled under each (case-sensitive, strict) pair of Express settings met so far. */
  readonly #matchers = new Map<string, MatchFunction<object>>()

  /** Parse a route id; throws a coded option error when it is not `METHOD /path`. */
  constructor(id: string) {
    const parsed = typeof id === 'string' ? ROUTE_ID.exec(id) : null
    if (parsed === null) {
      throw new SluiceOptionError(
        ErrorCodes.INVALID_OPTION,
        'route id',
        id,
        "expected the route's method and full path, such as 'GET /search' or 'GET,POST /orders/:id'",
      )
    }
    const methods = new Set(parsed[1]!.split(','))
    // Express answers HEAD with the GET route, as Fastify does.
    if (methods.has('GET')) methods.add('HEAD')
    this.id = id
    this.methods = methods
    this.path = parsed[2]!
  }

  /** Whether a `method` request for `pathname` (from the app's root) is the route this id names. */
  covers(method: string, pathname: string, sensitive: boolean, strict: boolean): boolean {
    if (!this.methods.has(method)) return false
    try {
      return this.#matcher(sensitive, strict)(pathname) !== false
    } catch {
      return false
    }
  }

  #matcher(sensitive: boolean, strict: boolean): MatchFunction<object> {
    const settings = `${sensitive}:${strict}`
    let matcher = this.#matchers.get(settings)
    if (matcher === undefined) {
      // Express's router: without strict routing a trailing slash is optional on both sides.
      const path = strict || this.path === '/' ? this.path : this.path.replace(TRAILING_SLASHES, '')
      matcher = match(path, { sensitive, end: true, trailing: !strict, decode: false })
      this.#matchers.set(settings, matcher)
    }
    return matcher
  }
}
