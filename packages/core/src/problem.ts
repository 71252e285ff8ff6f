import type { ProblemDetails, RateLimitResult } from './types.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** The draft's problem type for a request over quota. */
export const QUOTA_EXCEEDED_TYPE = 'https://iana.org/assignments/http-problem-types#quota-exceeded'

/** 429: the bucket is short of `cost` tokens; retrying after `Retry-After` will work. */
export function quotaExceeded(result: RateLimitResult): ProblemDetails {
  return {
    type: QUOTA_EXCEEDED_TYPE,
    title: 'Too Many Requests',
    status: 429,
    detail: `Rate limit ${result.violated.map((n) => `"${n}"`).join(', ')} exceeded: retry in ${Math.max(1, Math.ceil(result.retryAfterMs / 1000))} s.`,
    'violated-policies': result.violated,
  }
}

/**
 * 403: the request costs more tokens than the bucket can ever hold, so no retry can succeed.
 * Not a 429, which would invite the client to retry forever.
 */
export function costExceedsCapacity(result: RateLimitResult): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Forbidden',
    status: 403,
    detail: `This request costs ${result.cost} tokens but policy "${result.policy.name}" holds at most ${result.limit}: it can never be admitted.`,
    'violated-policies': result.violated,
  }
}

/** 401: the limiter keys by an API key header and this request has none. */
export function missingApiKey(header: string): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Unauthorized',
    status: 401,
    detail: `This endpoint requires an API key in the "${header}" header.`,
  }
}

/** 503: the `deny` failure mode while the store is unavailable; not the client's fault, so not a 429. */
export function limiterUnavailable(): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Service Unavailable',
    status: 503,
    detail: 'Rate limiting is temporarily unavailable, and this service refuses requests it cannot limit.',
  }
}
