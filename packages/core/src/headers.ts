import { serializeItem, serializeString } from 'structured-headers'
import type { AnyResolvedPolicy, HeaderFamilies, RateLimitResult } from './types.js'

/** Response header names, lower-case as Node sends them. */
export const HeaderNames = {
  limit: 'x-ratelimit-limit',
  remaining: 'x-ratelimit-remaining',
  reset: 'x-ratelimit-reset',
  retryAfter: 'retry-after',
  policy: 'ratelimit-policy',
  rateLimit: 'ratelimit',
} as const

const seconds = (ms: number): number => Math.ceil(ms / 1000)

interface Serialized {
  /** The policy's `RateLimit-Policy` list member. */
  readonly policyItem: string
  /** The policy's name as an sf-string, to which each request appends its parameters. */
  readonly name: string
}

// Policies are frozen and live as long as their limiter: serialize their constant parts once,
// not on every request.
const serialized = new WeakMap<AnyResolvedPolicy, Serialized>()

/** The draft's quota unit for an in-flight limit. */
const CONCURRENT = 'concurrent-requests'

function partsOf(policy: AnyResolvedPolicy): Serialized {
  let parts = serialized.get(policy)
  if (parts === undefined) {
    // An in-flight limit has a quota and its unit, and no window: its slots come back when
    // responses end, not with time.
    const params =
      policy.concurrency !== undefined
        ? new Map<string, number | string>([
            ['q', policy.concurrency],
            ['qu', CONCURRENT],
          ])
        : new Map<string, number | string>([
            ['q', policy.capacity],
            ['w', policy.windowSeconds],
          ])
    parts = { policyItem: serializeItem(policy.name, params), name: serializeString(policy.name) }
    serialized.set(policy, parts)
  }
  return parts
}

/** The `RateLimit-Policy` value of a list of policies: the same on every response, so built once per route. */
export function policyHeader(policies: readonly AnyResolvedPolicy[]): string {
  return policies.map((p) => partsOf(p).policyItem).join(', ')
}

/**
 * The headers that tell a client where it stands (see the README's headers table). The
 * `X-RateLimit-*` trio describes the binding policy; `RateLimit` and `RateLimit-Policy` list
 * every policy, following draft-ietf-httpapi-ratelimit-headers-10, serialized as RFC 9651
 * structured-field lists. `Retry-After` goes with every 429, whichever families are chosen.
 */
export function rateLimitHeaders(result: RateLimitResult, families: HeaderFamilies = 'all', policies?: string): Record<string, string> {
  const headers: Record<string, string> = {}
  if (families === 'all' || families === 'legacy') {
    // With no token bucket, the in-flight limit: its concurrency and free slots, and no reset.
    headers[HeaderNames.limit] = String(result.limit)
    headers[HeaderNames.remaining] = String(result.remaining)
    if (result.policy.concurrency === undefined) headers[HeaderNames.reset] = String(seconds(result.resetMs))
  }
  if (families === 'all' || families === 'ietf') {
    const slots = result.slots
    headers[HeaderNames.policy] = policies ?? policyHeader([...result.policies.map((p) => p.policy), ...(slots ?? []).map((s) => s.policy)])
    // r and t are non-negative integers below 10^15, which serialize as plain digits.
    let rateLimit = ''
    for (const p of result.policies) {
      rateLimit += `${rateLimit === '' ? '' : ', '}${partsOf(p.policy).name};r=${p.remaining};t=${seconds(p.nextTokenMs)}`
    }
    // A slot's r is the free slots after this request; no t: no instant is known when one frees.
    if (slots !== undefined) for (const s of slots) rateLimit += `${rateLimit === '' ? '' : ', '}${partsOf(s.policy).name};r=${s.free}`
    headers[HeaderNames.rateLimit] = rateLimit
  }
  if (result.status === 'denied') {
    headers[HeaderNames.retryAfter] = String(Math.max(1, seconds(result.retryAfterMs)))
  }
  return headers
}
