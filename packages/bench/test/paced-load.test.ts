import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { afterEach, expect, it } from 'vitest'
import { runPacedLoad } from '../src/paced-load.js'
import { KEY_HEADER } from '../src/targets/catalog.js'

const servers: Array<ReturnType<typeof createServer>> = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
  }
})

/** A server that notes when each request arrived and which key it claimed. */
async function recorder(): Promise<{ url: string; arrivals: number[]; keys: string[] }> {
  const arrivals: number[] = []
  const keys: string[] = []
  const server = createServer((request, response) => {
    arrivals.push(performance.now())
    keys.push(String(request.headers[KEY_HEADER]))
    response.statusCode = keys.length % 2 === 0 ? 429 : 200
    response.end('ok')
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, arrivals, keys }
}

it('spreads the requests over the run instead of sending a second’s worth at once', { timeout: 20_000 }, async () => {
  const target = await recorder()
  const result = await runPacedLoad({ url: target.url, rate: 1_000, seconds: 1, connections: 50, keys: { kind: 'rotating', count: 7 } })

  expect(result.offered).toBe(1_000)
  expect(result.sent).toBeLessThanOrEqual(1_000)
  // A request is sent only once it is due: a target that keeps up gets them all, on time.
  expect(result.sent).toBeGreaterThan(500)
  expect(result.responses).toBe(result.sent)
  expect(target.arrivals).toHaveLength(result.sent)
  expect(result.errors).toBe(0)
  expect(result.statuses['200']! + result.statuses['429']!).toBe(result.responses)
  expect(result.ok).toBe(result.statuses['200'])
  // Request i claims key i mod 7 (connections may deliver them out of order).
  const perKey = new Map<string, number>()
  for (const key of target.keys) perKey.set(key, (perKey.get(key) ?? 0) + 1)
  expect([...perKey.keys()].sort()).toEqual([...Array(7).keys()].map((i) => `client-${i}`))
  for (const count of perKey.values()) expect(Math.abs(count - result.sent / 7)).toBeLessThan(1)
  // Paced: no tenth of the second holds more than a few tenths of the requests, where
  // autocannon's `overallRate` sends the whole second's share within its first milliseconds.
  const start = target.arrivals[0]!
  const perTenth = Array<number>(11).fill(0)
  for (const at of target.arrivals) perTenth[Math.min(10, Math.floor((at - start) / 100))]!++
  expect(Math.max(...perTenth)).toBeLessThan(0.4 * result.sent)
  expect(result.p50Ms).toBeGreaterThan(0)
  expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms)
  // The mean of the same latencies: above nothing, below the worst (at most the run's length).
  expect(result.meanMs).toBeGreaterThan(0)
  expect(result.meanMs).toBeLessThanOrEqual(result.seconds * 1000)
})

it('stops at the end of its schedule when the target cannot keep up, and says so', { timeout: 20_000 }, async () => {
  // One connection to a server that answers 20 ms late: at most about 50 a second.
  const slow = createServer((_request, response) => {
    setTimeout(() => response.end('ok'), 20)
  })
  servers.push(slow)
  slow.listen(0, '127.0.0.1')
  await once(slow, 'listening')
  const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`
  const result = await runPacedLoad({ url, rate: 1_000, seconds: 1, connections: 1, keys: { kind: 'one', key: 'k' } })

  expect(result.offered).toBe(1_000)
  expect(result.sent).toBeLessThan(100)
  expect(result.responses).toBe(result.sent)
  // Latency counts from when each request was due, so the backlog shows.
  expect(result.p99Ms).toBeGreaterThan(500)
  // The mean counts the backlog too: request i of a 20 ms server on one connection is due at
  // i ms and answered at about 20 × (i + 1) ms, so the mean is hundreds of ms, not the 20 of a request.
  expect(result.meanMs).toBeGreaterThan(200)
  expect(result.meanMs).toBeLessThanOrEqual(result.seconds * 1000)
})
