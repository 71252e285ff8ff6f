import { randomInt } from 'node:crypto'
import { deadlineIn } from './deadline.js'
import type { Failover } from './failover.js'
import type { CheckReply, LeaseOp, LeaseRef, SlotClaim, SluiceLogger } from './types.js'
import { WarningCodes, WarnThrottle } from './warnings.js'

/**
 * The in-flight slots this process holds open, from admission until their response ends.
 *
 * - **Ids.** A lease id is this process's random 21 bits and a counter (below 2^53, sent as a
 *   decimal string): unique across replicas, and the same on every retry of its release, so a
 *   release that lands twice removes one member once.
 * - **Renewals.** One unref'd timer per distinct `leaseMs`, every `leaseMs / 3`, renews every
 *   open lease of that length in one go (the store's batcher coalesces them per slot with the
 *   checks). A renewal extends only a live lease; a lease the store reports gone is told once
 *   (`SLUICE_LEASE_LOST`) and no longer renewed.
 * - **Release.** Exactly once per lease (`release()` is idempotent), never awaited on the request
 *   path, never rejecting; one that cannot reach the store is retried with backoff until
 *   `leaseMs` after the last successful renewal, when the store has let the lease go by itself.
 *   A lease the failure mode took (`local`) lives and is released in this replica's memory.
 */

const PROCESS_BITS = randomInt(0, 2 ** 21) * 2 ** 32
let counter = 0

/** A fresh lease id: this process's random part and a counter. */
export function nextLeaseId(): string {
  counter = (counter + 1) % 2 ** 32
  return String(PROCESS_BITS + counter)
}

/** The first wait before a failed release is sent again; it doubles up to `MAX_BACKOFF_MS`. */
const FIRST_BACKOFF_MS = 50
const MAX_BACKOFF_MS = 2_000
/** A renewal's or release's time budget, at most: a third of the lease, like the period. */
const MAX_CALL_MS = 5_000

/** One request's slots: renewed while open, released once. */
export class Lease {
  readonly refs: readonly LeaseRef[]
  /** Taken by the failure mode, in this replica's memory. */
  readonly local: boolean
  readonly leaseMs: number
  /** When the last renewal (or the admission) that succeeded was sent, on the monotonic clock. */
  renewedAt: number
  #released: Promise<void> | undefined
  readonly #keeper: LeaseKeeper

  constructor(keeper: LeaseKeeper, refs: readonly LeaseRef[], local: boolean, sentAt: number) {
    this.#keeper = keeper
    this.refs = refs
    this.local = local
    this.leaseMs = Math.min(...refs.map((r) => r.leaseMs))
    this.renewedAt = sentAt
  }

  get released(): boolean {
    return this.#released !== undefined
  }

  /** Give the slots back: once, whatever how often it is called; never rejects. */
  release(): Promise<void> {
    this.#released ??= this.#keeper.release(this)
    return this.#released
  }
}

interface Period {
  readonly open: Set<Lease>
  readonly timer: ReturnType<typeof setInterval>
}

export class LeaseKeeper {
  readonly #failover: Failover
  readonly #lost: WarnThrottle
  readonly #clock: () => number
  /** leaseMs → the open leases of that length, and their renewal timer. */
  readonly #periods = new Map<number, Period>()
  #lostCount = 0
  #released = 0

  constructor(failover: Failover, logger: SluiceLogger, clock: () => number = () => performance.now()) {
    this.#failover = failover
    this.#lost = new WarnThrottle(logger, WarningCodes.LEASE_LOST)
    this.#clock = clock
  }

