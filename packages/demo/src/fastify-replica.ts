import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import rateLimit from '@sluice/fastify'
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
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { DemoConfig } from './config.js'
import { holdMs, InflightLog } from './inflight-log.js'
import { limitOptions } from './limit-options.js'
import { logOptions } from './logger.js'
import { replicaMetrics } from './replica-metrics.js'
import type { ReplicaFactory } from './types.js'

/** The demo backend on Fastify, registering @sluice/fastify exactly as an application would. */
export async function buildFastifyApp(config: DemoConfig, redis: Redis | Cluster | undefined): Promise<FastifyInstance> {
  const metrics = replicaMetrics(config.instanceId)
  const app = Fastify({
    logger: logOptions(config),
    // A load test sends thousands of requests a second; a log line for each would be the load.
    logController: new LogController({ disableRequestLogging: true }),
    // Only the gateway may say who the client is; everyone else is the client.
    trustProxy: config.trustedProxy.length > 0 ? [...config.trustedProxy] : false,
  })

  // onSend rather than onRequest: it also stamps 404s and framework errors, which never reach
  // a route hook.
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-instance-id', config.instanceId)
    // The load test counts local-bucket admissions into a client's bound: say which they are.
    if (request.rateLimit?.degraded === true) reply.header(DEGRADED_HEADER, 'true')
    return payload
  })

  await app.register(rateLimit, limitOptions(config, redis, metrics.observer))

  app.get('/', async (request) => ({ instance: config.instanceId, remaining: request.rateLimit?.remaining }))
  // A streamed answer of random length, at most the capacity: half the capacity reserved, the
  // difference settled once the response has ended (an aborted stream pays for what it streamed).
  const streamed = new WeakMap<object, number>()
  const settle = (request: object): number => streamed.get(request) ?? 0
  app.get(STREAM_PATH, { config: { rateLimit: { cost: streamReservation(config.capacity), settle } } }, async (request, reply) => {
    const length = 1 + Math.floor(Math.random() * config.capacity)
    streamed.set(request, 0)
    async function* tokens() {
      for (let i = 1; i <= length; i++) {
        streamed.set(request, i)
        yield STREAM_TOKEN
      }
    }
    return reply.type('text/plain').send(Readable.from(tokens()))
  })
  // A slow answer under an in-flight limit alone: each admitted request's interval, from its
  // handler to its response's end, is logged for the load test's inflight scenario.
  const inflight = new InflightLog(config.instanceId)
  app.get(INFLIGHT_PATH, { config: { rateLimit: INFLIGHT_POLICY } }, async (request, reply) => {
    const key = config.keyMode === 'api-key' ? String(request.headers[API_KEY_HEADER]) : request.ip
    reply.raw.once('close', inflight.acquired(key, request.rateLimit?.degraded === true))
    await sleep(holdMs())
    return { instance: config.instanceId }
  })
  // Reached on the replica itself: the gateway refuses this path.
  app.get<{ Querystring: { key?: string } }>(INFLIGHT_LOG_PATH, { config: { rateLimit: false } }, async (request) =>
    inflight.list(request.query.key),
  )
  app.get('/health', { config: { rateLimit: false } }, async () => ({ status: 'ok', instance: config.instanceId }))
  app.get('/metrics', { config: { rateLimit: false } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.text()),
  )
  return app
}

export const createFastifyReplica: ReplicaFactory = async (config, redis) => {
  const app = await buildFastifyApp(config, redis)
  return {
    log: app.log,
    async listen() {
      await app.listen({ port: config.port, host: config.host })
      const address = app.server.address()
      return typeof address === 'object' && address !== null ? address.port : config.port
    },
    close: () => app.close(),
  }
}
