import { admissionBound, admissionFloor, judge, type Verdict } from './bound.js'
import type { KeyMode } from './policy.js'
import { answeredLocally, type Sample } from './sample.js'
import { SCENARIOS, type ScenarioName, type StoreMode } from './scenarios.js'
import { cumulativeAdmitted, type Percentiles, percentiles, perSecond, windowOf } from './stats.js'
import { summarize } from './summary.js'

/** Who a client is to the replicas: its API key, or the source address it connects from. */
export interface ClientIdentity {
  readonly label: string
  readonly apiKey?: string
  /** Undefined: the kernel's default source address (127.0.0.1 on loopback). */
  readonly localAddress?: string
}

/** The load a scenario put on the gateway. */
export interface Load {
  readonly clients: readonly ClientIdentity[]
  readonly connectionsPerClient: number
  /** Requests per second over all connections; undefined: as fast as the gateway answers. */
  readonly ratePerSecond: number | undefined
}

export interface ReplicaStats {
  readonly id: string
  readonly requests: number
  readonly admitted: number
  readonly limited: number
}

export interface ClientStats {
  readonly label: string
  readonly requests: number
  readonly admitted: number
  readonly limited: number
  /** Admitted from a replica's local fallback bucket (Redis too slow or unreachable): each took nothing from Redis. */
  readonly degradedAdmitted: number
  /** The most it may be admitted: the run's shared `bound` plus its `degradedAdmitted`. */
  readonly bound: number
  /** admitted ÷ its bound */
  readonly share: number
  /** The least it is admitted if no token is lost (see `admissionFloor`). */
  readonly floor: number
}

export interface Report {
  readonly scenario: ScenarioName
  readonly title: string
  readonly saturating: boolean
  readonly mode: StoreMode
  readonly keyMode: KeyMode
  readonly gatewayUrl: string
  readonly capacity: number
  readonly refillPerSecond: number
  readonly load: { readonly clients: number; readonly connectionsPerClient: number; readonly ratePerSecond: number | undefined }
  readonly startedAt: string
  /** How long the load was meant to run. */
  readonly durationSeconds: number
  /** From the first request sent to the last response received. */
  readonly elapsedSeconds: number
  /**
   * The most the shared bucket admits one client in that window: capacity + refillPerSecond ×
   * elapsed. Each client's own bound adds its degraded admissions (`ClientStats.bound`).
   */
  readonly bound: number
  readonly totals: {
    readonly requests: number
    readonly admitted: number
    readonly limited: number
    /** Any other status, e.g. 502 from nginx. */
    readonly other: number
    /** No response at all. */
    readonly errors: number
    /** Answered from a replica's local fallback bucket (see `answeredLocally`). */
    readonly degraded: number
    /** Of those, admitted: the degraded admissions every client's bound includes. */
    readonly degradedAdmitted: number
  }
  readonly replicas: readonly ReplicaStats[]
  readonly clients: readonly ClientStats[]
  /** Of every response, admitted or not. */
  readonly latencyMs: Percentiles
  /** Responses per second of the window, by replica. */
  readonly timeline: {
    readonly seconds: number
    readonly replicas: readonly { readonly id: string; readonly admitted: readonly number[]; readonly limited: readonly number[] }[]
    /**
     * The client admitted least: its admitted requests added up at CUMULATIVE_POINTS + 1 evenly
     * spaced times from the window's start to its end (elapsedSeconds), to draw against the bound.
     */
    readonly worstOff: { readonly label: string; readonly admitted: readonly number[] }
  }
  readonly verdict: Verdict
  /** The verdict in one sentence a newcomer understands. */
  readonly summary: string
}

export interface ReportInput {
  readonly scenario: ScenarioName
  readonly mode: StoreMode
  readonly keyMode: KeyMode
  readonly gatewayUrl: string
  readonly capacity: number
  readonly refillPerSecond: number
  readonly load: Load
  readonly durationSeconds: number
  readonly startedAt: Date
  readonly samples: readonly Sample[]
}

const UNKNOWN_REPLICA = '(gateway)'
/** Points of the worst-off client's curve: smooth at any run length, small in the JSON. */
export const CUMULATIVE_POINTS = 60
const byId = (a: { id: string }, b: { id: string }): number => a.id.localeCompare(b.id, 'en', { numeric: true })

function replicaStats(samples: readonly Sample[]): ReplicaStats[] {
  const stats = new Map<string, { id: string; requests: number; admitted: number; limited: number }>()
  for (const s of samples) {
    if (s.status === 0) continue
    const id = s.instance ?? UNKNOWN_REPLICA
    let r = stats.get(id)
    if (r === undefined) {
      r = { id, requests: 0, admitted: 0, limited: 0 }
      stats.set(id, r)
    }
    r.requests++
    if (s.status === 200) r.admitted++
    else if (s.status === 429) r.limited++
  }
  return [...stats.values()].sort(byId)
}

