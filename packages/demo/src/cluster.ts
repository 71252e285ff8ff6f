import { randomUUID } from 'node:crypto'
import { findBinary, startNginx, startRedis, startRedisCluster } from '@sluice/harness'
import type { KeyMode } from '@sluice/loadtest/policy'
import { CONFIG_DEFAULTS, type Framework } from './config.js'
import { type ReplicaProcess, startReplica } from './replica-process.js'

/** Where the buckets live: one Redis for every replica, or each replica's own memory. */
export type ClusterMode = 'shared' | 'local'

export interface ClusterOptions {
  /** @default 3 */
  readonly replicas?: number
  /** An existing Redis to use instead of starting one (shared mode only); it is never stopped. */
  readonly redisUrl?: string
  readonly capacity: number
  readonly refillPerSecond: number
  readonly keyMode: KeyMode
  /** The gateway's port on 127.0.0.1. @default a free port */
  readonly gatewayPort?: number
  readonly mode: ClusterMode
  /** The replicas' frameworks, assigned in turn (`['fastify', 'express']` mixes them). @default ['fastify'] */
  readonly frameworks?: readonly Framework[]
  /** Start a three-master Redis Cluster instead of one redis-server (shared mode). */
  readonly redisCluster?: boolean
  /** Each replica's time budget for a Redis call. @default Sluice's */
  readonly timeoutMs?: number
  /** Called with a short line as each part comes up. */
  readonly onProgress?: (message: string) => void
}

export interface Cluster {
  readonly gatewayUrl: string
  readonly replicas: readonly { readonly id: string; readonly port: number; readonly framework: Framework }[]
  /** Undefined in local mode. */
  readonly redisUrl: string | undefined
  readonly mode: ClusterMode
  /** Stop everything this cluster started, and only that, in reverse order. */
  stop(): Promise<void>
}

// nginx connects to the replicas from loopback: the only address they trust for X-Forwarded-For.
const GATEWAY_ADDRESS = '127.0.0.1'

/**
 * Throw `MissingBinaryError` (which says how to install it) for the first program the cluster
 * needs that is not installed: before anything is started, not halfway through.
 */
export function assertBinaries(options: Pick<ClusterOptions, 'mode' | 'redisUrl' | 'redisCluster'>): void {
  findBinary('nginx')
  if (options.mode === 'shared' && options.redisUrl === undefined) findBinary('redis-server')
  if (options.mode === 'shared' && options.redisCluster === true) findBinary('redis-cli')
}

/** Start Redis (unless reused), the replicas and the nginx gateway, all on loopback. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const count = options.replicas ?? 3
  assertBinaries(options)
  const progress = options.onProgress ?? (() => {})
  const started: (() => Promise<unknown>)[] = []
  const stopAll = async (): Promise<void> => {
    const errors: unknown[] = []
    for (const stop of started.splice(0).reverse()) await stop().catch((error: unknown) => errors.push(error))
    if (errors.length > 0) throw new AggregateError(errors, 'the cluster did not stop cleanly')
  }
  try {
    let redisUrl: string | undefined
    const redisCluster = options.mode === 'shared' && options.redisCluster === true
    if (redisCluster && options.redisUrl === undefined) {
      const cluster = await startRedisCluster({ masters: 3 })
      started.push(() => cluster.stop())
      redisUrl = `redis://127.0.0.1:${cluster.ports[0]}`
      progress(`Redis Cluster ready: 3 masters on ports ${cluster.ports.join(', ')}`)
    } else if (options.mode === 'shared' && options.redisUrl !== undefined) {
      redisUrl = options.redisUrl
      // The host only: a URL may carry a password.
      progress(`using Redis at ${new URL(redisUrl).host}`)
    } else if (options.mode === 'shared') {
      const redis = await startRedis()
      started.push(() => redis.stop())
      redisUrl = redis.url
      progress(`redis-server ready on ${redis.url}`)
    } else {
      progress('no Redis: each replica keeps its own buckets in memory')
    }

    // A fresh key prefix per cluster: a reused Redis may hold an earlier run's buckets.
    const prefix = `sluice-demo:${randomUUID().slice(0, 8)}:`
    const frameworks = options.frameworks ?? ['fastify']
    const launches = await Promise.allSettled(
      Array.from({ length: count }, async (_, i) => {
        const framework = frameworks[i % frameworks.length]!
        const replica = await startReplica({
          redisUrl,
          redisCluster,
          framework,
          capacity: options.capacity,
          refillPerSecond: options.refillPerSecond,
          keyMode: options.keyMode,
          prefix,
          instanceId: `replica-${i + 1}`,
          trustedProxy: [GATEWAY_ADDRESS],
          replicas: count,
          timeoutMs: options.timeoutMs,
          host: '127.0.0.1',
          logLevel: CONFIG_DEFAULTS.logLevel,
        })
        progress(`${replica.id} (${framework}) ready on http://127.0.0.1:${replica.port}`)
        return { ...replica, framework }
      }),
    )
    const replicas: (ReplicaProcess & { framework: Framework })[] = []
    for (const launch of launches) if (launch.status === 'fulfilled') replicas.push(launch.value)
    started.push(...replicas.map((r) => () => r.stop()))
    const failure = launches.find((l) => l.status === 'rejected')
    if (failure !== undefined) throw failure.reason

    const nginx = await startNginx({ upstreams: replicas.map((r) => ({ host: '127.0.0.1', port: r.port })), port: options.gatewayPort })
    started.push(() => nginx.stop())
    progress(`nginx gateway ready on ${nginx.url} (round robin over ${count} replicas)`)

    let stopping: Promise<void> | undefined
    return {
      gatewayUrl: nginx.url,
      replicas: replicas.map((r) => ({ id: r.id, port: r.port, framework: r.framework })),
      redisUrl,
      mode: options.mode,
      stop: () => (stopping ??= stopAll()),
    }
  } catch (error) {
    await stopAll().catch(() => {})
    throw error
  }
}
