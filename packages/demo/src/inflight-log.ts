import { INFLIGHT_HOLD_MS, type InflightEntry } from '@sluice/loadtest/policy'

/** The most entries a replica keeps: a long run forgets its oldest, never grows without bound. */
const MAX_ENTRIES = 100_000

/**
 * The host's monotonic clock (CLOCK_MONOTONIC) in ms, to the ns: one clock for every process and
 * container on the kernel, never stepped. Not `performance.timeOrigin + performance.now()`: that is
 * the wall clock read once at each process's start, so a clock step between two replicas' starts
 * (a fresh VM's first NTP sync) offsets their logs against each other, and intervals that follow
 * each other in fact look like overlaps (the likeliest reading of a compose run that logged 4
 * held of 3).
 */
export function hostNow(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** A random hold of the slow route, within `INFLIGHT_HOLD_MS`. */
export function holdMs(): number {
  return INFLIGHT_HOLD_MS.min + Math.floor(Math.random() * (INFLIGHT_HOLD_MS.max - INFLIGHT_HOLD_MS.min + 1))
}

/** The slow route's admitted requests on one replica, for the load test to collect after a run. */
export class InflightLog {
  private readonly entries: InflightEntry[] = []

  constructor(private readonly replica: string) {}

  /** Call when the handler runs; call the answer once the response has ended. */
  acquired(key: string, degraded: boolean): () => void {
    const acquiredMs = hostNow()
    let done = false
    return () => {
      if (done) return
      done = true
      if (this.entries.length >= MAX_ENTRIES) this.entries.shift()
      this.entries.push({ key, replica: this.replica, acquiredMs, releasedMs: hostNow(), degraded })
    }
  }

  /** The entries of one client (a load test's fresh key), or all. */
  list(key?: string): readonly InflightEntry[] {
    return key === undefined ? this.entries : this.entries.filter((e) => e.key === key)
  }
}
