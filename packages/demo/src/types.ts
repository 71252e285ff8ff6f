import type { Cluster, Redis } from 'ioredis'
import type { DemoConfig } from './config.js'

/**
 * What the replica entry point needs from a web framework: Fastify and Express implement it,
 * and `replica.ts` picks one by DEMO_FRAMEWORK, leaving config, logging and shutdown as they are.
 */
export interface ReplicaServer {
  /** Listen on the configured host and port; resolves with the bound port. */
  listen(): Promise<number>
  /** Stop accepting connections and finish the requests in flight. */
  close(): Promise<void>
  readonly log: ReplicaLogger
}

export interface ReplicaLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

/**
 * Builds a replica: limited `GET /`, exempt `GET /health` and `GET /metrics`, X-Instance-Id on
 * every response.
 */
export type ReplicaFactory = (config: DemoConfig, redis: Redis | Cluster | undefined) => Promise<ReplicaServer>
