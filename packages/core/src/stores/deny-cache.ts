import { LRUCache } from 'lru-cache'
import { applyCheck, clampDebt } from '../bucket.js'
import type { BucketPolicy, CheckReply, CheckRequest, CheckStep, SettleRequest } from '../types.js'

/** How long a denial is answered from memory at most: Redis is the truth again within this. */
export const DENY_CACHE_MAX_AGE_MS = 1_000

interface Entry {
  /** Every bucket's debt as Redis reported it. */
  readonly debtsNs: readonly number[]
  /** When the check was sent (monotonic ms): Redis computed the debts no earlier than this. */
  readonly sentAt: number
  readonly policies: readonly BucketPolicy[]
}

// Keys never contain a newline (their client ids are IPs or hashes), so joining is unambiguous.
const identity = (request: Pick<CheckRequest, 'keys'>): string => (request.keys.length === 1 ? request.keys[0]! : request.keys.join('\n'))

function samePolicies(a: readonly BucketPolicy[], b: readonly BucketPolicy[]): boolean {
  if (a === b) return true
  return (
    a.length === b.length &&
    a.every((x, i) => x === b[i] || (x.capacity === b[i]!.capacity && x.intervalNs === b[i]!.intervalNs && x.shadow === b[i]!.shadow))
  )
}

/**
 * Remembers checks that Redis refused, so a flood from one client is answered from process
 * memory with no Redis call, until its tokens could be back or a second has passed, whichever
 * comes first.
 *
 * Sound because other replicas can only take tokens, never add them, and because admission can
 * only get harder as debts grow. The debts are aged from the moment the check was *sent*,
 * which overestimates the refill: the cache answers "denied" only when Redis certainly would
 * too, and anything else goes to Redis. The one thing that can give tokens back is an operator
 * (a reset, a deleted key, a Redis restarted empty): the age limit bounds how long a replica
 * keeps denying what Redis would now allow.
 */
export class DenyCache {
  readonly #entries: LRUCache<string, Entry>
  readonly #clock: () => number

  constructor(maxKeys: number, clock: () => number = () => performance.now()) {
    this.#entries = new LRUCache({ max: maxKeys })
    this.#clock = clock
  }

  /** A refusal computed locally, or undefined when only Redis can answer. */
  answer(request: CheckRequest): CheckReply | undefined {
    // A check with in-flight slots is never answered from here: slots come back on a release,
    // which no cached debt can see, and a slot is never refused by a stale copy.
    if (request.dryRun === true || (request.slots !== undefined && request.slots.length > 0)) return undefined
    const id = identity(request)
    const entry = this.#entries.get(id)
    if (entry === undefined) return undefined
    const ageMs = this.#clock() - entry.sentAt
    if (ageMs > DENY_CACHE_MAX_AGE_MS || !samePolicies(entry.policies, request.policies)) {
      this.#entries.delete(id)
      return undefined
    }
    const agedNs = Math.round(ageMs * 1_000_000)
    const step = applyCheck(
      entry.debtsNs.map((d, i) => clampDebt(d - agedNs, entry.policies[i]!)),
      request,
    )
    if (step.reply.admitted) {
      this.#entries.delete(id)
      return undefined
    }
    return step.reply
  }

  /** What Redis answered for a check sent at `sentAt`. */
  record(request: CheckRequest, step: CheckStep, sentAt: number): void {
    if (request.dryRun === true || (request.slots !== undefined && request.slots.length > 0)) return
    // The common case, an admitted check of a client the cache never saw, touches nothing.
    if (step.reply.admitted && this.#entries.size === 0) return
    const id = identity(request)
    if (step.reply.admitted) this.#entries.delete(id)
    else this.#entries.set(id, { debtsNs: step.debtsNs, sentAt, policies: request.policies })
  }

  /**
   * What Redis answered for a settle: every remembered denial of these buckets is brought up to
   * date, where the settle's debt is known (the entry of exactly these keys), and forgotten where
   * it is not (an entry over other keys as well), so a refund is never answered from a stale
   * denial. Other replicas' entries age out within a second.
   */
  settled(request: SettleRequest, step: CheckStep, sentAt: number): void {
    if (this.#entries.size === 0) return
    const id = identity(request)
    const entry = this.#entries.get(id)
    if (entry !== undefined && samePolicies(entry.policies, request.policies)) {
      // Aged from when the settle was sent, as a check's: an overestimate of the refill.
      this.#entries.set(id, { debtsNs: step.debtsNs, sentAt, policies: request.policies })
      return
    }
    this.forget(request.keys)
  }

  /** Forget every denial that involves one of these buckets (an operator reset them). */
  forget(keys: readonly string[]): void {
    const reset = new Set(keys)
    for (const id of [...this.#entries.keys()]) {
      if (id.split('\n').some((key) => reset.has(key))) this.#entries.delete(id)
    }
  }
}
