// Which route Express will dispatch a request to, found by walking the app's router stack the
// way the `router` package does (2.x, Express 5's router): layers in order, mounted routers
// entered with their matched prefix removed, a route taken only when it handles the method
// (HEAD answered by GET). Read-only: the router's matchers are called directly, because before
// router 2.3 `Layer#match` stored its result on the layer, shared by every request in flight.

/** The parts of a `router` Layer this walk reads (the same in router 2.0 to 2.3). */
interface Layer {
  readonly handle: unknown
  readonly route?: Route
  readonly method?: string
  readonly slash?: boolean
  readonly matchers?: ReadonlyArray<(path: string) => Match | false>
  match?(path: string): Match | boolean
  /** Where router < 2.3 stores a match. */
  readonly path?: string
  readonly params?: Readonly<Record<string, unknown>>
}

/** What a layer's matcher answers: the raw path it matched, and its parameters. */
interface Match {
  readonly path: string
  readonly params?: Readonly<Record<string, unknown>>
}

/** The parts of a `router` Route this walk reads. */
interface Route {
  readonly path: unknown
  readonly stack: readonly Layer[]
  readonly methods: Readonly<Record<string, boolean | undefined>>
}

/** A router (an app's `app.router`, or `express.Router()`): a function with a stack. */
export interface RouterLike {
  readonly stack: readonly unknown[]
  /** The router's `caseSensitive` option (the app's 'case sensitive routing'). */
  readonly caseSensitive?: boolean
}

/** The route a request goes to: its handlers for the request's method, in order. */
export interface Dispatch {
  readonly route: Route
  readonly handlers: readonly unknown[]
  /** The raw path the mounted routers on the way matched, such as `/api`. */
  readonly prefix: string
  /**
   * The route as declared, its mount paths included (`/api/users/:id`), for a metric's label;
   * undefined when a mount path had parameters (the raw prefix would be the client's text).
   * The prefix of a case-insensitive router is lower-cased, so a client's case does not make new labels.
   */
  readonly pattern: string | undefined
}

/** What a walk may answer: a route, no route at all (a 404), or "the router would fail first". */
export type WalkResult = Dispatch | 'none' | 'unknown'

const MAX_DEPTH = 32

/** The first route of `router` that a `method` request for `path` (the router's own pathname) reaches. */
export function firstRoute(router: RouterLike, method: string, path: string): WalkResult {
  return walk(router, method, path, '', '', 0)
}

function walk(router: RouterLike, method: string, path: string, prefix: string, named: string | undefined, depth: number): WalkResult {
  if (depth > MAX_DEPTH) return 'unknown'
  for (const layer of router.stack as readonly Layer[]) {
    let match: Match | undefined
    try {
      match = matchPath(layer, path)
    } catch {
      // A malformed escape in a parameter: the router sends the error on, to no route.
      return 'unknown'
    }
    if (match === undefined) continue
    const matched = match.path
    const route = layer.route
    if (route !== undefined) {
      const handlers = handlersFor(route, method)
      // The router skips a route for another method (HEAD enters it and finds no handler).
      if (handlers.length > 0) return { route, handlers, prefix, pattern: named === undefined ? undefined : named + patternOf(route.path) }
      continue
    }
    if (!isRouter(layer.handle)) continue // other middleware is assumed to call next()
    const rest = trimPrefix(path, matched)
    if (rest === undefined) continue
    const literal = Object.keys(match.params ?? {}).length === 0
    const mount = router.caseSensitive === true ? matched : matched.toLowerCase()
    const found = walk(layer.handle, method, rest, prefix + matched, named !== undefined && literal ? named + mount : undefined, depth + 1)
    if (found !== 'none') return found
  }
  return 'none'
}

/** What a layer matched, or undefined; throws where the router's matching throws. */
function matchPath(layer: Layer, path: string): Match | undefined {
  if (layer.slash === true) return { path: '' }
  if (Array.isArray(layer.matchers)) {
    for (const matcher of layer.matchers) {
      const found = matcher(path)
      if (found !== false) return found
    }
    return undefined
  }
  // A router without compiled matchers on its layers: its own `match` (2.3 returns the match).
  const found = layer.match?.(path)
  if (found === undefined || found === false) return undefined
  return found === true ? { path: layer.path ?? '', params: layer.params } : found
}

/** A route's declared path as a label: a string as written, several joined, a RegExp as its source. */
function patternOf(path: unknown): string {
  if (typeof path === 'string') return path
  if (Array.isArray(path)) return path.map(patternOf).join('|')
  return String(path)
}

/** A route's handlers that a request of this method runs, as `Route#dispatch` picks them. */
function handlersFor(route: Route, method: string): unknown[] {
  let name = method.toLowerCase()
  if (name === 'head' && route.methods.head !== true) name = 'get'
  if (route.methods._all !== true && route.methods[name] !== true) return []
  // Handlers of four arguments are error handlers, which a request without an error skips.
  return route.stack.filter((l) => (l.method === undefined || l.method === name) && !isErrorHandler(l.handle)).map((l) => l.handle)
}

function isErrorHandler(handle: unknown): boolean {
  return typeof handle === 'function' && handle.length > 3
}

function isRouter(handle: unknown): handle is RouterLike {
  return typeof handle === 'function' && Array.isArray((handle as Partial<RouterLike>).stack)
}

/** The path a mounted router sees, or undefined where the router's own prefix check refuses. */
function trimPrefix(path: string, matched: string): string | undefined {
  if (matched.length === 0) return path
  if (!path.startsWith(matched)) return undefined
  const next = path[matched.length]
  if (next !== undefined && next !== '/') return undefined
  const rest = path.slice(matched.length)
  return rest.startsWith('/') ? rest : `/${rest}`
}

/** Every handler of every route in `router` (mounted routers included) that `isTagged` picks. */
export function taggedRoutes(router: RouterLike, isTagged: (handler: object) => boolean): Array<{ handler: object; path: unknown }> {
  const found: Array<{ handler: object; path: unknown }> = []
  const visit = (stack: readonly Layer[], depth: number): void => {
    if (depth > MAX_DEPTH) return
    for (const layer of stack) {
      if (layer.route !== undefined) {
        for (const l of layer.route.stack) {
          if (typeof l.handle === 'function' && isTagged(l.handle)) found.push({ handler: l.handle, path: layer.route.path })
        }
      } else if (isRouter(layer.handle)) {
        visit(layer.handle.stack as readonly Layer[], depth + 1)
      }
    }
  }
  visit(router.stack as readonly Layer[], 0)
  return found
}
