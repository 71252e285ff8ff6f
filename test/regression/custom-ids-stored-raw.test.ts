import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { regressionSuite } from '../support/regression-suite.js'

// A key function's id of a "safe" shape was stored raw in Redis keys, in `request.rateLimit.key`
// and in shadow warnings, so a function returning `sk_live_…` leaked the secret. Every id is
// hashed now.
const suite = regressionSuite()

describe.each(drivers)('$name', (driver) => {
  it('never writes what a key function returns into Redis or the result', async () => {
    const prefix = suite.prefix()
    const app = await suite.start(driver, { prefix, key: (req: { headers: Record<string, unknown> }) => String(req.headers['x-user']) })
    await get(app.url, { 'x-user': 'sk_live_abc' })
    const keys = await suite.redis().keys(`${prefix}*`)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatch(new RegExp(`^${prefix}\\{id:[A-Za-z0-9_-]{22}\\}:default$`))
    expect(keys[0]).not.toContain('sk_live')
  })
})
