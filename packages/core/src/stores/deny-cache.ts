import { LRUCache } from 'lru-cache'
import { type CheckReply, type CheckRequest, takeTokens } from '../bucket.js'

interface Entry {
  /** The bucket's debt as Redis reported it. */
  readonly debtNs: number
  /** When the check was sent (monotonic ms): Redis computed the debt no earlier than this. */
  readonly sentAt: number
  readonly capacity: number
  readonly intervalNs: number
}

/**
 * Remembers buckets that Redis reported too empty, so a flood from one client is answered from
 * process memory until its tokens could be back, with no Redis call.
 *
 * Sound because other replicas can only take tokens, never add them: if the bucket could not
 * afford `cost` at the time Redis looked, it cannot before refill makes up the difference. The
 * debt is aged from the moment the check was *sent*, which overestimates the refill, so the
 * cache only ever answers "denied" when Redis certainly would too; anything else goes to Redis.
 * The headers come from the same arithmetic Redis runs, applied to the aged debt.
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

  /** A denial computed locally, or undefined when only Redis can answer. */
  answer(request: CheckRequest): CheckReply | undefined {
    const entry = this.#entries.get(request.key)
    if (entry === undefined) return undefined
    if (entry.capacity !== request.capacity || entry.intervalNs !== request.intervalNs) return undefined
    const agedNs = Math.round((this.#clock() - entry.sentAt) * 1_000_000)
    const debt = entry.debtNs - agedNs
    if (debt <= 0) {
      this.#entries.delete(request.key)
      return undefined
    }
    const step = takeTokens(debt, request)
    if (step.reply.status !== 'denied') return undefined
    return step.reply
  }

  record(request: CheckRequest, reply: CheckReply, debtNs: number, sentAt: number): void {
    if (reply.status === 'denied') {
      this.#entries.set(request.key, { debtNs, sentAt, capacity: request.capacity, intervalNs: request.intervalNs })
    } else if (reply.status === 'allowed') {
      this.#entries.delete(request.key)
    }
  }
}
