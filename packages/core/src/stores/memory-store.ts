import { LRUCache } from 'lru-cache'
import { applyCheck, applySettle, clampDebt } from '../bucket.js'
import { resolveMemoryStoreOptions } from '../store-options.js'
import type { CheckReply, CheckRequest, CheckStep, MemoryStoreOptions, NanoClock, SettleRequest, Store } from '../types.js'

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
    const step = applyCheck(this.#debts(request, now), request)
    if (request.dryRun !== true) this.#write(request.keys, step, now)
    return step.reply
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

  /** Drop these buckets: they start full again. */
  forget(keys: readonly string[]): void {
    for (const key of keys) this.#full.delete(key)
  }

  reset(keys: readonly string[]): Promise<void> {
    this.forget(keys)
    return Promise.resolve()
  }
}
