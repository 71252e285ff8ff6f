import { type RedisServer, startRedis } from '@sluice/harness'
import fc from 'fast-check'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_BUCKET_LUA_TEST_CLOCK } from '../../src/scripts/token-bucket.js'
import { checkOp, decodeBatch, encodeBatch } from '../../src/scripts/wire.js'
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
      nextTokenMs:
        this.scaledTokens === this.capacity * this.interval ? 0 : ceilMs(BigInt(remaining + 1) * this.interval - this.scaledTokens),
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

const start = fc.oneof(
  fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
  // Just before the script's clock wraps around.
  fc.integer({ min: 1, max: 30 }).map((k) => 203 * MODULUS_S - k),
)

const scenario = fc.record({
  buckets: fc.array(bucketSpec, { minLength: 1, maxLength: 3 }),
  startS: start,
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
        const policies = buckets.map((b) => ({ capacity: b.capacity, intervalNs: b.intervalNs, shadow: !b.enforce }))
        let nowUs = BigInt(startS) * 1_000_000n
        let memoryNow = 0
        const memory = new MemoryStore({ clock: () => memoryNow })
        for (const { dtUs, cost } of steps) {
          nowUs += BigInt(dtUs)
          memoryNow += dtUs * 1_000
          const expected = referenceCheck(reference, enforce, nowUs * 1_000n, cost)
          const request = { keys: buckets.map((_, i) => `prop:{${id}}:${i}`), policies, cost }
          expect(memory.checkSync(request)).toEqual(expected)
          const { keys, args } = encodeBatch([checkOp(request)], 0)
          const raw = await script(keys.length, ...keys, ...args, String(nowUs / 1_000_000n), String(nowUs % 1_000_000n))
          expect(decodeBatch(raw, [checkOp(request)]).steps[0]!.reply).toEqual(expected)
        }
      }),
      { numRuns: 150 },
    )
  })
})

/**
 * A batch reads each key once and writes it once: many checks of overlapping keys in one call,
 * several policies each, must answer exactly as the same checks run one by one.
 */
const batchScenario = fc.record({
  buckets: fc.array(bucketSpec, { minLength: 1, maxLength: 4 }),
  startS: start,
  rounds: fc.array(
    fc.record({
      dtUs: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 20_000_000 })),
      // Each check: which buckets (by index, deduplicated) and its cost.
      checks: fc.array(fc.record({ picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), cost: fc.integer({ min: 1, max: 20 }) }), {
        minLength: 1,
        maxLength: 12,
      }),
    }),
    { minLength: 1, maxLength: 12 },
  ),
})

describe('token bucket: a coalesced batch against the same checks one by one', () => {
  it('agree on every reply, and leave every key as the reference does', async () => {
    const script = (redis as unknown as { sluiceTestClockBucket: TestScript }).sluiceTestClockBucket.bind(redis)
    await fc.assert(
      fc.asyncProperty(batchScenario, async ({ buckets, startS, rounds }) => {
        const id = ++run
        const reference = buckets.map((b) => new ReferenceBucket(b.capacity, b.intervalNs))
        // Shared frozen objects, as the limiter passes them, and one equal copy that is not shared.
        const policies = buckets.map((b) => Object.freeze({ capacity: b.capacity, intervalNs: b.intervalNs, shadow: !b.enforce }))
        let nowUs = BigInt(startS) * 1_000_000n
        for (const { dtUs, checks } of rounds) {
          nowUs += BigInt(dtUs)
          const requests = checks.map(({ picks, cost }) => {
            const chosen = [...new Set(picks.map((p) => p % buckets.length))]
            return {
              chosen,
              request: {
                keys: chosen.map((i) => `batch:{${id}}:${i}`),
                policies: chosen.map((i, j) => (j === 1 ? { ...policies[i]! } : policies[i]!)),
                cost,
              },
            }
          })
          const expected = requests.map(({ chosen, request }) =>
            referenceCheck(
              chosen.map((i) => reference[i]!),
              chosen.map((i) => buckets[i]!.enforce),
              nowUs * 1_000n,
              request.cost,
            ),
          )
          const batch = requests.map((r) => r.request)
          const { keys, args } = encodeBatch(batch.map(checkOp), 0)
          expect(new Set(keys).size).toBe(keys.length)
          const raw = await script(keys.length, ...keys, ...args, String(nowUs / 1_000_000n), String(nowUs % 1_000_000n))
          expect(decodeBatch(raw, batch.map(checkOp)).steps.map((step) => step.reply)).toEqual(expected)
        }
      }),
      { numRuns: 100 },
    )
  })
})
