import type { BucketReply, BucketRequest, CheckStatus, CheckStep } from './types.js'
/**
 * The token bucket in GCRA form, as pure integer arithmetic.
 *
 * A bucket's whole state is its "debt": how many nanoseconds of refill it is short of full
 * (0 = full, `capacity × interval` = empty). Tokens available = (window − debt) / interval.
 * Every quantity is a whole number of nanoseconds below 2^53, so doubles hold them exactly and
 * no rounding accumulates however many requests a bucket sees. The only rounding is done once,
 * when a rate becomes a whole-nanosecond interval (see `intervalNs` in options.ts).
 *
 * A check covers one or more buckets (one per policy) and is all or nothing: it is admitted
 * only if every enforcing bucket can afford its cost, and then every bucket that can afford it
 * pays; otherwise none pays. Shadow buckets (`enforce: false`) are measured but never deny.
 *
 * The Lua script in scripts/token-bucket.ts is the same algorithm; both are checked against a
 * reference model in the tests.
 */

export const NS_PER_MS = 1_000_000

export function floorDiv(a: number, b: number): number {
  // Guard against a quotient rounded up to the next integer by the float division.
  let q = Math.floor(a / b)
  if (q * b > a) q -= 1
  else if ((q + 1) * b <= a) q += 1
  return q
}

export function ceilMs(ns: number): number {
  return floorDiv(ns + NS_PER_MS - 1, NS_PER_MS)
}

type Bucket = Pick<BucketRequest, 'capacity' | 'intervalNs' | 'cost' | 'enforce'>

function affords(debt: number, bucket: Bucket): CheckStatus {
  if (bucket.cost > bucket.capacity) return 'cost-exceeds-capacity'
  return debt + bucket.cost * bucket.intervalNs <= bucket.capacity * bucket.intervalNs ? 'allowed' : 'denied'
}

/**
 * Apply one check to buckets that are `debtsNs` short of full (0 ≤ debt ≤ window each).
 * A check that is not admitted takes nothing from any bucket.
 */
export function applyCheck(debtsNs: readonly number[], buckets: readonly Bucket[]): CheckStep {
  const statuses = buckets.map((bucket, i) => affords(debtsNs[i]!, bucket))
  const admitted = buckets.every((bucket, i) => !bucket.enforce || statuses[i] === 'allowed')
  const debts: number[] = []
  const replies = buckets.map((bucket, i): BucketReply => {
    const { capacity, intervalNs, cost } = bucket
    const window = capacity * intervalNs
    const status = statuses[i]!
    const taken = admitted && status === 'allowed'
    const debt = taken ? debtsNs[i]! + cost * intervalNs : debtsNs[i]!
    debts.push(debt)
    const retryAfterMs =
      status === 'allowed' ? 0 : status === 'denied' ? ceilMs(debt + cost * intervalNs - window) : Number.POSITIVE_INFINITY
    const remaining = floorDiv(window - debt, intervalNs)
    const nextTokenMs = remaining > 0 ? 0 : ceilMs(debt + intervalNs - window)
    return { status, taken, remaining, retryAfterMs, resetMs: ceilMs(debt), nextTokenMs }
  })
  return { reply: { admitted, buckets: replies }, debtsNs: debts }
}
