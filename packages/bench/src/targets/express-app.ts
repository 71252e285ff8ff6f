import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type Express, type RequestHandler } from 'express'
import type { Redis } from 'ioredis'
import type { LimiterCounters, TargetServer } from './catalog.js'

export interface ExpressTargetOptions {
  /** The one route's handler; by default it answers 200 "ok". */
  readonly handler?: RequestHandler
  /** The limiter's client, closed with the server. */
  readonly redis?: Redis
  readonly counters?: () => LimiterCounters | undefined
}

/** An Express 5 server with the benchmark's one route, after whatever `setup` mounts. */
export async function expressTarget(
  setup: (app: Express) => Promise<void> | void,
  { handler = (_request, response) => void response.send('ok'), redis, counters = () => undefined }: ExpressTargetOptions = {},
): Promise<TargetServer> {
  const app = express()
  await setup(app)
  app.get('/', handler)
  // Connected before the target says it is ready (see fastify-app.ts).
  await redis?.ping()
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
