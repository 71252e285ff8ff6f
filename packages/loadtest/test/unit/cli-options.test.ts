import { UsageError } from '@sluice/harness'
import { describe, expect, it } from 'vitest'
import { LOADTEST_DEFAULTS, parseCli } from '../../src/cli-options.js'
import { loopbackTarget } from '../../src/clients.js'
import { SCENARIO_NAMES } from '../../src/scenarios.js'

describe('parseCli', () => {
  it('falls back to the demo replica defaults', () => {
    expect(parseCli([], {})).toEqual({ ...LOADTEST_DEFAULTS, scenarios: SCENARIO_NAMES, replicaUrls: [], json: false, help: false })
  })

  it('reads the environment, and flags win over it', () => {
    const env = {
      TARGET_URL: 'http://127.0.0.1:9000',
      RATE_CAPACITY: '20',
      RATE_REFILL_PER_SECOND: '0.5',
      KEY_MODE: 'api-key',
      LOADTEST_SCENARIOS: 'steady, burst',
      LOADTEST_DURATION_SECONDS: '2',
    }
    expect(parseCli([], env)).toMatchObject({
      url: 'http://127.0.0.1:9000',
      capacity: 20,
      refillPerSecond: 0.5,
      keyMode: 'api-key',
      scenarios: ['steady', 'burst'],
      durationSeconds: 2,
    })
    expect(parseCli(['--capacity', '7', '--scenario', 'many-clients', '--json'], env)).toMatchObject({
      capacity: 7,
      scenarios: ['many-clients'],
      json: true,
      keyMode: 'api-key',
    })
  })

  it('names what is wrong', () => {
    expect(() => parseCli(['--capacity', '1.5'], {})).toThrow(new UsageError('capacity: expected a whole number above 0, got "1.5"'))
    expect(() => parseCli([], { RATE_REFILL_PER_SECOND: '0' })).toThrow(/refill: expected a number above 0/)
    expect(() => parseCli(['--scenario', 'burst,storm'], {})).toThrow(/scenario: expected some of burst, many-clients, steady/)
    expect(() => parseCli(['--key-mode', 'cookie'], {})).toThrow(/key mode/)
    expect(() => parseCli(['--bogus'], {})).toThrow(UsageError)
  })
})

describe('loopbackTarget', () => {
  it('accepts http on 127.0.0.0/8 only', () => {
    expect(loopbackTarget('http://127.0.0.1:8080/').port).toBe('8080')
    expect(loopbackTarget('http://127.3.4.5:1').hostname).toBe('127.3.4.5')
    for (const url of ['http://localhost:8080', 'http://10.0.0.1:80', 'https://127.0.0.1:8443', 'http://128.0.0.1']) {
      expect(() => loopbackTarget(url)).toThrow(/only targets http:\/\/ on 127\.0\.0\.0\/8/)
    }
  })
})
