import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { didYouMean } from '../../src/did-you-mean.js'
import { ErrorCodes } from '../../src/index.js'
import { MIGRATION_URL, PEER_OPTION_NAMES, peerWindowSeconds } from '../../src/peer-options.js'
import { create, refused } from '../support/refused.js'

// Both peers' option names, as their READMEs and types list them (allowList, global, skip, store,
// redis, hook and ipv6Subnet are Sluice's own options too, so they are not here).
const FASTIFY_RATE_LIMIT = [
  'max',
  'timeWindow',
  'cache',
  'whitelist',
  'continueExceeding',
  'skipOnError',
  'ban',
  'onBanReach',
  'keyGenerator',
  'groupId',
  'errorResponseBuilder',
  'enableDraftSpec',
  'onExceeding',
  'onExceeded',
  'nameSpace',
  'addHeaders',
  'addHeadersOnExceeding',
  'exponentialBackoff',
]
const EXPRESS_RATE_LIMIT = [
  'windowMs',
  'limit',
  'max',
  'message',
  'statusCode',
  'handler',
  'legacyHeaders',
  'standardHeaders',
  'identifier',
  'requestPropertyName',
  'skipFailedRequests',
  'skipSuccessfulRequests',
  'requestWasSuccessful',
  'keyGenerator',
  'validate',
  'passOnStoreError',
  'onLimitReached',
  'draft_polli_ratelimit_headers',
]

describe("the peers' option names", () => {
  it.each([...new Set([...FASTIFY_RATE_LIMIT, ...EXPRESS_RATE_LIMIT])])(
    '%s is a coded error that says what to use and points at the migration table',
    (name) => {
      const error = refused(() => create({ capacity: 10, refillPerSecond: 1, [name]: 1 }))
      expect(error.code).toBe(ErrorCodes.UNKNOWN_OPTION)
      expect(error.option).toBe(name)
      expect(error.message).toMatch(/rate-limit's/)
      expect(error.message).toMatch(/: (use `|none: |a limit computed)/)
      expect(error.message).toContain(MIGRATION_URL)
    },
  )

  it('are every one in the migration page, where the errors point', () => {
    const table = readFileSync(new URL('../../../../docs/migration.md', import.meta.url), 'utf8')
    expect(MIGRATION_URL.endsWith('/docs/migration.md')).toBe(true)
    expect(PEER_OPTION_NAMES.filter((name) => !new RegExp(`\`${name}[\`(]`).test(table))).toEqual([])
  })

  it('knows exactly the names the test lists', () => {
    expect([...PEER_OPTION_NAMES].sort()).toEqual([...new Set([...FASTIFY_RATE_LIMIT, ...EXPRESS_RATE_LIMIT])].sort())
  })

  it.each([
    [{ max: 100, timeWindow: '1 minute' }, "use `capacity: 100, refill: '100/min'`"],
    [{ timeWindow: '1 minute', max: 100 }, "use `capacity: 100, refill: '100/min'`"],
    [{ max: 100, timeWindow: 60_000 }, "use `capacity: 100, refill: '100/min'`"],
    [{ max: 5, timeWindow: '15m' }, "use `capacity: 5, refill: '5/15min'`"],
    [{ max: 1000, timeWindow: '1 day' }, "use `capacity: 1000, refill: '1000/day'`"],
    [{ max: 10, timeWindow: '2 hours' }, "use `capacity: 10, refill: '10/2h'`"],
    [{ max: 3, timeWindow: 5000 }, "use `capacity: 3, refill: '3/5s'`"],
    [{ max: 3, timeWindow: 1500 }, 'use `capacity: 3, refillPerSecond: 3 / 1.5`'],
    [{ windowMs: 15 * 60 * 1000, limit: 100 }, "use `capacity: 100, refill: '100/15min'`"],
    [{ windowMs: 60_000, max: 20 }, "use `capacity: 20, refill: '20/min'`"],
    [{ limit: 100 }, "use `capacity: 100, refill: '100/min'`"],
    [{ limit: 100 }, "(the peers' default window is one minute)"],
    [{ windowMs: 3_600_000 }, "use `capacity: <limit>, refill: '<limit>/h'`"],
    [{ max: 100, timeWindow: 'soon' }, "use `capacity: <limit>, refill: '<limit>/<period>'`"],
    [{ max: () => 100 }, '`tiers` and `tier`'],
  ])('computes the policy from %j', (peer, advice) => {
    const error = refused(() => create({ capacity: 10, refillPerSecond: 1, ...peer }))
    expect(error.message).toContain(advice)
  })

  it.each([
    [{ standardHeaders: 'draft-7', legacyHeaders: false }, "headers: 'ietf'"],
    [{ standardHeaders: false, legacyHeaders: true }, "headers: 'legacy'"],
    [{ standardHeaders: true, legacyHeaders: true }, "headers: 'all'"],
    [{ standardHeaders: false, legacyHeaders: false }, "headers: 'none'"],
    [{ enableDraftSpec: true }, "headers: 'ietf'"],
    [{ message: 'Too many requests' }, 'denyBody: () => "Too many requests"'],
    [{ skipOnError: true }, "failureMode: 'allow'"],
    [{ passOnStoreError: false }, "failureMode: 'deny'"],
    [{ nameSpace: 'api-' }, 'prefix: "api-"'],
    [{ cache: 5000 }, 'memoryMaxKeys: 5000'],
    [{ keyGenerator: () => 'k' }, 'use `key`'],
    [{ errorResponseBuilder: () => ({}) }, 'denyBody: (result, request) => body'],
    [{ whitelist: ['127.0.0.1'] }, 'use `allowList`'],
  ])('turns %j into its Sluice option', (peer, advice) => {
    expect(refused(() => create({ capacity: 10, refillPerSecond: 1, ...peer })).message).toContain(advice)
  })

  it('advises the same wherever a policy is written: a route, a policy in a list, a tier, a manual check', async () => {
    const limiter = create({ capacity: 10, refillPerSecond: 1 })
    const route = refused(() => limiter.forRoute({ max: 3, timeWindow: '1 minute' } as never, 'GET', '/x'))
    expect(route.option).toBe('config.rateLimit.max')
    expect(route.message).toContain("use `capacity: 3, refill: '3/min'`")
    const listed = refused(() => create({ policies: [{ name: 'a', max: 3, windowMs: 1000 }] }))
    expect(listed.option).toBe('policies[0].max')
    expect(listed.message).toContain("refill: '3/s'")
    const tier = refused(() => create({ tiers: { free: { max: 3 } }, tier: () => 'free' }))
    expect(tier.option).toBe('tiers.free.max')
    await expect(limiter.controls.check({}, { key: 'k', policy: { name: 'p', max: 1 } as never })).rejects.toMatchObject({
      code: ErrorCodes.UNKNOWN_OPTION,
      option: 'policy.max',
    })
  })

  it('leaves names Sluice has adopted alone: allowList, skip and global are its options', () => {
    expect(() => create({ capacity: 10, refillPerSecond: 1, allowList: ['127.0.0.1'], skip: () => false, global: false })).not.toThrow()
  })

  it('keeps the advice for options where a policy is written: circuitBreaker.max is merely unknown', () => {
    const error = refused(() => create({ capacity: 10, refillPerSecond: 1, circuitBreaker: { max: 3 } }))
    expect(error.option).toBe('circuitBreaker.max')
    expect(error.message).not.toContain('rate-limit')
  })
})

