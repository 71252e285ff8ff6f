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
})
