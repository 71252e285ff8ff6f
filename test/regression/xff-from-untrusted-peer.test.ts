import { describe, expect, it } from 'vitest'
import { drivers, type Settings } from '../support/drivers.js'
import { get } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// An app behind a proxy without Express's `trust proxy` (or with a Fastify `trustProxy` that
// does not match the proxy) gets X-Forwarded-For from a peer it does not trust: the frameworks
// rightly ignore the header, and every client shares the proxy's bucket, silently. Now one
// coded warning per limiter names the setting and the peer.
const suite = regressionSuite()
const peer = '127.0.0.1'

function warnings(logger: ReturnType<typeof recordingLogger>) {
  return logger.lines.filter((e) => e.object.code === 'SLUICE_UNTRUSTED_FORWARDED_FOR')
}

describe.each(drivers)('$name', (driver) => {
  const setting = driver.name === 'express' ? "Express's 'trust proxy'" : "Fastify's trustProxy"

  it.each<[string, Settings]>([
    ['no trust-proxy setting', {}],
    ['a setting that does not match the proxy', { trustProxy: '10.0.0.2' }],
  ])('warns once, naming the setting and the peer, with %s', async (_what, settings) => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 5, logger }, [], settings)
    await get(app.url, { 'x-forwarded-for': '198.51.100.1' })
    await get(app.url, { 'x-forwarded-for': '198.51.100.2' })
    const said = warnings(logger)
    expect(said).toHaveLength(1)
    expect(said[0]!.object).toMatchObject({ peer, setting })
    expect(said[0]!.message).toContain(setting)
    expect(said[0]!.message).toContain(peer)
    // The header is ignored, as the framework ignores it: both requests drew from the peer's bucket.
    expect((await app.peek({ ip: peer })).remaining).toBe(3)
  })

  it('says nothing when the peer is trusted, or sends no X-Forwarded-For', async () => {
    const logger = recordingLogger()
    const trusted = await suite.start(driver, { capacity: 5, logger }, [], { trustProxy: peer })
    await get(trusted.url, { 'x-forwarded-for': '198.51.100.1' })
    const untrusted = await suite.start(driver, { capacity: 5, logger })
    await get(untrusted.url)
    expect(warnings(logger)).toHaveLength(0)
  })

  it('says nothing for a limiter that does not key by IP', async () => {
    const logger = recordingLogger()
    const key = { header: 'x-api-key', missing: 'reject' as const, verify: () => true }
    const app = await suite.start(driver, { capacity: 5, logger, key })
    expect((await get(app.url, { 'x-forwarded-for': '198.51.100.1', 'x-api-key': 'sk_1' })).status).toBe(200)
    expect(warnings(logger)).toHaveLength(0)
  })
})