describe('a near miss', () => {
  it.each([
    ['refilPerSecond', 'refillPerSecond'],
    ['refillpersecond', 'refillPerSecond'],
    ['capcity', 'capacity'],
    ['capaicty', 'capacity'],
    ['prefx', 'prefix'],
    ['failuremode', 'failureMode'],
    ['timeoutMS', 'timeoutMs'],
    ['denybody', 'denyBody'],
  ])('%s gets "did you mean `%s`"', (typo, meant) => {
    const error = refused(() => create({ capacity: 10, refillPerSecond: 1, [typo]: 1 }))
    expect(error.code).toBe(ErrorCodes.UNKNOWN_OPTION)
    expect(error.option).toBe(typo)
    expect(error.message).toContain(`did you mean \`${meant}\`?`)
  })

  it('says where, in a nested option', () => {
    const error = refused(() => create({ policies: [{ name: 'a', capacity: 1, refilPerSecond: 1 }] }))
    expect(error.message).toContain('did you mean `policies[0].refillPerSecond`?')
    expect(refused(() => create({ capacity: 10, refillPerSecond: 1, circuitBreaker: { cooldown: 5 } })).message).toContain(
      'did you mean `circuitBreaker.cooldownMs`?',
    )
  })

  it('lists the known names when nothing is close', () => {
    const error = refused(() => create({ capacity: 10, refillPerSecond: 1, banana: 1 }))
    expect(error.message).not.toContain('did you mean')
    expect(error.message).toContain('known: ')
  })

  it('suggests only what is close', () => {
    expect(didYouMean('kye', ['key', 'cost'])).toBe('key')
    expect(didYouMean('xyz', ['key', 'cost'])).toBeUndefined()
    expect(didYouMean('c', ['key', 'cost'])).toBeUndefined()
    expect(didYouMean('refill', ['refillPerSecond'])).toBeUndefined()
  })
})

describe("the peers' windows", () => {
  it.each([
    [60_000, 60],
    ['1 minute', 60],
    ['1m', 60],
    ['15 minutes', 900],
    ['10s', 10],
    ['2 hours', 7200],
    ['1.5h', 5400],
    ['1 day', 86_400],
    ['500', 0.5],
    ['500ms', 0.5],
    ['1 week', 604_800],
  ])('%j is %d s', (window, seconds) => {
    expect(peerWindowSeconds(window)).toBe(seconds)
  })

  it.each([0, -5, Number.NaN, 'soon', '1 fortnight', '', null, {}])('%j is no window', (window) => {
    expect(peerWindowSeconds(window)).toBeUndefined()
  })
})
