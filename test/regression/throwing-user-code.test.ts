import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { regressionSuite } from '../support/regression-suite.js'

// With Redis down and a logger whose `warn` throws, every request was a 500, although the
// failure mode should answer. One rule now holds for all user code: loggers and observers that
// throw are ignored; request functions that throw or return nonsense are a coded 500 for that
// request only, never a free pass.
const suite = regressionSuite()
const throwing = () => {
  throw new Error('user code failed')
}

describe.each(drivers)('$name', (driver) => {
  it('answers from the failure mode when Redis is down, whatever the logger and the observer do', async () => {
    const dead = suite.server().client({ port: 1, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    dead.on('error', () => {}) // refused connections are this test's premise
    const app = await suite.start(driver, {
      redis: dead,
      capacity: 3,
      timeoutMs: 50,
      logger: { warn: throwing },
      observer: { decision: throwing, storeCall: throwing },
    })
    const answers = [await get(app.url), await get(app.url), await get(app.url), await get(app.url)]
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429])
    expect(app.stats().degradedAnswers).toBe(4)
  })

  it.each([
    ['key', { key: throwing }],
    ['key', { key: () => 42 }],
    ['key', { key: () => '' }],
    ['key', { key: () => ({ host: 'a' }) }],
    ['key', { key: () => ({ apiKey: '' }) }],
    ['key', { key: () => null }],
    ['cost', { cost: throwing }],
    ['cost', { cost: () => Number.NaN }],
    ['key.verify', { key: { header: 'x-api-key', verify: () => 'yes' } }],
  ])('answers 500 when the %s function fails, for that request only', async (_option, options) => {
    const app = await suite.start(driver, options as object)
    const answer = await get(app.url, { 'x-api-key': 'sk_1' })
    expect(answer.status).toBe(500)
    expect(answer.headers.get('x-ratelimit-remaining')).toBeNull()
  })

  it('takes a key from a thenable that is not a Promise', async () => {
    // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise is what is tested
    const thenable = { then: (resolve: (id: string) => void) => resolve('tenant-7') }
    const app = await suite.start(driver, { capacity: 2, key: () => thenable as unknown as Promise<string> })
    expect([(await get(app.url)).status, (await get(app.url)).status, (await get(app.url)).status]).toEqual([200, 200, 429])
  })
})
