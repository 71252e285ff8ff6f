import { type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll } from 'vitest'
import type { ConformanceOptions, Driver, RouteSpec, RunningApp, Settings } from './drivers.js'

/** A real Redis for the file, a fresh key prefix per app, and every app closed after its test. */
export function regressionSuite(): {
  redis(): Redis
  server(): RedisServer
  start(driver: Driver, options: Partial<ConformanceOptions>, routes?: RouteSpec[], settings?: Settings): Promise<RunningApp>
  prefix(): string
} {
  let server: RedisServer
  let redis: Redis
  let n = 0
  const running: RunningApp[] = []
  beforeAll(async () => {
    server = await startRedis()
    redis = server.client()
  })
  afterAll(async () => {
    await server.stop()
  })
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.close()))
  })
  const prefix = (): string => `reg${process.pid}x${++n}:`
  return {
    redis: () => redis,
    server: () => server,
    prefix,
    async start(driver, options, routes = [], settings) {
      // A generous time budget: on a loaded machine the default could hand a check to the local
      // failure bucket, and these tests are about what the shared bucket answers.
      const full = { redis, capacity: 5, refillPerSecond: 0.001, prefix: prefix(), timeoutMs: 5_000, ...options } as ConformanceOptions
      const app = await driver.start(full, [{ path: '/' }, ...routes], settings)
      running.push(app)
      return app
    },
  }
}
