import fc from 'fast-check'
import { expect } from 'vitest'
import type { BucketPolicy, BucketReply, CheckReply, CheckRequest, CheckStatus, SettleRequest } from '../../src/types.js'

/**
 * A plain reference model of checks and settles, for property tests of the memory store and of
 * the script: tokens (scaled by the interval, in BigInt) rather than arrival times, so it shares
 * no arithmetic with the GCRA code under test. A settle moves tokens by −delta, clamped to
 * [−capacity, capacity]: debt of at most the capacity, never above full.
 */
export class ReferenceBucket {
  readonly capacity: bigint
  readonly interval: bigint
  scaledTokens: bigint // tokens × interval, down to −capacity × interval
  #last: bigint | undefined

  constructor(capacity: number, intervalNs: number) {
    this.capacity = BigInt(capacity)
    this.interval = BigInt(intervalNs)
    this.scaledTokens = this.capacity * this.interval
  }

  get #full(): bigint {
    return this.capacity * this.interval
  }

  refill(nowNs: bigint): void {
    if (this.#last !== undefined) {
      const refilled = this.scaledTokens + (nowNs - this.#last)
      // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min does not take
      this.scaledTokens = refilled < this.#full ? refilled : this.#full
    }
    this.#last = nowNs
  }

  status(cost: number): CheckStatus {
    if (BigInt(cost) > this.capacity) return 'cost-exceeds-capacity'
    return this.scaledTokens >= BigInt(cost) * this.interval ? 'allowed' : 'denied'
  }

  settle(delta: number): void {
    const next = this.scaledTokens - BigInt(delta) * this.interval
    this.scaledTokens = next > this.#full ? this.#full : next < -this.#full ? -this.#full : next
  }

  reply(status: CheckStatus, taken: boolean, cost: number): BucketReply {
    if (taken) this.scaledTokens -= BigInt(cost) * this.interval
    const ceilMs = (ns: bigint): number => Number((ns + 999_999n) / 1_000_000n)
    const tokens = this.scaledTokens
    // Told never below 0 (BigInt division truncates toward 0, and a debt floors to 0 anyway).
    const remaining = tokens <= 0n ? 0 : Number(tokens / this.interval)
    const retryAfterMs =
      status === 'allowed' ? 0 : status === 'denied' ? ceilMs(BigInt(cost) * this.interval - tokens) : Number.POSITIVE_INFINITY
    return {
      status,
      taken,
      remaining,
      retryAfterMs,
      resetMs: ceilMs(this.#full - tokens),
      nextTokenMs: tokens === this.#full ? 0 : ceilMs(BigInt(remaining + 1) * this.interval - tokens),
    }
  }
}

export function referenceCheck(buckets: ReferenceBucket[], enforce: boolean[], nowNs: bigint, cost: number): CheckReply {
  for (const b of buckets) b.refill(nowNs)
  const statuses = buckets.map((b) => b.status(cost))
  const admitted = statuses.every((s, i) => !enforce[i] || s === 'allowed')
  return { admitted, buckets: buckets.map((b, i) => b.reply(statuses[i]!, admitted && statuses[i] === 'allowed', cost)) }
}

export function referenceSettle(buckets: ReferenceBucket[], nowNs: bigint, delta: number): CheckReply {
  for (const b of buckets) {
    b.refill(nowNs)
    b.settle(delta)
  }
  return { admitted: true, buckets: buckets.map((b) => b.reply('allowed', false, 1)) }
}

const MODULUS_S = 8_388_608 // the script's clock wraps every 2^23 s

const bucketSpec = fc.record({
  capacity: fc.integer({ min: 1, max: 50 }),
  intervalNs: fc.oneof(fc.integer({ min: 1_000, max: 10_000_000_000 }), fc.constantFrom(333_333_333, 142_857_143, 100_000_000)),
  enforce: fc.oneof(fc.constant(true), fc.boolean()),
})

/** Random sequences of checks and settles of earlier admitted checks (each settled once), over one to three buckets. */
export const settleScenario = fc.record({
  buckets: fc.array(bucketSpec, { minLength: 1, maxLength: 3 }),
  startS: fc.oneof(
    fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
    fc.integer({ min: 1, max: 30 }).map((k) => 203 * MODULUS_S - k),
  ),
  steps: fc.array(
    fc.record({
      dtUs: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 20_000_000 })),
      cost: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 60 })),
      // Settle one of the open admitted checks (by index, modulo), at this actual cost.
      settle: fc.option(
        fc.record({ pick: fc.nat(), actual: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 200 })) }),
        {
          freq: 2,
        },
      ),
    }),
    { minLength: 1, maxLength: 40 },
  ),
})

export type SettleScenario = typeof settleScenario extends fc.Arbitrary<infer T> ? T : never

/** What a store under test does: a check or a settle at `nowUs` (Redis time, µs). */
export interface Subject {
  check(request: CheckRequest, nowUs: bigint): Promise<CheckReply> | CheckReply
  settle(request: SettleRequest, nowUs: bigint): Promise<CheckReply> | CheckReply
}

/** Run a scenario against the reference and `subject`, expecting every reply to agree. */
export async function agrees(s: SettleScenario, id: number, subject: Subject): Promise<void> {
  const reference = s.buckets.map((b) => new ReferenceBucket(b.capacity, b.intervalNs))
  const enforce = s.buckets.map((b) => b.enforce)
  const policies: BucketPolicy[] = s.buckets.map((b) => ({ capacity: b.capacity, intervalNs: b.intervalNs, shadow: !b.enforce }))
  const keys = s.buckets.map((_, i) => `settle-prop:{${id}}:${i}`)
  let nowUs = BigInt(s.startS) * 1_000_000n
  // Admitted checks not yet settled: the indexes of the buckets they took from, and their cost.
  const open: { taken: number[]; cost: number }[] = []
  for (const step of s.steps) {
    nowUs += BigInt(step.dtUs)
    if (step.settle !== null && open.length > 0) {
      const [{ taken, cost }] = open.splice(step.settle.pick % open.length, 1) as [{ taken: number[]; cost: number }]
      const delta = step.settle.actual - cost
      if (delta !== 0 && taken.length > 0) {
        const expected = referenceSettle(
          taken.map((i) => reference[i]!),
          nowUs * 1_000n,
          delta,
        )
        const request = { keys: taken.map((i) => keys[i]!), policies: taken.map((i) => policies[i]!), delta }
        expect(await subject.settle(request, nowUs)).toEqual(expected)
      }
      continue
    }
    const expected = referenceCheck(reference, enforce, nowUs * 1_000n, step.cost)
    expect(await subject.check({ keys, policies, cost: step.cost }, nowUs)).toEqual(expected)
    if (expected.admitted) {
      open.push({ taken: expected.buckets.flatMap((b, i) => (b.taken ? [i] : [])), cost: step.cost })
    }
  }
}
