import type { KeyPlan } from './load.js'
import type { LimitSpec, TargetName } from './targets/catalog.js'

export const SCENARIO_NAMES = ['one-key', 'many-keys', 'flood', 'express'] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]

export interface Scenario {
  readonly name: ScenarioName
  readonly title: string
  readonly description: string
  /** In round-robin order; the first is the ceiling (a bare 200) the others are compared with. */
  readonly targets: readonly TargetName[]
  /** The target sending Sluice's answer in this scenario with no limiter: the least Sluice can cost. */
  readonly baseline: TargetName
  readonly limits: LimitSpec
  readonly keys: KeyPlan
  /** What the limiters should answer: everything allowed, or almost everything 429. */
  readonly expect: 'allowed' | 'denied'
  /** The share of the CPU part's rate its targets are offered, where the full rate would saturate them. */
  readonly loadShare?: number
}

/** Requests per second a scenario's targets are offered when the CPU part offers `rate`. */
export function offeredRate(s: Scenario, rate: number): number {
  return Math.max(1, Math.round(rate * (s.loadShare ?? 1)))
}

// A bucket that never empties during a run. Sluice bounds capacity / rate to about 24 days, so
// the rate is high too; the fixed-window peers get 1e9 requests per 1,000 s.
const NEVER_EMPTY: LimitSpec = { capacity: 1e9, refillPerSecond: 1e6 }
// 10 requests, then one a second: a flood at thousands a second is almost all 429.
const TIGHT: LimitSpec = { capacity: 10, refillPerSecond: 1 }

// Sluice with its defaults, Sluice tuned for latency (the batching trade-off), and the peers.
const PEERS: readonly TargetName[] = ['sluice', 'sluice-capped', 'fastify-rate-limit', 'rlflex']

export function scenario(name: ScenarioName, rotatingKeys: number): Scenario {
  switch (name) {
    case 'one-key':
      return {
        name,
        title: 'Everyone allowed, one key',
        description: 'Every request carries the same key; the bucket never empties, so nothing is denied.',
        targets: ['ceiling', 'headers', ...PEERS],
        baseline: 'headers',
        limits: NEVER_EMPTY,
        keys: { kind: 'one', key: 'client-0' },
        expect: 'allowed',
      }
    case 'many-keys':
      return {
        name,
        title: `Everyone allowed, ${rotatingKeys.toLocaleString('en-US')} rotating keys`,
        description: `Each request carries the next of ${rotatingKeys.toLocaleString('en-US')} keys, so the limiter touches many buckets; nothing is denied.`,
        targets: ['ceiling', 'headers', ...PEERS],
        baseline: 'headers',
        limits: NEVER_EMPTY,
        keys: { kind: 'rotating', count: rotatingKeys },
        expect: 'allowed',
      }
    case 'flood':
      return {
        name,
        title: 'Flood: one key far over its limit',
        description: 'One key, capacity 10, refill 1/s (the fixed-window peers: 10 per 10 s): almost every request is answered 429.',
        targets: ['ceiling', 'denied', ...PEERS],
        baseline: 'denied',
        limits: TIGHT,
        keys: { kind: 'one', key: 'flooder' },
        expect: 'denied',
      }
    case 'express':
      return {
        name,
        title: 'Express 5: no limiter vs @sluice/express, everyone allowed',
        description: 'The one-key scenario on Express 5 instead of Fastify.',
        targets: ['express', 'express-headers', 'express-sluice'],
        baseline: 'express-headers',
        limits: NEVER_EMPTY,
        keys: { kind: 'one', key: 'client-0' },
        expect: 'allowed',
        // Express answers about a sixth of Fastify's requests a second on two cores: at the full
        // rate it would be saturated, and CPU per request would measure a queue, not a request.
        loadShare: 0.25,
      }
  }
}
