import type { RedisClient, SettleEvent, SluiceLogger } from '@sluice/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fullRedisBackends, type RedisBackend } from '../support/backends.js'
import { type ConformanceOptions, drivers, type PortableRequest, type RunningApp } from '../support/drivers.js'
import { get } from '../support/http.js'

// Costs settled after the response (issue 21), on both adapters, in memory, on Redis and on a
// Redis Cluster: the `settle` option reads the actual cost from the request's `x-actual` header
// (a test's stand-in for "tokens generated"), and each test waits for the settle's observer
// event (or warning) before it looks at the buckets.

let n = 0
const running: RunningApp[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

/** Observer events and warnings, with a wait for the n-th of each. */
class Seen {
  readonly settles: SettleEvent[] = []
  readonly warnings: { code: string; message: string }[] = []
  readonly #waiters: (() => void)[] = []
  readonly observer = { settle: (event: SettleEvent) => this.#push(() => this.settles.push(event)) }
  readonly logger: SluiceLogger = {
    warn: (object: object, message: string) =>
      this.#push(() => this.warnings.push({ code: String((object as { code?: string }).code), message })),
  }
  #push(add: () => void): void {
    add()
    for (const w of this.#waiters.splice(0)) w()
  }
  async until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => this.#waiters.push(resolve))
  }
  settled(count: number): Promise<void> {
    return this.until(() => this.settles.length >= count)
  }
}

/** `settle` from the `x-actual` header: a number, or a way to misbehave. */
function settleFromHeader(request: PortableRequest): number | undefined | Promise<number | undefined> {
  const actual = request.headers['x-actual']
  if (actual === undefined) return undefined
  if (actual === 'throw') throw new Error('settle failed')
  if (actual === 'reject') return Promise.reject(new Error('settle rejected'))
  if (actual === 'nonsense') return 'many' as unknown as number
  if (actual === 'fraction') return 1.5
  if (actual === 'async') return Promise.resolve(3)
  return Number(actual)
}

const backends: readonly { readonly name: string; start(): Promise<RedisBackend | undefined> }[] = [
  { name: 'memory', start: async () => undefined },
  ...fullRedisBackends,
]

describe.each(backends)('settle on $name', (store) => {
  let backend: RedisBackend | undefined
  let redis: RedisClient | undefined
  beforeAll(async () => {
    backend = await store.start()
    redis = backend?.client
  }, 60_000)
  afterAll(async () => {
    await backend?.stop()
  })

  describe.each(drivers)('$name adapter', (driver) => {
    async function start(options: Partial<ConformanceOptions>, seen: Seen): Promise<RunningApp> {
      const app = await driver.start(
        {
          ...(redis === undefined ? {} : { redis }),
          capacity: 10,
          refillPerSecond: 0.001,
          prefix: `settle${++n}:`,
          timeoutMs: 5_000,
          cost: 5,
          settle: settleFromHeader,
          observer: seen.observer,
          logger: seen.logger,
          ...options,
        } as ConformanceOptions,
        [{ path: '/' }],
      )
      running.push(app)
      return app
    }
    const me = { ip: '127.0.0.1' }

    it('refunds and charges extra exactly to the token, as peek shows, and counts both', async () => {
      const seen = new Seen()
      const app = await start({}, seen)
      const first = await get(`${app.url}/`, { 'x-actual': '2' })
      // The response tells the reservation: 10 − 5.
      expect(first.headers.get('x-ratelimit-remaining')).toBe('5')
      await seen.settled(1)
      expect((await app.peek(me)).remaining).toBe(8)
      // 8 − 5 reserved = 3 on the response; the next shows the settled state.
      expect((await get(`${app.url}/`, { 'x-actual': '7' })).headers.get('x-ratelimit-remaining')).toBe('3')
      await seen.settled(2)
      expect((await app.peek(me)).remaining).toBe(1)
      expect(seen.settles.map((e) => [e.outcome, e.refundedTokens, e.extraTokens])).toEqual([
        ['applied', 3, 0],
        ['applied', 0, 2],
      ])
      expect(app.stats()).toMatchObject({ settlesApplied: 2, settleRefundedTokens: 3, settleExtraTokens: 2, settlesDropped: 0 })
    })

    it('keeps the reservation for undefined, and a difference of 0 sends nothing but counts as applied', async () => {
      const seen = new Seen()
      const app = await start({}, seen)
      await get(`${app.url}/`)
      await get(`${app.url}/`, { 'x-actual': '5' })
      await seen.settled(1)
      expect((await app.peek(me)).remaining).toBe(0)
      expect(app.stats()).toMatchObject({ settlesApplied: 1, settleRefundedTokens: 0, settleExtraTokens: 0 })
    })

    it('lets a bucket go into debt, capped at its capacity; the next request waits out debt and its own cost', async () => {
      const seen = new Seen()
      // One token a second: seconds are tokens.
      const app = await start({ refillPerSecond: 1 }, seen)
      await get(`${app.url}/`, { 'x-actual': '15' })
      await seen.settled(1)
      const started = performance.now()
      const denied = await get(`${app.url}/`)
      const slack = Math.ceil((performance.now() - started) / 1000) + 1
      expect(denied.status).toBe(429)
      // −5 tokens: 0 remaining, full in 15 s, and 5 + 5 tokens before this request fits.
      expect(denied.headers.get('x-ratelimit-remaining')).toBe('0')
      const retry = Number(denied.headers.get('retry-after'))
      expect(retry).toBeLessThanOrEqual(10)
      expect(retry).toBeGreaterThanOrEqual(10 - slack)
      const reset = Number(denied.headers.get('x-ratelimit-reset'))
      expect(reset).toBeLessThanOrEqual(15)
      expect(reset).toBeGreaterThanOrEqual(15 - slack)
      expect(denied.headers.get('ratelimit')).toMatch(/;r=0;t=(\d+)$/)
      const t = Number(/;t=(\d+)$/.exec(denied.headers.get('ratelimit')!)![1])
      // Until the debt is paid and a token is back: 6 s.
      expect(t).toBeLessThanOrEqual(6)
      expect(t).toBeGreaterThanOrEqual(6 - slack)
      // A huge actual cost is capped: at most 10 below empty.
      const capped = await start({ refillPerSecond: 1 }, seen)
      await get(`${capped.url}/`, { 'x-actual': '1000000' })
      await seen.settled(2)
      const peeked = await capped.peek(me)
      expect(peeked.remaining).toBe(0)
      expect(peeked.resetMs).toBeLessThanOrEqual(20_000)
      expect(peeked.resetMs).toBeGreaterThan(20_000 - slack * 1000 - 1000)
    })

    it('adjusts several policies together, and a shadow policy it took from, never one it did not', async () => {
      const seen = new Seen()
      const app = await start(
        {
          capacity: undefined,
          refillPerSecond: undefined,
          policies: [
            { name: 'minute', capacity: 10, refillPerSecond: 0.001 },
            { name: 'day', capacity: 20, refillPerSecond: 0.0001 },
            { name: 'trial', capacity: 8, refillPerSecond: 0.0001, shadow: true },
            { name: 'tiny', capacity: 4, refillPerSecond: 0.0001, shadow: true },
          ],
        } as Partial<ConformanceOptions>,
        seen,
      )
      // Cost 5 passes `tiny` (a shadow of 4) untaken; then the settle to 1 touches the others.
      await get(`${app.url}/`, { 'x-actual': '1' })
      await seen.settled(1)
      const peeked = await app.peek(me)
      expect(peeked.policies.map((p) => [p.policy.name, p.remaining])).toEqual([
        ['minute', 9],
        ['day', 19],
        ['trial', 7],
        ['tiny', 4],
      ])
      // A shadow bucket is measured into debt as well, and never denies.
      await get(`${app.url}/`, { 'x-actual': '12' })
      await seen.settled(2)
      const after = await app.peek(me)
      expect(after.policies.map((p) => p.remaining)).toEqual([0, 7, 0, 4])
      expect(after.policies[2]!.resetMs).toBeGreaterThan(after.policies[0]!.resetMs)
    })

    it.each(['throw', 'reject', 'nonsense', 'fraction'])(
      'keeps the reservation and warns when settle does %s, never a 5xx',
      async (how) => {
        const seen = new Seen()
        const app = await start({}, seen)
        const answer = await get(`${app.url}/`, { 'x-actual': how })
        expect(answer.status).toBe(200)
        await seen.until(() => seen.warnings.some((w) => w.code === 'SLUICE_SETTLE_FAILED'))
        expect((await app.peek(me)).remaining).toBe(5)
        expect(app.stats()).toMatchObject({ settlesFailed: 1, settlesApplied: 0 })
        // An async settle is awaited.
        await get(`${app.url}/`, { 'x-actual': 'async' })
        await seen.settled(1)
        expect((await app.peek(me)).remaining).toBe(2)
      },
    )

    it('settles nothing for a refused request', async () => {
      const seen = new Seen()
      const app = await start({ cost: 6 }, seen)
      await get(`${app.url}/`, { 'x-actual': '6' })
      await seen.settled(1)
      expect((await get(`${app.url}/`, { 'x-actual': '0' })).status).toBe(429)
      await get(`${app.url}/`, { 'x-actual': '0' }).catch(() => undefined)
      expect((await app.peek(me)).remaining).toBe(4)
      expect(seen.settles).toHaveLength(1)
    })
  })
})
