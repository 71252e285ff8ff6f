/**
 * What the demo replicas and the load test that judges them must agree on: how a client is told
 * apart, and the policy a replica runs unless told otherwise (so a bare load test against
 * `pnpm demo --keep` needs no flags). The demo imports these from here, on this light subpath,
 * so a replica does not load the load generator.
 */

/** How replicas key their buckets, and so how the load test tells its clients apart. */
export type KeyMode = 'ip' | 'api-key'
export const KEY_MODES: readonly KeyMode[] = ['ip', 'api-key']

/** The header API keys travel in. */
export const API_KEY_HEADER = 'x-api-key'

/**
 * The header a demo replica adds, with the value `true`, to an answer from its local fallback
 * bucket (Redis too slow or unreachable): the load test counts those admissions into the bound.
 */
export const DEGRADED_HEADER = 'x-sluice-degraded'

/**
 * The demo's streamed route (issue 21): it reserves `streamReservation(capacity)` tokens, streams
 * a random number of `STREAM_TOKEN`s (1 to the capacity), and settles with how many it streamed.
 * The load test's `settle` scenario counts the tokens it received against the bound.
 */
export const STREAM_PATH = '/stream'
export const STREAM_TOKEN = 'token\n'

/**
 * What the streamed route reserves: half the capacity, rounded up. An answer then overshoots its
 * reservation by at most half the capacity, so the two connections of the settle scenario, each
 * admitted with the bucket at ≥ 0, can take it at most its capacity below empty: within the debt
 * cap, so no extra charge is ever clamped away and the bound holds however long the run.
 */
export function streamReservation(capacity: number): number {
  return Math.ceil(capacity / 2)
}

export const DEFAULT_POLICY = Object.freeze({ capacity: 100, refillPerSecond: 50, keyMode: 'ip' as KeyMode })

/**
 * The demo's slow route (issue 22): an in-flight limit of `INFLIGHT_CONCURRENCY` requests per
 * client (`INFLIGHT_POLICY`, alone on the route: no token is taken), each answer held open for a
 * random `INFLIGHT_HOLD_MS` range. Each replica records when it admitted a request and when its
 * response ended, and serves those intervals at `INFLIGHT_LOG_PATH` to whoever reaches the
 * replica itself (the gateway refuses that path): the load test's `inflight` scenario merges them.
 */
export const INFLIGHT_PATH = '/slow'
export const INFLIGHT_LOG_PATH = '/_inflight-log'
export const INFLIGHT_CONCURRENCY = 3
export const INFLIGHT_POLICY = Object.freeze({ name: 'in-flight', concurrency: INFLIGHT_CONCURRENCY })
export const INFLIGHT_HOLD_MS = Object.freeze({ min: 20, max: 300 })

/**
 * One admitted request on the slow route as its replica saw it: `acquiredMs` when the handler
 * ran (after its slot was taken), `releasedMs` when its response ended (before the slot's release
 * reached the store), both in ms on the host's monotonic clock (`process.hrtime`), which every
 * process and container on one kernel reads alike and nothing steps. The recorded interval lies
 * inside the slot's lease, so the recorded overlap never exceeds the real one.
 */
export interface InflightEntry {
  /** The client's key as the replica limits it: its address, or its API key. */
  readonly key: string
  readonly replica: string
  readonly acquiredMs: number
  readonly releasedMs: number
  /** Admitted by the failure mode's local slots (Redis too slow or gone). */
  readonly degraded: boolean
}
