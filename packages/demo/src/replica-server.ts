import type { Redis } from 'ioredis'
import type { DemoConfig } from './config.js'

/**
 * What the replica entry point needs from a web framework. Fastify implements it today; an
 * Express replica (DEMO_FRAMEWORK=express, on @sluice/express) would implement it too, and
 * `replica.ts` would pick between them, leaving config, logging and shutdown as they are.
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

/** Builds a replica: limited `GET /`, exempt `GET /health`, X-Instance-Id on every response. */
export type ReplicaFactory = (config: DemoConfig, redis: Redis | undefined) => Promise<ReplicaServer>
