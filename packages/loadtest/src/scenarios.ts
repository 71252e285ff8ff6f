/** The load shapes, each asking one question of the gateway. */

export type ScenarioName = 'burst' | 'many-clients' | 'steady' | 'settle' | 'inflight'

export interface Scenario {
  readonly name: ScenarioName
  readonly title: string
  /** Drives clients past their limit: a correct limiter admits close to the bound, never more. */
  readonly saturating: boolean
  /**
   * What a client's admissions count: requests, or (`tokens`) the tokens of the streamed
   * responses it received, each settled after its response (issue 21), or (`in-flight`) the most
   * of its requests the replicas held at once (issue 22).
   */
  readonly measure: 'requests' | 'tokens' | 'in-flight'
}

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = Object.freeze({
  burst: { name: 'burst', title: 'one client bursting far past its limit', saturating: true, measure: 'requests' },
  'many-clients': { name: 'many-clients', title: 'many clients, each far past its own limit', saturating: true, measure: 'requests' },
  steady: { name: 'steady', title: 'one client at a steady rate just under its limit', saturating: false, measure: 'requests' },
  settle: {
    name: 'settle',
    title: 'one client streaming answers of random length, each settled after it ends',
    saturating: false,
    measure: 'tokens',
  },
  inflight: {
    name: 'inflight',
    title: 'two clients holding slow requests open, more at once than their in-flight limit',
    saturating: false,
    measure: 'in-flight',
  },
})

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[]

/** What the gateway's replicas run: one shared Redis, or each its own memory buckets. */
export type StoreMode = 'shared' | 'local'

/** Connections per client while bursting: enough to stay far past any demo limit. */
export const BURST_CONNECTIONS = 8
/** Clients in the many-clients scenario unless told otherwise, and connections each. */
export const MANY_CLIENTS = 6
export const MANY_CLIENTS_CONNECTIONS = 2
/** Connections of the settle scenario's client: each may overshoot its bucket by one answer. */
export const SETTLE_CONNECTIONS = 2
/** Clients of the inflight scenario, and connections each: more than the route's in-flight limit. */
export const INFLIGHT_CLIENTS = 2
export const INFLIGHT_CONNECTIONS = 8
/** The steady client's rate, as a share of the refill rate. */
export const STEADY_SHARE = 0.8
