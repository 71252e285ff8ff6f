import { ErrorCodes, SluiceOptionError } from './errors.js'
import { RedisStore } from './stores/redis-store.js'
import type { AnyResolvedPolicy, Store } from './types.js'

/**
 * Which bucket shapes the limiters on one store have claimed, so two of them never share one
 * Redis key with other numbers.
 *
 * A bucket's key is its prefix, its client and its bucket id; two limiters on one client with the
 * same prefix and bucket id (`app.use(apiLimiter)` and a `loginLimiter` on `/login`, both with
 * the default prefix and policy name) read and write the same keys. With the same capacity and
 * refill that is one bucket, on purpose (replicas, a Fastify and an Express app side by side);
 * with other numbers each limiter's check reads the other's debt through its own window, and two
 * login attempts lock the client out of the whole API. So the second shape is refused where it
 * is declared.
 *
 * Claims live per client (or per store, for a store Sluice did not build on a client) in a
 * WeakMap, so a client that is dropped takes its claims along. A limiter releases its own when it
 * is closed (Fastify's `onClose`), or when it is collected.
 */

/** One bucket id under one prefix, and the limiters that check it. */
interface Claim {
  /** The numbers that must agree, in one string (an in-flight limit's are its concurrency and lease). */
  readonly shape: string
  /** Those numbers as the error names them. */
  readonly described: string
  readonly holders: Set<BucketClaims>
}

function shapeOf(policy: AnyResolvedPolicy): { shape: string; described: string } {
  return policy.concurrency !== undefined
    ? { shape: `c ${policy.concurrency} ${policy.leaseMs}`, described: `concurrency ${policy.concurrency} and leaseMs ${policy.leaseMs}` }
    : {
        shape: `b ${policy.capacity} ${policy.intervalNs}`,
        described: `capacity ${policy.capacity} and refillPerSecond ${policy.refillPerSecond}`,
      }
}

const byBacking = new WeakMap<object, Map<string, Claim>>()

/** What a bucket id's keys live in: a Redis client (whichever stores are built on it), or the store itself. */
function backingOf(store: Store): object {
  return store instanceof RedisStore ? store.client : store
}

/** A limiter that is collected without being closed releases its claims then. */
const collected = new FinalizationRegistry<BucketClaims>((claims) => claims.release())

/** One bucket a limiter is about to check: its id, its policy, and the option that named it. */
export interface BucketClaim {
  readonly bucketId: string
  readonly policy: AnyResolvedPolicy
  /** The option as the user wrote it (`name`, `policies[1].name`, `config.rateLimit.name`, …). */
  readonly option: string
}

/** One limiter's claims on its store's buckets. */
export class BucketClaims {
  readonly #claims: Map<string, Claim>
  readonly #prefix: string
  readonly #held = new Set<string>()

  /** `owner` is what every route of the limiter holds: once it is collected, so are the claims. */
  constructor(store: Store, prefix: string, owner: object) {
    const backing = backingOf(store)
    let claims = byBacking.get(backing)
    if (claims === undefined) {
      claims = new Map()
      byBacking.set(backing, claims)
    }
    this.#claims = claims
    this.#prefix = prefix
    collected.register(owner, this, this)
  }

  /** Claim every bucket, or none: throws the option error of the first whose id another shape holds. */
  claim(buckets: readonly BucketClaim[]): void {
    for (const { bucketId, policy, option } of buckets) {
      const held = this.#claims.get(this.#id(bucketId))
      const mine = shapeOf(policy)
      if (held === undefined || held.shape === mine.shape) continue
      throw new SluiceOptionError(
        ErrorCodes.INVALID_OPTION,
        option,
        policy.name,
        `the bucket "${bucketId}" under prefix "${this.#prefix}" on this Redis client (or store) already has ${held.described}, and one bucket cannot have two shapes (this policy has ${mine.described}): give the policy its own name, or the limiter its own prefix`,
      )
    }
    for (const { bucketId, policy } of buckets) {
      const id = this.#id(bucketId)
      let held = this.#claims.get(id)
      if (held === undefined) {
        held = { ...shapeOf(policy), holders: new Set() }
        this.#claims.set(id, held)
      }
      held.holders.add(this)
      this.#held.add(id)
    }
  }

  /** Give every claim back: another limiter may then use these bucket ids with other numbers. */
  release(): void {
    for (const id of this.#held) {
      const held = this.#claims.get(id)
      held?.holders.delete(this)
      if (held?.holders.size === 0) this.#claims.delete(id)
    }
    this.#held.clear()
    collected.unregister(this)
  }

  // Prefixes hold no spaces, so a space cannot be part of either half.
  #id(bucketId: string): string {
    return `${this.#prefix} ${bucketId}`
  }
}
