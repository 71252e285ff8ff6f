/**
 * The inflight scenario's verdict (issue 22): how many of a client's requests were in progress at
 * once, from the intervals the replicas recorded (one host, one clock), against the policy's n.
 */

import type { InflightEntry } from './policy.js'
import type { Sample } from './sample.js'
import type { ClientIdentity } from './types.js'

/** A span of time in ms; an interval ending when another starts does not overlap it. */
export interface Span {
  readonly startMs: number
  readonly endMs: number
}

/** The most spans open at one instant: a sweep over their ends, an end first on a tie. */
export function maxOverlap(spans: readonly Span[]): number {
  const events: [number, number][] = []
  for (const s of spans) {
    events.push([s.startMs, 1], [Math.max(s.startMs, s.endMs), -1])
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let open = 0
  let peak = 0
  for (const [, delta] of events) {
    open += delta
    if (open > peak) peak = open
  }
  return peak
}

/**
 * The most a client may hold at once: `concurrency`, plus, when some of its admissions came from
 * the failure mode's local slots, every replica's local share `⌈concurrency ÷ replicas⌉` (docs/in-flight.md:
 * local slots are invisible to Redis, so a recovering cluster may hold n + replicas × ⌈n ÷ replicas⌉).
 */
export function inflightAllowance(concurrency: number, replicas: number, degradedAdmissions: number): number {
  return degradedAdmissions > 0 ? concurrency + Math.max(1, replicas) * Math.ceil(concurrency / Math.max(1, replicas)) : concurrency
}

export interface InflightOutcome {
  /** Most of its requests the replicas held at once, from their logs. */
  readonly peak: number
  /** Most of its requests it had sent and not yet been answered, from its own samples. */
  readonly offered: number
  /** Its 429s naming a `qu="concurrent-requests"` policy. */
  readonly refused: number
  /** Its admitted answers (200). */
  readonly admitted: number
  /** Intervals the replicas logged for it; at least `admitted` when no log was lost. */
  readonly logged: number
  /** Its `inflightAllowance`. */
  readonly allowed: number
}

export interface InflightVerdict {
  readonly pass: boolean
  /** peak ≤ allowed */
  readonly withinLimit: boolean
  /** Refused with a concurrency 429 when it offered more than n at once (nothing asked otherwise). */
  readonly refusedWhenOver: boolean
  /** Every admitted answer's interval was logged: the peak counts them all. */
  readonly complete: boolean
  /** Some of its requests were admitted: a limit that refuses everything holds nothing. */
  readonly served: boolean
}

export function judgeInflight(c: InflightOutcome, concurrency: number): InflightVerdict {
  const withinLimit = c.peak <= c.allowed
  const refusedWhenOver = c.offered <= concurrency || c.refused > 0
  const complete = c.logged >= c.admitted
  const served = c.admitted > 0
  return { pass: withinLimit && refusedWhenOver && complete && served, withinLimit, refusedWhenOver, complete, served }
}

/** What the replicas call a client: its API key, or the address it connects from. */
export function clientKey(c: ClientIdentity): string {
  return c.apiKey ?? c.localAddress ?? c.label
}

/**
 * Each client's outcome from its samples (what it offered, what was refused) and the replicas'
 * log (what they held), merged across replicas per client, with its verdict.
 */
export function inflightOutcomes(
  samples: readonly Sample[],
  clients: readonly ClientIdentity[],
  log: readonly InflightEntry[],
  concurrency: number,
): (InflightOutcome & { readonly verdict: InflightVerdict })[] {
  const replicas = new Set([...samples.flatMap((s) => (s.instance === undefined ? [] : [s.instance])), ...log.map((e) => e.replica)])
  return clients.map((client, i) => {
    const own = samples.filter((s) => s.client === i)
    const entries = log.filter((e) => e.key === clientKey(client))
    const outcome: InflightOutcome = {
      peak: maxOverlap(entries.map((e) => ({ startMs: e.acquiredMs, endMs: e.releasedMs }))),
      offered: maxOverlap(own.map((s) => ({ startMs: s.sentMs, endMs: s.receivedMs }))),
      refused: own.filter((s) => s.status === 429 && s.concurrent === true).length,
      admitted: own.filter((s) => s.status === 200).length,
      logged: entries.length,
      allowed: inflightAllowance(concurrency, replicas.size, entries.filter((e) => e.degraded).length),
    }
    return { ...outcome, verdict: judgeInflight(outcome, concurrency) }
  })
}
