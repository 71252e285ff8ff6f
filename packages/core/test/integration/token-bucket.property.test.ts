import fc from 'fast-check'
import { startRedis, type RedisServer } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CheckReply } from '../../src/bucket.js'
import { TOKEN_BUCKET_LUA_TEST_CLOCK } from '../../src/scripts/token-bucket.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { parseReply } from '../../src/stores/redis-store.js'

/**
 * The Lua script and the memory store against a plain reference model, on random sequences of
 * (time step, cost). The model counts tokens (scaled by the interval, in BigInt) rather than
 * arrival times, so it shares no arithmetic with the GCRA code under test.
 */
class ReferenceBucket {
  readonly #capacity: bigint
  readonly #interval: bigint
  #scaledTokens: bigint // tokens × interval
  #last: bigint | undefined

  constructor(capacity: number, intervalNs: number) {
    this.#capacity = BigInt(capacity)
    this.#interval = BigInt(intervalNs)
    this.#scaledTokens = this.#capacity * this.#interval
  }

  check(nowNs: bigint, cost: number): CheckReply {
    const full = this.#capacity * this.#interval
    if (this.#last !== undefined) {
      const refilled = this.#scaledTokens + (nowNs - this.#last)
      this.#scaledTokens = refilled < full ? refilled : full
    }
    this.#last = nowNs
    const need = BigInt(cost) * this.#interval
    const ceilMs = (ns: bigint): number => Number((ns + 999_999n) / 1_000_000n)
    let status: CheckReply['status']
    let retryAfterMs = 0
    if (BigInt(cost) > this.#capacity) {
      status = 'cost-exceeds-capacity'
      retryAfterMs = Number.POSITIVE_INFINITY
    } else if (this.#scaledTokens >= need) {
      status = 'allowed'
      this.#scaledTokens -= need
    } else {
      status = 'denied'
      retryAfterMs = ceilMs(need - this.#scaledTokens)
    }
    const remaining = Number(this.#scaledTokens / this.#interval)
    const nextTokenMs = remaining > 0 ? 0 : ceilMs(this.#interval - this.#scaledTokens)
    return { status, remaining, retryAfterMs, resetMs: ceilMs(full - this.#scaledTokens), nextTokenMs }
  }
}

const MODULUS_S = 8_388_608 // the script's clock wraps every 2^23 s

const scenario = fc.record({
  capacity: fc.integer({ min: 1, max: 50 }),
  // Intervals from 1 µs to 10 s, including ones no decimal rate hits exactly.
  intervalNs: fc.oneof(fc.integer({ min: 1_000, max: 10_000_000_000 }), fc.constantFrom(333_333_333, 142_857_143, 100_000_000)),
  // Start anywhere, including just before the script's clock wraps around.
  startS: fc.oneof(fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }), fc.integer({ min: 1, max: 30 }).map((k) => 203 * MODULUS_S - k)),
  steps: fc.array(
    fc.record({
      dtUs: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 20_000_000 })),
      cost: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 60 })),
    }),
    { minLength: 1, maxLength: 40 },
  ),
})

let server: RedisServer
let redis: Redis
let run = 0
type TestScript = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
  redis.defineCommand('sluiceTestClockBucket', { lua: TOKEN_BUCKET_LUA_TEST_CLOCK })
})
afterAll(async () => {
  await server.stop()
})

describe('token bucket: script and memory store against a reference model', () => {
  it('agree on every reply of random sequences', async () => {
    const script = (redis as unknown as { sluiceTestClockBucket: TestScript }).sluiceTestClockBucket.bind(redis)
    await fc.assert(
      fc.asyncProperty(scenario, async ({ capacity, intervalNs, startS, steps }) => {
        const key = `prop:${++run}`
        const reference = new ReferenceBucket(capacity, intervalNs)
        let nowUs = BigInt(startS) * 1_000_000n
        let memoryNow = 0
        const memory = new MemoryStore({ clock: () => memoryNow })
        for (const { dtUs, cost } of steps) {
          nowUs += BigInt(dtUs)
          memoryNow += dtUs * 1_000
          const expected = reference.check(nowUs * 1_000n, cost)
          const request = { key, capacity, intervalNs, cost }
          expect(memory.checkSync(request)).toEqual(expected)
          const raw = await script(1, key, intervalNs, capacity, cost, String(nowUs / 1_000_000n), String(nowUs % 1_000_000n))
          expect(parseReply(raw, 0)).toEqual(expected)
        }
      }),
      { numRuns: 150 },
    )
  })
})
