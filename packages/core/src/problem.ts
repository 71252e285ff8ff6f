import type { AnyResolvedPolicy, Denial, ProblemDetails, RateLimitResult } from './types.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** The draft's problem type for a request over quota. */
export const QUOTA_EXCEEDED_TYPE = 'https://iana.org/assignments/http-problem-types#quota-exceeded'

const PROBLEM = `${PROBLEM_CONTENT_TYPE}; charset=utf-8`
const JSON_TYPE = 'application/json; charset=utf-8'
const TEXT_TYPE = 'text/plain; charset=utf-8'

/** A problem object, serialized as it is sent. */
export function problemDenial(problem: ProblemDetails): Denial {
  return { status: problem.status, contentType: PROBLEM, body: JSON.stringify(problem) }
}

/**
 * A custom deny body, serialized here so that nothing can fail once the adapter sends it: an
 * object as JSON, a string as text. Throws, saying why, for anything else, and for an object
 * JSON cannot hold (a BigInt, a cycle, a `toJSON` that throws or answers nothing).
 */
export function customDenial(status: number, body: unknown): Denial {
  if (typeof body === 'string') return { status, contentType: TEXT_TYPE, body }
  if (body === null || typeof body !== 'object') throw new TypeError(`returned ${body === null ? 'null' : typeof body}`)
  let json: unknown
  try {
    json = JSON.stringify(body)
  } catch (error) {
    throw new TypeError(`returned a body that cannot be serialized as JSON (${error instanceof Error ? error.message : 'it threw'})`)
  }
  if (typeof json !== 'string') throw new TypeError('returned a body that serializes to nothing')
  return { status, contentType: JSON_TYPE, body: json }
}

/**
 * 429: the bucket is short of `cost` tokens; retrying after `Retry-After` will work. The body
 * names the cost, since the quota headers count tokens: a client that reads `r=1` before sending
 * a request that costs 2 would otherwise be refused without knowing why.
 */
export function quotaExceeded(result: RateLimitResult): ProblemDetails {
  const full = result.slots?.filter((s) => s.status !== 'allowed') ?? []
  if (full.length > 0) {
    return {
      type: QUOTA_EXCEEDED_TYPE,
      title: 'Too Many Requests',
      status: 429,
      detail: `Too many requests in progress (${full.map((s) => `"${s.policy.name}" allows ${s.policy.concurrency}`).join(', ')}): retry in ${retrySeconds(result)} s, or once one has finished.`,
      'violated-policies': result.violated,
      cost: result.cost,
    }
  }
  return {
    type: QUOTA_EXCEEDED_TYPE,
    title: 'Too Many Requests',
    status: 429,
    detail: `Rate limit ${result.violated.map((n) => `"${n}"`).join(', ')} exceeded: this request costs ${tokens(result.cost)}; retry in ${retrySeconds(result)} s.`,
    'violated-policies': result.violated,
    cost: result.cost,
  }
}

const tokens = (n: number): string => (n === 1 ? '1 token' : `${n} tokens`)

const retrySeconds = (result: RateLimitResult): number => Math.max(1, Math.ceil(result.retryAfterMs / 1000))

// A flood denies the same policy over and over, mostly at one cost: its body, but for the seconds,
// is built once per policy and cost (the last cost seen; a computed cost that varies rebuilds it).
const floodBodies = new WeakMap<AnyResolvedPolicy, { readonly cost: number; readonly halves: readonly [string, string] }>()

/** The 429 problem, serialized; built from two constant halves when one policy denied. */
export function quotaExceededDenial(result: RateLimitResult): Denial {
  if (result.violated.length !== 1 || result.slots?.length > 0) return problemDenial(quotaExceeded(result))
  let built = floodBodies.get(result.policy)
  if (built?.cost !== result.cost) {
    const marker = '\u0000'
    const whole = JSON.stringify({
      ...quotaExceeded(result),
      detail: `Rate limit "${result.policy.name}" exceeded: this request costs ${tokens(result.cost)}; retry in ${marker} s.`,
    })
    const at = whole.indexOf('\\u0000')
    built = { cost: result.cost, halves: [whole.slice(0, at), whole.slice(at + '\\u0000'.length)] }
    floodBodies.set(result.policy, built)
  }
  return { status: 429, contentType: PROBLEM, body: `${built.halves[0]}${retrySeconds(result)}${built.halves[1]}` }
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
    cost: result.cost,
  }
}

/**
 * 401: the limiter keys by an API key header and this request has none, or one `verify` refused
 * (`sent`): a client that sent a key is told it is not valid, not that it is missing.
 */
export function missingApiKey(header: string, sent = false): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Unauthorized',
    status: 401,
    detail: sent
      ? `The API key in the "${header}" header is not a valid API key.`
      : `This endpoint requires an API key in the "${header}" header.`,
  }
}

/** 503: the `deny` failure mode while the store is unavailable; not the client's fault, so not a 429. */
export const LIMITER_UNAVAILABLE: Denial = problemDenial({
  type: 'about:blank',
  title: 'Service Unavailable',
  status: 503,
  detail: 'Rate limiting is temporarily unavailable, and this service refuses requests it cannot limit.',
})
