import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Redis } from 'ioredis'
import type { LimiterCounters, TargetServer } from './catalog.js'
import { type ExpressApp, express } from './express-module.js'

/** An Express 5 server with the benchmark's one route, after whatever `setup` mounts. */
export async function expressTarget(
  setup: (app: ExpressApp) => Promise<void> | void,
  redis?: Redis,
  counters: () => LimiterCounters | undefined = () => undefined,
): Promise<TargetServer> {
  const app = express()
  await setup(app)
  app.get('/', (_request, response) => {
    response.send('ok')
  })
  let server: Server | undefined
  return {
    async listen(port) {
      server = app.listen(port, '127.0.0.1')
      await once(server, 'listening')
      return (server.address() as AddressInfo).port
    },
    async close() {
      if (server !== undefined) {
        const closed = once(server, 'close')
        server.close()
        // Keep-alive connections from the load generator would hold close() open.
        server.closeAllConnections()
        await closed
      }
      await redis?.quit().catch(() => redis.disconnect())
    },
    counters,
  }
}
