import { once } from 'node:events'
import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import { type AddressInfo, connect } from 'node:net'
import type { RedisClient, SluiceStats } from '@sluice/core'
import { rateLimit as expressRateLimit } from '@sluice/express'
import fastifyRateLimit from '@sluice/fastify'
import { pollUntil, startRedis, startRedisCluster } from '@sluice/harness'
import type createExpressApp from 'express'
import type createFastifyApp from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { get, limitHeaders } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'

// In-flight limits through both adapters, in memory, on one Redis and on a Redis Cluster: n
// slow requests hold their slots and the next is refused; a response sent in full, aborted by
// the client mid-stream, failed in the handler, or whose connection dropped before the decision
// came, each gives its slot back exactly once (through the adapter's one response-end path).

function frameworkOf<T>(adapter: string, framework: string): T {
  return createRequire(new URL(`../../packages/${adapter}/package.json`, import.meta.url))(framework) as T
}

/** Gates the handlers and the `cost` function wait on, and what they have reached. */
class Scene {
  #open!: () => void
  readonly gate = new Promise<void>((resolve) => (this.#open = resolve))
  #entered = 0
  readonly #waiters: { n: number; resolve: () => void }[] = []
  #chunk!: () => void
  readonly firstChunk = new Promise<void>((resolve) => (this.#chunk = resolve))
  #late!: () => void
  readonly lateStarted = new Promise<void>((resolve) => (this.#late = resolve))

  open(): void {
    this.#open()
  }
  enter(): void {
    this.#entered++
    for (const w of this.#waiters.filter((x) => x.n <= this.#entered)) w.resolve()
  }
  entered(n: number): Promise<void> {
    return this.#entered >= n ? Promise.resolve() : new Promise((resolve) => this.#waiters.push({ n, resolve }))
  }
  chunkWritten(): void {
    this.#chunk()
  }
  lateCheckStarted(): void {
    this.#late()
  }
}

interface App {
  readonly url: string
  stats(): SluiceStats
  close(): Promise<void>
}

const CHUNK = 'x'.repeat(1024)
let n = 0

function options(s: Scene, redis: RedisClient | undefined, concurrency: number) {
  return {
    ...(redis === undefined ? {} : { redis }),
    prefix: `life${++n}:`,
    name: 'exports',
    concurrency,
    leaseMs: 1_000,
    timeoutMs: 5_000,
    logger: recordingLogger(),
    cost: (request: { url?: string }) => {
      if (request.url !== '/late') return 1
      s.lateCheckStarted()
      return s.gate.then(() => 1)
    },
  }
}

async function fastifyApp(s: Scene, redis: RedisClient | undefined, concurrency: number): Promise<App> {
  const fastify = frameworkOf<typeof createFastifyApp>('fastify', 'fastify')
  const app = fastify()
  await app.register(fastifyRateLimit, options(s, redis, concurrency))
  app.get('/full', async () => ({ ok: true }))
  app.get('/slow', async () => {
    s.enter()
    await s.gate
    return { ok: true }
  })
  app.get('/throws', async () => {
    throw new Error('handler failed')
  })
  app.get('/late', async () => ({ ok: true }))
  app.get('/stream', (_request, reply) => {
    const raw = reply.raw
    reply.hijack()
    raw.writeHead(200, { 'content-type': 'text/plain' })
    raw.write(CHUNK, () => s.chunkWritten())
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    stats: () => app.sluice.stats(),
    close: () => app.close(),
  }
}

async function expressApp(s: Scene, redis: RedisClient | undefined, concurrency: number): Promise<App> {
  const express = frameworkOf<typeof createExpressApp>('express', 'express')
  const app = express()
  const limit = expressRateLimit(options(s, redis, concurrency))
  app.use(limit)
  app.get('/full', (_req, res) => {
    res.json({ ok: true })
  })
  app.get('/slow', async (_req, res) => {
    s.enter()
    await s.gate
    res.json({ ok: true })
  })
  app.get('/throws', () => {
    throw new Error('handler failed')
  })
  app.get('/late', (_req, res) => {
    res.json({ ok: true })
  })
  app.get('/stream', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write(CHUNK, () => s.chunkWritten())
  })
  app.use((_error: unknown, _req: unknown, res: { status(n: number): { json(body: unknown): void } }, _next: unknown) => {
    res.status(500).json({ failed: true })
  })
  const server: Server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => limit.stats(),
    async close() {
      const closed = once(server, 'close')
      server.close()
      server.closeAllConnections()
      await closed
    },
  }
}

/** A raw GET on a connection of its own, destroyed once `when` resolves. */
async function abortedGet(url: string, path: string, when: Promise<unknown>): Promise<void> {
  const { port } = new URL(url)
  const socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  socket.on('error', () => {})
  socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`)
  await when
  socket.destroy()
}

/** Every lease this app took has been released (each once), and none is open. */
async function allReleased(app: App, taken: number): Promise<void> {
  await pollUntil(async () => app.stats().leasesReleased >= taken, 10, AbortSignal.timeout(5_000))
  expect(app.stats()).toMatchObject({ leasesOpen: 0, leasesReleased: taken, leasesLost: 0 })
}

const running: App[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

interface Backend {
  readonly name: string
  start(): Promise<{ client: RedisClient | undefined; stop(): Promise<void> }>
}

const backends: readonly Backend[] = [
  { name: 'in memory', start: async () => ({ client: undefined, stop: async () => {} }) },
  {
    name: 'on one Redis',
    async start() {
      const server = await startRedis()
      return { client: server.client(), stop: () => server.stop() }
    },
  },
  {
    name: 'on a Redis Cluster',
    async start() {
      const cluster = await startRedisCluster({ masters: 3 })
      return { client: cluster.client(), stop: () => cluster.stop() }
    },
  },
]

describe.each(backends)('in-flight limits $name', (backend) => {
  let redis: RedisClient | undefined
  let stop: () => Promise<void>
  beforeAll(async () => {
    const started = await backend.start()
    redis = started.client
    stop = started.stop
  }, 60_000)
  afterAll(async () => {
    await stop()
  })

  describe.each([
    ['fastify', fastifyApp],
    ['express', expressApp],
  ] as const)('%s adapter', (_name, startApp) => {
    async function start(s: Scene, concurrency = 1): Promise<App> {
      const app = await startApp(s, redis, concurrency)
      running.push(app)
      return app
    }

    it('holds n slow requests in flight and refuses the next with 429, Retry-After 1 and the draft headers', async () => {
      const s = new Scene()
      const app = await start(s, 2)
      const slow = [get(`${app.url}/slow`), get(`${app.url}/slow`)]
      await s.entered(2)
      const refused = await get(`${app.url}/full`)
      expect(refused.status).toBe(429)
      expect(limitHeaders(refused)).toEqual({
        'x-ratelimit-limit': '2',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': null,
        'retry-after': '1',
        'ratelimit-policy': '"exports";q=2;qu="concurrent-requests"',
        ratelimit: '"exports";r=0',
      })
      expect(refused.body).toMatchObject({ status: 429, 'violated-policies': ['exports'] })
      expect(app.stats().leasesOpen).toBe(2)
      s.open()
      const done = await Promise.all(slow)
      expect(done.map((a) => a.status)).toEqual([200, 200])
      expect(done.map((a) => a.headers.get('ratelimit')).sort()).toEqual(['"exports";r=0', '"exports";r=1'])
      await allReleased(app, 2)
      expect((await get(`${app.url}/full`)).status).toBe(200)
    })

    it('keeps the slot of a request that outlives leaseMs (1 s), renewed while it is open', async () => {
      const s = new Scene()
      const app = await start(s)
      const slow = get(`${app.url}/slow`)
      await s.entered(1)
      // Two and a half leases later, renewed every third of one, the slot is still held.
      await new Promise((resolve) => setTimeout(resolve, 2_500))
      expect((await get(`${app.url}/full`)).status).toBe(429)
      expect(app.stats()).toMatchObject({ leasesOpen: 1, leasesLost: 0 })
      s.open()
      expect((await slow).status).toBe(200)
      await allReleased(app, 1)
      expect((await get(`${app.url}/full`)).status).toBe(200)
    }, 15_000)

    it('frees the slot of a response sent in full, once', async () => {
      const s = new Scene()
      const app = await start(s)
      expect((await get(`${app.url}/full`)).status).toBe(200)
      await allReleased(app, 1)
      expect((await get(`${app.url}/full`)).status).toBe(200)
      await allReleased(app, 2)
    })

    it('holds the slot of a stream while it is open, and frees it once when the client aborts', async () => {
      const s = new Scene()
      const app = await start(s)
      let abort!: () => void
      const aborted = abortedGet(app.url, '/stream', new Promise<void>((resolve) => (abort = resolve)))
      await s.firstChunk
      expect((await get(`${app.url}/full`)).status).toBe(429)
      abort()
      await aborted
      await allReleased(app, 1)
      expect((await get(`${app.url}/full`)).status).toBe(200)
    })

    it('frees the slot of a handler that throws, once', async () => {
      const s = new Scene()
      const app = await start(s)
      expect((await get(`${app.url}/throws`)).status).toBe(500)
      await allReleased(app, 1)
      expect((await get(`${app.url}/full`)).status).toBe(200)
    })

    it('frees the slot of a connection dropped before the decision came, once', async () => {
      const s = new Scene()
      const app = await start(s)
      await abortedGet(app.url, '/late', s.lateStarted)
      // The client has gone; now the check completes and takes the slot, and gives it back.
      s.open()
      await allReleased(app, 1)
      expect((await get(`${app.url}/full`)).status).toBe(200)
    })
  })
})
