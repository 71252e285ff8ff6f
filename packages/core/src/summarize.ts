import type { CheckReply, PolicyResult, RateLimitResult, ResolvedPolicy } from './types.js'

const NONE: readonly string[] = Object.freeze([])

/**
 * The result of a check, as handlers read it on the request. Its top-level numbers are those of
 * the binding policy: when denied, the violated policy with the longest wait; when admitted, the
 * enforcing policy with the fewest tokens left; with only shadow policies, the first. One pass,
 * since it runs on every request.
 */
export function summarize(
  reply: CheckReply,
  policies: readonly ResolvedPolicy[],
  keys: readonly string[],
  cost: number,
  degraded: boolean,
): RateLimitResult {
  const admitted = reply.admitted
  const results: PolicyResult[] = []
  let top: PolicyResult | undefined
  let violated: string[] | undefined
  let neverAffordable = false
  for (let i = 0; i < reply.buckets.length; i++) {
    const b = reply.buckets[i]!
    const policy = policies[i]!
    const result: PolicyResult = {
      status: b.status,
      taken: b.taken,
      remaining: b.remaining,
      retryAfterMs: b.retryAfterMs,
      resetMs: b.resetMs,
      nextTokenMs: b.nextTokenMs,
      policy,
      key: keys[i]!,
    }
    results.push(result)
    if (policy.shadow) continue
    if (b.status !== 'allowed') {
      if (violated === undefined) violated = []
      violated.push(policy.name)
      if (b.status === 'cost-exceeds-capacity') neverAffordable = true
      if (!admitted && (top === undefined || b.retryAfterMs > top.retryAfterMs)) top = result
    } else if (admitted && (top === undefined || b.remaining < top.remaining)) {
      top = result
    }
  }
  const binding = top ?? results[0]!
  return {
    allowed: admitted,
    status: admitted ? 'allowed' : neverAffordable ? 'cost-exceeds-capacity' : 'denied',
    policy: binding.policy,
    limit: binding.policy.capacity,
    remaining: binding.remaining,
    used: binding.policy.capacity - binding.remaining,
    resetTime: new Date(Date.now() + binding.resetMs),
    retryAfterMs: admitted ? 0 : binding.retryAfterMs,
    resetMs: binding.resetMs,
    nextTokenMs: binding.nextTokenMs,
    cost,
    key: binding.key,
    degraded,
    policies: results,
    violated: violated ?? NONE,
  }
}
