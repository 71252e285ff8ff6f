import { DEGRADED_HEADER } from './policy.js'

/** One response (or transport error) as the load test saw it. Times are ms since the recorder's origin. */
export interface Sample {
  /** Index into the run's clients. */
  readonly client: number
  readonly sentMs: number
  readonly receivedMs: number
  /** HTTP status, or 0 when the request failed without a response. */
  readonly status: number
  /** The replica that answered (X-Instance-Id); undefined when nginx answered itself. */
  readonly instance: string | undefined
  /**
   * X-RateLimit-Limit as answered. A replica answering from its local fallback bucket (Redis
   * too slow or gone) advertises its share of the capacity, not the capacity itself.
   */
  readonly limit: number | undefined
  /** The replica said it answered from its local fallback bucket (`DEGRADED_HEADER`). */
  readonly degraded?: boolean
  /** Tokens of a streamed answer received (the settle scenario), else undefined. */
  readonly tokens?: number
  /** A 429 naming a `qu="concurrent-requests"` policy in RateLimit-Policy: an in-flight limit refused it. */
  readonly concurrent?: boolean
}

/** The response headers a sample keeps. */
export interface SampleHeaders {
  readonly instance: string | undefined
  readonly limit: number | undefined
  readonly degraded: boolean
  /** RateLimit-Policy names an in-flight limit (`qu="concurrent-requests"`). */
  readonly concurrent?: boolean
}

/** Collects samples up to a hard cap, so no run can grow without bound. */
export class Recorder {
  readonly samples: Sample[] = []
  readonly origin = performance.now()
  admitted = 0
  limited = 0

  constructor(readonly maxRequests: number) {}

  get full(): boolean {
    return this.samples.length >= this.maxRequests
  }

  /** `sentAt` and `receivedAt` are `performance.now()` readings. */
  record(client: number, sentAt: number, receivedAt: number, status: number, headers?: SampleHeaders, tokens?: number): void {
    if (this.full) return
    this.samples.push({
      ...(tokens === undefined ? {} : { tokens }),
      ...(headers?.concurrent === true ? { concurrent: true } : {}),
      client,
      sentMs: sentAt - this.origin,
      receivedMs: receivedAt - this.origin,
      status,
      instance: headers?.instance,
      limit: headers?.limit,
      degraded: headers?.degraded ?? false,
    })
    if (status === 200) this.admitted++
    else if (status === 429) this.limited++
  }
}

/** The headers a sample keeps, from a header lookup. */
export function sampleHeaders(get: (name: string) => string | undefined): SampleHeaders {
  const limit = get('x-ratelimit-limit')
  return {
    instance: get('x-instance-id'),
    limit: limit === undefined ? undefined : Number(limit),
    degraded: get(DEGRADED_HEADER) === 'true',
    concurrent: get('ratelimit-policy')?.includes('qu="concurrent-requests"') === true,
  }
}

/**
 * Whether a response came from a replica's local fallback bucket rather than the shared one. The
 * demo's replicas say so (`DEGRADED_HEADER`); a gateway whose replicas do not is judged by
 * X-RateLimit-Limit, which then advertises the replica's share instead of `capacity`. That sign
 * misses a one-replica cluster (whose share is the capacity): its degraded answers count as
 * shared ones, which only makes the bound stricter.
 */
export function answeredLocally(sample: Sample, capacity: number): boolean {
  if (sample.status === 0) return false
  if (sample.degraded === true) return true
  return sample.limit !== undefined && Number.isFinite(sample.limit) && sample.limit !== capacity
}
