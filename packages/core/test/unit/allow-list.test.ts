import { describe, expect, it } from 'vitest'
import { createLimiter } from '../../src/adapter.js'
import { resolveAllowList } from '../../src/allow-list.js'
import { ErrorCodes } from '../../src/index.js'
import { requestView } from '../../src/request-view.js'
import type { LimiterOptions, RequestView } from '../../src/types.js'

const viewOf = (ip: string | undefined): RequestView => ({ ip, header: () => undefined })

describe('allowList', () => {
  const list = resolveAllowList<unknown>(['10.0.0.0/8', '203.0.113.7', '2001:db8::/32', '::ffff:192.0.2.0/120', 'fe80::1'])!

  it.each([
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true],
    ['10.1.2.3:40001', true],
    ['203.0.113.7', true],
    ['203.0.113.8', false],
    ['2001:db8:ffff::1', true],
    ['[2001:db8::1]:443', true],
    ['2001:db9::1', false],
    ['192.0.2.200', true],
    ['192.0.3.1', false],
    ['fe80::1%eth0', true],
    ['11.0.0.1', false],
    ['not an address', false],
    ['', false],
  ])('%s is allow-listed: %s (addresses read as keys read them)', (ip, allowed) => {
    expect(list.allows({}, viewOf(ip))).toBe(allowed)
  })

  it("never matches a request whose client is unknown, such as a trusted proxy's own address", () => {
    expect(list.allows({}, viewOf(undefined))).toBe(false)
    const trustLoopback = (address: string) => address === '10.0.0.2'
    const view = requestView({ ip: '10.0.0.2', headers: {}, socket: { remoteAddress: '10.0.0.2' } }, trustLoopback)
    expect(view.ip).toBeUndefined()
    expect(list.allows({}, view)).toBe(false)
  })

  it.each([
    [['10.0.0.0/33'], 'allowList[0]'],
    [['10.0.0.1', '2001:db8::/129'], 'allowList[1]'],
    [['010.0.0.1'], 'allowList[0]'],
    [['10.1'], 'allowList[0]'],
    [['10.0.0.1/'], 'allowList[0]'],
    [['10.0.0.1/-1'], 'allowList[0]'],
    [['host.example'], 'allowList[0]'],
    [[null], 'allowList[0]'],
    ['10.0.0.1', 'allowList'],
    [{}, 'allowList'],
  ])('refuses %j at construction, naming %s', (value, option) => {
    expect(() => createLimiter({ capacity: 1, refillPerSecond: 1, allowList: value } as unknown as LimiterOptions<unknown>)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION, option }),
    )
  })

  it('makes the trust-proxy setting matter even when the key is not the IP', () => {
    const byKey = { capacity: 1, refillPerSecond: 1, key: { header: 'x-api-key', missing: 'reject', verify: () => true } } as const
    expect(createLimiter(byKey).forRoute(undefined, '*', '*')!.keysByIp).toBe(false)
    expect(createLimiter({ ...byKey, allowList: ['10.0.0.0/8'] }).forRoute(undefined, '*', '*')!.keysByIp).toBe(true)
    expect(createLimiter({ ...byKey, allowList: () => false }).forRoute(undefined, '*', '*')!.keysByIp).toBe(false)
  })

  it('checks nothing for an allow-listed request, whatever the route', async () => {
    const limiter = createLimiter({ capacity: 1, refillPerSecond: 1, allowList: ['203.0.113.7'] })
    const route = limiter.forRoute({ capacity: 1, refillPerSecond: 1, name: 'own', skip: () => false }, 'GET', '/own')!
    for (let i = 0; i < 3; i++) expect(await route.check({}, viewOf('203.0.113.7'))).toBeUndefined()
    expect((await route.check({}, viewOf('203.0.113.8')))?.outcome).toBe('allowed')
    expect((await route.check({}, viewOf('203.0.113.8')))?.outcome).toBe('denied')
    // Exempt, not unseen: an operator counts them with skipped requests.
    expect(limiter.controls.stats().skipped).toBe(3)
  })
})
