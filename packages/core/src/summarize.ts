import type { CheckReply, CheckStatus, PolicyResult, RateLimitResult, ResolvedPolicy } from './types.js'

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
