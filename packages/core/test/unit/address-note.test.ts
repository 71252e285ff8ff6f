import { describe, expect, it } from 'vitest'
import { requestView } from '../../src/adapter.js'
import { addressNote, type TrustProxyFn } from '../../src/trust-proxy.js'

// How the adapters' compiled trust-proxy settings judge a request's address (the regression
// tests in test/regression/ run the same rules through both frameworks).
const gateway: TrustProxyFn = (address) => address === '10.0.0.2'
const oneHop: TrustProxyFn = (_address, hop) => hop < 1
const everyone: TrustProxyFn = () => true
const setting = 'trustProxy'

describe('addressNote', () => {
  it('calls a trusted address that named no client a proxy, not a client', () => {
    expect(addressNote('10.0.0.2', '10.0.0.2', undefined, gateway, setting)).toEqual({ kind: 'trusted-proxy', proxy: '10.0.0.2', setting })
    expect(addressNote('198.51.100.1', '10.0.0.2', '198.51.100.1', gateway, setting)).toBeUndefined()
  })

  it('with a hop count, judges by whether any X-Forwarded-For came, not by the address', () => {
    expect(addressNote('10.0.0.2', '10.0.0.2', undefined, oneHop, setting)?.kind).toBe('trusted-proxy')
    expect(addressNote('198.51.100.1', '10.0.0.2', '198.51.100.1', oneHop, setting)).toBeUndefined()
  })

  it('leaves a setting that trusts everyone to its own warning', () => {
    expect(addressNote('10.0.0.2', '10.0.0.2', undefined, everyone, setting)).toBeUndefined()
  })

  it('flags X-Forwarded-For from a peer the setting refuses, or with no setting', () => {
    expect(addressNote('192.0.2.9', '192.0.2.9', '198.51.100.1', gateway, setting)).toEqual({
      kind: 'untrusted-forwarded-for',
      peer: '192.0.2.9',
      setting,
    })
    expect(addressNote('192.0.2.9', '192.0.2.9', '198.51.100.1', undefined, setting)?.kind).toBe('untrusted-forwarded-for')
    expect(addressNote('192.0.2.9', '192.0.2.9', undefined, undefined, setting)).toBeUndefined()
  })

  it('takes a trust function that throws or answers a promise as trusting no one', () => {
    const throws: TrustProxyFn = () => {
      throw new Error('no')
    }
    const promises = (() => Promise.reject(new Error('no'))) as unknown as TrustProxyFn
    expect(addressNote('10.0.0.2', '10.0.0.2', undefined, throws, setting)).toBeUndefined()
    expect(addressNote('10.0.0.2', '10.0.0.2', undefined, promises, setting)).toBeUndefined()
  })
})

describe('requestView', () => {
  it('hides a proxy address, and keeps the client address with a note for an untrusted peer', () => {
    const fromGateway = requestView({ ip: '10.0.0.2', headers: {}, socket: { remoteAddress: '10.0.0.2' } }, gateway, setting)
    expect(fromGateway.ip).toBeUndefined()
    expect(fromGateway.address?.kind).toBe('trusted-proxy')
    const spoofing = requestView({ ip: '192.0.2.9', headers: { 'x-forwarded-for': '1.2.3.4' }, socket: { remoteAddress: '192.0.2.9' } })
    expect(spoofing.ip).toBe('192.0.2.9')
    expect(spoofing.address?.kind).toBe('untrusted-forwarded-for')
  })
})
