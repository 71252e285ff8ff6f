import type { CheckReply, CheckRequest } from '../bucket.js'

/**
 * Where buckets live. A check goes in, its reply comes back as a promise; how the store gets
 * there (one script call per check, or many concurrent checks coalesced into one call) is its
 * own business, so a faster store drops in without touching the limiter or the adapters.
 */
export interface Store {
  /** Apply one check atomically, all of its buckets or none. Rejects only when the store itself fails. */
  check(request: CheckRequest): Promise<CheckReply>
  /** A short name for logs and metrics (`redis`, `memory`). */
  readonly kind: string
  /**
   * An answer the store can give at once from what it holds in process (such as a bucket it
   * knows to be empty), or undefined. Lets the limiter skip the time budget and the breaker for
   * answers that never leave the process.
   */
  cached?(request: CheckRequest): CheckReply | undefined
}