  /** Leases open in this process, released ones and lost ones: for `stats()`. */
  get stats(): { readonly leasesOpen: number; readonly leasesReleased: number; readonly leasesLost: number } {
    let open = 0
    for (const period of this.#periods.values()) open += period.open.size
    return { leasesOpen: open, leasesReleased: this.#released, leasesLost: this.#lostCount }
  }

  /**
   * The lease of a check's slots if it took them (its reply admitted it), renewed from now on;
   * undefined when it took none. `sentAt`: when the check was sent (the lease runs from no earlier).
   */
  opened(reply: CheckReply, slots: readonly SlotClaim[], local: boolean, sentAt: number): Lease | undefined {
    if (!reply.admitted || reply.slots === undefined || !reply.slots.some((s) => s.taken)) return undefined
    const refs = slots.map(({ key, leaseId, leaseMs }) => ({ key, leaseId, leaseMs }))
    const lease = new Lease(this, refs, local, sentAt)
    this.#track(lease)
    return lease
  }

  #track(lease: Lease): void {
    let period = this.#periods.get(lease.leaseMs)
    if (period === undefined) {
      const leaseMs = lease.leaseMs
      const timer = setInterval(() => this.#renew(leaseMs), Math.floor(leaseMs / 3))
      timer.unref()
      period = { open: new Set(), timer }
      this.#periods.set(leaseMs, period)
    }
    period.open.add(lease)
  }

  #untrack(lease: Lease): void {
    const period = this.#periods.get(lease.leaseMs)
    if (period === undefined) return
    period.open.delete(lease)
    if (period.open.size === 0) {
      clearInterval(period.timer)
      this.#periods.delete(lease.leaseMs)
    }
  }

  /** Renew every open lease of one length: the store's ones in one go, the local ones here. */
  #renew(leaseMs: number): void {
    const period = this.#periods.get(leaseMs)
    if (period === undefined) return
    for (const local of [false, true]) {
      const leases = [...period.open].filter((l) => l.local === local)
      if (leases.length === 0) continue
      const ops: LeaseOp[] = leases.flatMap((l) => l.refs.map((lease) => ({ op: 'renew' as const, lease })))
      const sentAt = this.#clock()
      this.#failover.leases(ops, local, deadlineIn(Math.min(leaseMs / 3, MAX_CALL_MS))).then(
        (live) => {
          let at = 0
          for (const lease of leases) {
            const n = lease.refs.length
            const kept = live.slice(at, at + n).every(Boolean)
            at += n
            if (lease.released) continue
            if (kept) lease.renewedAt = sentAt
            else this.#lose(lease)
          }
        },
        // Unreachable: the next period tries again, and the lease lives until renewedAt + leaseMs.
        () => {},
      )
    }
  }

  #lose(lease: Lease): void {
    this.#untrack(lease)
    this.#lostCount++
    this.#lost.warn(
      { keys: lease.refs.map((r) => r.key), leaseMs: lease.leaseMs, leasesLost: this.#lostCount },
      `@sluice: an in-flight slot expired while its response was still open (not renewed within leaseMs: ${lease.leaseMs} ms); raise leaseMs, or find why the store was out of reach`,
    )
  }

  /** Send a lease's release, retried with backoff until the store has surely let it go by itself. */
  release(lease: Lease): Promise<void> {
    this.#untrack(lease)
    this.#released++
    const ops: LeaseOp[] = lease.refs.map((ref) => ({ op: 'release' as const, lease: ref }))
    return new Promise<void>((resolve) => {
      let backoff = FIRST_BACKOFF_MS
      const attempt = (): void => {
        const left = lease.renewedAt + lease.leaseMs - this.#clock()
        if (left <= 0) {
          resolve()
          return
        }
        this.#failover.leases(ops, lease.local, deadlineIn(Math.min(left, MAX_CALL_MS))).then(
          () => resolve(),
          () => {
            const wait = Math.min(backoff, Math.max(0, lease.renewedAt + lease.leaseMs - this.#clock()))
            backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
            if (wait <= 0) resolve()
            else setTimeout(attempt, wait).unref()
          },
        )
      }
      attempt()
    })
  }

  /** Stop every renewal (the limiter closed): open leases then expire by themselves. */
  close(): void {
    for (const period of this.#periods.values()) clearInterval(period.timer)
    this.#periods.clear()
  }
}
