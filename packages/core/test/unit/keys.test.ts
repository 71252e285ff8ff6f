import { describe, expect, it } from 'vitest'
import { apiKeyClientId, bucketKey, customClientId, ipClientId, manualClientId } from '../../src/keys.js'

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

  it('has no id for anything that is not an address: no bucket of its own to open at will', () => {
    for (const junk of ['not-an-ip', '{evil}', '1.2.3.4\r\nX: y', '🙂'.repeat(1000), '', '1.2.3.4:', '[::1', '1.2.3.4:99999999']) {
      expect(ipClientId(junk)).toBeUndefined()
    }
    expect(ipClientId(undefined)).toBeUndefined()
  })

  it('strips a port only from the two forms gateways forward, so a source port is never a new client', () => {
    expect(ipClientId('203.0.113.5:40001')).toBe('ip:203.0.113.5')
    expect(ipClientId('203.0.113.5:40002')).toBe(ipClientId('203.0.113.5'))
    expect(ipClientId('[2001:db8::1]:443', 128)).toBe('ip:2001:db8::1')
    expect(ipClientId('[2001:db8::1]', 128)).toBe('ip:2001:db8::1')
    expect(ipClientId('[::ffff:203.0.113.5]:8080')).toBe('ip:203.0.113.5')
    // A bare IPv6 address may end in what looks like a port: it is an address, kept whole.
    expect(ipClientId('2001:db8::1:443', 128)).toBe('ip:2001:db8::1:443')
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
  it('hashes every id, so a function that returns a secret never stores it', () => {
    expect(customClientId('sk_live_abc')).toMatch(/^id:[A-Za-z0-9_-]{22}$/)
    expect(customClientId('tenant-42')).not.toContain('tenant')
    expect(customClientId('a}b{c')).toMatch(/^id:[A-Za-z0-9_-]{22}$/)
  })

  it('never lets one kind of id share a bucket with another kind of the same string', () => {
    const ids = new Set([customClientId('x'), apiKeyClientId('x'), manualClientId('x')])
    expect(ids.size).toBe(3)
  })
})

describe('bucketKey', () => {
  it('wraps the client id in one hash tag', () => {
    expect(bucketKey('sluice:', 'ip:1.2.3.4', 'default')).toBe('sluice:{ip:1.2.3.4}:default')
  })
})
