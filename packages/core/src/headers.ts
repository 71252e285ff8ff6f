import { serializeList } from 'structured-headers'
import type { RateLimitResult } from './result.js'

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

/**
 * The headers that tell a client where it stands (see the README's headers table). The
 * `X-RateLimit-*` trio describes the binding policy; `RateLimit` and `RateLimit-Policy` list
 * every policy, following draft-ietf-httpapi-ratelimit-headers-10, serialized as RFC 9651
 * structured-field lists.
 */
export function rateLimitHeaders(result: RateLimitResult): Record<string, string> {
  const headers: Record<string, string> = {
    [HeaderNames.limit]: String(result.limit),
    [HeaderNames.remaining]: String(result.remaining),
    [HeaderNames.reset]: String(seconds(result.resetMs)),
    [HeaderNames.policy]: serializeList(
      result.policies.map((p) => [p.policy.name, new Map([['q', p.policy.capacity], ['w', p.policy.windowSeconds]])]),
    ),
    [HeaderNames.rateLimit]: serializeList(
      result.policies.map((p) => [p.policy.name, new Map([['r', p.remaining], ['t', seconds(p.nextTokenMs)]])]),
    ),
  }
  if (result.status === 'denied') {
    headers[HeaderNames.retryAfter] = String(Math.max(1, seconds(result.retryAfterMs)))
  }
  return headers
}
