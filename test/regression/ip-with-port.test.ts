import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// Some gateways forward the client's address with its source port; each port was a new bucket,
// and an address that did not parse was hashed into a bucket of its own: both let one client
// open buckets at will.
const suite = regressionSuite()
const behindGateway = { trustProxy: '127.0.0.1' }

describe.each(drivers)('$name', (driver) => {
  it('treats an IPv4 address with any source port as the address', async () => {
    const app = await suite.start(driver, { capacity: 2 }, [], behindGateway)
    const from = async (xff: string) => (await get(app.url, { 'x-forwarded-for': xff })).status
    expect([await from('203.0.113.5:40001'), await from('203.0.113.5:40002'), await from('203.0.113.5')]).toEqual([200, 200, 429])
  })

  it('treats a bracketed IPv6 address with a port as the address, and keeps a bare one whole', async () => {
    const app = await suite.start(driver, { capacity: 2, ipv6Subnet: 128 }, [], behindGateway)
    const from = async (xff: string) => (await get(app.url, { 'x-forwarded-for': xff })).status
    expect([await from('[2001:db8::1]:443'), await from('[2001:db8::1]:444'), await from('2001:db8::1')]).toEqual([200, 200, 429])
    // `2001:db8::1:443` is an address of its own, not `2001:db8::1` on port 443.
    expect(await from('2001:db8::1:443')).toBe(200)
  })

  it('sends addresses that do not parse to the one shared unknown bucket, and says so', async () => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 2, logger }, [], behindGateway)
    const statuses = []
    for (const junk of ['garbage-1', 'garbage-2', '1.2.3.4.5', '[::1'])
      statuses.push((await get(app.url, { 'x-forwarded-for': junk })).status)
    expect(statuses).toEqual([200, 200, 429, 429])
    expect(logger.codes).toContain('SLUICE_UNKNOWN_IP')
    expect(app.stats().unknownIp).toBe(4)
  })
})
