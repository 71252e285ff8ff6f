import { type RedisServer, startRedis } from '@sluice/harness'
import fc from 'fast-check'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_BUCKET_LUA_TEST_CLOCK } from '../../src/scripts/token-bucket.js'
import { decodeReply, encodeChecks } from '../../src/scripts/wire.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import type { BucketReply, CheckReply, CheckStatus } from '../../src/types.js'

/**
 * The Lua script and the memory store against a plain reference model, on random sequences of
 * (time step, cost) over one to three buckets, some of them shadow. The model counts tokens
 * (scaled by the interval, in BigInt) rather than arrival times, so it shares no arithmetic with
 * the GCRA code under test.
 */
class ReferenceBucket {
  readonly capacity: bigint
  readonly interval: bigint
  scaledTokens: bigint // tokens × interval
  #last: bigint | undefined

  constructor(capacity: number, intervalNs: number) {
    this.capacity = BigInt(capacity)
    this.interval = BigInt(intervalNs)
    this.scaledTokens = this.capacity * this.interval
  }

  refill(nowNs: bigint): void {
    const full = this.capacity * this.interval
    if (this.#last !== undefined) {
      const refilled = this.scaledTokens + (nowNs - this.#last)
      // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min does not take
      this.scaledTokens = refilled < full ? refilled : full
    }
    this.#last = nowNs
  }

  status(cost: number): CheckStatus {
    if (BigInt(cost) > this.capacity) return 'cost-exceeds-capacity'
    return this.scaledTokens >= BigInt(cost) * this.interval ? 'allowed' : 'denied'
  }

  reply(status: CheckStatus, taken: boolean, cost: number): BucketReply {
    if (taken) this.scaledTokens -= BigInt(cost) * this.interval
    const ceilMs = (ns: bigint): number => Number((ns + 999_999n) / 1_000_000n)
    const remaining = Number(this.scaledTokens / this.interval)
    const retryAfterMs =
      status === 'allowed' ? 0 : status === 'denied' ? ceilMs(BigInt(cost) * this.interval - this.scaledTokens) : Number.POSITIVE_INFINITY
    return {
      status,
      taken,
      remaining,
      retryAfterMs,
      resetMs: ceilMs(this.capacity * this.interval - this.scaledTokens),
      nextTokenMs: remaining > 0 ? 0 : ceilMs(this.interval - this.scaledTokens),
    }
  }
}

function referenceCheck(buckets: ReferenceBucket[], enforce: boolean[], nowNs: bigint, cost: number): CheckReply {
  for (const b of buckets) b.refill(nowNs)
  const statuses = buckets.map((b) => b.status(cost))
  const admitted = statuses.every((s, i) => !enforce[i] || s === 'allowed')
  return { admitted, buckets: buckets.map((b, i) => b.reply(statuses[i]!, admitted && statuses[i] === 'allowed', cost)) }
}

const MODULUS_S = 8_388_608 // the script's clock wraps every 2^23 s

const bucketSpec = fc.record({
  capacity: fc.integer({ min: 1, max: 50 }),
  // Intervals from 1 µs to 10 s, including ones no decimal rate hits exactly.
  intervalNs: fc.oneof(fc.integer({ min: 1_000, max: 10_000_000_000 }), fc.constantFrom(333_333_333, 142_857_143, 100_000_000)),
  enforce: fc.oneof(fc.constant(true), fc.boolean()),
})

const scenario = fc.record({
  buckets: fc.array(bucketSpec, { minLength: 1, maxLength: 3 }),
  // Start anywhere, including just before the script's clock wraps around.
  startS: fc.oneof(
    fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
    fc.integer({ min: 1, max: 30 }).map((k) => 203 * MODULUS_S - k),
  ),
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
      fc.asyncProperty(scenario, async ({ buckets, startS, steps }) => {
        const id = ++run
        const reference = buckets.map((b) => new ReferenceBucket(b.capacity, b.intervalNs))
        const enforce = buckets.map((b) => b.enforce)
        let nowUs = BigInt(startS) * 1_000_000n
        let memoryNow = 0
        const memory = new MemoryStore({ clock: () => memoryNow })
        for (const { dtUs, cost } of steps) {
          nowUs += BigInt(dtUs)
          memoryNow += dtUs * 1_000
          const expected = referenceCheck(reference, enforce, nowUs * 1_000n, cost)
          const request = { buckets: buckets.map((b, i) => ({ key: `prop:{${id}}:${i}`, ...b, cost })) }
          expect(memory.checkSync(request)).toEqual(expected)
          const { keys, args } = encodeChecks([request])
          const raw = await script(keys.length, ...keys, ...args, String(nowUs / 1_000_000n), String(nowUs % 1_000_000n))
          expect(decodeReply(raw, [request])[0]!.reply).toEqual(expected)
        }
      }),
      { numRuns: 150 },
    )
  })
})
