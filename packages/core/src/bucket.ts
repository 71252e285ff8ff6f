import type { BucketPolicy, BucketReply, CheckReply, CheckRequest, CheckStatus, CheckStep, SettleRequest } from './types.js'

/**
 * The token bucket in GCRA form, as pure integer arithmetic.
 *
 * A bucket's whole state is its "debt": how many nanoseconds of refill it is short of full
 * (0 = full, `capacity × interval` = empty, up to twice that after a settle's extra charge: a
 * bucket owes at most its capacity below empty). Tokens available = (window − debt) / interval,
 * negative in debt; a client is told never less than 0.
 * Every quantity is a whole number of nanoseconds below 2^53, so doubles hold them exactly and
 * no rounding accumulates however many requests a bucket sees. The only rounding is done once,
 * when a rate becomes a whole-nanosecond interval (see `resolvePolicy`).
 *
 * A check covers one or more buckets (one per policy) and is all or nothing: it is admitted
 * only if every enforcing bucket can afford its cost, and then every bucket that can afford it
 * pays; otherwise none pays. Shadow buckets are measured but never deny.
 *
 * The Lua script in scripts/token-bucket.ts is the same algorithm, and returns each bucket's
 * status and debt; `describeBucket` turns those into what a client is told, for both stores.
 * Both are checked against a reference model in the tests.
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

/** Whether a bucket `debt` ns short of full can afford `cost` tokens. */
export function affords(debt: number, policy: BucketPolicy, cost: number): CheckStatus {
  if (cost > policy.capacity) return 'cost-exceeds-capacity'
  return debt + cost * policy.intervalNs <= policy.capacity * policy.intervalNs ? 'allowed' : 'denied'
}

/** Whether a check whose buckets answered `statuses` is admitted: every enforcing one can afford it. */
export function admits(statuses: readonly CheckStatus[], policies: readonly BucketPolicy[]): boolean {
  for (let i = 0; i < statuses.length; i++) {
    if (!policies[i]!.shadow && statuses[i] !== 'allowed') return false
  }
  return true
}

/** What a bucket that is `debt` ns short of full after a check tells the client. */
export function describeBucket(debt: number, policy: BucketPolicy, cost: number, status: CheckStatus, admitted: boolean): BucketReply {
  const { capacity, intervalNs } = policy
  const window = capacity * intervalNs
  // In debt (a settle charged more than the bucket held) a client is told 0, never less.
  const remaining = Math.max(0, floorDiv(window - debt, intervalNs))
  return {
    status,
    taken: admitted && status === 'allowed',
    remaining,
    retryAfterMs: status === 'allowed' ? 0 : status === 'denied' ? ceilMs(debt + cost * intervalNs - window) : Number.POSITIVE_INFINITY,
    resetMs: ceilMs(debt),
    // The next whole token arrives when the debt is down to the room for `remaining + 1`.
    nextTokenMs: debt === 0 ? 0 : ceilMs(debt + (remaining + 1) * intervalNs - window),
  }
}

/** The most debt a bucket can carry: its capacity below empty, two windows. */
export function maxDebtNs(policy: BucketPolicy): number {
  return 2 * policy.capacity * policy.intervalNs
}

/** A stored debt as every read takes it: clamped to [0, two windows]. */
export function clampDebt(debt: number, policy: BucketPolicy): number {
  return Math.min(Math.max(debt, 0), maxDebtNs(policy))
}

/**
 * Apply one settle to buckets that are `debtsNs` short of full: `delta` tokens more debt on
 * each (up to two windows), or fewer (never below full). The reply describes each bucket after
 * it, as a check of one token that paid nothing would. The store leaves a missing key alone on
 * a refund; here a full bucket's refund is 0 anyway.
 */
export function applySettle(debtsNs: readonly number[], request: SettleRequest): CheckStep {
  const { policies, delta } = request
  const debts = policies.map((policy, i) => clampDebt(debtsNs[i]! + delta * policy.intervalNs, policy))
  const reply: CheckReply = {
    admitted: true,
    buckets: policies.map((policy, i) => describeBucket(debts[i]!, policy, 1, 'allowed', false)),
  }
  return { reply, debtsNs: debts }
}

/**
 * Apply one check to buckets that are `debtsNs` short of full (0 ≤ debt ≤ two windows each).
 * A check that is not admitted takes nothing from any bucket. `blocked`: something else the
 * check needs refused it (an in-flight slot), so no bucket pays either.
 */
export function applyCheck(
  debtsNs: readonly number[],
  request: Pick<CheckRequest, 'policies' | 'cost' | 'dryRun'>,
  blocked = false,
): CheckStep {
  const { policies, cost } = request
  const statuses = policies.map((policy, i) => affords(debtsNs[i]!, policy, cost))
  const admitted = !blocked && admits(statuses, policies)
  // A dry run answers whether the check would be admitted, and pays nothing.
  const pays = admitted && request.dryRun !== true
  const debts = policies.map((policy, i) => (pays && statuses[i] === 'allowed' ? debtsNs[i]! + cost * policy.intervalNs : debtsNs[i]!))
  const reply: CheckReply = {
    admitted,
    buckets: policies.map((policy, i) => describeBucket(debts[i]!, policy, cost, statuses[i]!, pays)),
  }
  return { reply, debtsNs: debts }
}
