import { Writable } from 'node:stream'
import { freePort, type RedisServer, startRedis } from '@sluice/harness'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import rateLimit from '../../src/index.js'

// The start-up line goes through the logger the limiter was given; on Fastify that is the app's
// own pino logger (fastify.log), at level info. Written here as a user's app writes it, and read
// back from the app's log stream as an operator reads it.
interface Line {
  level: number
  msg: string
  store?: string
  cause?: string
  timeoutMs?: number
}

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done()
})

/** A Fastify app logging JSON lines at info into memory, and a promise of its first Sluice line. */
function appWithLog(): { app: FastifyInstance; firstSluiceLine: Promise<Line> } {
  let found!: (line: Line) => void
  const firstSluiceLine = new Promise<Line>((resolve) => {
    found = resolve
  })
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text === '') continue
        const line = JSON.parse(text) as Line
        if (line.msg.startsWith('@sluice:')) found(line)
      }
      done()
    },
  })
  const app = Fastify({ logger: { level: 'info', stream } })
  cleanup.push(() => app.close())
  return { app, firstSluiceLine }
}

describe("the start-up line, through Fastify's logger", () => {
  let server: RedisServer | undefined
  afterEach(async () => {
    await server?.stop()
    server = undefined
  })

  it('a reachable Redis: one info line that says so and the budget', async () => {
    server = await startRedis()
    const redis = new Redis({ host: '127.0.0.1', port: server.port })
    cleanup.push(() => redis.disconnect())
    const { app, firstSluiceLine } = appWithLog()
    await app.register(rateLimit, { redis, capacity: 5, refillPerSecond: 1, timeoutMs: 250 })
    app.get('/', async () => 'ok')
    await app.ready()
    const line = await firstSluiceLine
    expect(line.level).toBe(30) // pino's info
    expect(line.store).toBe('redis')
    expect(line.timeoutMs).toBe(250)
    expect(line.msg).toMatch(/store is reached.*250 ms/)
  })

  it('a port with nothing listening: the line names the cause and the failure mode', async () => {
    const port = await freePort()
    const redis = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 100 })
    redis.on('error', () => {}) // the app's own listener; Sluice adds its own
    cleanup.push(() => redis.disconnect())
    const { app, firstSluiceLine } = appWithLog()
    await app.register(rateLimit, { redis, capacity: 5, refillPerSecond: 1, timeoutMs: 250 })
    app.get('/', async () => 'ok')
    await app.ready()
    const line = await firstSluiceLine
    expect(line.level).toBe(30)
    expect(line.cause).toMatch(/ECONNREFUSED/)
    expect(line.msg).toMatch(/store is failing \(.*ECONNREFUSED.*\).*failure mode/)
  })
})
