import Fastify, { type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type { LimiterCounters, TargetServer } from './catalog.js'

/**
 * A Fastify server with the benchmark's one route. `setup` registers the limiter (or nothing,
 * for the ceiling) before the route, as the plugins require.
 */
export async function fastifyTarget(
  setup: (app: FastifyInstance) => Promise<void> | void,
  redis?: Redis,
  counters: (app: FastifyInstance) => LimiterCounters | undefined = () => undefined,
): Promise<TargetServer> {
  const app = Fastify({ logger: false })
  await setup(app)
  app.get('/', async () => 'ok')
  await app.ready()
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
