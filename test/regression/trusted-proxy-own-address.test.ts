import { describe, expect, it } from 'vitest'
import { drivers, type Settings } from '../support/drivers.js'
import { get } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// With the gateway trusted (here 127.0.0.1, where the tests connect from), a request from the
// gateway that names no client in X-Forwarded-For (nothing, or only an RFC 7239 `Forwarded`)
// resolved to the gateway's own address: every such client shared the gateway's bucket, and
// nothing was said. A trusted proxy's address is no client's: the shared unknown bucket, the
// counter, and SLUICE_UNKNOWN_IP naming the proxy and saying `Forwarded` is not read.
const suite = regressionSuite()
const gateway = '127.0.0.1'

function unknownIpWarnings(logger: ReturnType<typeof recordingLogger>) {
  return logger.lines.filter((e) => e.object.code === 'SLUICE_UNKNOWN_IP')
}

describe.each(drivers)('$name', (driver) => {
  it.each<[string, Settings['trustProxy']]>([
    ['its address', gateway],
    ['a list of ranges', ['10.0.0.0/8', '127.0.0.0/8']],
    ['a hop count (as a function)', (_address: string, hop: number) => hop < 1],
  ])('treats the trusted gateway (%s) as no client when it sends no X-Forwarded-For', async (_what, trustProxy) => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 2, logger }, [], { trustProxy })
    const statuses = []
    for (let i = 0; i < 2; i++) statuses.push((await get(app.url)).status)
    statuses.push((await get(app.url, { forwarded: 'for=198.51.100.20' })).status)
    expect(statuses).toEqual([200, 200, 429])
    expect(app.stats().unknownIp).toBe(3)
    // Nothing was charged to the gateway's own address.
    expect((await app.peek({ ip: gateway })).remaining).toBe(2)
    const warnings = unknownIpWarnings(logger)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.object).toMatchObject({ ip: gateway, reason: 'trusted-proxy' })
    expect(warnings[0]!.message).toContain('Forwarded is not read')
    expect(warnings[0]!.message).toContain(driver.name === 'express' ? "'trust proxy'" : 'trustProxy')
  })

  it('keys a client the gateway names by its own address, and says nothing', async () => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 2, logger }, [], { trustProxy: gateway })
    for (let i = 0; i < 3; i++) await get(app.url, { 'x-forwarded-for': '198.51.100.7' })
    expect((await get(app.url, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(200)
    expect((await app.peek({ ip: '198.51.100.7' })).remaining).toBe(0)
    expect(app.stats().unknownIp).toBe(0)
    expect(logger.codes).not.toContain('SLUICE_UNKNOWN_IP')
  })

  it('keys direct clients by their address when no proxy is trusted', async () => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 2, logger })
    await get(app.url)
    expect((await app.peek({ ip: gateway })).remaining).toBe(1)
    expect(app.stats().unknownIp).toBe(0)
  })
})
