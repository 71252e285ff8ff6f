import { LRUCache } from 'lru-cache'
import { applyCheck, applySettle, clampDebt, NS_PER_MS } from '../bucket.js'
import { describeSlot, slotFits } from '../slots.js'
import { resolveMemoryStoreOptions } from '../store-options.js'
import type {
  CheckReply,
  CheckRequest,
  CheckStep,
  LeaseOp,
  MemoryStoreOptions,
  NanoClock,
  SettleRequest,
  SlotReply,
  Store,
} from '../types.js'

export type { MemoryStoreOptions, NanoClock } from '../types.js'

function hrtimeClock(): NanoClock {
  const origin = process.hrtime.bigint()
  return () => Number(process.hrtime.bigint() - origin)
}

/**
 * Buckets in this process's memory: the same semantics as the Redis script, for a single
 * process (the embedded default when no Redis client is given), for the local failure mode, and
 * for tests.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory'
  readonly #clock: NanoClock
  /** key → the instant (clock ns) the bucket is full again. */
  readonly #full: LRUCache<string, number>
  /**
   * Slot set key → lease id → the instant (clock ns) the lease expires, in the order the sets
   * were last written. Not an LRU: evicting a set that holds live leases would hand its client
   * fresh slots, so a flood of distinct clients could lift anyone's in-flight limit. A set holds
   * only live leases and those that expired since (pruned when its key is checked), so the sets
   * are bounded by the leases taken within one `leaseMs`: every write sweeps the oldest sets whose
   * leases have all expired (`#sweep`).
   */
  readonly #leases = new Map<string, SlotSet>()

  constructor(options: MemoryStoreOptions = {}) {
    const resolved = resolveMemoryStoreOptions(options)
    this.#clock = resolved.clock ?? hrtimeClock()
    // Bounded by a size rather than `max`, which would allocate every slot up front: a large
    // bound costs nothing until buckets fill it.
    this.#full = new LRUCache({ maxSize: resolved.maxKeys, sizeCalculation: () => 1 })
  }

  /** Buckets currently held (idle full ones are dropped lazily). */
  get size(): number {
    return this.#full.size
  }

  check(request: CheckRequest): Promise<CheckReply> {
    return Promise.resolve(this.checkSync(request))
  }

  checkSync(request: CheckRequest): CheckReply {
    const now = this.#clock()
    const debts = this.#debts(request, now)
    const slots = request.slots
    if (slots === undefined || slots.length === 0) {
      const step = applyCheck(debts, request)
      if (request.dryRun !== true) this.#write(request.keys, step, now)
      return step.reply
    }
    // Prune, then count: all or nothing with the buckets.
    const live = slots.map((slot) => this.#live(slot.key, now))
    const fits = slots.map((slot, i) => slotFits(live[i]!, slot))
    const step = applyCheck(debts, request, fits.includes(false))
    const takes = step.reply.admitted && request.dryRun !== true
    if (request.dryRun !== true) this.#write(request.keys, step, now)
    const replies: SlotReply[] = slots.map((slot, i) => {
      if (takes) this.#hold(slot.key, slot.leaseId, now + slot.leaseMs * NS_PER_MS, now)
      return describeSlot(live[i]!, slot, fits[i]!, takes)
    })
    return { admitted: step.reply.admitted, buckets: step.reply.buckets, slots: replies }
  }

  /** A settle of a check's cost (bucket.ts, `applySettle`); a refund of a missing key changes nothing. */
  settleSync(request: SettleRequest): CheckReply {
    const now = this.#clock()
    const step = applySettle(this.#debts(request, now), request)
    this.#write(request.keys, step, now)
    return step.reply
  }

  /** Each bucket's debt now, clamped as the script reads it (to two windows). */
  #debts(request: Pick<CheckRequest, 'keys' | 'policies'>, now: number): number[] {
    return request.keys.map((key, i) => {
      const fullAt = this.#full.get(key)
      return fullAt === undefined ? 0 : clampDebt(fullAt - now, request.policies[i]!)
    })
  }

  #write(keys: readonly string[], step: CheckStep, now: number): void {
    for (let i = 0; i < keys.length; i++) {
      const debt = step.debtsNs[i]!
      if (debt > 0) this.#full.set(keys[i]!, now + debt)
      else this.#full.delete(keys[i]!)
    }
  }

  /** Live leases in a slot set, the expired ones pruned first (an empty set is dropped). */
  #live(key: string, now: number): number {
    const set = this.#leases.get(key)
    if (set === undefined) return 0
    for (const [id, expiresAt] of set.leases) if (expiresAt <= now) set.leases.delete(id)
    if (set.leases.size === 0) this.#leases.delete(key)
    return set.leases.size
  }

  /**
   * Set a lease of `key` to expire at `expiresAt` (a take or a renewal): its set, made if
   * missing, moves to the newest end, after a sweep of the oldest (never of itself).
   */
  #hold(key: string, leaseId: string, expiresAt: number, now: number): void {
    let set = this.#leases.get(key)
    if (set === undefined) set = { leases: new Map(), latest: expiresAt }
    else {
      this.#leases.delete(key)
      if (expiresAt > set.latest) set.latest = expiresAt
    }
    set.leases.set(leaseId, expiresAt)
    this.#sweep(now)
    this.#leases.set(key, set)
  }

  /**
   * Drop the oldest-written sets whose every lease has expired, two at most per write: sets are
   * made one per write, so the expired ones never outgrow the live ones by more than the writes
   * of one `leaseMs`. `latest` is an upper bound of a set's expiries (a renewal raises it, a
   * release leaves it), so a set dropped here held no live lease.
   */
  #sweep(now: number): void {
    let swept = 0
    for (const [key, set] of this.#leases) {
      if (swept === 2 || set.latest > now) return
      this.#leases.delete(key)
      swept++
    }
  }

  /**
   * Renew or release leases: a renewal extends only a live lease (an expired one is pruned,
   * never resurrected) and answers false for one that is gone; a release answers whether the
   * lease was there.
   */
  runLeasesSync(ops: readonly LeaseOp[]): boolean[] {
    const now = this.#clock()
    return ops.map(({ op, lease }) => {
      const set = this.#leases.get(lease.key)
      const expiresAt = set?.leases.get(lease.leaseId)
      if (set === undefined || expiresAt === undefined) return false
      if (op === 'release' || expiresAt <= now) {
        set.leases.delete(lease.leaseId)
        if (set.leases.size === 0) this.#leases.delete(lease.key)
        return op === 'release' && expiresAt > now
      }
      this.#hold(lease.key, lease.leaseId, now + lease.leaseMs * NS_PER_MS, now)
      return true
    })
  }

  /** Live leases of a slot set (tests, the operator): expired ones are pruned first. */
  liveLeases(key: string): number {
    return this.#live(key, this.#clock())
  }

  /** Drop these buckets: they start full again. */
  forget(keys: readonly string[]): void {
    for (const key of keys) this.#full.delete(key)
  }

  /** Slot sets currently held. */
  get slotSets(): number {
    return this.#leases.size
  }

  reset(keys: readonly string[]): Promise<void> {
    this.forget(keys)
    return Promise.resolve()
  }
}

/** One client's slot set: its leases, and the latest instant any of them was set to expire. */
interface SlotSet {
  readonly leases: Map<string, number>
  latest: number
}
