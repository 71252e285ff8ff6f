import { INFLIGHT_HOLD_MS, type InflightEntry } from '@sluice/loadtest/policy'

/** The most entries a replica keeps: a long run forgets its oldest, never grows without bound. */
const MAX_ENTRIES = 100_000

/** Wall-clock ms with sub-ms precision: every replica on one host reads the same clock. */
export function hostNow(): number {
  return performance.timeOrigin + performance.now()
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
