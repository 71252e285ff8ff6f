import type { BenchResult, ScenarioResult, TargetSummary } from './results.js'
import type { ScenarioName } from './scenarios.js'
import type { TargetName } from './targets/catalog.js'

/** One of Sluice's performance targets, checked against this run's figures. */
export interface Goal {
  /** The part whose figures it is checked against. */
  readonly part: 'cpu' | 'throughput' | 'memory'
  readonly goal: string
  readonly threshold: string
  readonly measured: string
  /** Undefined when this run could not measure it (a target skipped, a scenario or a part not run). */
  readonly met: boolean | undefined
  /** Targets whose figure went into it but that could not keep up with the offered load. */
  readonly behind: readonly string[]
}

function find(scenarios: readonly ScenarioResult[], scenario: ScenarioName, target: TargetName): TargetSummary | undefined {
  const t = scenarios.find((s) => s.name === scenario)?.targets.find((x) => x.target === target)
  return t === undefined || t.unavailable !== undefined ? undefined : t
}

const diff = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b)
const over = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b)

/** How a goal's figures print: a ratio, microseconds over a baseline, or calls per request. */
const UNITS = {
  '×': { limit: (v: number) => `${v.toFixed(2)}×`, value: (v: number) => `${v.toFixed(2)}×` },
  µs: { limit: (v: number) => `${v.toFixed(1)} µs`, value: (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)} µs` },
  calls: { limit: String, value: (v: number) => v.toFixed(3) },
} as const

interface Spec {
  readonly part: Goal['part']
  readonly goal: string
  readonly bound: '≤' | '≥'
  readonly limit: number
  readonly unit: keyof typeof UNITS
  /** Undefined: not measured in this run. */
  readonly value: number | undefined
  /** The targets the value was computed from, to flag those that could not keep up. */
  readonly from?: readonly (TargetSummary | undefined)[]
}

function check({ part, goal, bound, limit, unit, value, from = [] }: Spec): Goal {
  const threshold = `${bound} ${UNITS[unit].limit(limit)}`
  const behind = from.filter((t): t is TargetSummary => t !== undefined && !t.keptUp).map((t) => t.label)
  if (value === undefined || !Number.isFinite(value)) return { part, goal, threshold, measured: 'not measured', met: undefined, behind }
  return { part, goal, threshold, measured: UNITS[unit].value(value), met: bound === '≤' ? value <= limit : value >= limit, behind }
}

/** CPU per request at a fixed offered load: what Sluice costs an app and its Redis. */
function cpuGoals(cpu: readonly ScenarioResult[]): Goal[] {
  const at = (scenario: ScenarioName, target: TargetName): TargetSummary | undefined => find(cpu, scenario, target)
  const [sluice, peer, headers] = [at('one-key', 'sluice'), at('one-key', 'fastify-rate-limit'), at('one-key', 'headers')]
  const [rotating, rotatingPeer] = [at('many-keys', 'sluice'), at('many-keys', 'fastify-rate-limit')]
  const [flood, denied] = [at('flood', 'sluice'), at('flood', 'denied')]
  const cpuGoal = (goal: string, limit: number, unit: Spec['unit'], value: number | undefined, from: Spec['from']): Goal =>
    check({ part: 'cpu', goal, bound: '≤', limit, unit, value, from })
  return [
    cpuGoal(
      "One hot key, allowed: Sluice's app CPU over the same headers sent with no limiter",
      2.5,
      'µs',
      diff(sluice?.appUs, headers?.appUs),
      [sluice, headers],
    ),
    cpuGoal("One hot key, allowed: Sluice's Redis CPU ÷ @fastify/rate-limit's", 0.25, '×', over(sluice?.redisUs, peer?.redisUs), [
      sluice,
      peer,
    ]),
    cpuGoal("One hot key, allowed: Sluice's app + Redis CPU ÷ @fastify/rate-limit's", 0.7, '×', over(sluice?.totalUs, peer?.totalUs), [
      sluice,
      peer,
    ]),
    cpuGoal(
      "Rotating keys, allowed: Sluice's app + Redis CPU ÷ @fastify/rate-limit's",
      0.7,
      '×',
      over(rotating?.totalUs, rotatingPeer?.totalUs),
      [rotating, rotatingPeer],
    ),
    cpuGoal("Flood: Sluice's app CPU over the same 429 sent with no limiter", 1, 'µs', diff(flood?.appUs, denied?.appUs), [flood, denied]),
  ]
}

function throughputGoals(result: BenchResult): Goal[] {
  const at = (scenario: ScenarioName, target: TargetName): TargetSummary | undefined => find(result.throughput, scenario, target)
  const { connections } = result.config.throughput
  // The script-call goals are stated for 50 connections: fewer or more change the batches.
  const at50 = (v: number | undefined): number | undefined => (connections === 50 ? v : undefined)
  const atLeast = (goal: string, limit: number, value: number | undefined): Goal =>
    check({ part: 'throughput', goal, bound: '≥', limit, unit: '×', value })
  const goals: Goal[] = []
  const scriptCalls: Goal[] = []
  for (const [name, what] of [
    ['one-key', 'one key'],
    ['many-keys', 'rotating keys'],
  ] as const) {
    const [sluice, peer] = [at(name, 'sluice'), at(name, 'fastify-rate-limit')]
    goals.push(
      atLeast(`Everyone allowed (${what}): Sluice vs the ceiling`, 0.75, sluice?.ratioToCeiling),
      atLeast(`Everyone allowed (${what}): Sluice vs @fastify/rate-limit`, 1.35, over(sluice?.medianRps, peer?.medianRps)),
    )
    const goal = `Script calls per request, ${what}, 50 connections`
    scriptCalls.push(check({ part: 'throughput', goal, bound: '≤', limit: 0.25, unit: 'calls', value: at50(sluice?.scriptCallsPerOk) }))
  }
  goals.push(
    atLeast('Everyone allowed (Express 5): @sluice/express vs Express alone', 0.75, at('express', 'express-sluice')?.ratioToCeiling),
    atLeast('Flood: Sluice vs the ceiling', 0.95, at('flood', 'sluice')?.ratioToCeiling),
    ...scriptCalls,
  )
  return goals
}

export function evaluateGoals(result: BenchResult): Goal[] {
  const memory = result.memory.find((m) => m.library === 'sluice')
  return [
    ...cpuGoals(result.cpu),
    ...throughputGoals(result),
    check({
      part: 'memory',
      goal: 'Redis memory per idle key vs the floor',
      bound: '≤',
      limit: 1.1,
      unit: '×',
      value: memory?.ratioToFloor,
    }),
  ]
}
