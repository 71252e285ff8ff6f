import type { CheckReply } from './bucket.js'
import type { ResolvedPolicy } from './options.js'

/** The outcome of one rate-limit check, as handlers read it on the request. */
export interface RateLimitResult extends CheckReply {
  /** True when the request was admitted. */
  readonly allowed: boolean
  /** The policy that was checked. */
  readonly policy: ResolvedPolicy
  /** The policy's capacity (the `X-RateLimit-Limit` value). */
  readonly limit: number
  /** Tokens this request asked for. */
  readonly cost: number
  /** The store key of the bucket (hashed where it came from a secret). */
  readonly key: string
  /**
   * True when the shared store was unavailable and this replica's local bucket answered; the
   * policy (and the headers) then describe that local bucket.
   */
  readonly degraded: boolean
}
