import { once } from 'node:events'
import {
  type ClientHttp2Session,
  connect,
  constants,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import rateLimit from '../../src/index.js'

// Fastify with `http2: true` hands the adapter an Http2ServerResponse, which has no `closed`:
// a stream the client reset before the decision came must still end the request's end steps
// (here an in-flight lease's release) at once, as an HTTP/1 response that closed early does.
// Otherwise the slot would be held, and renewed, for as long as the process lives.

interface Gate {
  readonly opened: Promise<void>
  open(): void
}

function gate(): Gate {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { opened, open }
}

type Http2App = FastifyInstance<Http2Server, Http2ServerRequest, Http2ServerResponse>

let app: Http2App | undefined
let session: ClientHttp2Session | undefined

afterEach(async () => {
  session?.destroy()
  session = undefined
  await app?.close()
  app = undefined
})

async function http2App(reached: Gate): Promise<{ app: Http2App; url: string }> {
  const server = Fastify({ http2: true })
  await server.register(rateLimit, {
    name: 'exports',
    concurrency: 1,
    leaseMs: 60_000,
    logger: recordingLogger(),
    // For /late the decision waits until the server has seen the client's stream close.
    cost: async (request: FastifyRequest) => {
      if (request.url !== '/late') return 1
      const stream = (request.raw as unknown as { stream: { closed: boolean } & NodeJS.EventEmitter }).stream
      reached.open()
      if (!stream.closed) await once(stream, 'close')
      return 1
    },
  })
  server.get('/late', async () => 'late')
  server.get('/', async () => 'ok')
  await server.listen({ port: 0, host: '127.0.0.1' })
  return { app: server, url: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}` }
}

function get(s: ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = s.request({ ':path': path })
    req.on('response', (headers) => {
      req.resume()
      req.on('end', () => resolve(Number(headers[':status'])))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('@sluice/fastify on HTTP/2', () => {
  it('frees an in-flight slot when the response ends, and the next request gets it', async () => {
    const started = await http2App(gate())
    app = started.app
    session = connect(started.url)
    expect(await get(session, '/')).toBe(200)
    await expect.poll(() => app!.sluice.stats().leasesReleased).toBe(1)
    expect(await get(session, '/')).toBe(200)
    await expect.poll(() => app!.sluice.stats().leasesOpen).toBe(0)
  })

  it('frees the slot of a stream the client reset before the decision came, once', async () => {
    const reached = gate()
    const started = await http2App(reached)
    app = started.app
    session = connect(started.url)
    const late = session.request({ ':path': '/late' })
    late.on('error', () => {})
    late.end()
    await reached.opened
    // The client gives up while the decision is pending; the decision comes once the server saw it.
    late.close(constants.NGHTTP2_CANCEL)
    // Admitted after the stream was gone: the slot is taken and must be given back at once.
    await expect.poll(() => app!.sluice.stats().leasesReleased, { timeout: 5_000 }).toBe(1)
    expect(app.sluice.stats().leasesOpen).toBe(0)
    expect(await get(session, '/')).toBe(200)
    await expect.poll(() => app!.sluice.stats().leasesReleased).toBe(2)
  })
})
