import { rateLimit } from '@sluice/express'
import express, { type RequestHandler } from 'express'
import { afterEach, expect, it } from 'vitest'
import { get, serve } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// Express: a request left to a `limit.route()` override that a handler before it answered is
// charged after its answer, from a view of the request read without the trust-proxy setting. A
// gateway's own address (a trusted proxy that named no client) then read as the client, and an
// `allowList` covering the gateway's range let such requests through uncharged. The late charge
// now reads the address as every other check does: a proxy's own address is no client's.
const suite = regressionSuite()
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

it("charges a late request from the trusted gateway itself, whatever the allowList says of the gateway's range", async () => {
  let charged: (outcome: string) => void = () => {}
  const limit = rateLimit({
    redis: suite.redis(),
    capacity: 5,
    refillPerSecond: 0.001,
    prefix: suite.prefix(),
    timeoutMs: 5_000,
    logger: recordingLogger(),
    allowList: ['127.0.0.0/8'],
    observer: { decision: (event) => charged(event.decision.outcome) },
  })
  const app = express().set('trust proxy', '127.0.0.1')
  app.use(limit)
  const auth: RequestHandler = (req, res, next) => {
    if (req.get('x-ok') === undefined) res.status(401).send('who?')
    else next()
  }
  app.get('/orders/:id', auth, limit.route('GET /orders/:id', { capacity: 2, name: 'orders' }), (_req, res) => {
    res.send('ok')
  })
  const served = await serve(app)
  closers.push(served.close)

  const outcome = new Promise<string>((resolve) => {
    charged = resolve
  })
  expect((await get(`${served.url}/orders/1`)).status).toBe(401)
  expect(await outcome).toBe('allowed')
  expect(limit.stats().unknownIp).toBe(1)
})
