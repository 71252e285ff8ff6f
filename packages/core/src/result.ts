import type { BucketReply, CheckReply, CheckStatus } from './bucket.js'
import type { ResolvedPolicy } from './policies.js'

/** How one policy saw the request. */
export interface PolicyResult extends BucketReply {
  readonly policy: ResolvedPolicy
  /** The store key of its bucket (hashed where it came from a secret). */
  readonly key: string
}

/**
 * The outcome of one rate-limit check, as handlers read it on the request. The top-level
 * numbers are those of the binding policy: the one that denied with the longest wait, or, when
 * admitted, the enforcing one with the fewest tokens left.
 */
export interface RateLimitResult {
  /** True when the request was admitted. */
  readonly allowed: boolean
  /** `allowed`; `denied` (retry later); or `cost-exceeds-capacity` (no retry can succeed). */
  readonly status: CheckStatus
  /** The binding policy. */
  readonly policy: ResolvedPolicy
  /** The binding policy's capacity (the `X-RateLimit-Limit` value). */
  readonly limit: number
  readonly remaining: number
  /** Milliseconds until the request could be admitted: the longest wait among the violated policies. */
  readonly retryAfterMs: number
  readonly resetMs: number
  readonly nextTokenMs: number
  /** Tokens this request asked for. */
  readonly cost: number
  /** The binding policy's store key. */
  readonly key: string
  /**
   * True when the shared store was unavailable and this replica's local buckets answered; the
   * policies (and the headers) then describe those local buckets.
   */
  readonly degraded: boolean
  /** Every policy, shadow ones included, in configuration order. */
  readonly policies: readonly PolicyResult[]
  /** Names of the enforcing policies that denied the request. */
  readonly violated: readonly string[]
}

function binding(results: readonly PolicyResult[], admitted: boolean): PolicyResult {
  const enforcing = results.filter((r) => !r.policy.shadow)
  if (enforcing.length === 0) return results[0]!
  if (!admitted) {
    return enforcing.filter((r) => r.status !== 'allowed').reduce((a, b) => (b.retryAfterMs > a.retryAfterMs ? b : a))
  }
  return enforcing.reduce((a, b) => (b.remaining < a.remaining ? b : a))
}

export function summarize(
  reply: CheckReply,
  policies: readonly ResolvedPolicy[],
  keys: readonly string[],
  cost: number,
  degraded: boolean,
): RateLimitResult {
  const results = reply.buckets.map(
    (b, i): PolicyResult => ({
      status: b.status,
      taken: b.taken,
      remaining: b.remaining,
      retryAfterMs: b.retryAfterMs,
      resetMs: b.resetMs,
      nextTokenMs: b.nextTokenMs,
      policy: policies[i]!,
      key: keys[i]!,
    }),
  )
  const violated = results.filter((r) => !r.policy.shadow && r.status !== 'allowed')
  const top = binding(results, reply.admitted)
  const status: CheckStatus = reply.admitted
    ? 'allowed'
    : violated.some((r) => r.status === 'cost-exceeds-capacity')
      ? 'cost-exceeds-capacity'
      : 'denied'
  return {
    allowed: reply.admitted,
    status,
    policy: top.policy,
    limit: top.policy.capacity,
    remaining: top.remaining,
    retryAfterMs: reply.admitted ? 0 : top.retryAfterMs,
    resetMs: top.resetMs,
    nextTokenMs: top.nextTokenMs,
    cost,
    key: top.key,
    degraded,
    policies: results,
    violated: violated.map((r) => r.policy.name),
  }
}
