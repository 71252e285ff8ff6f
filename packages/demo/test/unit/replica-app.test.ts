import { INFLIGHT_CONCURRENCY, INFLIGHT_HOLD_MS, INFLIGHT_LOG_PATH, INFLIGHT_PATH, type InflightEntry } from '@sluice/loadtest/policy'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { processWarnings } from '../../../../test/support/process-warnings.js'
import { loadConfig } from '../../src/config.js'
import { buildFastifyApp } from '../../src/fastify-replica.js'

const apps: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()))
})

/** The replica on in-memory buckets (no REDIS_URL), behind a gateway at 10.0.0.2. */
async function replica(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await buildFastifyApp(
    loadConfig({
      INSTANCE_ID: 'replica-7',
      RATE_CAPACITY: '2',
      RATE_REFILL_PER_SECOND: '0.001',
      TRUSTED_PROXY: '10.0.0.2',
      LOG_LEVEL: 'silent',
      ...env,
    }),
    undefined,
  )
  apps.push(app)
  return app
}

const viaGateway = (app: FastifyInstance, client: string, headers: Record<string, string> = {}) =>
  app.inject({ url: '/', remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': client, ...headers } })

describe('the Fastify replica', () => {
  it('limits GET / and stamps X-Instance-Id on every answer, 429s and 404s included', async () => {
    const app = await replica()
    const codes = []
    for (let i = 0; i < 3; i++) {
      const r = await viaGateway(app, '198.51.100.1')
      codes.push(r.statusCode)
      expect(r.headers['x-instance-id']).toBe('replica-7')
      expect(r.headers['x-ratelimit-limit']).toBe('2')
    }
    expect(codes).toEqual([200, 200, 429])
    expect((await viaGateway(app, '198.51.100.1')).json()).toMatchObject({ status: 429 })
    expect((await app.inject({ url: '/nope' })).headers['x-instance-id']).toBe('replica-7')
  })

  it('never limits /health', async () => {
    const app = await replica({ RATE_CAPACITY: '1' })
    for (let i = 0; i < 3; i++) {
      const r = await app.inject({ url: '/health', remoteAddress: '10.0.0.2' })
      expect(r.statusCode).toBe(200)
      expect(r.json()).toEqual({ status: 'ok', instance: 'replica-7' })
      expect(r.headers['x-ratelimit-limit']).toBeUndefined()
    }
  })

  it('believes X-Forwarded-For from the gateway only', async () => {
    // The forged header from a peer that is not the gateway is said out loud, once.
    const warnings = processWarnings()
    const app = await replica({ RATE_CAPACITY: '1' })
    expect((await viaGateway(app, '198.51.100.1')).statusCode).toBe(200)
    expect((await viaGateway(app, '198.51.100.2')).statusCode).toBe(200)
    // Straight to the replica, a forged header changes nothing: the socket address is the client.
    const direct = (forged: string) => app.inject({ url: '/', remoteAddress: '192.0.2.9', headers: { 'x-forwarded-for': forged } })
    expect((await direct('203.0.113.1')).statusCode).toBe(200)
    expect((await direct('203.0.113.2')).statusCode).toBe(429)
    await new Promise((resolve) => setImmediate(resolve)) // process warnings arrive on a later tick
    expect(warnings.codes).toEqual(['SLUICE_UNTRUSTED_FORWARDED_FOR'])
  })

  it('keys by the x-api-key header in api-key mode', async () => {
    const app = await replica({ RATE_CAPACITY: '1', KEY_MODE: 'api-key' })
    expect((await viaGateway(app, '198.51.100.1', { 'x-api-key': 'alice' })).statusCode).toBe(200)
    expect((await viaGateway(app, '198.51.100.2', { 'x-api-key': 'alice' })).statusCode).toBe(429)
    expect((await viaGateway(app, '198.51.100.1', { 'x-api-key': 'bob' })).statusCode).toBe(200)
  })

  it('holds GET /slow to its in-flight limit and logs each admitted request’s interval, never limiting the log', async () => {
    const app = await replica()
    const slow = () => app.inject({ url: INFLIGHT_PATH, remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': '198.51.100.1' } })
    // Three more than the limit at once, each held ≥ 20 ms: the memory store refuses some with a
    // concurrency 429 (a machine slow enough to finish a hold first only admits more, each logged).
    const answers = await Promise.all(Array.from({ length: INFLIGHT_CONCURRENCY + 3 }, slow))
    const admitted = answers.filter((r) => r.statusCode === 200).length
    const refused = answers.filter((r) => r.statusCode === 429)
    expect(admitted + refused.length).toBe(answers.length)
    expect(admitted).toBeGreaterThanOrEqual(INFLIGHT_CONCURRENCY)
    expect(refused.length).toBeGreaterThan(0)
    for (const r of refused) expect(r.headers['ratelimit-policy']).toBe(`"in-flight";q=${INFLIGHT_CONCURRENCY};qu="concurrent-requests"`)
    const log = async (key: string) =>
      (await app.inject({ url: `${INFLIGHT_LOG_PATH}?key=${key}`, remoteAddress: '10.0.0.2' })).json() as InflightEntry[]
    const entries = await log('198.51.100.1')
    expect(entries).toHaveLength(admitted)
    for (const e of entries) {
      expect(e).toMatchObject({ key: '198.51.100.1', replica: 'replica-7', degraded: false })
      expect(e.releasedMs - e.acquiredMs).toBeGreaterThanOrEqual(INFLIGHT_HOLD_MS.min - 1)
    }
    expect(await log('198.51.100.2')).toEqual([])
  })
})
