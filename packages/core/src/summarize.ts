import type {
  CheckReply,
  PolicyResult,
  RateLimitResult,
  ResolvedConcurrencyPolicy,
  ResolvedPolicy,
  SlotClaim,
  SlotResult,
} from './types.js'

const NONE: readonly string[] = Object.freeze([])
const NO_SLOTS: readonly SlotResult[] = Object.freeze([])
/** How long a client refused a slot is told to wait: no honest bound exists (a slot frees when some response ends). */
export const SLOT_RETRY_MS = 1_000

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
  slotPolicies?: readonly ResolvedConcurrencyPolicy[],
  slotClaims?: readonly SlotClaim[],
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
  const slots = slotResults(reply, slotPolicies, slotClaims)
  if (slots.length > 0) return withSlots(reply, results, top, violated ?? [], neverAffordable, slots, cost, degraded)
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
    slots: NO_SLOTS,
    violated: violated ?? NONE,
  }
}

function slotResults(
  reply: CheckReply,
  policies: readonly ResolvedConcurrencyPolicy[] | undefined,
  claims: readonly SlotClaim[] | undefined,
): readonly SlotResult[] {
  if (reply.slots === undefined || policies === undefined || claims === undefined || reply.slots.length === 0) return NO_SLOTS
  return reply.slots.map((s, i) => ({ status: s.status, taken: s.taken, free: s.free, policy: policies[i]!, key: claims[i]!.key }))
}

/**
 * A result with in-flight limits: the token-bucket numbers as without them, whenever there is a
 * bucket; with none, the binding policy is the in-flight limit that refused (or has the fewest
 * free slots), its limit `concurrency` and its remaining the free slots. A slot refusal waits
 * `SLOT_RETRY_MS`, or the buckets' wait when that is longer.
 */
function withSlots(
  reply: CheckReply,
  buckets: readonly PolicyResult[],
  top: PolicyResult | undefined,
  violated: string[],
  neverAffordable: boolean,
  slots: readonly SlotResult[],
  cost: number,
  degraded: boolean,
): RateLimitResult {
  const admitted = reply.admitted
  let tightest: SlotResult | undefined
  let slotRefused = false
  for (const s of slots) {
    if (s.status !== 'allowed') {
      slotRefused = true
      violated.push(s.policy.name)
      if (tightest === undefined || tightest.status === 'allowed') tightest = s
    } else if (tightest === undefined || (tightest.status === 'allowed' && s.free < tightest.free)) {
      tightest = s
    }
  }
  const bucketWait = admitted ? 0 : (top?.retryAfterMs ?? 0)
  const retryAfterMs = admitted ? 0 : Math.max(bucketWait, slotRefused ? SLOT_RETRY_MS : 0)
  const status = admitted ? 'allowed' : neverAffordable ? 'cost-exceeds-capacity' : 'denied'
  const bucket = top ?? buckets[0]
  const common = {
    allowed: admitted,
    status,
    cost,
    degraded,
    policies: buckets,
    slots,
    violated: violated.length === 0 ? NONE : violated,
    retryAfterMs,
  } as const
  if (bucket !== undefined) {
    return {
      ...common,
      policy: bucket.policy,
      limit: bucket.policy.capacity,
      remaining: bucket.remaining,
      used: bucket.policy.capacity - bucket.remaining,
      resetTime: new Date(Date.now() + bucket.resetMs),
      resetMs: bucket.resetMs,
      nextTokenMs: bucket.nextTokenMs,
      key: bucket.key,
    }
  }
  const slot = tightest!
  return {
    ...common,
    policy: slot.policy,
    limit: slot.policy.concurrency,
    remaining: slot.free,
    used: slot.policy.concurrency - slot.free,
    resetTime: new Date(Date.now()),
    resetMs: 0,
    nextTokenMs: 0,
    key: slot.key,
  }
}
