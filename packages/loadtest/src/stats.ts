import type { Sample } from './sample.js'

export interface Percentiles {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
}

/** Nearest-rank percentiles of the latencies in ms (0 for an empty run). */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1]! }
}

export interface Window {
  /** ms since the recorder's origin */
  readonly startMs: number
  readonly endMs: number
}

/** From the first request sent to the last response received: every decision lies inside. */
export function windowOf(samples: readonly Sample[]): Window {
  if (samples.length === 0) return { startMs: 0, endMs: 0 }
  let startMs = Infinity
  let endMs = -Infinity
  for (const s of samples) {
    if (s.sentMs < startMs) startMs = s.sentMs
    if (s.receivedMs > endMs) endMs = s.receivedMs
  }
  return { startMs, endMs }
}

/**
 * Responses with `status` in each of `seconds` seconds from the window's start, by the second
 * they arrived in. Pass the run's intended length: the last responses of a run arrive a few ms
 * after it, and a second of their own would show a misleading drop to zero.
 */
export function perSecond(samples: readonly Sample[], window: Window, status: number, seconds: number): number[] {
  const counts = new Array<number>(seconds).fill(0)
  for (const s of samples) {
    if (s.status !== status) continue
    const second = Math.min(seconds - 1, Math.max(0, Math.floor((s.receivedMs - window.startMs) / 1000)))
    counts[second]!++
  }
  return counts
}

/**
 * One client's admitted responses added up at `points + 1` evenly spaced times, from the window's
 * start to its end, each response counted from the moment it arrived. Its decision was made
 * before that, inside the window, so a limit that holds keeps every value at or under
 * `capacity + refill × t`.
 */
export function cumulativeAdmitted(samples: readonly Sample[], window: Window, client: number, points: number): number[] {
  const span = window.endMs - window.startMs
  const counts = new Array<number>(points + 1).fill(0)
  for (const s of samples) {
    if (s.client !== client || s.status !== 200) continue
    // The first of the times at or after its arrival.
    const at = span > 0 ? Math.ceil(((s.receivedMs - window.startMs) / span) * points) : points
    counts[Math.min(points, Math.max(0, at))]!++
  }
  for (let i = 1; i <= points; i++) counts[i]! += counts[i - 1]!
  return counts
}
