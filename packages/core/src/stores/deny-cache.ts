import { LRUCache } from 'lru-cache'
import { applyCheck } from '../bucket.js'
import type { BucketRequest, CheckReply, CheckRequest } from '../types.js'

interface Entry {
  /** Every bucket's debt as Redis reported it. */
  readonly debtsNs: readonly number[]
  /** When the check was sent (monotonic ms): Redis computed the debts no earlier than this. */
  readonly sentAt: number
  readonly buckets: readonly BucketRequest[]
}

// Keys never contain a newline (their client ids are IPs, hashes or safe ids), so joining is unambiguous.
const identity = (request: CheckRequest): string =>
  request.buckets.length === 1 ? request.buckets[0]!.key : request.buckets.map((b) => b.key).join('\n')

function samePolicies(a: readonly BucketRequest[], b: readonly BucketRequest[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => x.capacity === b[i]!.capacity && x.intervalNs === b[i]!.intervalNs && x.enforce === b[i]!.enforce)
  )
}

/**
 * Remembers checks that Redis refused, so a flood from one client is answered from process
 * memory until its tokens could be back, with no Redis call.
 *
 * Sound because other replicas can only take tokens, never add them, and because admission can
 * only get harder as debts grow. The debts are aged from the moment the check was *sent*,
 * which overestimates the refill: the cache answers "denied" only when Redis certainly would
 * too, and anything else goes to Redis. The headers come from the same arithmetic Redis runs,
 * applied to the aged debts.
 */
export class DenyCache {
  readonly #entries: LRUCache<string, Entry>
  readonly #clock: () => number

  constructor(maxKeys: number, clock: () => number = () => performance.now()) {
    this.#entries = new LRUCache({ max: maxKeys })
    this.#clock = clock
  }

  now(): number {
    return this.#clock()
  }

  /** A refusal computed locally, or undefined when only Redis can answer. */
  answer(request: CheckRequest): CheckReply | undefined {
    const id = identity(request)
    const entry = this.#entries.get(id)
    if (entry === undefined || !samePolicies(entry.buckets, request.buckets)) return undefined
    const agedNs = Math.round((this.#clock() - entry.sentAt) * 1_000_000)
    const step = applyCheck(
      entry.debtsNs.map((d) => Math.max(0, d - agedNs)),
      request.buckets,
    )
    if (step.reply.admitted) {
      this.#entries.delete(id)
      return undefined
    }
    return step.reply
  }

  record(request: CheckRequest, reply: CheckReply, debtsNs: readonly number[], sentAt: number): void {
    const id = identity(request)
    if (reply.admitted) this.#entries.delete(id)
    else this.#entries.set(id, { debtsNs, sentAt, buckets: request.buckets })
  }
}
