import type { BucketReply, CheckReply, Store } from '@sluice/core'
import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// A custom store whose `cached()` threw gave 500s; bucket replies of `null` gave 500s; a reply of
// `{}` gave a 200 with `X-RateLimit-Remaining: undefined`. Every field of every reply, cached or
// not, is checked now: anything invalid is a store failure, answered by the failure mode (its
// warning and counters included), and the client only ever sees numbers that were measured.
const suite = regressionSuite()

/** A bucket as a correct store answers an admitted check of a full bucket of 5. */
const bucket: BucketReply = { status: 'allowed', taken: true, remaining: 4, retryAfterMs: 0, resetMs: 1_000, nextTokenMs: 1_000 }
const withBucket = (fields: Record<string, unknown>): unknown => ({ admitted: true, buckets: [{ ...bucket, ...fields }] })

const garbage: ReadonlyArray<readonly [string, () => unknown]> = [
  ['null', () => null],
  ['{}', () => ({})],
  ['a string', () => 'OK'],
  ['buckets: [null]', () => ({ admitted: true, buckets: [null] })],
  ['no buckets', () => ({ admitted: true, buckets: [] })],
  ['admitted: "yes"', () => ({ admitted: 'yes', buckets: [bucket] })],
  ['remaining: undefined', () => withBucket({ remaining: undefined })],
  ['remaining: NaN', () => withBucket({ remaining: Number.NaN })],
  ['remaining: -1', () => withBucket({ remaining: -1 })],
  ['remaining above capacity', () => withBucket({ remaining: 6 })],
  ['remaining: 2.5', () => withBucket({ remaining: 2.5 })],
  ['remaining: "4"', () => withBucket({ remaining: '4' })],
  ['status: "ok"', () => withBucket({ status: 'ok' })],
  ['taken: 1', () => withBucket({ taken: 1 })],
  ['resetMs: undefined', () => withBucket({ resetMs: undefined })],
  ['nextTokenMs: Infinity', () => withBucket({ nextTokenMs: Number.POSITIVE_INFINITY })],
  ['retryAfterMs: -5', () => withBucket({ retryAfterMs: -5 })],
  ['a denied bucket that says admitted', () => withBucket({ status: 'denied', taken: false, retryAfterMs: 5_000 })],
  [
    'a denial that never retries',
    () => ({ admitted: false, buckets: [{ ...bucket, status: 'denied', taken: false, retryAfterMs: Number.POSITIVE_INFINITY }] }),
  ],
  [
    'cost-exceeds-capacity for a cost of 1',
    () => ({ admitted: false, buckets: [{ ...bucket, status: 'cost-exceeds-capacity', taken: false }] }),
  ],
]

type Where = 'check' | 'cached'

/** A user's store that answers `answer()` from `check()`, or from `cached()` (and fails its `check()` loudly). */
function customStore(where: Where, answer: () => unknown): Store {
  if (where === 'check') return { kind: 'custom', check: async () => answer() as CheckReply }
  return {
    kind: 'custom',
    cached: () => answer() as CheckReply,
    check: () => Promise.reject(new Error('check() must not be called after cached() failed')),
  }
}

/** The failure mode answered with the local bucket: numbers, never "undefined", and counted. */
async function expectLocalAnswer(app: Awaited<ReturnType<typeof suite.start>>, logger: ReturnType<typeof recordingLogger>) {
  const answer = await get(app.url)
  expect(answer.status).toBe(200)
  expect(answer.headers.get('x-ratelimit-remaining')).toBe('4')
  expect(answer.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/)
  expect(answer.headers.get('ratelimit')).toMatch(/^"default";r=4;t=\d+$/)
  expect(app.stats()).toMatchObject({ degradedAnswers: 1, storeAnswers: 0, storeErrors: 1 })
  expect(logger.codes).toEqual(['SLUICE_STORE_UNAVAILABLE'])
  expect(String(logger.lines[0]!.object.reason)).toContain('not a reply')
}

describe.each(drivers)('$name', (driver) => {
  describe.each(['check', 'cached'] as const)('an answer from %s()', (where) => {
    it.each(garbage)('%s is a store failure, answered by the failure mode', async (_what, answer) => {
      const logger = recordingLogger()
      const app = await suite.start(driver, { store: customStore(where, answer), logger })
      await expectLocalAnswer(app, logger)
    })
  })

  it('a cached() that throws is a store failure, answered by the failure mode', async () => {
    const logger = recordingLogger()
    const store = customStore('cached', () => {
      throw new Error('cache corrupted')
    })
    const app = await suite.start(driver, { store, logger })
    const answer = await get(app.url)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('x-ratelimit-remaining')).toBe('4')
    expect(app.stats()).toMatchObject({ degradedAnswers: 1, storeErrors: 1 })
    expect(logger.codes).toEqual(['SLUICE_STORE_UNAVAILABLE'])
  })

  it('a store that throws what String() refuses is a store failure too', async () => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { store: { kind: 'custom', check: () => Promise.reject(Object.create(null)) }, logger })
    expect((await get(app.url)).status).toBe(200)
    expect(app.stats()).toMatchObject({ degradedAnswers: 1, storeErrors: 1 })
  })

  it("the 'deny' failure mode answers garbage with 503, not a 500", async () => {
    const app = await suite.start(driver, { store: customStore('check', () => ({})), failureMode: 'deny', logger: recordingLogger() })
    const answer = await get(app.url)
    expect(answer.status).toBe(503)
    expect(answer.headers.get('x-ratelimit-remaining')).toBeNull()
  })

  it('a correct custom reply is passed through as the store answered it', async () => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { store: customStore('check', () => withBucket({ remaining: 3 })), logger })
    const answer = await get(app.url)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('x-ratelimit-remaining')).toBe('3')
    expect(app.stats()).toMatchObject({ storeAnswers: 1, degradedAnswers: 0 })
    expect(logger.codes).toEqual([])
  })

  it("an operator's peek of a store that answers garbage is ERR_SLUICE_STORE_UNAVAILABLE", async () => {
    const app = await suite.start(driver, {
      store: customStore('check', () => ({ admitted: true, buckets: [null] })),
      logger: recordingLogger(),
    })
    await expect(app.peek({ ip: '203.0.113.5' })).rejects.toMatchObject({ code: 'ERR_SLUICE_STORE_UNAVAILABLE' })
  })
})
