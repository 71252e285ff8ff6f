import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { rateLimit as expressRateLimit } from '@sluice/express'
import fastifyRateLimit from '@sluice/fastify'
import express from 'express'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { drivers, type Settings } from '../support/drivers.js'
import { get } from '../support/http.js'
import { processWarnings } from '../support/process-warnings.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// Only the literal `trustProxy: true` was caught. Any setting that believes every sender lets a
// client choose its bucket with X-Forwarded-For, and is said out loud.
const suite = regressionSuite()
const everyone = (): boolean => true
const allRanges = ['0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1']

describe.each(drivers)('$name', (driver) => {
  it.each<[string, Settings['trustProxy']]>([
    ['a function that trusts every hop', everyone],
    ['ranges that cover every address', allRanges],
  ])('warns about %s', async (_what, trustProxy) => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { logger }, [], { trustProxy })
    await get(app.url)
    await get(app.url)
    expect(logger.codes.filter((c) => c === 'SLUICE_PERMISSIVE_TRUST_PROXY')).toHaveLength(1)
  })

  it('warns about a route that keys by IP under a limiter keyed by API key', async () => {
    const logger = recordingLogger()
    const options = { logger, key: { header: 'x-api-key', missing: 'reject' as const, verify: () => true } }
    const app = await suite.start(driver, options, [{ path: '/open', rateLimit: { key: 'ip' } }], { trustProxy: everyone })
    await get(`${app.url}/open`)
    expect(logger.codes).toContain('SLUICE_PERMISSIVE_TRUST_PROXY')
  })

  it('stays quiet when only the gateway is trusted, or a hop count', async () => {
    for (const trustProxy of ['127.0.0.1', ['10.0.0.0/8', '127.0.0.1']]) {
      const logger = recordingLogger()
      const app = await suite.start(driver, { logger }, [], { trustProxy })
      await get(app.url)
      expect(logger.codes).not.toContain('SLUICE_PERMISSIVE_TRUST_PROXY')
    }
  })
})

describe('Express', () => {
  it('warns for a second limiter keyed by IP after one keyed by API key', async () => {
    const logger = recordingLogger()
    const app = express().set('trust proxy', true)
    const byKey = expressRateLimit({
      capacity: 5,
      refillPerSecond: 1,
      key: { header: 'x-api-key', missing: 'reject', verify: () => true },
      logger,
    })
    const byIp = expressRateLimit({ capacity: 5, refillPerSecond: 1, name: 'ip', logger })
    app.get('/', byKey, byIp, (_req, res) => {
      res.send('ok')
    })
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { 'x-api-key': 'sk_1' })
      expect(logger.codes.filter((c) => c === 'SLUICE_PERMISSIVE_TRUST_PROXY')).toHaveLength(1)
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })
})

describe('Fastify', () => {
  it("warns through process warnings when the app's logger is Fastify's silent default", async () => {
    const warnings = processWarnings()
    const app = Fastify({ trustProxy: true })
    try {
      await app.register(fastifyRateLimit, { capacity: 5, refillPerSecond: 1 })
      app.get('/', async () => 'ok')
      await app.ready()
      await new Promise((resolve) => process.nextTick(resolve)) // process warnings are emitted on the next tick
      expect(warnings.codes).toContain('SLUICE_PERMISSIVE_TRUST_PROXY')
    } finally {
      warnings.stop()
      await app.close()
    }
  })

  it('names the option when `hook` is invalid', async () => {
    const app = Fastify()
    await expect(
      app.register(fastifyRateLimit, { capacity: 5, refillPerSecond: 1, hook: 'onSend' as never }).ready(),
    ).rejects.toMatchObject({
      code: 'ERR_SLUICE_INVALID_OPTION',
      option: 'hook',
    })
    await app.close()
  })
})
