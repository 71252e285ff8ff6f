import { once } from 'node:events'
import type { IncomingHttpHeaders, Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import type { ClientRef, LimiterOptions, ManualCheckOptions, RateLimitResult, RouteLimitOptions, SluiceStats } from '@sluice/core'
import { rateLimit as expressRateLimit } from '@sluice/express'
import fastifyRateLimit from '@sluice/fastify'
import type createExpressApp from 'express'
import type createFastifyApp from 'fastify'
import { recordingLogger } from './recording-logger.js'

/** What both adapters' requests have in common: enough for key and cost functions in tests. */
export interface PortableRequest {
  readonly headers: IncomingHttpHeaders
  /** The client address as the framework resolved it (both frameworks name it `ip`). */
  readonly ip?: string | undefined
}

export type ConformanceOptions = LimiterOptions<PortableRequest>

/** A GET route answering `{ remaining }` from `rateLimit` on the request (null where none ran). */
export interface RouteSpec {
  readonly path: string
  /** The route's own override; `false` exempts the route; absent = the app-wide limiter. */
  readonly rateLimit?: RouteLimitOptions<PortableRequest> | false
  /**
   * Instead of `{ remaining }`, the handler runs a manual check keyed by the `x-user` header, with
   * this policy (undefined: the limiter's own), and answers `{ allowed, remaining }` with 200 or 429.
   */
  readonly manual?: { readonly policy?: ManualCheckOptions['policy'] }
}

export interface Settings {
  /** The framework's trust-proxy setting; absent = trust no proxy (the frameworks' default). */
  readonly trustProxy?: string | string[] | ((address: string, hop: number) => boolean)
  /** Listen on this unix socket instead of a loopback port (as behind a proxy on a socket). */
  readonly socketPath?: string
  /**
   * An app error handler, as apps write theirs: it answers `{ envelope, code }` with the error's
   * `statusCode` (500 without one).
   */
  readonly errorEnvelope?: string
}

/** The body the app's own error handler sends, with `Settings.errorEnvelope`. */
export interface Envelope {
  readonly envelope: string
  readonly code: string | undefined
  readonly retryAfterMs: number | undefined
}

function envelopeOf(name: string, error: unknown): { status: number; body: Envelope } {
  const e = error as { statusCode?: number; code?: string; result?: { retryAfterMs?: number } }
  return { status: e.statusCode ?? 500, body: { envelope: name, code: e.code, retryAfterMs: e.result?.retryAfterMs } }
}

export interface RunningApp {
  /** `http://127.0.0.1:<port>`, or `http://localhost` for an app on a unix socket. */
  readonly url: string
  readonly socketPath?: string | undefined
  /** The limiter's counters, as the app reads them. */
  stats(): SluiceStats
  /** The operator's calls, as the app makes them. */
  reset(client: ClientRef): Promise<void>
  peek(client: ClientRef & { tier?: string }): Promise<RateLimitResult>
  close(): Promise<void>
}

export interface Driver {
  readonly name: 'fastify' | 'express'
  /** Rejects with the adapter's error when the options are invalid, with nothing left listening. */
  start(options: ConformanceOptions, routes: readonly RouteSpec[], settings?: Settings): Promise<RunningApp>
}

// The repo root installs no framework: each is loaded from the adapter package that declares it,
// so the suite runs the very versions the adapter is built and typed against.
function frameworkOf<T>(adapter: string, framework: string): T {
  return createRequire(new URL(`../../packages/${adapter}/package.json`, import.meta.url))(framework) as T
}

/**
 * The options as given, with a recording logger unless they name a logger: a test about warnings
 * passes its own and asserts them; any other test's warnings are not printed on every run.
 */
const quiet = (options: ConformanceOptions): ConformanceOptions => ({ logger: recordingLogger(), ...options })

const urlOf = (server: Server): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`

export const expressDriver: Driver = {
  name: 'express',
  async start(options, routes, settings = {}) {
    const express = frameworkOf<typeof createExpressApp>('express', 'express')
    const app = express()
    if (settings.trustProxy !== undefined) app.set('trust proxy', settings.trustProxy)
    // The README's pattern: one limiter for the whole app, and `.route()` for a route's own
    // override (Express's `config.rateLimit`), whose id names the route's buckets as Fastify names
    // them (method and path), so the two adapters share them too; `false` exempts the route.
    const appWide = expressRateLimit(quiet(options))
    app.use(appWide)
    for (const route of routes) {
      const limit = route.rateLimit
      const middleware = limit === undefined ? [] : [appWide.route(`GET ${route.path}`, limit)]
      const manual = route.manual
      app.get(route.path, ...middleware, async (req, res) => {
        if (manual === undefined) {
          res.json({ remaining: req.rateLimit?.remaining ?? null })
          return
        }
        const result = await appWide.check(req, { key: String(req.headers['x-user']), policy: manual.policy })
        res.status(result.allowed ? 200 : 429).json({ allowed: result.allowed, remaining: result.remaining })
      })
    }
    const envelope = settings.errorEnvelope
    if (envelope !== undefined) {
      app.use((error: unknown, _req: unknown, res: { status(n: number): { json(body: unknown): void } }, _next: unknown) => {
        const { status, body } = envelopeOf(envelope, error)
        res.status(status).json(body)
      })
    }
    const server = settings.socketPath === undefined ? app.listen(0, '127.0.0.1') : app.listen(settings.socketPath)
    await once(server, 'listening')
    return {
      url: settings.socketPath === undefined ? urlOf(server) : 'http://localhost',
      socketPath: settings.socketPath,
      stats: () => appWide.stats(),
      reset: (client) => appWide.reset(client),
      peek: (client) => appWide.peek(client),
      async close() {
        const closed = once(server, 'close')
        server.close()
        // A client may keep its connection alive, and close() waits for it.
        server.closeAllConnections()
        await closed
      },
    }
  },
}

export const fastifyDriver: Driver = {
  name: 'fastify',
  async start(options, routes, settings = {}) {
    const fastify = frameworkOf<typeof createFastifyApp>('fastify', 'fastify')
    const app = fastify(settings.trustProxy === undefined ? {} : { trustProxy: settings.trustProxy })
    try {
      await app.register(fastifyRateLimit, quiet(options))
      const envelope = settings.errorEnvelope
      if (envelope !== undefined) {
        app.setErrorHandler((error, _request, reply) => {
          const { status, body } = envelopeOf(envelope, error)
          return reply.code(status).send(body)
        })
      }
      for (const route of routes) {
        const config = route.rateLimit === undefined ? {} : { config: { rateLimit: route.rateLimit } }
        const manual = route.manual
        app.get(route.path, config, async (request, reply) => {
          if (manual === undefined) return { remaining: request.rateLimit?.remaining ?? null }
          const result = await app.sluice.check(request, { key: String(request.headers['x-user']), policy: manual.policy })
          return reply.code(result.allowed ? 200 : 429).send({ allowed: result.allowed, remaining: result.remaining })
        })
      }
      await (settings.socketPath === undefined ? app.listen({ host: '127.0.0.1', port: 0 }) : app.listen({ path: settings.socketPath }))
    } catch (error) {
      await app.close()
      throw error
    }
    const url = settings.socketPath === undefined ? urlOf(app.server) : 'http://localhost'
    return {
      url,
      socketPath: settings.socketPath,
      stats: () => app.sluice.stats(),
      reset: (client) => app.sluice.reset(client),
      peek: (client) => app.sluice.peek(client),
      close: () => app.close(),
    }
  },
}

export const drivers: readonly Driver[] = [fastifyDriver, expressDriver]
