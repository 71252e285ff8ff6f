import type { Verdict } from './bound.js'
import type { InflightOutcome, InflightVerdict } from './inflight.js'
import type { InflightEntry, KeyMode } from './policy.js'
import type { Sample } from './sample.js'
import type { ScenarioName, StoreMode } from './scenarios.js'
import type { Percentiles } from './stats.js'

// Types shared by several files: the report and its parts. Implementation files import them from
// here, never from each other (report.ts builds a Report, summary.ts words one).

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
  /** The inflight scenario: its peak in progress at once against what it was allowed, and the verdict. */
  readonly inflight?: InflightOutcome & { readonly verdict: InflightVerdict }
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
   * elapsed. Each client's own bound adds its degraded admissions (`ClientStats.bound`). The
   * inflight scenario: its in-flight limit n, and each client's bound what it may hold at once.
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
  /** The inflight scenario: the intervals the replicas logged for the run's clients. */
  readonly inflightLog?: readonly InflightEntry[]
}
