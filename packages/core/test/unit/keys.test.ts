import { describe, expect, it } from 'vitest'
import { apiKeyClientId, bucketKey, customClientId, ipClientId } from '../../src/keys.js'

describe('ipClientId', () => {
  it('keeps IPv4 as it is', () => {
    expect(ipClientId('203.0.113.7')).toBe('ip:203.0.113.7')
  })

  it('treats IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(ipClientId('::ffff:203.0.113.7')).toBe('ip:203.0.113.7')
  })

  it('groups IPv6 by /64 by default', () => {
    expect(ipClientId('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('ip:2001:db8:1:2::/64')
    expect(ipClientId('2001:db8:1:2::1')).toBe(ipClientId('2001:db8:1:2:ffff::9'))
    expect(ipClientId('2001:db8:1:3::1')).not.toBe(ipClientId('2001:db8:1:2::1'))
  })

  it('honours another subnet size', () => {
    expect(ipClientId('2001:db8:1:2::1', 48)).toBe('ip:2001:db8:1::/48')
    expect(ipClientId('2001:db8:1:2::1', 128)).toBe('ip:2001:db8:1:2::1')
  })

  it('drops an IPv6 zone id', () => {
    expect(ipClientId('fe80::1%eth0', 128)).toBe('ip:fe80::1')
  })

  it('hashes anything that is not an address, never producing braces', () => {
    for (const junk of ['not-an-ip', '{evil}', '1.2.3.4\r\nX: y', '🙂'.repeat(1000)]) {
      const id = ipClientId(junk)
      expect(id).toMatch(/^ipx:[A-Za-z0-9_-]{22}$/)
    }
    expect(ipClientId(undefined)).toBe('ip:unknown')
  })
})

describe('apiKeyClientId', () => {
  it('hashes the key to a fixed length, never storing it', () => {
    const id = apiKeyClientId('sk_live_secret')
    expect(id).toMatch(/^key:[A-Za-z0-9_-]{22}$/)
    expect(id).not.toContain('secret')
    expect(apiKeyClientId('x'.repeat(65_536))).toHaveLength(id.length)
    expect(apiKeyClientId('a')).not.toBe(apiKeyClientId('b'))
  })
})

describe('customClientId', () => {
  it('keeps short safe ids readable and hashes the rest', () => {
    expect(customClientId('tenant-42')).toBe('id:tenant-42')
    expect(customClientId('a}b{c')).toMatch(/^idh:/)
    expect(customClientId('x'.repeat(65))).toMatch(/^idh:/)
  })
})

describe('bucketKey', () => {
  it('wraps the client id in one hash tag', () => {
    expect(bucketKey('sluice:', 'ip:1.2.3.4', 'default')).toBe('sluice:{ip:1.2.3.4}:default')
  })
})
