import { ErrorCodes, SluiceOptionError } from '@sluice/core'
import type { Request } from 'express'
import { type MatchFunction, match } from 'path-to-regexp'

// `GET /search`, `GET,POST /orders/:id`: the method(s) and the full path, as Fastify names a route.
const ROUTE_ID = /^([A-Z]+(?:,[A-Z]+)*) (\/\S*)$/
const TRAILING_SLASHES = /\/+$/

interface Entry {
  readonly id: string
  readonly methods: ReadonlySet<string>
  readonly path: string
  /** Matchers compiled under each (case-sensitive, strict) pair of Express settings met so far. */
  readonly matchers: Map<string, MatchFunction<object>>
}

/**
 * The routes that have an override of their own (`limit.route(id, …)`), so that the app-wide
 * middleware leaves them to it: a route is checked against its override only, once, and an
 * exempt route not at all. Paths are matched by path-to-regexp under the app's own routing
 * settings, as Express's router matches them, so the table never claims a request the route
 * would not get.
 */
export class RouteTable {
  readonly #entries: Entry[] = []

  /** Register a route id; throws a coded option error when it is not `METHOD /path`. */
  add(id: string): void {
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
    this.#entries.push({ id, methods, path: parsed[2]!, matchers: new Map() })
  }

  /** The id of the registered route this request is for, if any. */
  claim(req: Request): string | undefined {
    if (this.#entries.length === 0) return undefined
    const sensitive = req.app.enabled('case sensitive routing')
    const strict = req.app.enabled('strict routing')
    const pathname = req.baseUrl + req.path
    for (const entry of this.#entries) {
      if (!entry.methods.has(req.method)) continue
      if (matcherFor(entry, sensitive, strict)(pathname) !== false) return entry.id
    }
    return undefined
  }
}

function matcherFor(entry: Entry, sensitive: boolean, strict: boolean): MatchFunction<object> {
  const settings = `${sensitive}:${strict}`
  let matcher = entry.matchers.get(settings)
  if (matcher === undefined) {
    // Express's router: without strict routing a trailing slash is optional on both sides.
    const path = strict || entry.path === '/' ? entry.path : entry.path.replace(TRAILING_SLASHES, '')
    matcher = match(path, { sensitive, end: true, trailing: !strict, decode: false })
    entry.matchers.set(settings, matcher)
  }
  return matcher
}
