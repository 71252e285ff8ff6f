import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { rateLimit } from '@sluice/express'
import {
  API_KEY_HEADER,
  DEGRADED_HEADER,
  INFLIGHT_LOG_PATH,
  INFLIGHT_PATH,
  INFLIGHT_POLICY,
  STREAM_PATH,
  STREAM_TOKEN,
  streamReservation,
} from '@sluice/loadtest/policy'
import express, { type Express, type Request, type Response } from 'express'
import type { Cluster, Redis } from 'ioredis'
import { pino } from 'pino'
import type { DemoConfig } from './config.js'
import { holdMs, InflightLog } from './inflight-log.js'
import { limitOptions } from './limit-options.js'
import { logOptions } from './logger.js'
import { replicaMetrics } from './replica-metrics.js'
import type { ReplicaFactory, ReplicaLogger } from './types.js'

/**
 * Mark an answer from the local fallback bucket (`DEGRADED_HEADER`), which the load test counts
 * into the client's bound. The limiter sends its 429 itself, after setting `req.rateLimit`: only
 * the moment the head goes out sees both the decision and every response.
 */
function stampDegraded(req: Request, res: Response): void {
  const writeHead = res.writeHead
  res.writeHead = function (this: Response, ...args: unknown[]) {
    if (req.rateLimit?.degraded === true && !this.headersSent) this.setHeader(DEGRADED_HEADER, 'true')
    return (writeHead as (...a: unknown[]) => Response).apply(this, args)
  } as Response['writeHead']
}

/** The demo backend on Express 5, using @sluice/express exactly as an application would. */
export function buildExpressApp(config: DemoConfig, redis: Redis | Cluster | undefined, logger: ReplicaLogger): Express {
  const metrics = replicaMetrics(config.instanceId)
  const app = express()
  // Only the gateway may say who the client is; everyone else is the client.
  app.set('trust proxy', config.trustedProxy.length > 0 ? [...config.trustedProxy] : false)
  app.disable('x-powered-by')
  app.use((req, res, next) => {
    res.set('x-instance-id', config.instanceId)
    stampDegraded(req, res)
    next()
  })
  const limit = rateLimit({ ...limitOptions(config, redis, metrics.observer), logger })
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', instance: config.instanceId })
  })
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.text())
  })
  // A streamed answer of random length, at most the capacity: half the capacity reserved, the
  // difference settled once the response has ended (an aborted stream pays for what it streamed).
  const streamed = new WeakMap<object, number>()
  const stream = limit.route(`GET ${STREAM_PATH}`, {
    cost: streamReservation(config.capacity),
    settle: (_req, res) => streamed.get(res) ?? 0,
  })
  app.get(STREAM_PATH, stream, (_req, res) => {
    const length = 1 + Math.floor(Math.random() * config.capacity)
    res.type('text/plain')
    streamed.set(res, 0)
    for (let i = 1; i <= length; i++) {
      streamed.set(res, i)
      res.write(STREAM_TOKEN)
    }
    res.end()
  })
  // A slow answer under an in-flight limit alone: each admitted request's interval, from its
  // handler to its response's end, is logged for the load test's inflight scenario.
  const inflight = new InflightLog(config.instanceId)
  app.get(INFLIGHT_PATH, limit.route(`GET ${INFLIGHT_PATH}`, INFLIGHT_POLICY), async (req, res) => {
    const key = config.keyMode === 'api-key' ? String(req.headers[API_KEY_HEADER]) : (req.ip ?? '')
    res.once('close', inflight.acquired(key, req.rateLimit?.degraded === true))
    await sleep(holdMs())
    res.json({ instance: config.instanceId })
  })
  // Reached on the replica itself: the gateway refuses this path.
  app.get(INFLIGHT_LOG_PATH, (req, res) => {
    const key = typeof req.query.key === 'string' ? req.query.key : undefined
    res.json(inflight.list(key))
  })
  app.get('/', limit, (req, res) => {
    res.json({ instance: config.instanceId, remaining: req.rateLimit?.remaining })
  })
  return app
}

export const createExpressReplica: ReplicaFactory = async (config, redis) => {
  const log = pino(logOptions(config))
  const app = buildExpressApp(config, redis, log)
  const server = app.listen(config.port, config.host)
  return {
    log,
    async listen() {
      if (!server.listening) await once(server, 'listening')
      return (server.address() as AddressInfo).port
    },
    async close() {
      const closed = once(server, 'close')
      server.close()
      // Keep-alive connections from the gateway would hold close() open until they time out.
      server.closeIdleConnections()
      await closed
    },
  }
}
