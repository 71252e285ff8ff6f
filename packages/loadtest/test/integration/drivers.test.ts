import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { freshClients } from '../../src/clients.js'
import { driveAutocannon } from '../../src/drivers/autocannon.js'
import { driveHttp } from '../../src/drivers/http.js'
import { untilBucketFull } from '../../src/full-bucket.js'
import { Recorder } from '../../src/sample.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
const servers: Server[] = []
// A run the request cap must end: a driver that ignored the cap would run all of it.
const CAPPED_RUN_SECONDS = 20

/** A stand-in gateway on a free loopback port. */
async function serve(handler: Handler): Promise<URL> {
  const server = createServer(handler)
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r).closeAllConnections())))
})

describe('driveHttp', () => {
  it('sends each client from its own loopback address, and records who answered', async () => {
    const seen = new Map<string, number>()
    const url = await serve((req, res) => {
      const from = req.socket.remoteAddress!
      seen.set(from, (seen.get(from) ?? 0) + 1)
      res.setHeader('x-instance-id', `seen-${from}`)
      res.end('ok')
    })
    const clients = freshClients(3, 'ip')
    const recorder = new Recorder(10_000)
    await driveHttp({ url, clients, connectionsPerClient: 2, durationSeconds: 0.5, recorder })

    expect([...seen.keys()].sort()).toEqual(clients.map((c) => c.localAddress).sort())
    // Every client was heard from and every answer recorded; how many a busy machine sends in
    // half a second is not the point.
    expect(new Set(recorder.samples.map((s) => s.client))).toEqual(new Set([0, 1, 2]))
    expect(recorder.samples.length).toBeLessThanOrEqual([...seen.values()].reduce((a, b) => a + b, 0))
    for (const s of recorder.samples) {
      expect(s.status).toBe(200)
      expect(s.instance).toBe(`seen-${clients[s.client]!.localAddress}`)
      expect(s.receivedMs).toBeGreaterThanOrEqual(s.sentMs)
    }
  })

  it('stops at the request cap long before the duration', async () => {
    const url = await serve((_req, res) => res.end('ok'))
    const recorder = new Recorder(50)
    const started = performance.now()
    await driveHttp({ url, clients: freshClients(2, 'ip'), connectionsPerClient: 2, durationSeconds: CAPPED_RUN_SECONDS, recorder })
    expect(recorder.samples).toHaveLength(50)
    expect(performance.now() - started).toBeLessThan((CAPPED_RUN_SECONDS * 1000) / 2)
  })
})

describe('driveAutocannon', () => {
  it("gives every connection its client's API key and ties each response to that client", async () => {
    const url = await serve((req, res) => {
      res.setHeader('x-instance-id', `key-${req.headers['x-api-key']}`)
      res.setHeader('x-ratelimit-limit', '7')
      res.statusCode = 429
      res.end()
    })
    const clients = freshClients(3, 'api-key')
    const recorder = new Recorder(100_000)
    await driveAutocannon({ url: url.href, clients, connectionsPerClient: 2, durationSeconds: 1, recorder })

    expect(recorder.limited).toBe(recorder.samples.length)
    expect(new Set(recorder.samples.map((s) => s.client))).toEqual(new Set([0, 1, 2]))
    for (const s of recorder.samples) {
      expect(s.instance).toBe(`key-${clients[s.client]!.apiKey}`)
      expect(s.limit).toBe(7)
    }
  })

  it("paces a steady client: the exact count, a second's worth at a time", async () => {
    const url = await serve((_req, res) => res.end('ok'))
    const recorder = new Recorder(1_000)
    await driveAutocannon({
      url: url.href,
      clients: freshClients(1, 'api-key'),
      connectionsPerClient: 1,
      durationSeconds: 2,
      overallRate: 20,
      amount: 40,
      recorder,
    })
    expect(recorder.samples).toHaveLength(40)
    // Twenty at once, then twenty more on the next second's tick: the longest pause between two
    // sends splits them in half, and the second half waited for the tick (a slower machine only
    // sends it later).
    const sent = recorder.samples.map((s) => s.sentMs).sort((a, b) => a - b)
    const gaps = sent.slice(1).map((at, i) => at - sent[i]!)
    expect(gaps.indexOf(Math.max(...gaps))).toBe(19)
    expect(sent[20]).toBeGreaterThanOrEqual(990)
  })

  it('stops at the request cap', async () => {
    const url = await serve((_req, res) => res.end('ok'))
    const recorder = new Recorder(40)
    const started = performance.now()
    const clients = freshClients(1, 'api-key')
    await driveAutocannon({ url: url.href, clients, connectionsPerClient: 2, durationSeconds: CAPPED_RUN_SECONDS, recorder })
    expect(recorder.samples).toHaveLength(40)
    expect(performance.now() - started).toBeLessThan((CAPPED_RUN_SECONDS * 1000) / 2)
  })
})

describe('untilBucketFull', () => {
  it('waits the announced reset when the bucket is not full, and keeps only the probe that found it full', async () => {
    let calls = 0
    const url = await serve((_req, res) => {
      calls++
      res.setHeader('x-ratelimit-remaining', calls === 1 ? '3' : '9')
      res.setHeader('x-ratelimit-reset', '1')
      res.setHeader('x-instance-id', `call-${calls}`)
      res.end('ok')
    })
    const recorder = new Recorder(10)
    const started = performance.now()
    await untilBucketFull(url, 10, recorder, 0)
    expect(performance.now() - started).toBeGreaterThanOrEqual(990)
    expect(calls).toBe(2)
    expect(recorder.samples.map((s) => s.instance)).toEqual(['call-2'])
  })

  it('refuses a target that is not rate limited', async () => {
    const url = await serve((_req, res) => res.end('ok'))
    await expect(untilBucketFull(url, 10, new Recorder(10), 0)).rejects.toThrow(/no X-RateLimit-Remaining/)
  })
})
