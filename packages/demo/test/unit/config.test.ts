import { describe, expect, it } from 'vitest'
import { CONFIG_DEFAULTS, CONFIG_ENV, ConfigError, configEnv, loadConfig } from '../../src/config.js'

const problems = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('falls back to in-memory buckets and the defaults', () => {
    const config = loadConfig({ INSTANCE_ID: 'r1' })
    expect(config).toEqual({
      redisUrl: undefined,
      redisCluster: false,
      framework: 'fastify',
      capacity: CONFIG_DEFAULTS.capacity,
      refillPerSecond: CONFIG_DEFAULTS.refillPerSecond,
      keyMode: 'ip',
      prefix: 'sluice:',
      instanceId: 'r1',
      trustedProxy: [],
      replicas: 1,
      port: 3000,
      host: '127.0.0.1',
      logLevel: 'info',
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('reads the framework and the Redis Cluster switch', () => {
    expect(loadConfig({ DEMO_FRAMEWORK: 'express', REDIS_URL: 'redis://a:7000', REDIS_CLUSTER: 'true' })).toMatchObject({
      framework: 'express',
      redisCluster: true,
    })
    expect(() => loadConfig({ DEMO_FRAMEWORK: 'koa' })).toThrow(/DEMO_FRAMEWORK="koa": expected one of fastify, express/)
    expect(() => loadConfig({ REDIS_CLUSTER: 'yes' })).toThrow(/REDIS_CLUSTER="yes"/)
  })

  it('reads every variable', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://redis:6379',
      RATE_CAPACITY: '20',
      RATE_REFILL_PER_SECOND: '0.5',
      RATE_PREFIX: 'demo:',
      KEY_MODE: 'api-key',
      INSTANCE_ID: 'replica-2',
      TRUSTED_PROXY: '172.28.0.10, 10.0.0.0/8',
      REPLICAS: '3',
      RATE_TIMEOUT_MS: '2000',
      PORT: '0',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'warn',
    })
    expect(config).toMatchObject({
      redisUrl: 'redis://redis:6379',
      capacity: 20,
      refillPerSecond: 0.5,
      keyMode: 'api-key',
      trustedProxy: ['172.28.0.10', '10.0.0.0/8'],
      replicas: 3,
      timeoutMs: 2000,
      port: 0,
      host: '0.0.0.0',
    })
  })

  it('treats empty variables as unset', () => {
    expect(loadConfig({ REDIS_URL: '', RATE_CAPACITY: ' ' }).redisUrl).toBeUndefined()
  })

  it('names every bad variable at once', () => {
    expect(problems({ RATE_CAPACITY: '1.5', RATE_REFILL_PER_SECOND: '0', KEY_MODE: 'cookie', PORT: '70000' })).toEqual([
      'RATE_CAPACITY="1.5": expected a whole number from 1 to 2147483648',
      'RATE_REFILL_PER_SECOND="0": expected a number of tokens per second above 0',
      'KEY_MODE="cookie": expected one of ip, api-key',
      'PORT="70000": expected a port number from 0 to 65535',
    ])
    expect(problems({ RATE_TIMEOUT_MS: '0.5' })).toEqual(['RATE_TIMEOUT_MS="0.5": expected a whole number of milliseconds from 1 to 60000'])
    expect(() => loadConfig({ RATE_CAPACITY: 'ten' })).toThrow(/^invalid replica configuration:\n {2}- RATE_CAPACITY="ten"/)
  })

  it('rejects numbers JavaScript would accept but nobody meant', () => {
    for (const value of ['0x10', '1e3', '-5', 'Infinity']) {
      expect(problems({ RATE_CAPACITY: value })).toHaveLength(1)
    }
  })

  it('accepts only a Redis URL', () => {
    expect(problems({ REDIS_URL: 'http://redis:6379' })).toEqual(['REDIS_URL="http://redis:6379": expected a redis:// or rediss:// URL'])
    expect(problems({ REDIS_URL: 'redis' })).toHaveLength(1)
    expect(loadConfig({ REDIS_URL: 'rediss://user:pw@host:6380/0' }).redisUrl).toBe('rediss://user:pw@host:6380/0')
  })

  it('trusts addresses and ranges, never every address', () => {
    expect(problems({ TRUSTED_PROXY: 'gateway' })).toHaveLength(1)
    expect(problems({ TRUSTED_PROXY: '10.0.0.1/33' })).toHaveLength(1)
    expect(problems({ TRUSTED_PROXY: '127.0.0.1,0.0.0.0/0' })[0]).toMatch(/not a range covering every address/)
    expect(problems({ TRUSTED_PROXY: '::/0' })).toHaveLength(1)
    // Read as the frameworks read it: /00 is /0.
    expect(problems({ TRUSTED_PROXY: '0.0.0.0/00' })[0]).toMatch(/not a range covering every address/)
    expect(loadConfig({ TRUSTED_PROXY: '::1,fd00::/8' }).trustedProxy).toEqual(['::1', 'fd00::/8'])
  })

  it('round-trips through configEnv, which names only variables it reads', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:1',
      KEY_MODE: 'api-key',
      TRUSTED_PROXY: '127.0.0.1',
      INSTANCE_ID: 'x',
      PORT: '1234',
    })
    const env = configEnv(config)
    expect(Object.keys(env).sort()).toEqual(Object.keys(CONFIG_ENV).sort())
    expect(loadConfig(env)).toEqual(config)
  })
})
