import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type NginxServer, startNginx } from '@sluice/harness'
import { afterEach, describe, expect, it } from 'vitest'
import { get } from '../../../../test/support/http.js'

/** Stand-in replicas that echo what the gateway sent them and answer like a limited route. */
interface Upstream {
  readonly id: string
  readonly port: number
  readonly seen: { xff: string | string[] | undefined; forwarded: string | undefined }[]
  connections: number
}

/** What each stand-in replica answers with, and what must come through the gateway unchanged. */
const LIMIT_HEADERS = {
  'x-ratelimit-limit': '5',
  'x-ratelimit-remaining': '0',
  'x-ratelimit-reset': '3',
  'retry-after': '1',
  ratelimit: '"default";r=0;t=1',
  'ratelimit-policy': '"default";q=5;w=3',
}

const servers: Server[] = []
const gateways: NginxServer[] = []
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop()))
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r).closeAllConnections())))
})

async function upstream(id: string): Promise<Upstream> {
  const u: Upstream = { id, port: 0, seen: [], connections: 0 }
  const server = createServer((req, res) => {
    u.seen.push({ xff: req.headers['x-forwarded-for'], forwarded: req.headers.forwarded })
    res.writeHead(429, { 'x-instance-id': id, ...LIMIT_HEADERS })
    res.end()
  })
  server.on('connection', () => u.connections++)
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return Object.assign(u, { port: (server.address() as AddressInfo).port })
}

async function gateway(upstreams: readonly Upstream[], port?: number): Promise<NginxServer> {
  const g = await startNginx({ upstreams: upstreams.map((u) => ({ host: '127.0.0.1', port: u.port })), port })
  gateways.push(g)
  return g
}

describe('startNginx', () => {
  it('sends one client round robin to every replica, over kept-alive upstream connections', async () => {
    const replicas = await Promise.all(['a', 'b', 'c'].map(upstream))
    const g = await gateway(replicas)
    const order: string[] = []
    for (let i = 0; i < 30; i++) order.push((await get(g.url)).headers.get('x-instance-id') as string)
    expect(order.slice(0, 6).sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c'])
    for (const r of replicas) expect(order.filter((id) => id === r.id)).toHaveLength(10)
    // A new client connection for each request, yet nginx reuses its connections to the replicas.
    for (const r of replicas) expect(r.connections).toBeLessThan(5)
  })

  it('overwrites X-Forwarded-For with the client address and drops Forwarded', async () => {
    const [replica] = await Promise.all([upstream('a')])
    const g = await gateway([replica!])
    await get(g.url, { 'x-forwarded-for': '203.0.113.9', forwarded: 'for=203.0.113.9' }, { localAddress: '127.0.0.42' })
    expect(replica!.seen).toEqual([{ xff: '127.0.0.42', forwarded: undefined }])
  })

  it('passes the status, X-Instance-Id and every rate-limit header through', async () => {
    const g = await gateway([await upstream('a')])
    const r = await get(g.url)
    expect(r.status).toBe(429)
    expect(Object.fromEntries(r.headers)).toMatchObject({ 'x-instance-id': 'a', ...LIMIT_HEADERS })
  })

  it('listens on the port it is given, fails clearly when that port is taken, and lets go of it on stop', async () => {
    const replica = await upstream('a')
    const first = await gateway([replica])
    await expect(startNginx({ upstreams: [{ host: '127.0.0.1', port: replica.port }], port: first.port })).rejects.toThrow(
      /Address already in use/,
    )
    await first.stop()
    await expect(get(first.url)).rejects.toThrow(/ECONNREFUSED/)
    const again = await gateway([replica], first.port)
    expect(again.port).toBe(first.port)
    expect((await get(again.url)).headers.get('x-instance-id')).toBe('a')
  })
})
