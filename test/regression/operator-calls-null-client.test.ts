import { rateLimit as expressRateLimit } from '@sluice/express'
import fastifyRateLimit from '@sluice/fastify'
import type { Request } from 'express'
import fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { regressionSuite } from '../support/regression-suite.js'

// `peek(null)`, `reset(undefined)` and a manual `check(request, null)` threw an uncoded TypeError
// ("Cannot read properties of null"), where every other malformed client is a coded
// ERR_SLUICE_INVALID_ARGUMENT an operator's script can branch on.
const suite = regressionSuite()
const invalidArgument = { code: 'ERR_SLUICE_INVALID_ARGUMENT' }
const nonsense = [null, undefined, 'client', 7, ['203.0.113.5']] as const

describe.each(drivers)('$name', (driver) => {
  it.each(nonsense)('peek(%j) and reset(%j) are ERR_SLUICE_INVALID_ARGUMENT', async (client) => {
    const app = await suite.start(driver, {})
    await expect(app.peek(client as never)).rejects.toMatchObject(invalidArgument)
    await expect(app.reset(client as never)).rejects.toMatchObject(invalidArgument)
  })
})

/** Each adapter's manual check, as a handler calls it. */
const manualChecks = [
  {
    name: 'fastify',
    async check(options: unknown): Promise<unknown> {
      const app = fastify()
      try {
        await app.register(fastifyRateLimit, { capacity: 5, refillPerSecond: 1 })
        await app.ready()
        return await app.sluice.check({} as never, options as never)
      } finally {
        await app.close()
      }
    },
  },
  {
    name: 'express',
    check: (options: unknown) => expressRateLimit({ capacity: 5, refillPerSecond: 1 }).check({} as Request, options as never),
  },
]

describe.each(manualChecks)('$name check()', (adapter) => {
  it.each([null, undefined, 'login', { key: 'alice', policy: null }, { key: 'alice', policy: 'strict' }])(
    'check(request, %j) is ERR_SLUICE_INVALID_ARGUMENT',
    async (options) => {
      await expect(adapter.check(options)).rejects.toMatchObject(invalidArgument)
    },
  )

  it('still checks a well-formed call', async () => {
    await expect(adapter.check({ key: 'alice' })).resolves.toMatchObject({ allowed: true, remaining: 4 })
  })
})
