import type * as PromClient from 'prom-client'
import type { Registry } from 'prom-client'
import type { BreakerState, SluiceObserver } from './types.js'

/** The parts of the prom-client module the metrics use: pass your own `import * as client from 'prom-client'`. */
export type PromClientModule = Pick<typeof PromClient, 'Counter' | 'Gauge' | 'Histogram' | 'register'>

export interface SluiceMetricsOptions {
  /** Where the metrics are registered. @default prom-client's global registry */
  readonly registry?: Registry
  /** Metric name prefix. @default 'sluice_' */
  readonly prefix?: string
}

const STATES: readonly BreakerState[] = ['closed', 'open', 'half-open']

export interface SluiceMetrics extends SluiceObserver {
  readonly registry: Registry
}

/**
 * Prometheus metrics through prom-client, as an observer to pass to the limiter's `observer`
 * option: requests by route, outcome and source (store or failure mode; `skipped` requests with
 * source `none`), policy checks by route, policy and result (shadow policies included), the
 * latency of store calls, each store's circuit state (1 for the current state, 0 for the others;
 * on a Cluster, the worst master's: one gauge per store, not per node, whose labels would come and
 * go with failovers), and settles after the response: applied or dropped by route, and the tokens
 * they refunded or charged beyond the reservation.
 *
 * The app passes its own prom-client module, so the metrics land in the very registry it serves,
 * and Sluice never loads prom-client itself (it stays an optional peer).
 */
export function createMetrics(client: PromClientModule, options: SluiceMetricsOptions = {}): SluiceMetrics {
  const { Counter, Gauge, Histogram } = client
  const registry = options.registry ?? client.register
  const prefix = options.prefix ?? 'sluice_'
  const requests = new Counter({
    name: `${prefix}requests_total`,
    help: 'Requests checked by the rate limiter, by route, outcome and answer source',
    labelNames: ['route', 'outcome', 'source'] as const,
    registers: [registry],
  })
  const policyChecks = new Counter({
    name: `${prefix}policy_checks_total`,
    help: 'Policy checks by route, policy and result; shadow policies never deny',
    labelNames: ['route', 'policy', 'result', 'shadow'] as const,
    registers: [registry],
  })
  const storeSeconds = new Histogram({
    name: `${prefix}store_call_duration_seconds`,
    help: 'Latency of rate-limit store calls as a request sees it (coalescing wait included)',
    labelNames: ['store', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  })
  const circuit = new Gauge({
    name: `${prefix}circuit_state`,
    help: "The store's circuit (its worst node's on a Cluster): 1 for its current state, 0 for the others",
    labelNames: ['store', 'state'] as const,
    registers: [registry],
  })
  const settles = new Counter({
    name: `${prefix}settles_total`,
    help: 'Costs settled after the response, by route and outcome (applied; dropped: the store failed, the reservation stands)',
    labelNames: ['route', 'outcome'] as const,
    registers: [registry],
  })
  const settleTokens = new Counter({
    name: `${prefix}settle_tokens_total`,
    help: 'Tokens applied settles refunded, or charged beyond the reservation (extra), per request, by route',
    labelNames: ['route', 'direction'] as const,
    registers: [registry],
  })
  return {
    registry,
    decision({ route, decision }) {
      requests.inc({ route, outcome: decision.outcome, source: decision.source })
      for (const p of decision.result?.policies ?? []) {
        policyChecks.inc({ route, policy: p.policy.name, result: p.status, shadow: String(p.policy.shadow) })
      }
    },
    storeCall({ store, seconds, outcome }) {
      storeSeconds.observe({ store, outcome }, seconds)
    },
    skipped({ route }) {
      requests.inc({ route, outcome: 'skipped', source: 'none' })
    },
    circuit({ store, state }) {
      for (const s of STATES) circuit.set({ store, state: s }, s === state ? 1 : 0)
    },
    settle({ route, outcome, refundedTokens, extraTokens }) {
      settles.inc({ route, outcome })
      if (refundedTokens > 0) settleTokens.inc({ route, direction: 'refunded' }, refundedTokens)
      if (extraTokens > 0) settleTokens.inc({ route, direction: 'extra' }, extraTokens)
    },
  }
}

export type { CircuitEvent, DecisionEvent, SettleEvent, SkippedEvent, SluiceObserver, StoreCallEvent } from './types.js'
