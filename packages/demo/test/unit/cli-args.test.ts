import { UsageError } from '@sluice/harness'
import { describe, expect, it } from 'vitest'
import { DEMO_DEFAULTS, parseDemoArgs } from '../../src/cli-args.js'
import { CONFIG_DEFAULTS } from '../../src/config.js'

describe('parseDemoArgs', () => {
  it('defaults to the gateway on 8080 and the replica defaults', () => {
    expect(parseDemoArgs([])).toEqual({
      port: DEMO_DEFAULTS.port,
      keep: false,
      compareLocal: false,
      json: false,
      durationSeconds: DEMO_DEFAULTS.durationSeconds,
      capacity: CONFIG_DEFAULTS.capacity,
      refillPerSecond: CONFIG_DEFAULTS.refillPerSecond,
      keyMode: 'ip',
      framework: 'fastify',
      redisCluster: false,
      help: false,
    })
  })

  it('reads the framework mix and the Redis Cluster switch', () => {
    expect(parseDemoArgs(['--framework', 'mixed', '--redis-cluster'])).toMatchObject({ framework: 'mixed', redisCluster: true })
    expect(() => parseDemoArgs(['--framework', 'koa'])).toThrow(/--framework: expected one of fastify, express, mixed/)
  })

  it('reads what pnpm appends', () => {
    expect(
      parseDemoArgs(['--keep', '--port', '9090', '--compare-local', '--json', '--key-mode', 'api-key', '--duration', '2.5']),
    ).toMatchObject({
      keep: true,
      port: 9090,
      compareLocal: true,
      json: true,
      keyMode: 'api-key',
      durationSeconds: 2.5,
    })
  })

  it('rejects what it does not know', () => {
    expect(() => parseDemoArgs(['--port', '0'])).toThrow(UsageError)
    expect(() => parseDemoArgs(['--port', 'http'])).toThrow(/--port/)
    expect(() => parseDemoArgs(['--key-mode', 'jwt'])).toThrow(/--key-mode/)
    expect(() => parseDemoArgs(['--replicas', '5'])).toThrow(UsageError)
  })
})
