import { describe, expect, it } from 'vitest'
import { createLimiter } from '../../src/adapter.js'
import { ErrorCodes, SluiceOptionError } from '../../src/index.js'
import type { LimiterOptions } from '../../src/types.js'

const base = { capacity: 10, refillPerSecond: 1 }

function rejects(options: Record<string, unknown>): SluiceOptionError | Error {
  try {
    createLimiter(options as unknown as LimiterOptions<unknown>)
  } catch (error) {
    return error as Error
  }
  throw new Error(`accepted ${JSON.stringify(options)}`)
}

describe('option validation', () => {
  it.each([
    ['capacity', { ...base, capacity: 0 }],
    ['capacity', { ...base, capacity: 1.5 }],
    ['capacity', { ...base, capacity: '10' }],
    ['capacity', { refillPerSecond: 1 }],
    ['refillPerSecond', { ...base, refillPerSecond: Number.NaN }],
    ['refillPerSecond', { ...base, refillPerSecond: 0 }],
    ['refillPerSecond', { ...base, refillPerSecond: -1 }],
    ['refillPerSecond', { ...base, refillPerSecond: Number.POSITIVE_INFINITY }],
    ['cost', { ...base, cost: -1 }],
    ['cost', { ...base, cost: 0 }],
    ['cost', { ...base, cost: 2.5 }],
    ['cost', { ...base, cost: 11 }],
    ['name', { ...base, name: 'has space' }],
    ['name', { ...base, name: '' }],
    ['key', { ...base, key: 'cookie' }],
    ['key.header', { ...base, key: { header: 'bad header' } }],
    ['key.missing', { ...base, key: { header: 'x-api-key', missing: 'allow' } }],
    ['capacity', { capacity: 1_000_000, refillPerSecond: 0.01 }],
    ['global', { ...base, global: 'no' }],
    ['onDeny', { ...base, onDeny: 'throw' }],
    ['global', { ...base, global: 0 }],
  ])('rejects an invalid %s with ERR_SLUICE_INVALID_OPTION', (option, options) => {
    const error = rejects(options) as SluiceOptionError
    expect(error).toBeInstanceOf(SluiceOptionError)
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION)
    expect(error.option).toBe(option)
    expect(error.message).toContain(`\`${option}\``)
  })

  it.each([
    ['prefix', { ...base, prefix: 'a{b}' }],
    ['ipv6Subnet', { ...base, ipv6Subnet: 0 }],
    ['memoryMaxKeys', { ...base, memoryMaxKeys: -5 }],
    ['redis', { ...base, redis: 'redis://localhost' }],
    ['store', { ...base, store: {} }],
  ])('rejects an invalid %s with a message naming it', (option, options) => {
    const error = rejects(options) as SluiceOptionError
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION)
    expect(error.message).toContain(`\`${option}\``)
  })

  it.each([
    ['policies', { policies: [] }],
    ['policies', { policies: 'burst' }],
    ['policies[0].name', { policies: [{ capacity: 1, refillPerSecond: 1 }] }],
    [
      'policies[1].name',
      {
        policies: [
          { name: 'a', capacity: 1, refillPerSecond: 1 },
          { name: 'a', capacity: 2, refillPerSecond: 1 },
        ],
      },
    ],
    ['policies[0].capacity', { policies: [{ name: 'a', capacity: -1, refillPerSecond: 1 }] }],
    ['policies[0].shadow', { policies: [{ name: 'a', capacity: 1, refillPerSecond: 1, shadow: 'yes' }] }],
    ['capacity', { capacity: 5, policies: [{ name: 'a', capacity: 1, refillPerSecond: 1 }] }],
  ])('rejects invalid policies: %s', (option, options) => {
    const error = rejects(options) as SluiceOptionError
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION)
    expect(error.option).toBe(option)
  })

  it('rejects an unknown field inside a policy', () => {
    const error = rejects({ policies: [{ name: 'a', capacity: 1, refillPerSecond: 1, burst: 2 }] }) as SluiceOptionError
    expect(error.code).toBe(ErrorCodes.UNKNOWN_OPTION)
    expect(error.option).toBe('policies[0].burst')
  })

  it('rejects a static cost above the smallest capacity of several policies', () => {
    const error = rejects({
      cost: 3,
      policies: [
        { name: 'a', capacity: 10, refillPerSecond: 1 },
        { name: 'b', capacity: 2, refillPerSecond: 1 },
      ],
    }) as SluiceOptionError
    expect(error.option).toBe('cost')
  })

  it('rejects unknown option names with ERR_SLUICE_UNKNOWN_OPTION', () => {
    const error = rejects({ ...base, capacty: 5 }) as SluiceOptionError
    expect(error.code).toBe(ErrorCodes.UNKNOWN_OPTION)
    expect(error.option).toBe('capacty')
  })

  it('names the bad value in the message', () => {
    expect(rejects({ ...base, refillPerSecond: Number.NaN }).message).toContain('got NaN')
    expect(rejects({ ...base, cost: -1 }).message).toContain('got -1')
    expect(rejects({ ...base, capacity: 0 }).message).toContain('got 0')
  })

  it('rejects route overrides at registration, with the route path in the option name', () => {
    const limiter = createLimiter(base)
    expect(() => limiter.forRoute({ capacity: -3 }, 'GET', '/x')).toThrow(expect.objectContaining({ option: 'config.rateLimit.capacity' }))
    expect(() => limiter.forRoute({ cost: 20 }, 'GET', '/x')).toThrow(expect.objectContaining({ option: 'config.rateLimit.cost' }))
    expect(() => limiter.forRoute({ burst: 2 } as never, 'GET', '/x')).toThrow(expect.objectContaining({ code: ErrorCodes.UNKNOWN_OPTION }))
  })

  it('resolves defaults into a frozen object', () => {
    const { options } = createLimiter(base)
    expect(Object.isFrozen(options)).toBe(true)
    expect(Object.isFrozen(options.policies[0])).toBe(true)
    expect(options).toMatchObject({ prefix: 'sluice:', key: 'ip', cost: 1, ipv6Subnet: 64 })
    expect(options.policies).toEqual([
      expect.objectContaining({ name: 'default', capacity: 10, refillPerSecond: 1, windowSeconds: 10, shadow: false }),
    ])
    expect(options.store.kind).toBe('memory')
  })
})
