import { describe, expect, it } from 'vitest'
import { get } from '../../../../test/support/http.js'
import { CONFIG_DEFAULTS } from '../../src/config.js'
import { startReplica } from '../../src/replica-process.js'

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
  timeoutMs: undefined,
  host: '127.0.0.1',
  logLevel: CONFIG_DEFAULTS.logLevel,
}

describe('a replica as a child process', () => {
  it('answers /health once started, and shuts down by itself on SIGTERM, not through the SIGKILL fallback', async () => {
    const replica = await startReplica(base)
    const health = await get(`http://127.0.0.1:${replica.port}/health`)
    expect(health.status).toBe(200)
    expect(health.headers.get('x-instance-id')).toBe('replica-9')
    expect(await replica.stop()).toEqual({ code: 0, signal: null })
    await expect(get(`http://127.0.0.1:${replica.port}/health`)).rejects.toThrow(/ECONNREFUSED/)
  })

  it("fails with the replica's own words when its settings are wrong", async () => {
    await expect(startReplica({ ...base, capacity: 0 })).rejects.toThrow(
      /replica-9 exited \(1\) before it was ready:\ninvalid replica configuration:\n {2}- RATE_CAPACITY="0"/,
    )
  })
})
