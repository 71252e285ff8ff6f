import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { regressionSuite } from '../support/regression-suite.js'

// After an operator deleted a bucket (or Redis restarted empty), replicas kept answering 429 from
// their deny cache until the computed wait ended: 1000 s here. A cached denial now lives about a
// second at most.
const suite = regressionSuite()

describe.each(drivers)('$name', (driver) => {
  it('admits again within about a second of the bucket being deleted in Redis', async () => {
    const prefix = suite.prefix()
    const app = await suite.start(driver, { prefix, capacity: 1, refillPerSecond: 0.001 })
    expect((await get(app.url)).status).toBe(200)
    expect((await get(app.url)).status).toBe(429)
    const keys = await suite.redis().keys(`${prefix}*`)
    expect(keys).toHaveLength(1)
    await suite.redis().del(...keys)
    const started = performance.now()
    let status = 429
    // Bounded: the old cache would have kept denying for 1000 s.
    for (let i = 0; i < 200 && status === 429; i++) {
      status = (await get(app.url)).status
      if (status === 429) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(status).toBe(200)
    // The cache's own limit is one second; the rest is a busy machine's slack.
    expect(performance.now() - started).toBeLessThan(3_000)
  })
})