/** Turn a run's samples into its report and verdict. */
export function buildReport(input: ReportInput): Report {
  const { samples, capacity, refillPerSecond } = input
  const window = windowOf(samples)
  const elapsedSeconds = (window.endMs - window.startMs) / 1000
  const bound = admissionBound(capacity, refillPerSecond, elapsedSeconds)
  const scenario = SCENARIOS[input.scenario]

  const clients = input.load.clients.map((c) => ({
    label: c.label,
    requests: 0,
    admitted: 0,
    limited: 0,
    degradedAdmitted: 0,
    bound,
    share: 0,
    floor: 0,
  }))
  // A local denial says nothing about the shared bucket: the floor's window is the shared denials'.
  const firstDenialMs = clients.map(() => Infinity)
  const lastDeniedSentMs = clients.map(() => -Infinity)
  const firstDegradedSentMs = clients.map(() => Infinity)
  const lastDegradedMs = clients.map(() => -Infinity)
  for (const s of samples) {
    const c = clients[s.client]!
    const local = answeredLocally(s, capacity)
    c.requests++
    if (s.status === 200) c.admitted++
    else if (s.status === 429) c.limited++
    if (s.status === 200 && local) c.degradedAdmitted++
    if (local) {
      firstDegradedSentMs[s.client] = Math.min(firstDegradedSentMs[s.client]!, s.sentMs)
      lastDegradedMs[s.client] = Math.max(lastDegradedMs[s.client]!, s.receivedMs)
    } else if (s.status === 429) {
      firstDenialMs[s.client] = Math.min(firstDenialMs[s.client]!, s.receivedMs)
      lastDeniedSentMs[s.client] = Math.max(lastDeniedSentMs[s.client]!, s.sentMs)
    }
  }
  for (const [i, c] of clients.entries()) {
    c.bound = admissionBound(capacity, refillPerSecond, elapsedSeconds, c.degradedAdmitted)
    c.share = c.bound > 0 ? c.admitted / c.bound : 0
    const limitedSeconds = firstDenialMs[i]! < Infinity ? (lastDeniedSentMs[i]! - firstDenialMs[i]!) / 1000 : undefined
    const degradedSeconds = firstDegradedSentMs[i]! < Infinity ? (lastDegradedMs[i]! - firstDegradedSentMs[i]!) / 1000 : 0
    c.floor = admissionFloor(capacity, refillPerSecond, limitedSeconds, input.load.connectionsPerClient, degradedSeconds)
  }

  const worstOff = clients.reduce((worst, c, i) => (c.admitted < clients[worst]!.admitted ? i : worst), 0)
  const replicas = replicaStats(samples)
  const timelineSeconds = Math.max(1, Math.round(input.durationSeconds))
  const answered = samples.filter((s) => s.status !== 0)
  const admitted = answered.filter((s) => s.status === 200).length
  const limited = answered.filter((s) => s.status === 429).length
  const verdict = judge(clients, scenario.saturating)

  const report: Omit<Report, 'summary'> = {
    scenario: input.scenario,
    title: scenario.title,
    saturating: scenario.saturating,
    mode: input.mode,
    keyMode: input.keyMode,
    gatewayUrl: input.gatewayUrl,
    capacity,
    refillPerSecond,
    load: {
      clients: input.load.clients.length,
      connectionsPerClient: input.load.connectionsPerClient,
      ratePerSecond: input.load.ratePerSecond,
    },
    startedAt: input.startedAt.toISOString(),
    durationSeconds: input.durationSeconds,
    elapsedSeconds,
    bound,
    totals: {
      requests: samples.length,
      admitted,
      limited,
      other: answered.length - admitted - limited,
      errors: samples.length - answered.length,
      degraded: answered.filter((s) => answeredLocally(s, capacity)).length,
      degradedAdmitted: clients.reduce((n, c) => n + c.degradedAdmitted, 0),
    },
    replicas,
    clients,
    latencyMs: percentiles(answered.map((s) => s.receivedMs - s.sentMs)),
    timeline: {
      seconds: timelineSeconds,
      replicas: replicas.map(({ id }) => {
        const own = answered.filter((s) => (s.instance ?? UNKNOWN_REPLICA) === id)
        return { id, admitted: perSecond(own, window, 200, timelineSeconds), limited: perSecond(own, window, 429, timelineSeconds) }
      }),
      worstOff: { label: clients[worstOff]?.label ?? '', admitted: cumulativeAdmitted(samples, window, worstOff, CUMULATIVE_POINTS) },
    },
    verdict,
  }
  return { ...report, summary: summarize(report) }
}
