/**
 * The token bucket in GCRA form, as pure integer arithmetic.
 *
 * A bucket's whole state is its "debt": how many nanoseconds of refill it is short of full
 * (0 = full, `capacity × interval` = empty). Tokens available = (window − debt) / interval.
 * Every quantity is a whole number of nanoseconds below 2^53, so doubles hold them exactly and
 * no rounding accumulates however many requests a bucket sees. The only rounding is done once,
 * when a rate becomes a whole-nanosecond interval (see `intervalNs` in options.ts).
 *
 * The Lua script in scripts/token-bucket.ts is the same algorithm; both are checked against a
 * reference model in the tests.
 */

export const NS_PER_MS = 1_000_000

/** The verdict of one check. */
export type CheckStatus = 'allowed' | 'denied' | 'cost-exceeds-capacity'

/** One check against one bucket: what a store is asked. */
export interface CheckRequest {
  /** The full store key of the bucket (prefix, hash tag and policy included). */
  readonly key: string
  /** Largest burst, in whole tokens (≥ 1). */
  readonly capacity: number
  /** Nanoseconds to refill one token (≥ 1): 1e9 / refillPerSecond, rounded once. */
  readonly intervalNs: number
  /** Tokens this request takes (≥ 1). */
  readonly cost: number
}

/** What a store answers for one check; every field is a whole number. */
export interface CheckReply {
  readonly status: CheckStatus
  /** floor(tokens) after this request. */
  readonly remaining: number
  /** Milliseconds until `cost` tokens are available: 0 when allowed, Infinity when they never will be. */
  readonly retryAfterMs: number
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number
  /** Milliseconds until the next whole token: 0 while `remaining > 0`. */
  readonly nextTokenMs: number
}

/** The outcome of `takeTokens`: the reply and the bucket's debt afterwards. */
export interface BucketStep {
  readonly reply: CheckReply
  readonly debtNs: number
}

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

/**
 * Apply one check to a bucket that is `debtNs` short of full (0 ≤ debtNs ≤ window).
 * Denied checks take nothing.
 */
export function takeTokens(debtNs: number, check: Pick<CheckRequest, 'capacity' | 'intervalNs' | 'cost'>): BucketStep {
  const { capacity, intervalNs, cost } = check
  const window = capacity * intervalNs
  let status: CheckStatus
  let debt = debtNs
  let retryAfterMs = 0
  if (cost > capacity) {
    status = 'cost-exceeds-capacity'
    retryAfterMs = Number.POSITIVE_INFINITY
  } else if (debt + cost * intervalNs <= window) {
    status = 'allowed'
    debt += cost * intervalNs
  } else {
    status = 'denied'
    retryAfterMs = ceilMs(debt + cost * intervalNs - window)
  }
  const remaining = floorDiv(window - debt, intervalNs)
  const nextTokenMs = remaining > 0 ? 0 : ceilMs(debt + intervalNs - window)
  return { reply: { status, remaining, retryAfterMs, resetMs: ceilMs(debt), nextTokenMs }, debtNs: debt }
}
