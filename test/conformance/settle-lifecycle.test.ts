import { once } from 'node:events'
import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import { type AddressInfo, connect } from 'node:net'
import { rateLimit as expressRateLimit } from '@sluice/express'
import fastifyRateLimit from '@sluice/fastify'
import type createExpressApp from 'express'
import type createFastifyApp from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { get } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'

// The one response-end path of each adapter (response-end.ts): `settle` runs exactly once for
// an admitted request, however its response ends: sent in full, aborted by the client
// mid-stream, failed in the handler, or a connection dropped before the decision came.

function frameworkOf<T>(adapter: string, framework: string): T {
  return createRequire(new URL(`../../packages/${adapter}/package.json`, import.meta.url))(framework) as T
}

/** What the app's `settle` saw, and a way to wait for its n-th call. */
class Calls {
  readonly urls: string[] = []
  readonly #waiters: { n: number; resolve: () => void }[] = []
  record(url: string): void {
    this.urls.push(url)
    for (const w of this.#waiters.filter((x) => x.n <= this.urls.length)) w.resolve()
  }
  until(n: number): Promise<void> {
    return this.urls.length >= n ? Promise.resolve() : new Promise((resolve) => this.#waiters.push({ n, resolve }))
  }
  of(url: string): number {
    return this.urls.filter((u) => u === url).length
  }
}

/** Shared by both apps: a gate the `cost` function of /late waits on, and the stream's progress. */
interface Scene {
  readonly calls: Calls
  /** Resolves /late's cost once the client has gone. */
  openGate: () => void
  readonly gate: Promise<void>
  /** Told when /late's check has started (its cost is being computed). */
  readonly lateStarted: Promise<void>
  markLateStarted: () => void
  /** Told when /stream has written its first chunk. */
  readonly firstChunk: Promise<void>
  markFirstChunk: () => void
}

function scene(): Scene {
  let openGate!: () => void
  let markLateStarted!: () => void
  let markFirstChunk!: () => void
  const gate = new Promise<void>((r) => (openGate = r))
  const lateStarted = new Promise<void>((r) => (markLateStarted = r))
  const firstChunk = new Promise<void>((r) => (markFirstChunk = r))
  return { calls: new Calls(), openGate, gate, lateStarted, markLateStarted, firstChunk, markFirstChunk }
}

interface App {
  readonly url: string
  close(): Promise<void>
}

const CHUNK = 'x'.repeat(1024)

function options(s: Scene) {
  return {
    capacity: 100,
    refillPerSecond: 0.001,
    logger: recordingLogger(),
    cost: (request: { url?: string }) => {
      if (request.url !== '/late') return 5
      s.markLateStarted()
      return s.gate.then(() => 5)
    },
    settle: (request: { url?: string }) => {
      s.calls.record(request.url ?? '')
      return 1
    },
  }
}

async function fastifyApp(s: Scene): Promise<App> {
  const fastify = frameworkOf<typeof createFastifyApp>('fastify', 'fastify')
  const app = fastify()
  await app.register(fastifyRateLimit, options(s))
  app.get('/full', async () => ({ ok: true }))
  app.get('/throws', async () => {
    throw new Error('handler failed')
  })
  app.get('/late', async () => ({ ok: true }))
  app.get('/stream', (_request, reply) => {
    const raw = reply.raw
    reply.hijack()
    raw.writeHead(200, { 'content-type': 'text/plain' })
    raw.write(CHUNK, () => s.markFirstChunk())
    // Never ends by itself: the client aborts.
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() }
}

async function expressApp(s: Scene): Promise<App> {
  const express = frameworkOf<typeof createExpressApp>('express', 'express')
  const app = express()
  app.use(expressRateLimit(options(s)))
  app.get('/full', (_req, res) => {
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
    res.write(CHUNK, () => s.markFirstChunk())
  })
  app.use((_error: unknown, _req: unknown, res: { status(n: number): { json(body: unknown): void } }, _next: unknown) => {
    res.status(500).json({ failed: true })
  })
  const server: Server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
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

const running: App[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

describe.each([
  ['fastify', fastifyApp],
  ['express', expressApp],
] as const)('%s adapter: settle once, however the response ends', (_name, start) => {
  it('a response sent in full', async () => {
    const s = scene()
    const app = await start(s)
    expect((await get(`${app.url}/full`)).status).toBe(200)
    await s.calls.until(1)
    await app.close()
    expect(s.calls.urls).toEqual(['/full'])
  })

  it('a streamed response the client aborts mid-way', async () => {
    const s = scene()
    const app = await start(s)
    await abortedGet(app.url, '/stream', s.firstChunk)
    await s.calls.until(1)
    await app.close()
    expect(s.calls.urls).toEqual(['/stream'])
  })

  it('a handler that throws', async () => {
    const s = scene()
    const app = await start(s)
    expect((await get(`${app.url}/throws`)).status).toBe(500)
    await s.calls.until(1)
    await app.close()
    expect(s.calls.urls).toEqual(['/throws'])
  })

  it('a connection dropped before the decision came (and so before the handler ran)', async () => {
    const s = scene()
    const app = await start(s)
    await abortedGet(app.url, '/late', s.lateStarted)
    // The client has gone; now the check completes and admits.
    s.openGate()
    await s.calls.until(1)
    await app.close()
    expect(s.calls.urls).toEqual(['/late'])
  })

  it('many requests, each settled once', async () => {
    const s = scene()
    const app = await start(s)
    await Promise.all(Array.from({ length: 20 }, () => get(`${app.url}/full`)))
    await s.calls.until(20)
    await app.close()
    expect(s.calls.of('/full')).toBe(20)
  })
})
