import type { Cluster, Redis } from 'ioredis'
import { ConfigError, type DemoConfig, loadConfig } from './config.js'
import { createExpressReplica } from './express-replica.js'
import { createFastifyReplica } from './fastify-replica.js'
import { connectRedis, untilReady } from './redis-client.js'
import type { ReplicaFactory, ReplicaLogger } from './types.js'

/** One backend replica: reads its settings from the environment, serves until SIGTERM or SIGINT. */

function configOrExit(): DemoConfig {
  try {
    return loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${error.message}\n`)
    process.exit(1)
  }
}

/** ioredis reports every failed reconnect; log the outage and the recovery once each. */
function logRedisState(redis: Redis | Cluster, log: ReplicaLogger): void {
  let down = false
  redis.on('error', (error: Error) => {
    if (down) return
    down = true
    log.warn({ err: error.message }, 'redis unreachable: answering from the local fallback buckets')
  })
  redis.on('ready', () => {
    if (!down) return
    down = false
    log.info({}, 'redis is back')
  })
}

const FACTORIES: Record<DemoConfig['framework'], ReplicaFactory> = { fastify: createFastifyReplica, express: createExpressReplica }

const config = configOrExit()
const redis = connectRedis(config)
const redisReady = redis === undefined ? true : await untilReady(redis)
const server = await FACTORIES[config.framework](config, redis)
if (redis !== undefined) logRedisState(redis, server.log)

let closing = false
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (closing) return
  closing = true
  server.log.info({ signal }, 'shutting down')
  try {
    // Finish the requests in flight before the client they need goes away. QUIT waits for a
    // reply, which a Redis that is down never sends: then just drop the connection.
    await server.close()
    if (redis?.status === 'ready') await redis.quit()
    else redis?.disconnect()
  } catch (error) {
    server.log.error({ err: error }, 'unclean shutdown')
    process.exitCode = 1
  }
}
process.once('SIGTERM', (signal) => void shutdown(signal))
process.once('SIGINT', (signal) => void shutdown(signal))

if (!redisReady) server.log.warn({}, 'redis not ready after 5 s: starting anyway, answering from the local fallback buckets until it is')
const port = await server.listen()
server.log.info(
  {
    port,
    framework: config.framework,
    store: redis === undefined ? 'memory' : config.redisCluster ? 'redis-cluster' : 'redis',
    keyMode: config.keyMode,
  },
  'replica ready',
)
