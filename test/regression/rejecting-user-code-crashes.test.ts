import type { Store } from '@sluice/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// An `observer.decision` or `storeCall`, or a `logger.warn`, that returned a rejected promise
// left unhandled rejections behind (Node's default exits the process on the first one), and an
// async `denyBody` sent a 429 with the body `{}` and left one too. "User code that throws is
// ignored" includes rejections now: a bystander's rejection is ignored, a request function's is
// a coded 500 for that request, and a deny body is awaited (its rejection gets the default body).
const suite = regressionSuite()
const rejecting = async (): Promise<never> => {
  throw new Error('user code rejected')
}

let unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
beforeEach(() => {
  unhandled = []
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

/** Unhandled rejections are reported once the microtasks of a turn have run: let one turn pass. */
async function expectNoUnhandledRejection(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
  expect(unhandled).toEqual([])
}

const failingStore: Store = { kind: 'custom', check: () => Promise.reject(new Error('store down')) }

describe.each(drivers)('$name', (driver) => {
  it('ignores an observer whose hooks reject', async () => {
    const app = await suite.start(driver, { capacity: 1, observer: { decision: rejecting, storeCall: rejecting } })
    expect([(await get(app.url)).status, (await get(app.url)).status]).toEqual([200, 429])
    await expectNoUnhandledRejection()
  })

  it('ignores a logger whose warn rejects, and the failure mode still answers', async () => {
    const app = await suite.start(driver, { capacity: 1, store: failingStore, logger: { warn: rejecting } })
    expect([(await get(app.url)).status, (await get(app.url)).status]).toEqual([200, 429])
    expect(app.stats().degradedAnswers).toBe(2)
    await expectNoUnhandledRejection()
  })

  it('awaits an async denyBody', async () => {
    const app = await suite.start(driver, { capacity: 1, denyBody: async (result) => ({ error: 'slow down', limit: result.limit }) })
    await get(app.url)
    const denied = await get(app.url)
    expect(denied.status).toBe(429)
    expect(denied.body).toEqual({ error: 'slow down', limit: 1 })
    expect(denied.headers.get('retry-after')).toMatch(/^\d+$/)
    await expectNoUnhandledRejection()
  })

  it('sends the default body, and warns, when the denyBody rejects: the decision stands', async () => {
    const logger = recordingLogger()
    const app = await suite.start(driver, { capacity: 1, logger, denyBody: rejecting })
    await get(app.url)
    const denied = await get(app.url)
    expect(denied.status).toBe(429)
    expect(denied.headers.get('content-type')).toContain('application/problem+json')
    expect(denied.body).toMatchObject({ status: 429, 'violated-policies': ['default'] })
    expect(denied.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(logger.codes).toContain('SLUICE_DENY_BODY_FAILED')
    await expectNoUnhandledRejection()
  })

  it.each([
    ['key', { key: rejecting }],
    ['key.verify', { key: { header: 'x-api-key', verify: rejecting } }],
    ['cost', { cost: rejecting }],
    ['skip', { skip: rejecting }],
    [
      'tier',
      { tiers: { free: { capacity: 5, refillPerSecond: 0.001 } }, tier: rejecting, capacity: undefined, refillPerSecond: undefined },
    ],
  ])('answers 500 for that request when the %s function rejects', async (_option, options) => {
    const app = await suite.start(driver, { ...(options as object), logger: recordingLogger() })
    const answer = await get(app.url, { 'x-api-key': 'sk_1' })
    expect(answer.status).toBe(500)
    expect(answer.headers.get('x-ratelimit-remaining')).toBeNull()
    await expectNoUnhandledRejection()
  })

  it('calls an observer written as a class as a method, so it keeps its this', async () => {
    class Counting {
      decisions = 0
      storeCalls = 0
      decision(): void {
        this.decisions++
      }
      storeCall(): void {
        this.storeCalls++
      }
    }
    const observer = new Counting()
    const app = await suite.start(driver, { observer })
    await get(app.url)
    expect(observer).toMatchObject({ decisions: 1, storeCalls: 1 })
  })
})
