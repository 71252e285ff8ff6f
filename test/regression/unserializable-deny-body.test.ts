import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// A deny body that JSON cannot hold (a BigInt field, a cycle) turned the 429 into a 500 on both
// adapters. The decision stands now: the 429 (or 403) with its quota headers, the default
// problem body, and a SLUICE_DENY_BODY_FAILED warning saying why.
const suite = regressionSuite()

const cycle = (): object => {
  const body: Record<string, unknown> = { error: 'rate_limited' }
  body.self = body
  return body
}

const unserializable: ReadonlyArray<readonly [string, () => unknown]> = [
  ['a BigInt field', () => ({ error: 'rate_limited', retryAt: 10n })],
  ['a cycle', cycle],
  [
    'a toJSON that throws',
    () => ({
      toJSON: () => {
        throw new Error('no JSON today')
      },
    }),
  ],
  [
    'a getter that throws',
    () => ({
      get error(): string {
        throw new Error('no field today')
      },
    }),
  ],
  ['a toJSON that answers nothing', () => ({ toJSON: () => undefined })],
  ['a promise of a BigInt field', async () => ({ retryAt: 10n })],
]

describe.each(drivers)('$name', (driver) => {
  it.each(unserializable)('answers a deny body with %s by the default 429, and warns', async (_what, denyBody) => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 1, logger, denyBody })
    expect((await get(app.url)).status).toBe(200)
    const denied = await get(app.url)
    expect(denied.status).toBe(429)
    expect(denied.headers.get('content-type')).toContain('application/problem+json')
    expect(denied.body).toMatchObject({ status: 429, title: 'Too Many Requests', 'violated-policies': ['default'] })
    expect(denied.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(denied.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(logger.codes).toEqual(['SLUICE_DENY_BODY_FAILED'])
    expect(String(logger.lines[0]!.object.reason)).toMatch(/serializ|no JSON today|no field today/)
  })

  it('answers a cost above the capacity by the default 403 when its deny body cannot be serialized', async () => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 1, cost: () => 2, logger, denyBody: cycle })
    const refused = await get(app.url)
    expect(refused.status).toBe(403)
    expect(refused.body).toMatchObject({ status: 403, 'violated-policies': ['default'] })
    expect(logger.codes).toEqual(['SLUICE_DENY_BODY_FAILED'])
  })

  it('still sends a deny body that serializes', async () => {
    const app = await suite.start(driver, { capacity: 1, denyBody: () => ({ error: 'rate_limited', retryAt: String(10n) }) })
    await get(app.url)
    const denied = await get(app.url)
    expect(denied.status).toBe(429)
    expect(denied.body).toEqual({ error: 'rate_limited', retryAt: '10' })
  })
})
