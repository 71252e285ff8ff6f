import Fastify, { type FastifyInstance, type RouteHandlerMethod } from 'fastify'
import type { Redis } from 'ioredis'
import type { LimiterCounters, TargetServer } from './catalog.js'

export interface FastifyTargetOptions {
  /** The one route's handler; by default it answers 200 "ok". */
  readonly handler?: RouteHandlerMethod
  /** The limiter's client, closed with the server. */
  readonly redis?: Redis
  readonly counters?: (app: FastifyInstance) => LimiterCounters | undefined
}

/**
 * A Fastify server with the benchmark's one route. `setup` registers the limiter (or nothing,
 * for the baselines) before the route, as the plugins require.
 */
export async function fastifyTarget(
  setup: (app: FastifyInstance) => Promise<void> | void,
  { handler = async () => 'ok', redis, counters = () => undefined }: FastifyTargetOptions = {},
): Promise<TargetServer> {
  const app = Fastify({ logger: false })
  await setup(app)
  app.get('/', handler)
  await app.ready()
  // Connected before the target says it is ready: what a client (and a store) sends once when it
  // connects must not land in another target's measured run.
  await redis?.ping()
  return {
    async listen(port) {
      await app.listen({ port, host: '127.0.0.1' })
      const address = app.server.address()
      return typeof address === 'object' && address !== null ? address.port : port
    },
    async close() {
      await app.close()
      await redis?.quit().catch(() => redis.disconnect())
    },
    counters: () => counters(app),
  }
}
