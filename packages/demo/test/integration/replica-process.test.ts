import { describe, expect, it } from 'vitest'
import { CONFIG_DEFAULTS } from '../../src/config.js'
import { startReplica } from '../../src/replica-process.js'
import { get } from './http.js'

const base = {
  redisUrl: undefined,
  redisCluster: false,
  framework: 'fastify' as const,
  capacity: 5,
  refillPerSecond: 1,
  keyMode: 'ip' as const,
  prefix: 'test:',
  instanceId: 'replica-9',
  trustedProxy: ['127.0.0.1'],
  replicas: 1,
  host: '127.0.0.1',
  logLevel: CONFIG_DEFAULTS.logLevel,
}

describe('a replica as a child process', () => {
  it('answers /health once started, and shuts down on SIGTERM well before the SIGKILL fallback', async () => {
    const replica = await startReplica(base)
    const health = await get(`http://127.0.0.1:${replica.port}/health`)
    expect(health.status).toBe(200)
    expect(health.headers['x-instance-id']).toBe('replica-9')
    const started = performance.now()
    await replica.stop()
    expect(performance.now() - started).toBeLessThan(3_000)
    await expect(get(`http://127.0.0.1:${replica.port}/health`)).rejects.toThrow(/ECONNREFUSED/)
  })

  it("fails with the replica's own words when its settings are wrong", async () => {
    await expect(startReplica({ ...base, capacity: 0 })).rejects.toThrow(
      /replica-9 exited \(1\) before answering \/health:\ninvalid replica configuration:\n {2}- RATE_CAPACITY="0"/,
    )
  })
})
